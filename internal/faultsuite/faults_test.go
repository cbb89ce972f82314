package faultsuite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/cli"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

// Not run with -race: the SDK v5.14.1 Execute path has races of its own.

// Recognisable secrets: none may appear in any error, output or log line.
var secrets = []string{"FS-client-secret-7f3a9c", "FS-app-key-2b8e41", "FS-api-key-9d0c55", "FS-make-token-6a1f77"}

// caseBound is how long any one case may take before it counts as a hang.
const caseBound = 45 * time.Second

type table struct {
	name   string
	cols   string
	prefix string // URL path prefix of its list requests
	cursor bool   // pages with a cursor token (Celonis v2 style)
	oauth  bool   // reads the Celonis Platform with OAuth
	label  string // names a variant of the table's scan
	since  time.Duration
	extra  string // more connection config
}

// where is the variant's time bound: a range of many days holding several
// pages, which the plugin reads as windows at once (cursor) or as pages
// requested ahead (v1), so faults land in concurrent requests.
func (t table) where() (time.Time, bool) {
	if t.since == 0 {
		return time.Time{}, false
	}
	return time.Now().Add(-t.since).UTC().Truncate(time.Second), true
}

var tables = []table{
	{"celonis_audit_log", "timestamp, event, user_id, raw", "/log/", true, true, "", 0, ""},
	{"celonis_login_history", "timestamp, email, success, raw", "/api/external/authentication-events", false, true, "", 0, ""},
	{"celonis_studio_adoption_event", "timestamp, id, raw", "/platform-adoption/", true, true, "", 0, ""},
	{"celonis_team_member", "user_id, email, raw", "/api/external/members", false, true, "", 0, ""},
	{"celonis_make_audit_log", "uuid, organization_id, raw", "/api/v2/audit-logs/organization/", false, false, "", 0, ""},
	{"celonis_make_audit_log_filter", "organization_id, filter_type, value", "/api/v2/audit-logs/organization/", false, false, "", 0, ""},
	{"celonis_make_organization", "id, name, raw", "/api/v2/organizations", false, false, "", 0, ""},
	{"celonis_audit_log", "timestamp, event, user_id, raw", "/log/", true, true, "[windows]", 200 * 24 * time.Hour, ""},
	{"celonis_audit_log", "timestamp, event, user_id, raw", "/log/", false, true, "[v1 pages ahead]", 200 * 24 * time.Hour, "audit_log_api_version = \"v1\"\n"},
}

type fault struct {
	name    string
	applies func(table) bool
	faults  func(t table, api *sandbox.Demo) []sandbox.Fault
	refuse  bool // point the connection at a closed port
}

func all(table) bool { return true }

func respond(status int, times int, header http.Header, body string) func(table, *sandbox.Demo) []sandbox.Fault {
	return func(t table, _ *sandbox.Demo) []sandbox.Fault {
		return []sandbox.Fault{{Kind: sandbox.FaultRespond, Path: t.prefix, After: 1, Times: times, Status: status, Header: header, Body: body}}
	}
}

func kind(k sandbox.FaultKind, times int, delay time.Duration) func(table, *sandbox.Demo) []sandbox.Fault {
	return func(t table, _ *sandbox.Demo) []sandbox.Fault {
		return []sandbox.Fault{{Kind: k, Path: t.prefix, After: 1, Times: times, Delay: delay}}
	}
}

