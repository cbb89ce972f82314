// Package platform is a small client for the Celonis Platform's audit, login
// history, Studio adoption and members APIs. It knows nothing of Steampipe:
// plain Go types in, plain Go types out.
package platform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/celonis-audit/steampipe-plugin-celonis/config"
)

// OAuth 2.0 scopes, one per API; a token is requested for the scope of the
// API being read only.
const (
	ScopeAuditLog       = "audit.log:read"
	ScopeLoginHistory   = "team.login-history:read"
	ScopeStudioAdoption = "platform-adoption.tracking-events:read"
	ScopeMembers        = "team.user-group-info:read"
)

// MaxPageSize is the documented largest page of every Celonis Platform list API.
const MaxPageSize = 200

// maxBody bounds what one response may hold: a 200-entry page is far smaller.
const maxBody = 64 << 20

// Logger is the subset of hclog.Logger the client writes to.
type Logger interface {
	Debug(msg string, args ...any)
	Warn(msg string, args ...any)
}

type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Warn(string, ...any)  {}

// Options tune a Client; the zero value is the production default.
type Options struct {
	HTTPClient    *http.Client  // default: 60 s timeout
	UserAgent     string        // default: steampipe-plugin-celonis
	MaxAttempts   int           // tries per request for 429, 5xx and network errors; default 5
	MaxRetryWait  time.Duration // cap on one wait; default 60 s
	MaxRetryTotal time.Duration // cap on all waits of one request; default 3 min
	BaseBackoff   time.Duration // first 5xx/network backoff, doubled each time; default 500 ms
	Logger        Logger
}

// Client reads one Celonis Platform team. It is safe for concurrent use.
type Client struct {
	cfg  config.Celonis
	opts Options
	http *http.Client
	log  Logger

	tokMu  sync.Mutex
	tokens map[string]*oauth2.Token // by scope

	secretsMu sync.RWMutex
	secrets   []string // credentials and issued tokens, scrubbed from errors

	auditV1Fallback atomic.Bool  // v2 answered 404 once: read v1 from then on
	pathChoice      sync.Map     // endpoint name -> index into endpoint.paths that answered
	requests        atomic.Int64 // HTTP requests sent, for logs and tests
}

// New builds a client for a resolved connection.
func New(cfg *config.Celonis, o Options) *Client {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if o.UserAgent == "" {
		o.UserAgent = "steampipe-plugin-celonis"
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.MaxRetryWait <= 0 {
		o.MaxRetryWait = 60 * time.Second
	}
	if o.MaxRetryTotal <= 0 {
		o.MaxRetryTotal = 3 * time.Minute
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 500 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = nopLogger{}
	}
	c := &Client{cfg: *cfg, opts: o, http: o.HTTPClient, log: o.Logger, tokens: map[string]*oauth2.Token{}}
	c.secrets = cfg.Secrets()
	return c
}

// Requests returns how many HTTP requests (token requests included) the client sent.
func (c *Client) Requests() int64 { return c.requests.Load() }

// endpoint describes one API: where it lives and what access it needs.
type endpoint struct {
	name       string   // for messages: "audit log (v2)"
	paths      []string // tried in order while the first answers 404 (guessed alternatives)
	scope      string
	permission string // the team permission an admin grants, for 403 messages
}

// Redact replaces every credential and access token the client knows with ***.
func (c *Client) Redact(s string) string {
	c.secretsMu.RLock()
	defer c.secretsMu.RUnlock()
	for _, sec := range c.secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "***")
		}
	}
	return s
}

func (c *Client) addSecret(s string) {
	if s == "" {
		return
	}
	c.secretsMu.Lock()
	c.secrets = append(c.secrets, s)
	c.secretsMu.Unlock()
}

//// AUTHORIZATION

// authorization returns the Authorization header value for an endpoint.
func (c *Client) authorization(ctx context.Context, ep endpoint, renew bool) (string, error) {
	switch c.cfg.Auth {
	case config.AuthAppKey:
		return "AppKey " + c.cfg.AppKey, nil
	case config.AuthAPIKey:
		return "Bearer " + c.cfg.APIKey, nil
	case config.AuthOAuth:
		tok, err := c.token(ctx, ep.scope, renew)
		if err != nil {
			return "", err
		}
		return "Bearer " + tok, nil
	}
	return "", fmt.Errorf("celonis: no auth method configured")
}

