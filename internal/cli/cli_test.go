package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/lenient"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sqlengine"
)

// These tests run the query command in-process through the SDK (not under
// -race: the SDK v5.14.1 Execute path has races of its own).

func TestMain(m *testing.M) {
	for _, v := range []string{"CELONIS_URL", "CELONIS_CLIENT_ID", "CELONIS_CLIENT_SECRET", "CELONIS_APP_KEY", "CELONIS_API_KEY", "MAKE_URL", "MAKE_API_TOKEN"} {
		os.Unsetenv(v)
	}
	os.Exit(m.Run())
}

// demo serves the sandbox the `sandbox` command serves, with a smaller history.
func demo(t *testing.T, events int) (*sandbox.Demo, string) {
	t.Helper()
	d := sandbox.NewDemo(7, events, time.Now())
	srv, err := sandbox.Serve(d, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return d, d.Config(srv.URL)
}

func query(t *testing.T, cfg, output, stmt string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Query(celonis.Plugin, []string{"--config", cfg, "--output", output, stmt}, &out, &errb)
	return out.String(), errb.String(), code
}

func jsonRows(t *testing.T, cfg, stmt string) []map[string]any {
	t.Helper()
	out, errs, code := query(t, cfg, "json", stmt)
	if code != 0 {
		t.Fatalf("%s\nexit %d: %s", stmt, code, errs)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%s\noutput is not a JSON array: %v\n%s", stmt, err, out)
	}
	return rows
}

var sqliteBlock = regexp.MustCompile("(?s)```sql\\+sqlite\n(.*?)```")

// Every sql+sqlite example in the docs runs against the sandbox and
// returns at least one row.
func TestDocsExamplesRun(t *testing.T) {
	_, cfg := demo(t, 50000)
	pages, _ := filepath.Glob("../../docs/tables/*.md")
	if len(pages) == 0 {
		t.Fatal("no docs pages found")
	}
	n := 0
	for _, page := range pages {
		b, _ := os.ReadFile(page)
		for i, m := range sqliteBlock.FindAllStringSubmatch(string(b), -1) {
			n++
			name := fmt.Sprintf("%s#%d", filepath.Base(page), i+1)
			t.Run(name, func(t *testing.T) {
				rows := jsonRows(t, cfg, m[1])
				if len(rows) == 0 {
					t.Fatalf("no rows:\n%s", m[1])
				}
			})
		}
	}
	t.Logf("%d examples", n)
}

func TestPushdownPerOperator(t *testing.T) {
	d, cfg := demo(t, 5000)
	times := d.Celonis.AuditTimes()
	t1, t2 := times[1000].Format("2006-01-02T15:04:05.000Z"), times[1500].Format("2006-01-02T15:04:05.000Z")
	cases := []struct {
		where, from, to string
		want            int
	}{
		{fmt.Sprintf("timestamp >= '%s' and timestamp <= '%s'", t1, t2), t1, t2, 501},
		{fmt.Sprintf("timestamp > '%s' and timestamp < '%s'", t1, t2), t1, t2, 499},
		{fmt.Sprintf("timestamp between '%s' and '%s'", t1, t2), t1, t2, 501},
		{fmt.Sprintf("timestamp = '%s'", t1), t1, t1, 1},
		{fmt.Sprintf("timestamp >= '%s'", t2), t2, "", 3500},
		{fmt.Sprintf("timestamp < '%s'", t1), "", t1, 1000},
	}
	for _, tc := range cases {
		d.Celonis.ResetRequests()
		rows := jsonRows(t, cfg, "select timestamp from celonis_audit_log where "+tc.where)
		if len(rows) != tc.want {
			t.Errorf("%s: %d rows, want %d", tc.where, len(rows), tc.want)
		}
		// The first request asks for the whole range; a range of many pages
		// is then read in windows within it.
		for i, r := range d.Celonis.Requests("/log/") {
			from, to := r.Query.Get("from"), r.Query.Get("to")
			if i == 0 && (from != tc.from || to != tc.to) || from < tc.from || (tc.to != "" && (to == "" || to > tc.to)) {
				t.Errorf("%s: request %d sent from=%q to=%q", tc.where, i, from, to)
			}
		}
	}

	// IN on a key column: SQLite asks once per value; each is pushed down.
	d.Make.ResetRequests()
	rows := jsonRows(t, cfg, "select uuid, organization_id from celonis_make_audit_log where organization_id in (11, 12) and event_name = 'key_created'")
	reqs := d.Make.Requests("/api/v2/audit-logs/")
	if len(reqs) != 2 || len(rows) == 0 {
		t.Fatalf("%d rows, %d requests (want 2 list requests and no detail requests)", len(rows), len(reqs))
	}
	for _, r := range reqs {
		if r.Query.Get("event[0]") != "key_created" {
			t.Fatalf("event not pushed: %v", r.Query)
		}
	}
	// A boolean key column.
	d.Celonis.ResetRequests()
	jsonRows(t, cfg, "select email from celonis_team_member where include_internal = 0")
	if q := d.Celonis.Requests("/api/external/members")[0].Query; q.Get("includeInternal") != "false" {
		t.Fatalf("includeInternal %q", q.Get("includeInternal"))
	}
}

// settle waits until no request is still landing at the sandbox (a scan
// cut short may have one in flight), so that counts start from zero.
func settle(d *sandbox.Demo) {
	for last := -1; ; time.Sleep(50 * time.Millisecond) {
		n := len(d.Celonis.Requests("")) + len(d.Make.Requests(""))
		if n == last {
			break
		}
		last = n
	}
	d.Celonis.ResetRequests()
	d.Make.ResetRequests()
}

func TestLimit(t *testing.T) {
	d, cfg := demo(t, 10000)
	rows := jsonRows(t, cfg, "select event from celonis_audit_log limit 10")
	reqs := d.Celonis.Requests("/log/")
	if len(rows) != 10 || len(reqs) != 1 || reqs[0].Query.Get("pageSize") != "10" {
		t.Fatalf("%d rows, requests %+v", len(rows), reqs)
	}
	// With OFFSET the plugin is asked for limit+offset.
	settle(d)
	rows = jsonRows(t, cfg, "select event from celonis_audit_log limit 5 offset 20")
	if len(rows) != 5 || d.Celonis.Requests("/log/")[0].Query.Get("pageSize") != "25" {
		t.Fatalf("%d rows, requests %+v", len(rows), d.Celonis.Requests("/log/"))
	}
	// A filter the plugin does not apply: the limit must not be pushed, or
	// the first rows could all be filtered out.
	settle(d)
	rows = jsonRows(t, cfg, "select event from celonis_audit_log where event = 'PERMISSION_CHANGED' limit 10")
	if len(rows) != 10 || d.Celonis.Requests("/log/")[0].Query.Get("pageSize") != "200" {
		t.Fatalf("%d rows, requests %+v", len(rows), d.Celonis.Requests("/log/"))
	}
	// ORDER BY: SQLite needs every row to sort.
	settle(d)
	rows = jsonRows(t, cfg, "select timestamp from celonis_audit_log order by timestamp desc limit 3")
	if len(rows) != 3 || len(d.Celonis.Requests("/log/")) != 50 {
		t.Fatalf("%d rows, %d requests", len(rows), len(d.Celonis.Requests("/log/")))
	}
	last := d.Celonis.AuditTimes()[9999].Format("2006-01-02T15:04:05.000Z")
	if rows[0]["timestamp"] != last {
		t.Fatalf("newest row %v, want %s", rows[0]["timestamp"], last)
	}
}

func TestJoinScansInnerTableOnceMore(t *testing.T) {
	d, cfg := demo(t, 2000)
	rows := jsonRows(t, cfg, `select a.user_email, m.status from celonis_audit_log a join celonis_team_member m on m.user_id = a.user_id
		where a.timestamp > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-30 days')`)
	if len(rows) == 0 {
		t.Fatal("no rows")
	}
	// The member list is read once, then once more to keep, then replayed.
	if n := len(d.Celonis.Requests("/api/external/members")); n > 2 {
		t.Fatalf("members listed %d times for one join", n)
	}
	// Every replay gives every member: the join has a row for each audit
	// row whose user is a member (user_id is unique among members), as
	// SQLite's own IN over one scan of the members counts them.
	in := jsonRows(t, cfg, `select a.user_email from celonis_audit_log a where a.user_id in (select user_id from celonis_team_member)
		and a.timestamp > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-30 days')`)
	if len(in) != len(rows) {
		t.Fatalf("the join has %d rows, the IN query %d", len(rows), len(in))
	}
}

// Two cursors on one table at once, each with its own scan: a self-join
// pairs every member with itself alone (user_id is unique), and a
// correlated subquery reads the table again for every outer row.
func TestCursorsOnOneTable(t *testing.T) {
	_, cfg := demo(t, 200)
	members := jsonRows(t, cfg, "select user_id from celonis_team_member")
	if len(members) < 2 {
		t.Fatalf("%d members", len(members))
	}
	self := jsonRows(t, cfg, "select a.user_id, b.email from celonis_team_member a join celonis_team_member b on b.user_id = a.user_id")
	corr := jsonRows(t, cfg, "select user_id, (select count(*) from celonis_team_member b where b.user_id <= a.user_id) as n from celonis_team_member a order by n")
	if len(self) != len(members) || len(corr) != len(members) {
		t.Fatalf("%d members: self-join %d rows, correlated %d", len(members), len(self), len(corr))
	}
	for i, r := range corr {
		if r["n"] != float64(i+1) {
			t.Fatalf("row %d: %v members up to %v, want %d", i, r["n"], r["user_id"], i+1)
		}
	}
}

func TestOutputFormats(t *testing.T) {
	_, cfg := demo(t, 500)
	stmt := "select user_id, name, include_internal, groups, inactivity_period from celonis_team_member order by user_id limit 3"
	out, _, code := query(t, cfg, "jsonl", stmt)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 {
		t.Fatalf("jsonl: %d %q", code, out)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &obj); err != nil {
		t.Fatal(err)
	}
	if _, ok := obj["groups"].([]any); !ok {
		t.Errorf("JSON column not emitted as JSON: %v", obj["groups"])
	}
	if obj["include_internal"] != true {
		t.Errorf("boolean not emitted as boolean: %v", obj["include_internal"])
	}
	out, _, _ = query(t, cfg, "csv", stmt)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 4 || recs[0][2] != "include_internal" || recs[1][2] != "true" {
		t.Fatalf("csv: %v %v", recs, err)
	}
	table, _, _ := query(t, cfg, "table", stmt)
	if !strings.Contains(table, "| include_internal |") || !strings.HasSuffix(table, "(3 rows)\n") {
		t.Fatalf("table:\n%s", table)
	}
	// The table is printed at the end: each row keeps its own text, not
	// SQLite's memory that the next rows reuse.
	for _, l := range lines {
		var r struct {
			UserID string `json:"user_id"`
			Name   string
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.UserID == "" {
			t.Fatalf("jsonl line %s: %v", l, err)
		}
		if !regexp.MustCompile(`(?m)^ ` + regexp.QuoteMeta(r.UserID) + ` +\| ` + regexp.QuoteMeta(r.Name) + ` +\|`).MatchString(table) {
			t.Errorf("table lacks the row of %s (%s):\n%s", r.UserID, r.Name, table)
		}
	}
}

func TestErrors(t *testing.T) {
	d, cfg := demo(t, 500)
	cases := []struct {
		name, cfg, output, stmt string
		code                    int
		want                    []string
	}{
		{"bad statement", cfg, "table", "selec * from celonis_audit_log", 1, []string{"syntax error"}},
		{"unknown table", cfg, "table", "select * from celonis_nope", 1, []string{"no such table: celonis_nope"}},
		{"unknown column", cfg, "table", "select nope from celonis_audit_log", 1, []string{"no such column: nope"}},
		{"bad timestamp literal", cfg, "table", "select * from celonis_audit_log where timestamp > 'yesterday'", 1, []string{"yesterday", "ISO 8601"}},
		{"bad config attribute", "nope = 1", "table", "select 1", 1, []string{"nope"}},
		{"no credentials", `url = "https://x.celonis.cloud"`, "table", "select * from celonis_audit_log", 1, []string{"client_id", "app_key", "api_key"}},
		{"bad output", cfg, "xml", "select 1", 2, []string{"--output"}},
		{"no statement", cfg, "table", "", 2, []string{"exactly one SQL statement"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--config", tc.cfg, "--output", tc.output}
			if tc.stmt != "" {
				args = append(args, tc.stmt)
			}
			var out, errb bytes.Buffer
			code := Query(celonis.Plugin, args, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr %q lacks %q", errb.String(), w)
				}
			}
		})
	}
	t.Run("API failure mid-scan names the cause", func(t *testing.T) {
		d.Celonis.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/log/", After: 1, Status: 403,
			Body: `{"title":"Access Denied.","status":403,"detail":"Access is denied","errorCode":"ADMIN_ACCESS_ERROR"}`})
		defer d.Celonis.ClearFaults()
		out, errs, code := query(t, cfg, "jsonl", "select event from celonis_audit_log")
		if code != 1 || !strings.Contains(errs, "HTTP 403") || !strings.Contains(errs, "Use Audit Log API") || strings.Contains(errs, "SQL logic error") {
			t.Fatalf("exit %d, stderr %q", code, errs)
		}
		if strings.Contains(errs, "sandbox-secret") || strings.Contains(out, "sandbox-secret") {
			t.Fatal("secret in output")
		}
		if !strings.HasPrefix(errs, "error: celonis: GET /log/api/external/v2/audit: HTTP 403") {
			t.Fatalf("stderr %q: want the API's error first, without the SDK's name of the command's own connection", errs)
		}
	})
	// The SDK puts the connection's name before a table's error; the
	// command's one connection is its own, so that name is left out.
	t.Run("API errors start with the API", func(t *testing.T) {
		_, errs, code := query(t, cfg, "table", "select * from celonis_make_audit_log_filter where organization_id = 999")
		if want := "error: make: GET /audit-logs/v2/organization/999/filters: HTTP 404"; code != 1 || !strings.HasPrefix(errs, want) {
			t.Fatalf("exit %d, stderr %q; want it to start with %q", code, errs, want)
		}
	})
}

