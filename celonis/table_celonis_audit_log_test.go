package celonis

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis/platform"
	"github.com/celonis-audit/steampipe-plugin-celonis/config"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

var auditColumns = []string{"timestamp", "event", "user_id", "user_email", "user_role", "ip_address", "port", "message",
	"diff_old_value", "diff_new_value", "event_key", "api_version", "raw"}

func TestAuditLogFullScanV2(t *testing.T) {
	e := newEnv(t, sandbox.CelonisOptions{AuditEvents: 850}, oauth, "")
	rows := e.mustQuery(inproc.Query{Table: "celonis_audit_log", Columns: auditColumns})
	if len(rows) != 850 {
		t.Fatalf("got %d rows, want 850", len(rows))
	}
	pages := e.api.Requests("/log/api/external/v2/audit")
	if len(pages) != 5 {
		t.Fatalf("got %d page requests, want 5", len(pages))
	}
	toks := e.api.Requests("/oauth2/token")
	if len(toks) != 1 || toks[0].Scope != "audit.log:read" {
		t.Fatalf("token requests %+v, want one for audit.log:read only", toks)
	}
	keys := map[string]bool{}
	withEmail, withDiff := 0, 0
	for _, r := range rows {
		var raw map[string]any
		if err := json.Unmarshal(r.Value("raw").(json.RawMessage), &raw); err != nil {
			t.Fatalf("raw: %v", err)
		}
		uid := raw["userId"].(string)
		if id := r.Value("user_id").(string); !strings.HasPrefix(uid, id+" (") {
			t.Fatalf("user_id %q not parsed from %q", id, uid)
		}
		if em, ok := r.Value("user_email").(string); ok {
			withEmail++
			if !strings.HasSuffix(uid, "("+em+")") {
				t.Fatalf("user_email %q not parsed from %q", em, uid)
			}
		} else if !strings.HasSuffix(uid, "(SYSTEM)") {
			t.Fatalf("no email from %q", uid)
		}
		if r.Value("diff_new_value") != nil {
			withDiff++
		}
		if r.Value("api_version") != "v2" {
			t.Fatalf("api_version %v", r.Value("api_version"))
		}
		ts, _ := time.Parse(time.RFC3339Nano, raw["timestamp"].(string))
		if !r.Value("timestamp").(time.Time).Equal(ts) {
			t.Fatalf("timestamp %v vs raw %v", r.Value("timestamp"), raw["timestamp"])
		}
		k := r.Value("event_key").(string)
		if keys[k] {
			t.Fatalf("duplicate event_key %s", k)
		}
		keys[k] = true
	}
	if withEmail == 0 || withEmail == len(rows) || withDiff == 0 {
		t.Errorf("generated history lacks variety: %d with email, %d with diff", withEmail, withDiff)
	}
}

