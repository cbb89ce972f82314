package celonis

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

func TestLoginHistory(t *testing.T) {
	e := newEnv(t, sandbox.CelonisOptions{LoginEvents: 450}, oauth, "")
	rows := e.mustQuery(inproc.Query{Table: "celonis_login_history", Columns: []string{"timestamp", "event_type", "email", "success", "raw"}})
	if len(rows) != 450 {
		t.Fatalf("got %d rows", len(rows))
	}
	toks := e.api.Requests("/oauth2/token")
	if len(toks) != 1 || toks[0].Scope != "team.login-history:read" {
		t.Fatalf("token requests %+v", toks)
	}
	failed := 0
	for _, r := range rows {
		var raw struct {
			Type    string `json:"authenticationEventType"`
			Email   string `json:"email"`
			Success bool   `json:"success"`
		}
		json.Unmarshal(r.Value("raw").(json.RawMessage), &raw)
		if r.Value("event_type") != raw.Type || r.Value("email") != raw.Email || r.Value("success") != raw.Success {
			t.Fatalf("row %v does not match raw %+v", r, raw)
		}
		if !raw.Success {
			failed++
		}
	}
	if failed == 0 {
		t.Error("history has no failed logins")
	}

	t.Run("window is sent in seconds, widened", func(t *testing.T) {
		e.api.ResetRequests()
		from, to := ts("2025-05-01T08:00:00.250Z"), ts("2025-06-01T00:00:00.100Z")
		rows := e.mustQuery(inproc.Query{Table: "celonis_login_history", Columns: []string{"timestamp"}, Quals: inproc.Quals(
			inproc.Q("timestamp", ">", inproc.TimeValue(from)), inproc.Q("timestamp", "<=", inproc.TimeValue(to)))})
		reqs := e.api.Requests("/api/external/authentication-events")
		if len(reqs) != 1 || reqs[0].Query.Get("from") != "2025-05-01T08:00:00" || reqs[0].Query.Get("to") != "2025-06-01T00:00:01" {
			t.Fatalf("requests %+v", reqs)
		}
		lo, hi := ts("2025-05-01T08:00:00Z"), ts("2025-06-01T00:00:01Z")
		if want := e.api.LoginCount(&lo, &hi); len(rows) != want || want == 0 {
			t.Fatalf("%d rows, want %d", len(rows), want)
		}
	})
	t.Run("empty window answers 204", func(t *testing.T) {
		e.api.ResetRequests()
		rows := e.mustQuery(inproc.Query{Table: "celonis_login_history", Columns: []string{"timestamp"}, Quals: inproc.Quals(
			inproc.Q("timestamp", ">=", inproc.TimeValue(ts("2024-01-01T00:00:00Z"))), inproc.Q("timestamp", "<", inproc.TimeValue(ts("2024-06-01T00:00:00Z"))))})
		reqs := e.api.Requests("/api/external/")
		if len(rows) != 0 || len(reqs) != 1 || reqs[0].Status != 204 {
			t.Fatalf("%d rows, requests %+v", len(rows), reqs)
		}
	})
}

func TestLoginHistoryUnderLogPrefix(t *testing.T) {
	e := newEnv(t, sandbox.CelonisOptions{LoginEvents: 30, LoginUnderLog: true}, appKey, "")
	for i := 0; i < 2; i++ {
		if rows := e.mustQuery(inproc.Query{Table: "celonis_login_history", Columns: []string{"email"}}); len(rows) != 30 {
			t.Fatalf("got %d rows", len(rows))
		}
	}
	if n := len(e.api.Requests("/api/external/authentication-events")); n != 1 {
		t.Fatalf("documented path tried %d times, want once per connection", n)
	}
	if n := len(e.api.Requests("/log/api/external/authentication-events")); n != 2 {
		t.Fatalf("%d requests under /log, want 2", n)
	}
}

func TestStudioAdoptionEvents(t *testing.T) {
	e := newEnv(t, sandbox.CelonisOptions{AdoptionEvents: 420}, oauth, "")
	rows := e.mustQuery(inproc.Query{Table: "celonis_studio_adoption_event", Columns: []string{"timestamp", "id", "event_type", "user_id", "user_email", "asset_id", "asset_type", "asset_name", "package_key", "space_id", "raw"}})
	if len(rows) != 420 {
		t.Fatalf("got %d rows", len(rows))
	}
	for _, col := range []string{"timestamp", "id", "event_type", "user_id", "user_email", "asset_id", "asset_type", "asset_name", "package_key", "space_id"} {
		if rows[7].Value(col) == nil {
			t.Errorf("column %s not lifted", col)
		}
	}
	toks := e.api.Requests("/oauth2/token")
	if len(toks) != 1 || toks[0].Scope != "platform-adoption.tracking-events:read" {
		t.Fatalf("token requests %+v", toks)
	}
	if n := len(e.api.Requests("/platform-adoption/")); n != 3 {
		t.Fatalf("%d page requests, want 3", n)
	}
	e.api.ResetRequests()
	from := ts("2025-07-01T00:00:00Z")
	rows = e.mustQuery(inproc.Query{Table: "celonis_studio_adoption_event", Columns: []string{"timestamp"}, Quals: inproc.Quals(inproc.Q("timestamp", ">=", inproc.TimeValue(from)))})
	if want := e.api.AdoptionCount(&from, nil); len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	first := ""
	for _, r := range e.api.Requests("/platform-adoption/") {
		if f := r.Query.Get("from"); first == "" || f < first {
			first = f
		}
	}
	if first != "2025-07-01T00:00:00.000Z" {
		t.Fatalf("earliest window starts at %q", first)
	}
}