func TestConfigFile(t *testing.T) {
	_, cfg := demo(t, 300)
	dir := t.TempDir()
	spc := filepath.Join(dir, "celonis.spc")
	os.WriteFile(spc, []byte("connection \"celonis\" {\n  plugin = \"local/celonis\"\n"+cfg+"}\n"), 0o600)
	var out, errb bytes.Buffer
	code := Query(celonis.Plugin, []string{"--config-file", spc, "--output", "csv", "select count(*) as n from celonis_team_member"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "n\n25\n") {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
}

// limiter blocks in a config file replace the plugin's limiters, as a
// plugin block's do under Steampipe.
func TestConfigFileLimiter(t *testing.T) {
	d, cfg := demo(t, 1200)
	dir := t.TempDir()
	spc := filepath.Join(dir, "celonis.spc")
	os.WriteFile(spc, []byte("plugin \"celonis\" {\n  limiter \"celonis_platform\" {\n    fill_rate = 4\n    bucket_size = 1\n    where = \"service = 'celonis_platform'\"\n  }\n}\n"+
		"connection \"celonis\" {\n  plugin = \"local/celonis\"\n"+cfg+"}\n"), 0o600)
	var out, errb bytes.Buffer
	d.Celonis.ResetRequests()
	code := Query(celonis.Plugin, []string{"--config-file", spc, "--output", "csv", "select count(*) as n from celonis_audit_log"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "n\n1200\n") {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	reqs := d.Celonis.Requests("/log/")
	if len(reqs) != 6 {
		t.Fatalf("%d requests", len(reqs))
	}
	// 4 a second with no burst: six pages take at least 5/4 s.
	if span := reqs[len(reqs)-1].Time.Sub(reqs[0].Time); span < time.Second {
		t.Fatalf("six requests within %s: the limiter block was not applied", span)
	}
	for _, bad := range []string{
		"limiter \"x\" {\n  fill_rate = 4\n}\n",
		"plugin \"celonis\" {\n  limiter \"x\" {\n    fill_rate = \"fast\"\n    bucket_size = 1\n  }\n}\n",
		"options \"x\" {\n}\n",
	} {
		os.WriteFile(spc, []byte(bad), 0o600)
		errb.Reset()
		if code := Query(celonis.Plugin, []string{"--config-file", spc, "select 1"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "celonis.spc") {
			t.Errorf("%q: exit %d, %s", bad, code, errb.String())
		}
	}
}

// Every value of a row reaches its column, the two times of a Make entry
// among them (SQLite must have each one's text before the next is read),
// as the entry's raw JSON holds it.
func TestColumnsHoldTheirEntrysValues(t *testing.T) {
	_, cfg := demo(t, 500)
	rows := jsonRows(t, cfg, "select created_at, triggered_at, event_name, actor_anonymized, raw from celonis_make_audit_log limit 50")
	if len(rows) != 50 {
		t.Fatalf("%d rows", len(rows))
	}
	text := func(v lenient.Time) string {
		if v.IsZero() {
			return ""
		}
		return v.UTC().Format(sqlengine.TimeLayout)
	}
	differ := 0
	for _, r := range rows {
		var e struct {
			CreatedAt   lenient.Time   `json:"createdAt"`
			TriggeredAt lenient.Time   `json:"triggeredAt"`
			EventName   lenient.String `json:"eventName"`
			Actor       *struct {
				Anonymized bool `json:"anonymized"`
			} `json:"actor"`
		}
		raw, _ := json.Marshal(r["raw"])
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		got := func(col string) string { s, _ := r[col].(string); return s }
		if got("created_at") != text(e.CreatedAt) || got("triggered_at") != text(e.TriggeredAt) || got("event_name") != string(e.EventName) {
			t.Fatalf("row %v, the entry %+v", r, e)
		}
		if e.Actor != nil && r["actor_anonymized"] != e.Actor.Anonymized {
			t.Fatalf("actor_anonymized %v, the entry's %v", r["actor_anonymized"], e.Actor.Anonymized)
		}
		if got("created_at") != got("triggered_at") {
			differ++
		}
	}
	if differ == 0 {
		t.Fatal("no row's two times differ: the test cannot tell them apart")
	}
}