func TestAuditLogTimestampQualsBecomeFromTo(t *testing.T) {
	e := newEnv(t, sandbox.CelonisOptions{AuditEvents: 3650}, appKey, "")
	t1, t2 := ts("2025-03-01T00:00:00Z"), ts("2025-03-10T12:30:00.5Z")
	cases := []struct {
		name     string
		quals    []inproc.Qual
		from, to string
		lo, hi   time.Time
	}{
		{"between", []inproc.Qual{inproc.Q("timestamp", ">=", inproc.TimeValue(t1)), inproc.Q("timestamp", "<=", inproc.TimeValue(t2))},
			"2025-03-01T00:00:00.000Z", "2025-03-10T12:30:00.500Z", t1, t2},
		{"strict bounds are sent inclusive", []inproc.Qual{inproc.Q("timestamp", ">", inproc.TimeValue(t1)), inproc.Q("timestamp", "<", inproc.TimeValue(t2))},
			"2025-03-01T00:00:00.000Z", "2025-03-10T12:30:00.500Z", t1, t2},
		{"tightest bound wins", []inproc.Qual{
			inproc.Q("timestamp", ">", inproc.TimeValue(t1.Add(-48*time.Hour))), inproc.Q("timestamp", ">=", inproc.TimeValue(t1)),
			inproc.Q("timestamp", "<", inproc.TimeValue(t2)), inproc.Q("timestamp", "<=", inproc.TimeValue(t2.Add(time.Hour)))},
			"2025-03-01T00:00:00.000Z", "2025-03-10T12:30:00.500Z", t1, t2},
		{"only a lower bound", []inproc.Qual{inproc.Q("timestamp", ">=", inproc.TimeValue(ts("2025-12-30T00:00:00Z")))},
			"2025-12-30T00:00:00.000Z", "", ts("2025-12-30T00:00:00Z"), time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.api.ResetRequests()
			rows := e.mustQuery(inproc.Query{Table: "celonis_audit_log", Columns: []string{"timestamp"}, Quals: inproc.Quals(tc.quals...)})
			reqs := e.api.Requests("/log/api/external/v2/audit")
			if len(reqs) == 0 {
				t.Fatal("no request")
			}
			// Under a page of rows: one request with the whole range.
			for _, r := range reqs {
				if r.Query.Get("from") != tc.from || r.Query.Get("to") != tc.to {
					t.Fatalf("sent from=%q to=%q, want %q %q", r.Query.Get("from"), r.Query.Get("to"), tc.from, tc.to)
				}
			}
			var hi *time.Time
			if !tc.hi.IsZero() {
				hi = &tc.hi
			}
			want := e.api.AuditCount(&tc.lo, hi)
			if len(rows) != want || want == 0 {
				t.Fatalf("got %d rows, want %d", len(rows), want)
			}
			if len(reqs) != (want+199)/200 {
				t.Fatalf("%d requests for %d rows", len(reqs), want)
			}
		})
	}
	t.Run("equality", func(t *testing.T) {
		e.api.ResetRequests()
		at := e.api.AuditTimes()[1234]
		rows := e.mustQuery(inproc.Query{Table: "celonis_audit_log", Columns: []string{"timestamp"}, Quals: inproc.Quals(inproc.Q("timestamp", "=", inproc.TimeValue(at)))})
		reqs := e.api.Requests("/log/api/external/v2/audit")
		f := at.Format("2006-01-02T15:04:05.000Z")
		if len(reqs) != 1 || reqs[0].Query.Get("from") != f || reqs[0].Query.Get("to") != f {
			t.Fatalf("requests %+v", reqs)
		}
		if len(rows) < 1 || !rows[0].Value("timestamp").(time.Time).Equal(at) {
			t.Fatalf("rows %v", rows)
		}
	})
	t.Run("contradictory bounds send nothing", func(t *testing.T) {
		e.api.ResetRequests()
		rows := e.mustQuery(inproc.Query{Table: "celonis_audit_log", Columns: []string{"timestamp"}, Quals: inproc.Quals(
			inproc.Q("timestamp", ">", inproc.TimeValue(t2)), inproc.Q("timestamp", "<", inproc.TimeValue(t1)))})
		if len(rows) != 0 || len(e.api.Requests("")) != 0 {
			t.Fatalf("%d rows, %d requests", len(rows), len(e.api.Requests("")))
		}
	})
}

func TestAuditLogLimitCutsThePage(t *testing.T) {
	e := newEnv(t, sandbox.CelonisOptions{AuditEvents: 10000}, apiKey, "")
	rows := e.mustQuery(inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}, Limit: 10})
	if len(rows) != 10 {
		t.Fatalf("got %d rows", len(rows))
	}
	reqs := e.api.Requests("/log/")
	if len(reqs) != 1 || reqs[0].Query.Get("pageSize") != "10" || reqs[0].AuthScheme != "Bearer" {
		t.Fatalf("requests %+v, want one with pageSize=10", reqs)
	}
	if len(e.api.Requests("/oauth2/token")) != 0 {
		t.Fatal("an API key must not ask for a token")
	}
	rows = e.mustQuery(inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}, Limit: 450})
	if len(rows) != 450 || len(e.api.Requests("/log/")) != 4 {
		t.Fatalf("limit 450: %d rows, %d requests (want 3 more pages of 200)", len(rows), len(e.api.Requests("/log/")))
	}
}