// token returns a cached access token for scope, fetching one when there is
// none, when it expires within a minute, or when renew is set (after a 401).
func (c *Client) token(ctx context.Context, scope string, renew bool) (string, error) {
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	if t := c.tokens[scope]; t != nil && !renew && time.Until(t.Expiry) > time.Minute {
		return t.AccessToken, nil
	}
	cc := clientcredentials.Config{
		ClientID:     c.cfg.ClientID,
		ClientSecret: c.cfg.ClientSecret,
		TokenURL:     c.cfg.URL.String() + "/oauth2/token",
		Scopes:       []string{scope},
		AuthStyle:    oauth2.AuthStyleInParams, // "client secret post", as Celonis documents
	}
	hctx := context.WithValue(ctx, oauth2.HTTPClient, c.http)
	var lastErr error
	var waited time.Duration
	for attempt := 1; attempt <= c.opts.MaxAttempts; attempt++ {
		c.requests.Add(1)
		t, err := cc.Token(hctx)
		if err == nil {
			if t.Expiry.IsZero() {
				t.Expiry = time.Now().Add(15 * time.Minute)
			}
			c.addSecret(t.AccessToken)
			c.tokens[scope] = t
			return t.AccessToken, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		lastErr = c.tokenError(scope, err)
		var re *oauth2.RetrieveError
		retryable := !errors.As(err, &re) || re.Response == nil || re.Response.StatusCode == 429 || re.Response.StatusCode >= 500
		if !retryable || attempt == c.opts.MaxAttempts {
			break
		}
		d := c.backoff(attempt)
		if waited+d > c.opts.MaxRetryTotal {
			break
		}
		waited += d
		if err := sleep(ctx, d); err != nil {
			return "", err
		}
	}
	return "", lastErr
}

// tokenError turns a token endpoint failure into one clear message without
// echoing the request (which carries the client secret).
func (c *Client) tokenError(scope string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		st := re.Response.StatusCode
		msg := fmt.Sprintf("celonis: OAuth token request to %s/oauth2/token failed: HTTP %d %s", c.cfg.URL, st, http.StatusText(st))
		if re.ErrorCode != "" {
			msg += ": " + re.ErrorCode
			if re.ErrorDescription != "" {
				msg += " (" + re.ErrorDescription + ")"
			}
		} else if b := snippet(re.Body); b != "" {
			msg += ": " + b
		}
		switch {
		case st == 400 && strings.Contains(re.ErrorCode, "scope"):
			msg += fmt.Sprintf(". Add the scope %s to the OAuth client in Admin & Settings > Applications", scope)
		case st == 400 || st == 401:
			msg += ". Check `client_id` and `client_secret` (CELONIS_CLIENT_ID, CELONIS_CLIENT_SECRET) and that the client uses \"client secret post\""
		}
		return &APIError{Method: "POST", Path: "/oauth2/token", Status: st, msg: c.Redact(msg)}
	}
	return fmt.Errorf("celonis: OAuth token request to %s/oauth2/token failed: %s", c.cfg.URL, c.Redact(err.Error()))
}

//// REQUESTS

