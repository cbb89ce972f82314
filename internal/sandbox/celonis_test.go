package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, base, path, auth string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestCelonisFollowsAPIDoc(t *testing.T) {
	c := NewCelonis(CelonisOptions{AuditEvents: 450, Members: 10})
	srv, err := Serve(c, "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	key := "AppKey sandbox-app-key"

	cases := []struct {
		path, auth string
		status     int
		body       string
	}{
		{"/log/api/external/v2/audit", "", 401, `{"error":"Unauthorized"}`},
		{"/log/api/external/v2/audit", "Token x", 401, `Invalid "Authorization" header format`},
		{"/log/api/external/v2/audit", "AppKey nope", 401, `Unauthorized`},
		{"/log/api/external/v2/audit?pageSize=201", key, 400, `"status":400`},
		{"/log/api/external/v2/audit?pageSize=abc", key, 400, `GENERAL_PARAMETER_MISSMATCH`},
		{"/log/api/external/v2/audit?from=yesterday", key, 400, `from`},
		{"/log/api/external/v2/audit?pageToken=bogus", key, 400, `Invalid pageToken`},
		{"/api/external/members", key, 400, `includeInternal`},
		{"/nope", key, 404, `GENERAL_NOTFOUND_PATH`},
		{"/log/api/external/audit?from=2030-01-01T00:00:00Z", key, 204, ``},
		{"/log/api/external/audit?pageNumber=2&pageSize=200", key, 200, `"pageNumber":2,"pageSize":200,"totalCount":450`},
	}
	for _, tc := range cases {
		resp, body := get(t, srv.URL, tc.path, tc.auth)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.body) {
			t.Errorf("%s (%q): %d %s", tc.path, tc.auth, resp.StatusCode, body)
		}
	}

	// The cursor walks the whole history once.
	n, tok, pages := 0, "", 0
	for {
		_, body := get(t, srv.URL, "/log/api/external/v2/audit?pageSize=200&pageToken="+url.QueryEscape(tok), key)
		var page struct {
			Content       []json.RawMessage
			NextPageToken string
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		n += len(page.Content)
		pages++
		if page.NextPageToken == "" {
			break
		}
		tok = page.NextPageToken
	}
	if n != 450 || pages != 3 {
		t.Fatalf("%d entries in %d pages", n, pages)
	}
}

func TestCelonisTokenEndpoint(t *testing.T) {
	c := NewCelonis(CelonisOptions{Scopes: []string{ScopeAudit}})
	srv, _ := Serve(c, "")
	defer srv.Close()
	post := func(form url.Values, basic bool) (int, map[string]any) {
		req, _ := http.NewRequest("POST", srv.URL+"/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			req.SetBasicAuth("sandbox-client", "sandbox-secret")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	st, out := post(url.Values{"grant_type": {"client_credentials"}, "client_id": {"sandbox-client"}, "client_secret": {"sandbox-secret"}, "scope": {ScopeAudit}}, false)
	if st != 200 || out["token_type"] != "Bearer" || out["expires_in"].(float64) != 899 {
		t.Fatalf("post: %d %v", st, out)
	}
	tok := out["access_token"].(string)
	if resp, _ := get(t, srv.URL, "/log/api/external/v2/audit", "Bearer "+tok); resp.StatusCode != 200 {
		t.Fatalf("token refused: %d", resp.StatusCode)
	}
	if resp, body := get(t, srv.URL, "/api/external/authentication-events", "Bearer "+tok); resp.StatusCode != 403 || !strings.Contains(body, ScopeLogin) {
		t.Fatalf("wrong scope accepted: %d %s", resp.StatusCode, body)
	}
	if st, _ := post(url.Values{"grant_type": {"client_credentials"}, "scope": {ScopeAudit}}, true); st != 200 {
		t.Fatalf("basic auth: %d", st)
	}
	if st, out := post(url.Values{"grant_type": {"client_credentials"}, "scope": {ScopeLogin}}, true); st != 400 || out["error"] != "invalid_scope" {
		t.Fatalf("scope not granted: %d %v", st, out)
	}
	if st, out := post(url.Values{"grant_type": {"client_credentials"}, "client_id": {"sandbox-client"}, "client_secret": {"x"}, "scope": {ScopeAudit}}, false); st != 401 || out["error"] != "invalid_client" {
		t.Fatalf("bad secret: %d %v", st, out)
	}
	for _, r := range c.Requests("/oauth2/token") {
		if r.Query != nil {
			t.Fatal("token request bodies must not be logged")
		}
	}
}

func TestCelonisRateLimit(t *testing.T) {
	c := NewCelonis(CelonisOptions{AuditEvents: 10, RatePerSecond: 3})
	srv, _ := Serve(c, "")
	defer srv.Close()
	var statuses []int
	for i := 0; i < 5; i++ {
		resp, _ := get(t, srv.URL, "/log/api/external/v2/audit", "AppKey sandbox-app-key")
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == 429 && resp.Header.Get("x-ratelimit-reset") == "" {
			t.Fatal("429 without x-ratelimit-reset")
		}
	}
	if statuses[2] != 200 || statuses[3] != 429 {
		t.Fatalf("statuses %v", statuses)
	}
}

// The log says when each request arrived and when its response was ready,
// after the latency: the benchmark splits a first row's time at them.
func TestRequestLogTimesTheLatency(t *testing.T) {
	c := NewCelonis(CelonisOptions{AuditEvents: 10})
	srv, _ := Serve(c, "")
	defer srv.Close()
	c.SetLatency(30 * time.Millisecond)
	before := time.Now()
	if resp, _ := get(t, srv.URL, "/log/api/external/v2/audit", "AppKey sandbox-app-key"); resp.StatusCode != 200 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	after := time.Now()
	reqs := c.Requests("/log/")
	if len(reqs) != 1 {
		t.Fatalf("%d requests logged", len(reqs))
	}
	r := reqs[0]
	if r.Time.Before(before) || r.Ready.After(after) || r.Ready.Sub(r.Time) < 30*time.Millisecond {
		t.Fatalf("arrived %v, ready %v after it, within [%v, %v]", r.Time, r.Ready.Sub(r.Time), before, after)
	}
}

func TestHistoryIsDeterministic(t *testing.T) {
	a := NewCelonis(CelonisOptions{Seed: 42, AuditEvents: 100})
	b := NewCelonis(CelonisOptions{Seed: 42, AuditEvents: 100})
	d := NewCelonis(CelonisOptions{Seed: 43, AuditEvents: 100})
	if string(a.audit.json[57]) != string(b.audit.json[57]) || string(a.audit.json[57]) == string(d.audit.json[57]) {
		t.Fatal("history must depend on the seed alone")
	}
	for i := 1; i < len(a.audit.at); i++ {
		if a.audit.at[i].Before(a.audit.at[i-1]) {
			t.Fatal("history not in time order")
		}
	}
}

func TestServeRefusesNonLoopback(t *testing.T) {
	if _, err := Serve(http.NotFoundHandler(), "0.0.0.0:0"); err == nil {
		t.Fatal("served on a non-loopback address")
	}
}