// A range of days holding many pages is read as windows fetched at once:
// after the first page of the whole range, consecutive windows that
// together are exactly the asked range, and every row exactly once.
func TestAuditLogLongRangeIsReadInWindows(t *testing.T) {
	e := newEnv(t, sandbox.CelonisOptions{AuditEvents: 20000}, appKey, "")
	from, to := ts("2025-03-01T00:00:00Z"), ts("2025-03-31T00:00:00Z")
	rows := e.mustQuery(inproc.Query{Table: "celonis_audit_log", Columns: []string{"timestamp", "event_key"},
		Quals: inproc.Quals(inproc.Q("timestamp", ">", inproc.TimeValue(from)), inproc.Q("timestamp", "<=", inproc.TimeValue(to)))})
	lo := from.Add(time.Millisecond)
	if want := e.api.AuditCount(&lo, &to); len(rows) != want || want < 1000 {
		t.Fatalf("got %d rows, want %d", len(rows), want)
	}
	keys := map[string]bool{}
	for _, r := range rows {
		if k := r.Value("event_key").(string); keys[k] {
			t.Fatalf("row %s streamed twice", k)
		} else {
			keys[k] = true
		}
	}
	windows := map[string]string{}
	starts := 0
	for _, r := range e.api.Requests("/log/api/external/v2/audit") {
		if r.Query.Get("pageToken") != "" {
			continue
		}
		if starts++; starts == 1 {
			if r.Query.Get("from") != "2025-03-01T00:00:00.000Z" || r.Query.Get("to") != "2025-03-31T00:00:00.000Z" {
				t.Fatalf("first request %v, want the whole range", r.Query)
			}
			continue
		}
		windows[r.Query.Get("from")] = r.Query.Get("to")
	}
	if len(windows) != config.DefaultMaxConcurrency || starts != len(windows)+1 {
		t.Fatalf("%d cursors, %d windows, want 1 + %d", starts, len(windows), config.DefaultMaxConcurrency)
	}
	at := "2025-03-01T00:00:00.000Z"
	for range windows {
		next, ok := windows[at]
		if !ok {
			t.Fatalf("no window starts at %s: %v", at, windows)
		}
		at = next
	}
	if at != "2025-03-31T00:00:00.000Z" {
		t.Fatalf("the windows end at %s: %v", at, windows)
	}
}

func TestAuditLogV1ByConfig(t *testing.T) {
	e := newEnv(t, sandbox.CelonisOptions{AuditEvents: 610}, appKey, `audit_log_api_version = "v1"`)
	rows := e.mustQuery(inproc.Query{Table: "celonis_audit_log", Columns: []string{"event", "api_version"},
		Quals: inproc.Quals(inproc.Q("timestamp", ">=", inproc.TimeValue(ts("2025-01-01T00:00:00Z"))))})
	if len(rows) != 610 || rows[0].Value("api_version") != "v1" {
		t.Fatalf("got %d rows, api_version %v", len(rows), rows[0].Value("api_version"))
	}
	if len(e.api.Requests("/log/api/external/v2")) != 0 {
		t.Fatal("v1 by config must not touch v2")
	}
	reqs := e.api.Requests("/log/api/external/audit")
	if len(reqs) != 4 {
		t.Fatalf("%d page requests, want 4", len(reqs))
	}
	pages := map[string]bool{}
	for i, r := range reqs {
		// Pages after the first are requested at once, so they may arrive in any order.
		if pages[r.Query.Get("pageNumber")] || r.Query.Get("pageSize") != "200" || r.Query.Get("from") != "2025-01-01T00:00:00.000Z" {
			t.Fatalf("request %d: %v", i, r.Query)
		}
		pages[r.Query.Get("pageNumber")] = true
		if r.AuthScheme != "AppKey" {
			t.Fatalf("auth scheme %q", r.AuthScheme)
		}
	}
}

func TestAuditLogFallsBackToV1On404(t *testing.T) {
	e := newEnv(t, sandbox.CelonisOptions{AuditEvents: 300, DisableAuditV2: true}, oauth, "")
	for i := 0; i < 2; i++ {
		rows := e.mustQuery(inproc.Query{Table: "celonis_audit_log", Columns: []string{"event", "api_version"}})
		if len(rows) != 300 || rows[0].Value("api_version") != "v1" {
			t.Fatalf("query %d: %d rows, api_version %v", i, len(rows), rows[0].Value("api_version"))
		}
	}
	if n := len(e.api.Requests("/log/api/external/v2/audit")); n != 1 {
		t.Fatalf("v2 probed %d times, want once per connection", n)
	}
	if n := len(e.api.Requests("/log/api/external/audit")); n != 4 {
		t.Fatalf("%d v1 requests, want 2 per query", n)
	}
}

