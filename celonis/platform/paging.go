package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/lenient"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/prefetch"
)

// Pager controls one listing: the page size (0 or more than the API allows
// means the largest page) and a hook run before every page request, where
// callers wait on their rate limiter.
type Pager struct {
	PageSize   int
	BeforePage func(context.Context) error
	// Remaining, when set, says how many more rows the caller wants; the
	// next page is fetched while this one streams only if it wants more
	// than this page holds.
	Remaining func() int64
	// Concurrency is the most requests the listing keeps in flight: time
	// windows of a cursor listing, pages of a page loop. 0 or 1: one.
	Concurrency int
}

func (p Pager) concurrency() int { return max(p.Concurrency, 1) }

// prefetch reports whether the page after one of n entries is worth
// fetching before the caller has seen this one.
func (p Pager) prefetch(n int) bool { return prefetch.Wanted(p.Remaining, n) }

func (p Pager) size() int {
	if p.PageSize <= 0 || p.PageSize > MaxPageSize {
		return MaxPageSize
	}
	return p.PageSize
}

// Handler receives each page's entries as they arrive and returns false to
// stop the listing (the caller has all it needs).
type Handler[T any] func(items []T) bool

// cursorPage is a v2 page: entries under `content`, and the token of the next
// page, absent or empty on the last one.
type cursorPage[T any] struct {
	Content       *[]T   `json:"content"`
	NextPageToken String `json:"nextPageToken"`
}

// KeepRaw gives the page's entries their raw JSON.
func (p *cursorPage[T]) KeepRaw(body []byte) error { return keepRaw(body, &p.Content) }

var cursorPageNames = lenient.Names{"content", "nextPageToken"}

// DecodeFast decodes the body in one pass when its entries have a
// hand-written decoder (see httpx.FastDecoder).
func (p *cursorPage[T]) DecodeFast(body []byte) bool {
	return hasFastEntries[T]() && lenient.DecodePage(body, p, func(p *cursorPage[T]) **[]T { return &p.Content }, decodeFastEntry[T], cursorPageNames,
		func(q *cursorPage[T], _ int, v []byte) bool { return q.NextPageToken.UnmarshalJSON(v) == nil })
}

// maxEmptyCursorPages bounds a cursor that keeps handing out new tokens
// without entries, which would otherwise loop for ever.
const maxEmptyCursorPages = 5

// cursorLoop runs the documented v2 loop: the first request without
// pageToken, then each nextPageToken as pageToken until none comes back.
func cursorLoop[T any](ctx context.Context, c *Client, ep endpoint, path string, base url.Values, p Pager, h Handler[T]) error {
	_, err := cursorPages(ctx, c, ep, path, base, p, h, false)
	return err
}

// cursorPages is the cursor loop; with onePage it hands over the first page
// only, and reports whether the cursor has more and the handler wants it.
func cursorPages[T any](ctx context.Context, c *Client, ep endpoint, path string, base url.Values, p Pager, h Handler[T], onePage bool) (more bool, _ error) {
	seen := map[string]bool{}
	empty := 0
	hint := min(p.size(), firstPageRoom)
	get := func(token string) *prefetch.Page[cursorPage[T]] {
		room := hint
		q := cloneValues(base)
		q.Set("pageSize", strconv.Itoa(p.size()))
		if token != "" {
			q.Set("pageToken", token)
		}
		return prefetch.Start(ctx, p.BeforePage, func(ctx context.Context, page *cursorPage[T]) (int, uint64, error) {
			page.Content = presized[T](room)
			return c.get(ctx, ep, path, q, page)
		})
	}
	next := get("")
	defer func() { next.Drop() }()
	for pageNo := 0; ; pageNo++ {
		page, status, _, err := next.Wait()
		next = nil
		if err != nil {
			return false, err
		}
		if status == 204 {
			return false, nil
		}
		if page.Content == nil {
			return false, fmt.Errorf("celonis: GET %s: HTTP %d: the page has no `content` array, so the response is not in the shape the plugin knows; no rows were invented", path, status)
		}
		items := *page.Content
		hint = max(len(items), 1)
		if len(items) > p.size() {
			return false, fmt.Errorf("celonis: GET %s: HTTP %d: the API returned %d entries for pageSize %d", path, status, len(items), p.size())
		}
		token := string(page.NextPageToken)
		if token != "" {
			if seen[token] {
				return false, fmt.Errorf("celonis: GET %s: the API returned the page token of an earlier page again after page %d; stopping rather than looping", path, pageNo)
			}
			seen[token] = true
			if len(items) == 0 {
				if empty++; empty >= maxEmptyCursorPages {
					return false, fmt.Errorf("celonis: GET %s: %d pages in a row had no entries but a new page token; stopping rather than looping", path, empty)
				}
			} else {
				empty = 0
			}
			if !onePage && p.prefetch(len(items)) {
				next = get(token)
			}
		}
		if onePage {
			return h(items) && token != "", nil
		}
		if !h(items) || token == "" {
			return false, nil
		}
		if next == nil {
			next = get(token)
		}
	}
}

// numberedPage is a v1-style page: `content`, with pageNumber, pageSize and
// totalCount where the API gives them.
type numberedPage[T any] struct {
	Content    *[]T   `json:"content"`
	PageNumber *int   `json:"pageNumber"`
	PageSize   *int   `json:"pageSize"`
	TotalCount *int64 `json:"totalCount"`
}

// KeepRaw gives the page's entries their raw JSON.
func (p *numberedPage[T]) KeepRaw(body []byte) error { return keepRaw(body, &p.Content) }