func TestTeamMembers(t *testing.T) {
	e := newEnv(t, sandbox.CelonisOptions{Members: 250}, oauth, "")
	cols := []string{"user_id", "name", "email", "user_role", "status", "last_login", "last_login_time", "inactivity_period", "groups", "include_internal", "raw"}
	rows := e.mustQuery(inproc.Query{Table: "celonis_team_member", Columns: cols})
	if len(rows) != e.api.MemberCount(true) {
		t.Fatalf("got %d rows, want %d", len(rows), e.api.MemberCount(true))
	}
	reqs := e.api.Requests("/api/external/members")
	if len(reqs) != 2 || reqs[0].Query.Get("includeInternal") != "true" {
		t.Fatalf("requests %+v", reqs)
	}
	if toks := e.api.Requests("/oauth2/token"); toks[0].Scope != "team.user-group-info:read" {
		t.Fatalf("scope %q", toks[0].Scope)
	}
	r := rows[0]
	var raw struct{ NameAndEmail string }
	json.Unmarshal(r.Value("raw").(json.RawMessage), &raw)
	if raw.NameAndEmail != r.Value("name").(string)+" ("+r.Value("email").(string)+")" {
		t.Fatalf("name/email %v %v from %q", r.Value("name"), r.Value("email"), raw.NameAndEmail)
	}
	if _, ok := r.Value("last_login_time").(time.Time); !ok {
		t.Errorf("last_login_time %v", r.Value("last_login_time"))
	}
	if _, ok := r.Value("inactivity_period").(int64); !ok {
		t.Errorf("inactivity_period %v", r.Value("inactivity_period"))
	}
	if r.Value("include_internal") != true {
		t.Errorf("include_internal %v", r.Value("include_internal"))
	}

	e.api.ResetRequests()
	rows = e.mustQuery(inproc.Query{Table: "celonis_team_member", Columns: cols, Quals: inproc.Quals(inproc.Q("include_internal", "=", inproc.BoolValue(false)))})
	if len(rows) != e.api.MemberCount(false) || len(rows) == e.api.MemberCount(true) {
		t.Fatalf("got %d rows, want %d", len(rows), e.api.MemberCount(false))
	}
	if q := e.api.Requests("/api/external/members")[0].Query; q.Get("includeInternal") != "false" {
		t.Fatalf("query %v", q)
	}
	for _, r := range rows {
		if r.Value("include_internal") != false || strings.HasSuffix(r.Value("email").(string), "@celonis.com") {
			t.Fatalf("row %v", r)
		}
	}
}

func TestConnectionConfigErrors(t *testing.T) {
	cases := map[string]struct {
		hcl  string
		want []string
	}{
		"no url":           {`app_key = "k"`, []string{"url", "CELONIS_URL"}},
		"no auth":          {`url = "https://t.eu-1.celonis.cloud"`, []string{"client_id", "app_key", "api_key", "CELONIS_APP_KEY"}},
		"two auth methods": {`url = "https://t.eu-1.celonis.cloud"` + "\n" + `app_key = "k"` + "\n" + `api_key = "k2"`, []string{"more than one", "app_key", "api_key"}},
		"half oauth":       {`url = "https://t.eu-1.celonis.cloud"` + "\n" + `client_id = "id"`, []string{"client_secret", "CELONIS_CLIENT_SECRET"}},
		"remote http":      {`url = "http://t.eu-1.celonis.cloud"` + "\n" + `app_key = "k"`, []string{"https", "loopback"}},
		"bad version":      {`url = "https://t.eu-1.celonis.cloud"` + "\n" + `app_key = "k"` + "\n" + `audit_log_api_version = "v3"`, []string{"audit_log_api_version", "v2", "v1"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for _, v := range []string{"CELONIS_URL", "CELONIS_CLIENT_ID", "CELONIS_CLIENT_SECRET", "CELONIS_APP_KEY", "CELONIS_API_KEY"} {
				t.Setenv(v, "")
			}
			r, err := inproc.New(Plugin, tc.hcl)
			if err != nil {
				t.Fatal(err)
			}
			err = r.Execute(t.Context(), inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}}, func(inproc.Row) error { return nil })
			assertErr(t, err, tc.want...)
		})
	}
}

func TestEnvironmentAndConfigPrecedence(t *testing.T) {
	api := sandbox.NewCelonis(sandbox.CelonisOptions{AuditEvents: 5})
	srv, _ := sandbox.Serve(api, "")
	defer srv.Close()
	t.Setenv("CELONIS_URL", srv.URL)
	t.Setenv("CELONIS_APP_KEY", "sandbox-app-key")
	t.Setenv("CELONIS_CLIENT_ID", "")
	t.Setenv("CELONIS_CLIENT_SECRET", "")
	t.Setenv("CELONIS_API_KEY", "")
	r, err := inproc.New(Plugin, "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := r.Execute(t.Context(), inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}}, func(inproc.Row) error { n++; return nil }); err != nil || n != 5 {
		t.Fatalf("env-only connection: %d rows, %v", n, err)
	}
	// Config wins over the environment: a wrong key in config is used (and refused).
	r, _ = inproc.New(Plugin, `app_key = "config-key"`)
	err = r.Execute(t.Context(), inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}}, func(inproc.Row) error { return nil })
	assertErr(t, err, "HTTP 401")
}
