package makeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/httpx"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/lenient"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/prefetch"
)

// MaxPageSize is the largest pg[limit] Make's SDK documents (1..10000).
const MaxPageSize = 10000

// Scope is whose audit log to read: an organization, or a team (when only
// the team is known).
type Scope struct {
	OrganizationID int64
	TeamID         int64
}

func (s Scope) path() string {
	if s.OrganizationID != 0 {
		return "/organization/" + strconv.FormatInt(s.OrganizationID, 10)
	}
	return "/team/" + strconv.FormatInt(s.TeamID, 10)
}

// AuditQuery filters one listing. Days are inclusive and whole (Make's
// dateFrom/dateTo are dates); exact time filtering is the caller's.
type AuditQuery struct {
	Scope
	Teams   []int64  // the team filter, on organization listings
	Events  []string // event names, sent as event[0], event[1], ...
	Authors []string // user IDs, names or emails
	From    *time.Time
	To      *time.Time
	SortDir string // "asc" or "desc"; default desc (newest first, as the docs)
}

func (q AuditQuery) values() url.Values {
	v := url.Values{}
	for i, t := range q.Teams {
		v.Set(fmt.Sprintf("team[%d]", i), strconv.FormatInt(t, 10))
	}
	for i, e := range q.Events {
		v.Set(fmt.Sprintf("event[%d]", i), e)
	}
	for i, a := range q.Authors {
		if len(q.Authors) == 1 {
			v.Set("author", a)
			break
		}
		v.Set(fmt.Sprintf("author[%d]", i), a)
	}
	if q.From != nil {
		v.Set("dateFrom", q.From.UTC().Format("2006-01-02"))
	}
	if q.To != nil {
		v.Set("dateTo", q.To.UTC().Format("2006-01-02"))
	}
	dir := strings.ToLower(q.SortDir)
	if dir != "asc" {
		dir = "desc"
	}
	v.Set("pg[sortBy]", "triggeredAt")
	v.Set("pg[sortDir]", dir)
	return v
}

// Pager controls one listing: the page size (0 or more than the API allows
// means the largest page), a hook run before every page request, and how
// many more rows the caller wants: the next page is fetched while this one
// streams only if the caller wants more than this page holds.
type Pager struct {
	PageSize   int
	BeforePage func(context.Context) error
	Remaining  func() int64
}

func (p Pager) size() int {
	if p.PageSize <= 0 || p.PageSize > MaxPageSize {
		return MaxPageSize
	}
	return p.PageSize
}

func (p Pager) prefetch(n int) bool { return prefetch.Wanted(p.Remaining, n) }

// Handler receives the entries one at a time and returns whether it wants
// more. The entry is the page loop's: it is cleared once the handler
// returns (text taken from it stays valid: it shares the page's body), so
// that the garbage collector, which marks every pointer of every live
// entry each time it runs, finds in a streaming page only the entries
// still to come.
type Handler func(e *AuditLog) bool

type auditPage struct {
	AuditLogs *[]AuditLog `json:"auditLogs"`
	Pg        struct {
		Limit int `json:"limit"`
	} `json:"pg"`
}

// KeepRaw gives the page's entries their raw JSON: the elements of its
// `auditLogs` array, found in one scan of the body.
func (p *auditPage) KeepRaw(body []byte) error {
	return lenient.KeepRawElements(body, "auditLogs", &p.AuditLogs, func(e *AuditLog, raw []byte) { e.Raw = raw })
}

var auditPageNames = lenient.Names{"auditLogs", "pg"}

// DecodeFast decodes the body in one pass (see httpx.FastDecoder).
func (p *auditPage) DecodeFast(body []byte) bool {
	return lenient.DecodePage(body, p, func(p *auditPage) **[]AuditLog { return &p.AuditLogs }, (*AuditLog).decodeFast, auditPageNames,
		func(q *auditPage, _ int, v []byte) bool { return json.Unmarshal(v, &q.Pg) == nil })
}

