// Package platform is a small client for the Celonis Platform's audit, login
// history, Studio adoption and members APIs. It knows nothing of Steampipe:
// plain Go types in, plain Go types out.
package platform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/celonis-audit/steampipe-plugin-celonis/config"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/httpx"
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

// Logger is the subset of hclog.Logger the client writes to.
type Logger = httpx.Logger

// Options tune a Client; the zero value is the production default.
type Options = httpx.ClientOptions

// Client reads one Celonis Platform team. It is safe for concurrent use.
type Client struct {
	cfg    config.Celonis
	opts   Options
	http   *http.Client
	log    Logger
	redact *httpx.Redactor // credentials and issued tokens, scrubbed from errors

	tokMu  sync.Mutex
	tokens map[string]*oauth2.Token // by scope

	auditV1Fallback atomic.Bool // v2 answered 404 once: read v1 from then on
	pathChoice      sync.Map    // endpoint name -> index into endpoint.paths that answered
}

// New builds a client for a resolved connection.
func New(cfg *config.Celonis, o Options) *Client {
	o = o.WithDefaults()
	return &Client{cfg: *cfg, opts: o, http: o.HTTPClient, log: o.Logger, tokens: map[string]*oauth2.Token{},
		redact: httpx.NewRedactor(cfg.Secrets()...)}
}

// endpoint describes one API: where it lives and what access it needs.
type endpoint struct {
	name       string   // for messages: "audit log (v2)"
	paths      []string // tried in order while the first answers 404 (guessed alternatives)
	scope      string
	permission string // the team permission an admin grants, for 403 messages
}

// Redact replaces every credential and access token the client knows with ***.
func (c *Client) Redact(s string) string { return c.redact.Redact(s) }

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
	var tok *oauth2.Token
	var lastErr error
	_, _, err := httpx.Do(ctx, c.opts.Retry, func(context.Context) (*httpx.Response, error) {
		tok, lastErr = cc.Token(hctx)
		var re *oauth2.RetrieveError
		if errors.As(lastErr, &re) && re.Response != nil {
			// An answer, not a transport failure: only 429 and 5xx are retried.
			return &httpx.Response{Status: re.Response.StatusCode, Header: re.Response.Header}, nil
		}
		if lastErr != nil {
			return nil, lastErr
		}
		return &httpx.Response{Status: http.StatusOK}, nil
	}, func(r *httpx.Response) bool { return httpx.Transient(r.Status) }, nil)
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if lastErr == nil {
		lastErr = err
	}
	if lastErr != nil || tok == nil {
		return "", c.tokenError(scope, lastErr)
	}
	if tok.Expiry.IsZero() {
		tok.Expiry = time.Now().Add(15 * time.Minute)
	}
	c.redact.Add(tok.AccessToken)
	c.tokens[scope] = tok
	return tok.AccessToken, nil
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
		} else if b := httpx.Snippet(re.Body); b != "" {
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

// get sends one GET with bounded retries and decodes a 2xx body into out.
// It returns the final HTTP status and a digest of the body (for loop checks).
func (c *Client) get(ctx context.Context, ep endpoint, path string, q url.Values, out any) (int, uint64, error) {
	var zero uint64
	for renewed := false; ; renewed = true {
		// After a 401 the token may have been revoked or expired early: renew once.
		auth, err := c.authorization(ctx, ep, renewed)
		if err != nil {
			return 0, zero, err
		}
		resp, attempts, err := httpx.Get{Vendor: "celonis", Client: c.http, Policy: c.opts.Retry,
			Base: c.cfg.URL.String(), Path: path, Query: q,
			Header: http.Header{"Authorization": {auth}, "User-Agent": {c.opts.UserAgent}},
			Log:    c.log, Redact: c.Redact}.Do(ctx)
		if err != nil {
			return 0, zero, err
		}
		st := resp.Status
		switch {
		case st == http.StatusNoContent:
			return st, zero, nil
		case st >= 200 && st < 300:
			if err := httpx.DecodeJSON(resp.Body, resp.Header.Get("Content-Type"), out); err != nil {
				return st, zero, &APIError{Method: "GET", Path: path, Status: st, msg: c.Redact(fmt.Sprintf("celonis: GET %s: HTTP %d: %s", path, st, err))}
			}
			return st, httpx.Digest(resp.Body), nil
		case st == http.StatusUnauthorized && c.cfg.Auth == config.AuthOAuth && !renewed:
			continue
		}
		apiErr := c.apiError(ep, path, st, resp.Header, resp.Body)
		apiErr.attempts = attempts
		return st, zero, apiErr
	}
}