func TestAuditLogErrors(t *testing.T) {
	t.Run("403 names scope and permission", func(t *testing.T) {
		e := newEnv(t, sandbox.CelonisOptions{AuditEvents: 10, Permissions: []string{"Use Login History API"}}, oauth, "")
		_, err := e.query(inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}})
		assertErr(t, err, "HTTP 403", "audit.log:read", "Use Audit Log API")
	})
	t.Run("scope refused at the token endpoint", func(t *testing.T) {
		e := newEnv(t, sandbox.CelonisOptions{AuditEvents: 10, Scopes: []string{"team.login-history:read"}}, oauth, "")
		_, err := e.query(inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}})
		assertErr(t, err, "HTTP 400", "invalid_scope", "audit.log:read")
	})
	t.Run("401 bad app key", func(t *testing.T) {
		e := newEnv(t, sandbox.CelonisOptions{AuditEvents: 10, AppKey: "the-real-key"}, noAuth, `app_key = "a-wrong-key"`)
		_, err := e.query(inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}})
		assertErr(t, err, "HTTP 401", "app_key")
	})
	t.Run("failure after rows were streamed is not a short answer", func(t *testing.T) {
		e := newEnv(t, sandbox.CelonisOptions{AuditEvents: 1000}, appKey, "")
		e.api.AddFault(sandbox.Fault{Kind: sandbox.FaultTruncate, Path: "/log/", After: 2})
		rows, err := e.query(inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}})
		assertErr(t, err, "HTTP 200", "could not be decoded")
		if len(rows) != 400 {
			t.Logf("%d rows arrived before the error", len(rows))
		}
	})
	t.Run("404 mid-scan is an error, not a fallback", func(t *testing.T) {
		e := newEnv(t, sandbox.CelonisOptions{AuditEvents: 1000}, appKey, "")
		e.api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/log/", After: 1, Status: 404, Body: `{"title":"Path not found.","status":404}`})
		_, err := e.query(inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}})
		assertErr(t, err, "HTTP 404")
		if n := len(e.api.Requests("/log/api/external/audit")); n != 0 {
			t.Fatalf("fell back to v1 after rows were streamed (%d v1 requests)", n)
		}
	})
	t.Run("429 burst recovers exactly", func(t *testing.T) {
		e := newEnv(t, sandbox.CelonisOptions{AuditEvents: 500}, appKey, "")
		e.api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/log/", After: 1, Times: 3, Status: 429,
			Header: map[string][]string{"X-Ratelimit-Reset": {"0"}}, Body: `{"title":"Rate limit exceeded","status":429}`})
		rows := e.mustQuery(inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}})
		if len(rows) != 500 || len(e.api.Requests("/log/")) != 6 {
			t.Fatalf("%d rows, %d requests", len(rows), len(e.api.Requests("/log/")))
		}
	})
}

func assertErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	for _, secret := range []string{"sandbox-secret", "sandbox-app-key", "sandbox-api-key", "the-real-key", "a-wrong-key", "sbx_"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks a secret: %s", err)
		}
	}
}

// Each nullable column of a celonis_audit_log row is null exactly when the
// entry lacks its value, and rows share no storage (a row keeps its time
// and diff texts inside itself).
func TestAuditLogRowNulls(t *testing.T) {
	decode := func(s string) *auditLogRow {
		var e platform.AuditEntry
		if err := json.Unmarshal([]byte(s), &e); err != nil {
			t.Fatal(err)
		}
		return newAuditLogRow(&e, "v2")
	}
	full := decode(`{"timestamp":"2024-05-24T14:22:16Z","diffPayload":{"oldValue":"{\"version\":3}","newValue":"b"}}`)
	other := decode(`{"timestamp":"2025-01-01T00:00:00Z","diffPayload":{"oldValue":"c","newValue":"d"}}`)
	if full.Timestamp == nil || !full.Timestamp.Equal(time.Date(2024, 5, 24, 14, 22, 16, 0, time.UTC)) ||
		full.DiffOldValue == nil || *full.DiffOldValue != `{"version":3}` || full.DiffNewValue == nil || *full.DiffNewValue != "b" {
		t.Fatalf("full entry: %+v", full)
	}
	if other.Timestamp.Year() != 2025 || *other.DiffOldValue != "c" || *other.DiffNewValue != "d" || full.Timestamp.Year() != 2024 || *full.DiffNewValue != "b" {
		t.Fatalf("second entry changed the first, or is wrong: %+v %+v", full, other)
	}
	for _, s := range []string{`{}`, `{"timestamp":"not a time","diffPayload":null}`, `{"diffPayload":{"oldValue":null}}`} {
		if r := decode(s); r.Timestamp != nil || r.DiffOldValue != nil || r.DiffNewValue != nil {
			t.Fatalf("%s: %+v", s, r)
		}
	}
	if r := decode(`{"diffPayload":{"newValue":"n"}}`); r.DiffOldValue != nil || r.DiffNewValue == nil || *r.DiffNewValue != "n" {
		t.Fatalf("new value only: %+v", r)
	}
}