var faults = []fault{
	{name: "429 burst with x-ratelimit-reset", applies: all, faults: respond(429, 2, http.Header{"X-Ratelimit-Reset": {"0"}}, `{"title":"Rate limit exceeded","status":429}`)},
	{name: "429 burst with Retry-After", applies: all, faults: respond(429, 2, http.Header{"Retry-After": {"0"}}, `{"detail":"Requests limit for organization exceeded, please try again later.","code":"SC429"}`)},
	{name: "429 burst with no header", applies: all, faults: respond(429, 2, nil, "")},
	{name: "429 that never clears", applies: all, faults: respond(429, 0, http.Header{"Retry-After": {"0"}}, "")},
	{name: "500 burst", applies: all, faults: respond(500, 2, nil, `{"title":"Unexpected error.","status":500}`)},
	{name: "502 burst", applies: all, faults: respond(502, 2, nil, "<html>Bad Gateway</html>")},
	{name: "503 burst", applies: all, faults: respond(503, 2, nil, "")},
	{name: "503 that never clears", applies: all, faults: respond(503, 0, nil, `{"detail":"maintenance"}`)},
	{name: "connection reset mid-body", applies: all, faults: kind(sandbox.FaultReset, 2, 0)},
	{name: "server slower than the client timeout", applies: all, faults: kind(sandbox.FaultDelay, 1, 3*time.Second)},
	{name: "truncated JSON", applies: all, faults: kind(sandbox.FaultTruncate, 0, 0)},
	{name: "HTML page with status 200", applies: all, faults: respond(200, 0, http.Header{"Content-Type": {"text/html"}}, "<html><body>Sign in</body></html>")},
	{name: "empty 200 body", applies: all, faults: respond(200, 0, nil, "")},
	{name: "wrong content type", applies: all, faults: func(t table, _ *sandbox.Demo) []sandbox.Fault {
		// The real answer, labelled text/plain: JSON is JSON whatever the label.
		return []sandbox.Fault{{Kind: sandbox.FaultDelay, Path: t.prefix, After: 1, Times: 1, Header: http.Header{"Content-Type": {"text/plain"}}}}
	}},
	{name: "cursor token repeated", applies: func(t table) bool { return t.cursor }, faults: respond(200, 0, nil, `{"content":[{"timestamp":"2025-01-01T00:00:00.000Z"}],"nextPageToken":"again"}`)},
	{name: "cursor that never ends", applies: func(t table) bool { return t.cursor }, faults: kind(sandbox.FaultEndless, 0, 0)},
	{name: "page loop that does not advance", applies: func(t table) bool { return !t.cursor && t.oauth }, faults: respond(200, 0, nil, `{"content":[{"email":"a@b.c"}],"totalCount":1000000}`)},
	{name: "OAuth token expires mid-scan", applies: func(t table) bool { return t.oauth }, faults: func(t table, d *sandbox.Demo) []sandbox.Fault {
		return []sandbox.Fault{{Kind: sandbox.FaultDelay, Path: t.prefix, After: 1, Times: 1, Hook: d.Celonis.ExpireTokens}}
	}},
	{name: "token endpoint fails, then recovers", applies: func(t table) bool { return t.oauth }, faults: func(table, *sandbox.Demo) []sandbox.Fault {
		return []sandbox.Fault{{Kind: sandbox.FaultRespond, Path: "/oauth2/token", Times: 2, Status: 503}}
	}},
	{name: "token endpoint fails", applies: func(t table) bool { return t.oauth }, faults: func(table, *sandbox.Demo) []sandbox.Fault {
		return []sandbox.Fault{{Kind: sandbox.FaultRespond, Path: "/oauth2/token", Status: 401, Body: `{"error":"invalid_client"}`}}
	}},
	{name: "connection refused", applies: all, refuse: true},
	{name: "page far larger than asked", applies: func(t table) bool {
		return t.name != "celonis_make_organization" && t.name != "celonis_make_audit_log_filter"
	}, faults: kind(sandbox.FaultOversize, 0, 0)},
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

type env struct {
	demo *sandbox.Demo
	url  string
}

func newEnv(t *testing.T) *env {
	d := sandbox.NewDemo(3, 1100, time.Now(), sandbox.WithCredentials(secrets[0], secrets[1], secrets[2], secrets[3]))
	srv, err := sandbox.Serve(d, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return &env{demo: d, url: srv.URL}
}

// config points a connection at url with the suite's secrets. Retries are
// fast, and a request times out after a second.
func config(url string, tb table) string {
	auth := fmt.Sprintf("client_id = %q\nclient_secret = %q\n", "sandbox-client", secrets[0])
	return fmt.Sprintf("url = %q\n%smake_url = %q\nmake_api_token = %q\nmake_organization_ids = [11, 12]\nmake_rate_limit_per_minute = 60000\n"+
		"min_error_retry_delay = 1\nrequest_timeout = 1\n%s", url, auth, url, secrets[3], tb.extra)
}

// result is a scan's rows, as sorted JSON lines, or its error.
type result struct {
	rows []string
	err  error
	out  string // everything printed
}

func viaSDK(ctx context.Context, cfg string, tb table) result {
	r, err := inproc.New(celonis.Plugin, cfg)
	if err != nil {
		return result{err: err}
	}
	var rows []string
	cols := strings.Split(strings.ReplaceAll(tb.cols, " ", ""), ",")
	q := inproc.Query{Table: tb.name, Columns: cols}
	if since, ok := tb.where(); ok {
		q.Quals = inproc.Quals(inproc.Q("timestamp", ">=", inproc.TimeValue(since)))
	}
	err = r.Execute(ctx, q, func(row inproc.Row) error {
		vals := map[string]any{}
		for _, c := range cols {
			v := row.Value(c)
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC().Format(time.RFC3339Nano)
			}
			vals[c] = v
		}
		b, _ := json.Marshal(vals)
		rows = append(rows, string(b))
		return nil
	})
	sort.Strings(rows)
	return result{rows: rows, err: err, out: strings.Join(rows, "\n")}
}

func viaQuery(ctx context.Context, cfg string, tb table) result {
	var out, errb bytes.Buffer
	stmt := "select " + tb.cols + " from " + tb.name
	if since, ok := tb.where(); ok {
		stmt += " where timestamp >= '" + since.Format("2006-01-02T15:04:05.000Z") + "'"
	}
	code := cli.Query(celonis.Plugin, []string{"--config", cfg, "--output", "jsonl", stmt}, &out, &errb)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if out.Len() == 0 {
		lines = nil
	}
	sort.Strings(lines)
	res := result{rows: lines, out: out.String() + errb.String()}
	if code != 0 {
		res.err = fmt.Errorf("exit %d: %s", code, strings.TrimSpace(errb.String()))
	}
	return res
}

// clear reports whether an error names its cause: an HTTP status, a
// timeout, a refused connection, or a loop guard.
func clear(err error) bool {
	msg := err.Error()
	for _, w := range []string{"HTTP 4", "HTTP 5", "HTTP 200", "Timeout", "connection refused", "does not advance",
		"page token of an earlier page", "pages in a row had no entries", "connection reset", "EOF", "entries for pageSize", "entries for pg[limit]"} {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

func TestFaultSuite(t *testing.T) {
	logs := captureLogs(t)
	e := newEnv(t)
	type path struct {
		name string
		run  func(context.Context, string, table) result
	}
	paths := []path{{"sdk", viaSDK}, {"query", viaQuery}}
	var cases, exact, clearErrs, hangs, partial int
	var mu sync.Mutex
	for _, tb := range tables {
		for _, p := range paths {
			e.demo.Celonis.ClearFaults()
			e.demo.Make.ClearFaults()
			e.demo.Celonis.ResetRequests()
			base := p.run(context.Background(), config(e.url, tb), tb)
			if base.err != nil || len(base.rows) == 0 {
				t.Fatalf("%s via %s without faults: %d rows, %v", tb.name, p.name, len(base.rows), base.err)
			}
			if tb.since != 0 {
				// The variant is worth its cases only if its scan really is
				// concurrent: several cursors (windows), or several pages.
				starts, pages := 0, 0
				for _, r := range e.demo.Celonis.Requests(tb.prefix) {
					if r.Query.Get("pageToken") == "" {
						starts++
					}
					pages++
				}
				if (tb.cursor && starts < 3) || pages < 3 {
					t.Fatalf("%s%s via %s: %d cursors, %d requests: not read in windows or pages ahead", tb.name, tb.label, p.name, starts, pages)
				}
			}
			for _, f := range faults {
				if !f.applies(tb) {
					continue
				}
				name := fmt.Sprintf("%s/%s/%s", tb.name+tb.label, p.name, f.name)
				t.Run(name, func(t *testing.T) {
					e.demo.Celonis.ClearFaults()
					e.demo.Make.ClearFaults()
					e.demo.Celonis.ExpireTokens()
					url := e.url
					if f.refuse {
						url = closedPort(t)
					} else {
						for _, fl := range f.faults(tb, e.demo) {
							if strings.HasPrefix(fl.Path, "/api/v2/") {
								e.demo.Make.AddFault(fl)
							} else {
								e.demo.Celonis.AddFault(fl)
							}
						}
					}
					ctx, cancel := context.WithTimeout(context.Background(), caseBound)
					defer cancel()
					done := make(chan result, 1)
					go func() { done <- p.run(ctx, config(url, tb), tb) }()
					var res result
					select {
					case res = <-done:
					case <-time.After(caseBound + 5*time.Second):
						mu.Lock()
						cases++
						hangs++
						mu.Unlock()
						t.Fatalf("no answer within %s", caseBound)
					}
					mu.Lock()
					defer mu.Unlock()
					cases++
					for _, s := range secrets {
						if strings.Contains(res.out, s) || (res.err != nil && strings.Contains(res.err.Error(), s)) {
							t.Errorf("secret %s leaked", s[:8])
						}
					}
					switch {
					case res.err != nil && ctx.Err() != nil:
						hangs++
						t.Errorf("ran into the %s bound: %v", caseBound, res.err)
					case res.err != nil:
						if !clear(res.err) {
							t.Errorf("unclear error: %v", res.err)
						}
						clearErrs++
					case strings.Join(res.rows, "\n") == strings.Join(base.rows, "\n"):
						exact++
					default:
						partial++
						t.Errorf("%d rows, want the exact %d, or an error", len(res.rows), len(base.rows))
					}
				})
			}
		}
	}
	// The key auth methods, through the faults that put credentials most at
	// risk of being echoed: refusals and server errors.
	for _, auth := range []string{fmt.Sprintf("app_key = %q", secrets[1]), fmt.Sprintf("api_key = %q", secrets[2]),
		`app_key = "FS-wrong-key-31c0de"`} {
		for _, f := range []fault{faults[7], faults[11]} {
			e.demo.Celonis.ClearFaults()
			for _, fl := range f.faults(tables[0], e.demo) {
				e.demo.Celonis.AddFault(fl)
			}
			for _, p := range paths {
				cfg := strings.Replace(config(e.url, tables[0]), fmt.Sprintf("client_id = %q\nclient_secret = %q\n", "sandbox-client", secrets[0]), auth+"\n", 1)
				res := p.run(context.Background(), cfg, tables[0])
				cases++
				if res.err == nil || !clear(res.err) {
					t.Errorf("%s via %s with %s: %v", f.name, p.name, auth[:7], res.err)
					continue
				}
				clearErrs++
				for _, sec := range append(secrets, "FS-wrong-key-31c0de") {
					if strings.Contains(res.out+res.err.Error(), sec) {
						t.Errorf("secret %s leaked with %s", sec[:8], auth[:7])
					}
				}
			}
		}
	}
	e.demo.Celonis.ClearFaults()
	e.demo.Make.ClearFaults()
	fmt.Printf("faults: %d cases, %d exact, %d clear errors, %d hangs, %d partial\n", cases, exact, clearErrs, hangs, partial)
	captured := logs()
	// Access tokens the sandbox issued all start with sbx_.
	for _, s := range append(secrets, "FS-wrong-key-31c0de", "sbx_") {
		if strings.Contains(captured, s) {
			t.Errorf("secret %s appears in a log line", s[:4])
		}
	}
	if hangs != 0 || partial != 0 || exact == 0 || clearErrs == 0 {
		t.Fail()
	}
}

// captureLogs sends the SDK's and the plugin's log lines (at TRACE, the
// most) to a buffer for the secrets check, and returns a reader of it.
func captureLogs(t *testing.T) func() string {
	t.Setenv("STEAMPIPE_LOG_LEVEL", "TRACE")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(&buf, r)
		close(done)
	}()
	t.Cleanup(func() { os.Stderr = old })
	return func() string {
		os.Stderr = old
		w.Close()
		<-done
		if buf.Len() < 1000 {
			t.Errorf("only %d bytes of logs were captured: the secrets check saw nothing", buf.Len())
		}
		return buf.String()
	}
}
