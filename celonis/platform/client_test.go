package platform

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/config"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/httpx"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

// newTestClient serves a sandbox team and returns a client for it with fast
// retries, so bounded-retry tests take milliseconds.
func newTestClient(t *testing.T, o sandbox.CelonisOptions, method config.AuthMethod) (*Client, *sandbox.Celonis) {
	t.Helper()
	api := sandbox.NewCelonis(o)
	srv, err := sandbox.Serve(api, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	opts := api.Options()
	cfg := &config.Celonis{URL: u, Auth: method, AuditLogAPIVersion: "v2"}
	switch method {
	case config.AuthOAuth:
		cfg.ClientID, cfg.ClientSecret = opts.ClientID, opts.ClientSecret
	case config.AuthAppKey:
		cfg.AppKey = opts.AppKey
	case config.AuthAPIKey:
		cfg.APIKey = opts.APIKey
	}
	c := New(cfg, Options{Retry: httpx.Policy{BaseBackoff: time.Millisecond, MaxRetryWait: 50 * time.Millisecond}, HTTPClient: &http.Client{Timeout: 2 * time.Second}})
	return c, api
}

func collect[T any](t *testing.T, list func(Handler[T]) error) ([]T, error) {
	t.Helper()
	var out []T
	err := list(func(items []T) bool { out = append(out, items...); return true })
	return out, err
}

func TestCursorLoopReadsEveryPageOnce(t *testing.T) {
	c, api := newTestClient(t, sandbox.CelonisOptions{AuditEvents: 1001}, config.AuthAppKey)
	got, err := collect(t, func(h Handler[AuditEntry]) error {
		return c.ListAuditLogs(context.Background(), TimeRange{}, Pager{}, h)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1001 {
		t.Fatalf("got %d entries, want 1001", len(got))
	}
	reqs := api.Requests("/log/api/external/v2/audit")
	if len(reqs) != 6 { // ceil(1001/200)
		t.Fatalf("got %d page requests, want 6", len(reqs))
	}
	if reqs[0].Query.Has("pageToken") {
		t.Error("first request must omit pageToken")
	}
	for i, r := range reqs {
		if r.Query.Get("pageSize") != "200" {
			t.Errorf("request %d pageSize %q, want 200", i, r.Query.Get("pageSize"))
		}
		if i > 0 && r.Query.Get("pageToken") == "" {
			t.Errorf("request %d has no pageToken", i)
		}
	}
	seen := map[string]bool{}
	for _, e := range got {
		k := EntryKey(e.Raw)
		if seen[k] {
			t.Fatalf("entry returned twice: %s", e.Raw)
		}
		seen[k] = true
	}
}

func TestTimeRangeIsWidenedNeverNarrowed(t *testing.T) {
	from := time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.UTC)
	to := time.Date(2025, 3, 2, 10, 0, 0, 987654321, time.UTC)
	r := TimeRange{From: &from, To: &to}
	ms := r.values(time.Millisecond, isoMillis)
	if ms.Get("from") != "2025-03-01T10:00:00.123Z" || ms.Get("to") != "2025-03-02T10:00:00.988Z" {
		t.Errorf("millisecond bounds: %v", ms)
	}
	s := r.values(time.Second, isoSeconds)
	if s.Get("from") != "2025-03-01T10:00:00" || s.Get("to") != "2025-03-02T10:00:01" {
		t.Errorf("second bounds: %v", s)
	}
	exact := time.Date(2025, 3, 2, 10, 0, 0, 0, time.UTC)
	if got := (TimeRange{To: &exact}).values(time.Second, isoSeconds).Get("to"); got != "2025-03-02T10:00:00" {
		t.Errorf("exact bound moved: %s", got)
	}
}

func TestRetriesAreBounded(t *testing.T) {
	c, api := newTestClient(t, sandbox.CelonisOptions{AuditEvents: 10}, config.AuthAppKey)
	api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/log/", Status: 503, Body: `{"title":"Unavailable","status":503,"detail":"maintenance","errorCode":"X"}`})
	start := time.Now()
	_, err := collect(t, func(h Handler[AuditEntry]) error {
		return c.ListAuditLogs(context.Background(), TimeRange{}, Pager{}, h)
	})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"HTTP 503", "maintenance", "gave up after 5 attempts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if n := len(api.Requests("/log/")); n != 5 {
		t.Errorf("sent %d requests, want 5", n)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
}

func TestTransientFaultsRecoverExactly(t *testing.T) {
	cases := map[string]sandbox.Fault{
		"429 x-ratelimit-reset": {Kind: sandbox.FaultRespond, Status: 429, Times: 2, Header: http.Header{"X-Ratelimit-Reset": {"0"}}, Body: `{"title":"Rate limit exceeded","status":429}`},
		"429 Retry-After":       {Kind: sandbox.FaultRespond, Status: 429, Times: 2, Header: http.Header{"Retry-After": {"0"}}},
		"429 no header":         {Kind: sandbox.FaultRespond, Status: 429, Times: 2},
		"502 burst":             {Kind: sandbox.FaultRespond, Status: 502, Times: 3, Body: "<html>bad gateway</html>"},
		"reset mid-body":        {Kind: sandbox.FaultReset, Times: 2},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			c, api := newTestClient(t, sandbox.CelonisOptions{AuditEvents: 500}, config.AuthAppKey)
			f.Path = "/log/"
			f.After = 1 // break the second page
			api.AddFault(f)
			got, err := collect(t, func(h Handler[AuditEntry]) error {
				return c.ListAuditLogs(context.Background(), TimeRange{}, Pager{}, h)
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 500 {
				t.Fatalf("got %d entries, want 500", len(got))
			}
		})
	}
}

func TestTokenPerScopeReusedAndRenewedAfter401(t *testing.T) {
	c, api := newTestClient(t, sandbox.CelonisOptions{AuditEvents: 10, LoginEvents: 10}, config.AuthOAuth)
	ctx := context.Background()
	list := func() error {
		_, err := collect(t, func(h Handler[AuditEntry]) error { return c.ListAuditLogs(ctx, TimeRange{}, Pager{}, h) })
		return err
	}
	if err := list(); err != nil {
		t.Fatal(err)
	}
	if err := list(); err != nil {
		t.Fatal(err)
	}
	if n := len(api.Requests("/oauth2/token")); n != 1 {
		t.Fatalf("%d token requests for two listings, want 1", n)
	}
	if _, err := collect(t, func(h Handler[LoginEvent]) error { return c.ListLoginHistory(ctx, TimeRange{}, Pager{}, h) }); err != nil {
		t.Fatal(err)
	}
	toks := api.Requests("/oauth2/token")
	if len(toks) != 2 || toks[0].Scope != ScopeAuditLog || toks[1].Scope != ScopeLoginHistory {
		t.Fatalf("token requests %+v: want one per scope, each asking only for its own", toks)
	}
	api.ExpireTokens()
	if err := list(); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if n := len(api.Requests("/oauth2/token")); n != 3 {
		t.Fatalf("%d token requests, want 3 (one renewal after the 401)", n)
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	c, api := newTestClient(t, sandbox.CelonisOptions{AuditEvents: 10, TokenTTL: 30 * time.Second}, config.AuthOAuth)
	for i := 0; i < 2; i++ {
		if _, err := collect(t, func(h Handler[AuditEntry]) error {
			return c.ListAuditLogs(context.Background(), TimeRange{}, Pager{}, h)
		}); err != nil {
			t.Fatal(err)
		}
	}
	// A token with less than a minute left is not used for a new request.
	if n := len(api.Requests("/oauth2/token")); n != 2 {
		t.Fatalf("%d token requests, want 2", n)
	}
	if n := len(api.Requests("/log/")); n != 2 {
		t.Fatalf("%d API requests, want 2 (no 401 round trips)", n)
	}
}

func TestBadClientSecretIsClearAndSecretFree(t *testing.T) {
	api := sandbox.NewCelonis(sandbox.CelonisOptions{AuditEvents: 5})
	srv, _ := sandbox.Serve(api, "")
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := New(&config.Celonis{URL: u, Auth: config.AuthOAuth, ClientID: "sandbox-client", ClientSecret: "wrong-secret-XYZ"}, Options{Retry: httpx.Policy{BaseBackoff: time.Millisecond}})
	_, err := collect(t, func(h Handler[AuditEntry]) error {
		return c.ListAuditLogs(context.Background(), TimeRange{}, Pager{}, h)
	})
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	for _, want := range []string{"HTTP 401", "invalid_client", "client_secret"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "wrong-secret-XYZ") {
		t.Errorf("error leaks the secret: %s", msg)
	}
	if n := len(api.Requests("/oauth2/token")); n != 1 {
		t.Errorf("a 401 from the token endpoint was retried: %d requests", n)
	}
}

func TestLoopGuards(t *testing.T) {
	t.Run("repeated cursor token", func(t *testing.T) {
		c, api := newTestClient(t, sandbox.CelonisOptions{AuditEvents: 10}, config.AuthAppKey)
		api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/log/", Status: 200,
			Body: `{"content":[{"event":"A","timestamp":"2025-01-01T00:00:00.000Z"}],"nextPageToken":"same"}`})
		_, err := collect(t, func(h Handler[AuditEntry]) error {
			return c.ListAuditLogs(context.Background(), TimeRange{}, Pager{}, h)
		})
		if err == nil || !strings.Contains(err.Error(), "page token of an earlier page") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("endless empty cursor", func(t *testing.T) {
		c, api := newTestClient(t, sandbox.CelonisOptions{AuditEvents: 10}, config.AuthAppKey)
		for i := 0; i < 20; i++ {
			api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/log/", Status: 200, Times: 1,
				Body: `{"content":[],"nextPageToken":"t` + string(rune('a'+i)) + `"}`})
		}
		_, err := collect(t, func(h Handler[AuditEntry]) error {
			return c.ListAuditLogs(context.Background(), TimeRange{}, Pager{}, h)
		})
		if err == nil || !strings.Contains(err.Error(), "pages in a row had no entries") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("page loop not advancing", func(t *testing.T) {
		c, api := newTestClient(t, sandbox.CelonisOptions{Members: 5}, config.AuthAppKey)
		api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/api/external/members", Status: 200,
			Body: `{"content":[{"userId":"u1","nameAndEmail":"A (a@x.io)"}],"totalCount":50,"pageSize":1}`})
		_, err := collect(t, func(h Handler[Member]) error { return c.ListMembers(context.Background(), true, Pager{}, h) })
		if err == nil || !strings.Contains(err.Error(), "does not advance") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("short listing against totalCount", func(t *testing.T) {
		c, api := newTestClient(t, sandbox.CelonisOptions{Members: 5}, config.AuthAppKey)
		api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/api/external/members", Status: 200, After: 1,
			Body: `{"content":[],"pageNumber":1,"totalCount":500}`})
		api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/api/external/members", Status: 200,
			Body: `{"content":[{"userId":"u1"}],"pageNumber":0,"totalCount":500}`})
		_, err := collect(t, func(h Handler[Member]) error { return c.ListMembers(context.Background(), true, Pager{}, h) })
		if err == nil || !strings.Contains(err.Error(), "incomplete") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("pages that overlap past totalCount", func(t *testing.T) {
		c, api := newTestClient(t, sandbox.CelonisOptions{Members: 5}, config.AuthAppKey)
		api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/api/external/members", Status: 200, Times: 1,
			Body: `{"content":[{"userId":"u1"},{"userId":"u2"}],"pageNumber":0,"totalCount":3}`})
		api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/api/external/members", Status: 200, Times: 1,
			Body: `{"content":[{"userId":"u2"},{"userId":"u3"}],"pageNumber":1,"totalCount":3}`})
		_, err := collect(t, func(h Handler[Member]) error { return c.ListMembers(context.Background(), true, Pager{}, h) })
		if err == nil || !strings.Contains(err.Error(), "pages overlap") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("page far larger than asked", func(t *testing.T) {
		c, api := newTestClient(t, sandbox.CelonisOptions{AuditEvents: 100}, config.AuthAppKey)
		api.AddFault(sandbox.Fault{Kind: sandbox.FaultOversize, Path: "/log/"})
		_, err := collect(t, func(h Handler[AuditEntry]) error {
			return c.ListAuditLogs(context.Background(), TimeRange{}, Pager{PageSize: 50}, h)
		})
		if err == nil || !strings.Contains(err.Error(), "entries for pageSize 50") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("unknown page shape", func(t *testing.T) {
		c, api := newTestClient(t, sandbox.CelonisOptions{AuditEvents: 10}, config.AuthAppKey)
		api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/log/", Status: 200, Body: `{"items":[{"event":"A"}]}`})
		_, err := collect(t, func(h Handler[AuditEntry]) error {
			return c.ListAuditLogs(context.Background(), TimeRange{}, Pager{}, h)
		})
		if err == nil || !strings.Contains(err.Error(), "no `content` array") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestBadBodiesAreClearErrors(t *testing.T) {
	cases := map[string]struct {
		fault sandbox.Fault
		want  []string
	}{
		"html with 200": {sandbox.Fault{Kind: sandbox.FaultRespond, Status: 200, Header: http.Header{"Content-Type": {"text/html"}}, Body: "<html>login</html>"}, []string{"HTTP 200", "not a JSON object or array", "text/html"}},
		"empty 200":     {sandbox.Fault{Kind: sandbox.FaultRespond, Status: 200}, []string{"HTTP 200", "empty"}},
		"truncated":     {sandbox.Fault{Kind: sandbox.FaultTruncate}, []string{"HTTP 200", "could not be decoded"}},
		"403 catalog":   {sandbox.Fault{Kind: sandbox.FaultRespond, Status: 403, Body: `{"title":"Access Denied.","status":403,"detail":"Access is denied","errorCode":"ADMIN_ACCESS_ERROR"}`}, []string{"HTTP 403", "Access Denied.", "ADMIN_ACCESS_ERROR", "Use Audit Log API"}},
		"403 empty":     {sandbox.Fault{Kind: sandbox.FaultRespond, Status: 403}, []string{"HTTP 403", "Use Audit Log API"}},
		"401 text":      {sandbox.Fault{Kind: sandbox.FaultRespond, Status: 401, Header: http.Header{"Content-Type": {"text/plain"}}, Body: `Invalid "Authorization" header format.`}, []string{"HTTP 401", "Invalid", "app_key"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, api := newTestClient(t, sandbox.CelonisOptions{AuditEvents: 10}, config.AuthAppKey)
			tc.fault.Path = "/log/"
			api.AddFault(tc.fault)
			_, err := collect(t, func(h Handler[AuditEntry]) error {
				return c.ListAuditLogs(context.Background(), TimeRange{}, Pager{}, h)
			})
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "sandbox-app-key") {
				t.Errorf("error leaks the key: %s", err)
			}
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Errorf("error is %T, want *APIError", err)
			}
		})
	}
}

func TestSlowServerTimesOut(t *testing.T) {
	c, api := newTestClient(t, sandbox.CelonisOptions{AuditEvents: 10}, config.AuthAppKey)
	c.http.Timeout = 100 * time.Millisecond
	api.AddFault(sandbox.Fault{Kind: sandbox.FaultDelay, Path: "/log/", Delay: time.Second})
	start := time.Now()
	_, err := collect(t, func(h Handler[AuditEntry]) error {
		return c.ListAuditLogs(context.Background(), TimeRange{}, Pager{}, h)
	})
	if err == nil || !strings.Contains(err.Error(), "Timeout") || !strings.Contains(err.Error(), "gave up after 5 attempts") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestCancelStopsRequests(t *testing.T) {
	c, api := newTestClient(t, sandbox.CelonisOptions{AuditEvents: 2000}, config.AuthAppKey)
	ctx, cancel := context.WithCancel(context.Background())
	pages := 0
	err := c.ListAuditLogs(ctx, TimeRange{}, Pager{}, func(items []AuditEntry) bool {
		pages++
		if pages == 2 {
			// Page 3 is requested ahead as page 2 arrives, before this
			// handler runs: let it reach the API first, so that the count
			// below does not depend on which goroutine ran first.
			for deadline := time.Now().Add(5 * time.Second); len(api.Requests("/log/")) < 3 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}
		return true
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if n := len(api.Requests("/log/")); n != 3 {
		t.Fatalf("%d requests after cancelling on page 2 (page 3 was already asked for): want 3, none after the cancel", n)
	}
}
