package platform

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"
)

// Endpoints. Paths marked as guesses in API.md have alternatives that are
// tried, in order, while the earlier ones answer 404.
var (
	auditV2 = endpoint{name: "audit log API (v2)", paths: []string{"/log/api/external/v2/audit"},
		scope: ScopeAuditLog, permission: "Use Audit Log API"}
	auditV1 = endpoint{name: "audit log API (v1)", paths: []string{"/log/api/external/audit"},
		scope: ScopeAuditLog, permission: "Use Audit Log API"}
	loginHistory = endpoint{name: "login history API", paths: []string{"/api/external/authentication-events", "/log/api/external/authentication-events"},
		scope: ScopeLoginHistory, permission: "Use Login History API"}
	studioAdoption = endpoint{name: "Studio adoption API", paths: []string{"/platform-adoption/api/external/v2/adoption-tracking-events/STUDIO_ASSET"},
		scope: ScopeStudioAdoption, permission: "Use Studio Adoption API"}
	members = endpoint{name: "members API", paths: []string{"/api/external/members"},
		scope: ScopeMembers, permission: "Use Team API"}
)

// TimeRange is an inclusive [From, To] filter; nil ends are open.
type TimeRange struct {
	From, To *time.Time
}

// values renders the range as from/to. The audit APIs take ISO date-times
// (a public client sends milliseconds and Z); the login history API documents
// yyyy-MM-ddTHH:mm:ss. Bounds are widened to the unit sent, never narrowed.
func (r TimeRange) values(unit time.Duration, layout string) url.Values {
	q := url.Values{}
	if r.From != nil {
		q.Set("from", r.From.UTC().Truncate(unit).Format(layout))
	}
	if r.To != nil {
		to := r.To.UTC()
		if t := to.Truncate(unit); !t.Equal(to) {
			to = t.Add(unit)
		}
		q.Set("to", to.Format(layout))
	}
	return q
}

const (
	isoMillis  = "2006-01-02T15:04:05.000Z"
	isoSeconds = "2006-01-02T15:04:05"
)

// millis renders a range as the audit and adoption APIs take it.
func millis(r TimeRange) url.Values { return r.values(time.Millisecond, isoMillis) }

// AuditLogVersion reports which audit API the client reads: "v2", "v1" by
// config, or "v1" after v2 answered 404.
func (c *Client) AuditLogVersion() string {
	if c.cfg.AuditLogAPIVersion == "v1" || c.auditV1Fallback.Load() {
		return "v1"
	}
	return "v2"
}

// ListAuditLogs streams audit log entries in r, page by page.
func (c *Client) ListAuditLogs(ctx context.Context, r TimeRange, p Pager, h Handler[AuditEntry]) error {
	if c.AuditLogVersion() == "v2" {
		first, h2 := firstPage(h)
		err := cursorWindows(ctx, c, auditV2, auditV2.paths[0], r, millis, entryAccess[AuditEntry]{(*AuditEntry).At, (*AuditEntry).rawJSON}, p, h2)
		if !first.notFound(err) {
			return err
		}
		// A 404 before any page arrived: the team does not serve v2 yet.
		c.auditV1Fallback.Store(true)
		c.log.Warn("celonis audit log API v2 answered 404; falling back to v1 for this connection (set audit_log_api_version = \"v1\" to skip the probe)", "path", auditV2.paths[0])
	}
	return pageLoop(ctx, c, auditV1, auditV1.paths[0], millis(r), p, h)
}

// ListLoginHistory streams login history events in r.
func (c *Client) ListLoginHistory(ctx context.Context, r TimeRange, p Pager, h Handler[LoginEvent]) error {
	q := r.values(time.Second, isoSeconds)
	return withPath(c, loginHistory, h, func(path string, h Handler[LoginEvent]) error {
		return pageLoop(ctx, c, loginHistory, path, q, p, h)
	})
}

// ListStudioAdoptionEvents streams Studio adoption tracking events in r.
func (c *Client) ListStudioAdoptionEvents(ctx context.Context, r TimeRange, p Pager, h Handler[AdoptionEvent]) error {
	return withPath(c, studioAdoption, h, func(path string, h Handler[AdoptionEvent]) error {
		return cursorWindows(ctx, c, studioAdoption, path, r, millis, entryAccess[AdoptionEvent]{(*AdoptionEvent).At, (*AdoptionEvent).rawJSON}, p, h)
	})
}

// ListMembers streams the team's members; includeInternal is required by the API.
func (c *Client) ListMembers(ctx context.Context, includeInternal bool, p Pager, h Handler[Member]) error {
	q := url.Values{"includeInternal": {strconv.FormatBool(includeInternal)}}
	return withPath(c, members, h, func(path string, h Handler[Member]) error {
		return pageLoop(ctx, c, members, path, q, p, h)
	})
}

// withPath runs a listing on the endpoint's path that answered last, trying
// the next alternative when it answers 404 before any page arrived, so
// nothing is ever streamed twice.
func withPath[T any](c *Client, ep endpoint, h Handler[T], run func(path string, h Handler[T]) error) error {
	start := 0
	if v, ok := c.pathChoice.Load(ep.name); ok {
		start = v.(int)
	}
	for i := start; ; i++ {
		first, h2 := firstPage(h)
		err := run(ep.paths[i], h2)
		if !first.notFound(err) || i == len(ep.paths)-1 {
			if !first.notFound(err) {
				c.pathChoice.Store(ep.name, i)
			}
			return err
		}
		c.log.Warn("celonis endpoint answered 404; trying the alternative path", "api", ep.name, "path", ep.paths[i], "next", ep.paths[i+1])
	}
}

// pageSeen records whether a listing handed out any page.
type pageSeen struct{ seen bool }

// firstPage wraps h so that the caller can tell a 404 on the first request
// (a wrong path or version) from one in the middle of a listing.
func firstPage[T any](h Handler[T]) (*pageSeen, Handler[T]) {
	s := &pageSeen{}
	return s, func(items []T) bool {
		s.seen = true
		return h(items)
	}
}

func (s *pageSeen) notFound(err error) bool {
	var ae *APIError
	return !s.seen && errors.As(err, &ae) && ae.Status == 404
}
