// Package makeapi is a small client for Make's (make.com) audit log API. It
// knows nothing of Steampipe: plain Go types in, plain Go types out.
package makeapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"

	"github.com/celonis-audit/steampipe-plugin-celonis/config"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/httpx"
)

// Logger is the subset of hclog.Logger the client writes to.
type Logger = httpx.Logger

// Options tune a Client; the zero value is the production default.
type Options = httpx.ClientOptions

// Client reads one Make zone with one API token. It is safe for concurrent use.
type Client struct {
	cfg    config.Make
	base   string // https://<zone>/api/v2
	opts   Options
	http   *http.Client
	log    Logger
	redact *httpx.Redactor

	prefix      atomic.Int32 // index into auditPrefixes that answered
	prefixKnown atomic.Bool

	limMu    sync.Mutex
	limiters map[string]*rate.Limiter // per organization (or team, when its organization is unknown)
	apiLimit sync.Map                 // organization ID -> license.apiLimit seen in GET /organizations

}

// auditPrefixes are the documented path and the one Make's own SDK calls.
var auditPrefixes = []string{"/audit-logs", "/audit-logs/v2"}

// New builds a client for a resolved connection.
func New(cfg *config.Make, o Options) *Client {
	o = o.WithDefaults()
	return &Client{cfg: *cfg, base: cfg.URL.String() + "/api/v2", opts: o, http: o.HTTPClient, log: o.Logger,
		redact: httpx.NewRedactor(cfg.Secrets()...), limiters: map[string]*rate.Limiter{}}
}

// Redact replaces the API token with ***.
func (c *Client) Redact(s string) string { return c.redact.Redact(s) }

// Zone returns the host of the configured zone, e.g. eu1.make.com.
func (c *Client) Zone() string { return c.cfg.URL.Host }

// AuditPrefix returns the audit log path prefix in use.
func (c *Client) AuditPrefix() string { return auditPrefixes[c.prefix.Load()] }

// OrganizationIDs returns the organizations configured for the connection.
func (c *Client) OrganizationIDs() []int64 { return c.cfg.OrganizationIDs }

//// RATE LIMITING

// limiterKey names the bucket a request counts against: Make limits
// requests per organization and minute.
func limiterKey(s Scope) string {
	if s.OrganizationID != 0 {
		return "org:" + strconv.FormatInt(s.OrganizationID, 10)
	}
	return "team:" + strconv.FormatInt(s.TeamID, 10)
}

// wait blocks until the scope's organization may send another request:
// make_rate_limit_per_minute, or the licence's apiLimit when the limit was
// not configured and the organization listing told it.
func (c *Client) wait(ctx context.Context, s Scope) error {
	key := limiterKey(s)
	c.limMu.Lock()
	l := c.limiters[key]
	if l == nil {
		rpm := c.cfg.RateLimitPerMinute
		if v, ok := c.apiLimit.Load(s.OrganizationID); ok && !c.cfg.RateLimitSet {
			rpm = v.(int64)
		}
		burst := int(max(1, rpm/60))
		l = rate.NewLimiter(rate.Limit(float64(rpm)/60), burst)
		c.limiters[key] = l
	}
	c.limMu.Unlock()
	return l.Wait(ctx)
}

//// REQUESTS

// answer is a response as read. Its body is decoded where it is used, and
// when: a page loop decodes each page when the page's turn comes (see
// ListAuditLogs).
type answer struct {
	path, contentType string
	status            int
	body              []byte
}

// fetch sends one rate-limited GET with bounded retries. A non-2xx answer
// is an *APIError, returned with the answer for its status.
func (c *Client) fetch(ctx context.Context, s Scope, path string, q url.Values) (answer, error) {
	resp, attempts, err := httpx.Get{Vendor: "make", Client: c.http, Policy: c.opts.Retry,
		Base: c.base, Path: path, Query: q,
		Header: http.Header{"Authorization": {"Token " + c.cfg.Token}, "User-Agent": {c.opts.UserAgent}},
		Before: func(ctx context.Context) error { return c.wait(ctx, s) },
		Log:    c.log, Redact: c.Redact}.Do(ctx)
	if err != nil {
		return answer{}, err
	}
	a := answer{path: path, contentType: resp.Header.Get("Content-Type"), status: resp.Status, body: resp.Body}
	if resp.Status >= 200 && resp.Status < 300 {
		return a, nil
	}
	e := c.apiError(s, path, resp)
	e.attempts = attempts
	return a, e
}

// decode decodes a 2xx answer's body into out, or passes on err, the
// error of a request that failed.
func (c *Client) decode(a answer, err error, out any) error {
	if err != nil {
		return err
	}
	if err := httpx.DecodeJSON(a.body, a.contentType, out); err != nil {
		return &APIError{Path: a.path, Status: a.status, msg: c.Redact(fmt.Sprintf("make: GET %s: HTTP %d: %s", a.path, a.status, err))}
	}
	return nil
}

// auditFetch sends a GET under the audit log prefix. Until a prefix has
// answered, a 404 on the documented one is tried once more under the
// prefix Make's SDK uses, and whichever answers is kept for the connection.
func (c *Client) auditFetch(ctx context.Context, s Scope, rest string, q url.Values) (answer, error) {
	for i := int(c.prefix.Load()); ; i++ {
		a, err := c.fetch(ctx, s, auditPrefixes[i]+rest, q)
		if a.status == http.StatusNotFound && !c.prefixKnown.Load() && i+1 < len(auditPrefixes) {
			c.log.Warn("make audit log path answered 404; trying the alternative prefix", "path", auditPrefixes[i]+rest, "next", auditPrefixes[i+1])
			continue
		}
		if a.status != http.StatusNotFound && a.status != 0 {
			c.prefix.Store(int32(i))
			c.prefixKnown.Store(true)
		}
		return a, err
	}
}