var numberedPageNames = lenient.Names{"content", "pageNumber", "pageSize", "totalCount"}

// DecodeFast decodes the body in one pass when its entries have a
// hand-written decoder (see httpx.FastDecoder); its numbers as encoding/json
// reads them.
func (p *numberedPage[T]) DecodeFast(body []byte) bool {
	return hasFastEntries[T]() && lenient.DecodePage(body, p, func(p *numberedPage[T]) **[]T { return &p.Content }, decodeFastEntry[T], numberedPageNames,
		func(q *numberedPage[T], i int, v []byte) bool {
			switch i {
			case 1:
				return json.Unmarshal(v, &q.PageNumber) == nil
			case 2:
				return json.Unmarshal(v, &q.PageSize) == nil
			}
			return json.Unmarshal(v, &q.TotalCount) == nil
		})
}

// pageLoop reads pageNumber 0, 1, ... until totalCount entries have been
// read or, when the API gives no total, a page comes back short. Pages are
// handed over in order, but once the first page has told the total, the
// pages after it are requested ahead, up to the pager's concurrency and no
// more than the total and the query's remaining rows need.
func pageLoop[T any](ctx context.Context, c *Client, ep endpoint, path string, base url.Values, p Pager, h Handler[T]) error {
	var read int64
	var prev uint64
	size := p.size()
	hint := min(size, firstPageRoom)
	get := func(n int) *prefetch.Page[numberedPage[T]] {
		room := hint
		q := cloneValues(base)
		q.Set("pageNumber", strconv.Itoa(n))
		q.Set("pageSize", strconv.Itoa(size))
		return prefetch.Start(ctx, p.BeforePage, func(ctx context.Context, page *numberedPage[T]) (int, uint64, error) {
			page.Content = presized[T](room)
			return c.get(ctx, ep, path, q, page)
		})
	}
	queue := []*prefetch.Page[numberedPage[T]]{get(0)} // pages pageNo, pageNo+1, ...
	defer func() {
		for _, a := range queue {
			a.Drop()
		}
	}()
	for pageNo := 0; ; pageNo++ {
		page, status, digest, err := queue[0].Wait()
		queue = queue[1:]
		if err != nil {
			return err
		}
		if status == 204 {
			return nil // No Content: nothing (more) in range
		}
		if page.Content == nil {
			return fmt.Errorf("celonis: GET %s: HTTP %d: the page has no `content` array, so the response is not in the shape the plugin knows; no rows were invented", path, status)
		}
		items := *page.Content
		hint = max(len(items), 1)
		if page.PageNumber != nil && *page.PageNumber != pageNo {
			return fmt.Errorf("celonis: GET %s: asked for page %d and the API answered with page %d; stopping rather than returning a wrong page", path, pageNo, *page.PageNumber)
		}
		if len(items) > size {
			return fmt.Errorf("celonis: GET %s: HTTP %d: the API returned %d entries for pageSize %d", path, status, len(items), size)
		}
		if pageNo > 0 && len(items) > 0 && digest == prev {
			return fmt.Errorf("celonis: GET %s: page %d is the same as page %d; the page loop does not advance", path, pageNo, pageNo-1)
		}
		prev = digest
		read += int64(len(items))
		total := page.TotalCount
		if total != nil && read > *total {
			return fmt.Errorf("celonis: GET %s: page %d brings the entries read to %d, more than the %d the API announced; the pages overlap", path, pageNo, read, *total)
		}
		pageSize := size
		if page.PageSize != nil && *page.PageSize > 0 && *page.PageSize < size {
			pageSize = *page.PageSize // the server capped our page size: go by its own
		}
		last := false
		switch {
		case total != nil && read >= *total:
			last = true
		case len(items) == 0:
			if total != nil {
				return fmt.Errorf("celonis: GET %s: page %d was empty after %d of the %d entries the API announced; the listing is incomplete", path, pageNo, read, *total)
			}
			last = true
		case total == nil && len(items) < pageSize:
			last = true
		}
		if !last {
			// Ask for the next pages now, so they arrive while this one streams.
			for want := p.pagesAhead(total, read, pageSize, len(items)); len(queue) < want; {
				queue = append(queue, get(pageNo+1+len(queue)))
			}
		}
		if !h(items) || last {
			return nil
		}
		if len(queue) == 0 {
			queue = append(queue, get(pageNo+1))
		}
	}
}

// pagesAhead is how many pages after the current one (of n entries) to have
// requested: with a known total, as many as remain, the concurrency allows
// and the query's remaining rows need; without one, the next page only,
// and only if the query wants more rows than this page holds.
func (p Pager) pagesAhead(total *int64, read int64, pageSize, n int) int {
	if !p.prefetch(n) {
		return 0
	}
	if total == nil {
		return 1
	}
	want := int((*total - read + int64(pageSize) - 1) / int64(pageSize))
	if p.Remaining != nil {
		if r := p.Remaining() - int64(n); r < int64(want)*int64(pageSize) {
			want = int((r + int64(pageSize) - 1) / int64(pageSize))
		}
	}
	return min(want, p.concurrency())
}

// firstPageRoom is how many entries the first page's slice has room for
// before decoding; later pages get room for as many as the page before had.
const firstPageRoom = 256

// presized is an empty page slice with room for n entries, so that decoding
// a page fills it instead of growing it step by step (each step a copy, and
// fresh memory the SDK's frequent FreeOSMemory makes costly).
func presized[T any](n int) *[]T {
	s := make([]T, 0, n)
	return &s
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+2)
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