// get sends one GET with bounded retries and decodes a 200 body into out.
// It returns the final HTTP status and a digest of the body (for loop checks).
func (c *Client) get(ctx context.Context, ep endpoint, path string, q url.Values, out any) (int, [32]byte, error) {
	var zero [32]byte
	u := c.cfg.URL.String() + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	renewed, renewNow := false, false
	var waited time.Duration
	var lastErr error
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return 0, zero, err
		}
		auth, err := c.authorization(ctx, ep, renewNow)
		renewNow = false
		if err != nil {
			return 0, zero, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return 0, zero, fmt.Errorf("celonis: building request for %s: %w", path, err)
		}
		req.Header.Set("Authorization", auth)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.opts.UserAgent)

		start := time.Now()
		c.requests.Add(1)
		resp, err := c.http.Do(req)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
			resp.Body.Close()
			if err == nil && len(body) > maxBody {
				return resp.StatusCode, zero, fmt.Errorf("celonis: GET %s: HTTP %d: the response is larger than %d MiB, far more than a page should be", path, resp.StatusCode, maxBody>>20)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return 0, zero, ctx.Err()
			}
			lastErr = fmt.Errorf("celonis: GET %s: %s", path, c.Redact(err.Error()))
			c.log.Debug("celonis request failed", "path", path, "attempt", attempt, "error", lastErr)
			d := c.backoff(attempt)
			if attempt >= c.opts.MaxAttempts || waited+d > c.opts.MaxRetryTotal {
				return 0, zero, fmt.Errorf("%w (gave up after %d attempts)", lastErr, attempt)
			}
			waited += d
			if err := sleep(ctx, d); err != nil {
				return 0, zero, err
			}
			continue
		}
		st := resp.StatusCode
		c.log.Debug("celonis request", "method", "GET", "path", path, "query", q.Encode(), "status", st, "ms", time.Since(start).Milliseconds())

		switch {
		case st == http.StatusNoContent:
			return st, zero, nil
		case st >= 200 && st < 300:
			if err := decodeJSON(body, resp.Header.Get("Content-Type"), out); err != nil {
				return st, zero, &APIError{Method: "GET", Path: path, Status: st, msg: c.Redact(fmt.Sprintf("celonis: GET %s: HTTP %d: %s", path, st, err))}
			}
			return st, sha256.Sum256(body), nil
		case st == http.StatusUnauthorized && c.cfg.Auth == config.AuthOAuth && !renewed:
			// The token may have been revoked or expired early: renew once.
			renewed, renewNow = true, true
			attempt--
			continue
		}

		apiErr := c.apiError(ep, path, st, resp.Header, body)
		if !apiErr.retryable() {
			return st, zero, apiErr
		}
		d := c.retryWait(resp.Header, attempt)
		if attempt >= c.opts.MaxAttempts || waited+d > c.opts.MaxRetryTotal {
			apiErr.attempts = attempt
			return st, zero, apiErr
		}
		waited += d
		c.log.Debug("celonis retry", "path", path, "status", st, "wait_ms", d.Milliseconds(), "attempt", attempt)
		if err := sleep(ctx, d); err != nil {
			return 0, zero, err
		}
	}
}

// retryWait is how long to wait before retrying a 429 or 5xx: the server's
// x-ratelimit-reset or Retry-After when given, else exponential backoff.
func (c *Client) retryWait(h http.Header, attempt int) time.Duration {
	for _, name := range []string{"X-Ratelimit-Reset", "Retry-After"} {
		v := strings.TrimSpace(h.Get(name))
		if v == "" {
			continue
		}
		if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
			d := time.Duration(n * float64(time.Second))
			if n > 1e9 { // an epoch timestamp rather than a number of seconds
				d = time.Until(time.Unix(int64(n), 0))
			}
			return clampWait(d, c.opts.MaxRetryWait)
		}
		if t, err := http.ParseTime(v); err == nil {
			return clampWait(time.Until(t), c.opts.MaxRetryWait)
		}
	}
	return c.backoff(attempt)
}

func clampWait(d, max time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	if d > max {
		return max
	}
	return d
}

// backoff is exponential from BaseBackoff with up to 20% jitter, capped.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.opts.BaseBackoff << (attempt - 1)
	if d <= 0 || d > c.opts.MaxRetryWait {
		d = c.opts.MaxRetryWait
	}
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// decodeJSON decodes a 2xx body, refusing empty and non-JSON bodies with a
// message that says what arrived instead.
func decodeJSON(body []byte, contentType string, out any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return fmt.Errorf("the body is empty where a JSON page was expected")
	}
	if trimmed[0] != '{' && trimmed[0] != '[' {
		return fmt.Errorf("the body is not JSON (Content-Type %q): %s", contentType, snippet(body))
	}
	if err := json.Unmarshal(trimmed, out); err != nil {
		return fmt.Errorf("the JSON body could not be decoded (Content-Type %q): %v", contentType, err)
	}
	return nil
}

// snippet is a short, single-line excerpt of a body for error messages.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