// ListAuditLogs streams one organization's or team's audit log. It pages by
// key (pg[last] = the last entry's imtId) when entries carry imtId, by
// offset otherwise, and stops at the first short page. The next page is
// requested while this one streams, and decoded when its turn comes: a
// decoded page of 10,000 entries holds over 100,000 pointers for each
// collection to mark, its body none.
func (c *Client) ListAuditLogs(ctx context.Context, q AuditQuery, p Pager, h Handler) error {
	base := q.values()
	size := p.size()
	hint := min(size, 1000) // room in the first page's slice; later pages: as many as the page before
	get := func(last string, offset int) *prefetch.Page[answer] {
		v := cloneValues(base)
		v.Set("pg[limit]", strconv.Itoa(size))
		if last != "" {
			v.Set("pg[last]", last)
		} else if offset > 0 {
			v.Set("pg[offset]", strconv.Itoa(offset))
		}
		return prefetch.Start(ctx, p.BeforePage, func(ctx context.Context, a *answer) (int, uint64, error) {
			var err error
			if *a, err = c.auditFetch(ctx, q.Scope, q.Scope.path(), v); err != nil {
				return a.status, 0, err
			}
			return a.status, httpx.Digest(a.body), nil
		})
	}
	last, offset := "", 0
	var prev uint64
	// uuids of this page and the one before: one seen twice means the pages
	// overlap (as when entries shift under offset paging). Two pages, not
	// the whole listing: a year of history must not hold every uuid it read.
	seen, before := map[string]bool{}, map[string]bool{}
	next := get(last, offset)
	defer func() { next.Drop() }()
	for pageNo := 0; ; pageNo++ {
		a, status, digest, err := next.Wait()
		next = nil
		logs := make([]AuditLog, 0, hint) // decoding fills it rather than growing it step by step
		page := auditPage{AuditLogs: &logs}
		if err := c.decode(*a, err, &page); err != nil {
			return err
		}
		path := c.AuditPrefix() + q.Scope.path()
		if page.AuditLogs == nil {
			return fmt.Errorf("make: GET %s: HTTP %d: the page has no `auditLogs` array, so the response is not in the shape the plugin knows; no rows were invented", path, status)
		}
		items := *page.AuditLogs
		hint = max(len(items), 1)
		if len(items) > size {
			return fmt.Errorf("make: GET %s: HTTP %d: the API returned %d entries for pg[limit] %d", path, status, len(items), size)
		}
		if pageNo > 0 && len(items) > 0 && digest == prev {
			return fmt.Errorf("make: GET %s: page %d is the same as the page before; the page loop does not advance", path, pageNo)
		}
		prev = digest
		seen, before = before, seen
		clear(seen)
		for i := range items {
			id := string(items[i].UUID)
			if id == "" {
				continue
			}
			n := len(seen)
			seen[id] = true // a map that did not grow held id already
			if len(seen) == n || before[id] {
				return fmt.Errorf("make: GET %s: entry %s came twice in one listing; the pages overlap", path, id)
			}
		}
		limit := size
		if page.Pg.Limit > 0 && page.Pg.Limit < size {
			limit = page.Pg.Limit // the server capped our page size: go by its own
		}
		more := len(items) >= limit && len(items) > 0
		if more {
			key := string(items[len(items)-1].IMTID)
			switch {
			case key != "" && key == last:
				return fmt.Errorf("make: GET %s: the last key %q came back again; the page loop does not advance", path, key)
			case key != "":
				last = key
			case last != "":
				return fmt.Errorf("make: GET %s: entries stopped carrying imtId in the middle of a listing; cannot page on safely", path)
			default:
				offset += len(items)
			}
			if p.prefetch(len(items)) {
				next = get(last, offset)
			}
		}
		for i := range items {
			ok := h(&items[i])
			items[i] = AuditLog{}
			if !ok {
				return nil
			}
		}
		if !more {
			return nil
		}
		if next == nil {
			next = get(last, offset)
		}
	}
}

// GetAuditLog reads one entry with its event-specific details; a missing
// entry is (nil, nil).
func (c *Client) GetAuditLog(ctx context.Context, organizationID int64, uuid string) (*AuditLog, error) {
	var e AuditLog
	path := "/" + strconv.FormatInt(organizationID, 10) + "/" + url.PathEscape(uuid)
	a, err := c.auditFetch(ctx, Scope{OrganizationID: organizationID}, path, nil)
	if IsNotFound(err) {
		return nil, nil
	}
	if err := c.decode(a, err, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// GetFilters reads the values an organization's or team's audit log can be
// filtered by.
func (c *Client) GetFilters(ctx context.Context, s Scope) (*Filters, error) {
	var f Filters
	a, err := c.auditFetch(ctx, s, s.path()+"/filters", nil)
	if err := c.decode(a, err, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

type orgPage struct {
	Organizations *[]Organization `json:"organizations"`
	Entities      *[]Organization `json:"entities"`
}

// ListOrganizations reads every organization the token can see, and
// remembers each one's licence apiLimit for rate limiting.
func (c *Client) ListOrganizations(ctx context.Context) ([]Organization, error) {
	var out []Organization
	const size = 10000
	for offset := 0; ; {
		v := url.Values{"pg[limit]": {strconv.Itoa(size)}, "pg[offset]": {strconv.Itoa(offset)}}
		var page orgPage
		a, err := c.fetch(ctx, Scope{TeamID: -1}, "/organizations", v)
		if err := c.decode(a, err, &page); err != nil {
			return nil, err
		}
		items := page.Organizations
		if items == nil {
			items = page.Entities
		}
		if items == nil {
			return nil, fmt.Errorf("make: GET /organizations: HTTP %d: the answer has no `organizations` array", a.status)
		}
		for _, o := range *items {
			if o.License != nil && o.License.APILimit.Valid && o.License.APILimit.Value > 0 {
				c.apiLimit.Store(o.ID.Value, o.License.APILimit.Value)
			}
		}
		out = append(out, *items...)
		if len(*items) < size {
			return out, nil
		}
		offset += len(*items)
	}
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+3)
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
