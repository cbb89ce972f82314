// Command bench measures the plugin against the two limits that bound it:
// the APIs (latency times pages, over the concurrency the rate limit allows)
// and the Steampipe SDK (its per-row cost). Run it with `make bench`. It
// prints a table and, last, one `BENCH name=value` line per figure. It runs
// everything in this process against the sandbox on loopback.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/cli"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

const appKey = "sandbox-app-key"

// bigScan is the size of the full scans; the figure is 200,000.
var bigScan = flag.Int("rows", 200000, "rows of the full scans")

type figure struct {
	name  string
	value float64
	note  string
}

var figures []figure

func record(name string, v float64, note string) {
	figures = append(figures, figure{name, v, note})
	fmt.Fprintf(os.Stderr, "  %-22s %12.3f  %s\n", name, v, note)
}

func main() {
	// Steampipe's own default: the SDK frees OS memory every 100 rows. Both
	// sides of every ratio run with it.
	os.Setenv("STEAMPIPE_FREE_MEM_INTERVAL", "100")
	os.Setenv("STEAMPIPE_LOG_LEVEL", "off")
	flag.Parse()
	floorRows = *bigScan
	ctx := context.Background()
	start := time.Now()

	fmt.Fprintf(os.Stderr, "bench: %d CPUs, %s, %s/%s\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	big, bigURL := serve(sandbox.CelonisOptions{AuditEvents: *bigScan, Start: time.Now().Add(-365 * 24 * time.Hour), Span: 365 * 24 * time.Hour})
	auditCols := []string{"timestamp", "event", "user_id", "user_email", "user_role", "ip_address", "port", "message", "diff_old_value", "diff_new_value", "event_key", "api_version", "raw"}

	// 1. SDK floor: the real table against a stand-in that streams the same
	// rows, already decoded, through the same SDK path.
	runner := mustRunner(withFloor(), config(bigURL))
	n, dPlugin := scan(ctx, runner, "celonis_audit_log", auditCols, nil)
	capture(ctx, runner, auditCols)
	nf, dFloor := scan(ctx, runner, "bench_floor_audit_log", auditCols, nil)
	if nf != n || n != *bigScan {
		fail("floor scan returned %d rows, plugin %d, want %d", nf, n, *bigScan)
	}
	pluginRate, floorRate := rate(n, dPlugin), rate(nf, dFloor)
	record("sdk_floor_ratio", pluginRate/floorRate, fmt.Sprintf("plugin %.0f rows/s, SDK floor %.0f rows/s", pluginRate, floorRate))

	// 2. Raw loop: net/http and encoding/json into plain structs.
	rn, dRaw := rawScan(bigURL, nil)
	rawRate := rate(rn, dRaw)
	record("raw_ratio", pluginRate/rawRate, fmt.Sprintf("raw loop %.0f rows/s", rawRate))

	// 3. SQL engine overhead: query --output jsonl against the SDK path.
	qn, dQuery := queryScan(config(bigURL), "select * from celonis_audit_log")
	if qn != n {
		fail("query returned %d rows, want %d", qn, n)
	}
	record("sql_overhead_ratio", rate(qn, dQuery)/pluginRate, fmt.Sprintf("query jsonl %.0f rows/s", rate(qn, dQuery)))

	// 4. Heap: peak of the full scan minus that of a 10,000-row scan.
	small, smallURL := serve(sandbox.CelonisOptions{AuditEvents: 10000})
	_ = small
	hSmall := peakHeap(func() { scan(ctx, mustRunner(celonis.Plugin, config(smallURL)), "celonis_audit_log", auditCols, nil) })
	hBig := peakHeap(func() { scan(ctx, mustRunner(celonis.Plugin, config(bigURL)), "celonis_audit_log", auditCols, nil) })
	record("heap_growth_mb", float64(int64(hBig)-int64(hSmall))/(1<<20), fmt.Sprintf("peak heap %d MiB vs %d MiB", hBig>>20, hSmall>>20))

	// 5. Requests for a one-day window of a 365-day history, and for limit 10.
	big.ResetRequests()
	day := time.Now().Add(-100 * 24 * time.Hour).UTC().Truncate(24 * time.Hour)
	to := day.Add(24*time.Hour - time.Millisecond)
	wn, _ := scan(ctx, runner, "celonis_audit_log", []string{"timestamp"}, []inproc.Qual{
		inproc.Q("timestamp", ">=", inproc.TimeValue(day)), inproc.Q("timestamp", "<=", inproc.TimeValue(to))})
	want := big.AuditCount(&day, &to)
	if wn != want {
		fail("window returned %d rows, want %d", wn, want)
	}
	record("window_requests", float64(len(big.Requests("/log/"))), fmt.Sprintf("%d rows in the window", wn))
	record("window_requests_min", float64((want+199)/200), "pages of 200 the rows need")
	big.ResetRequests()
	if ln, _ := scanLimit(ctx, runner, 10); ln != 10 {
		fail("limit 10 returned %d rows", ln)
	}
	record("limit_requests", float64(len(big.Requests("/log/"))), "list requests for limit 10")

	// 6. Latency bound: 100 ms on every response, sequential scans.
	lat, latURL := serve(sandbox.CelonisOptions{AuditEvents: 20000})
	lat.SetLatency(100 * time.Millisecond)
	ln, dl := scan(ctx, mustRunner(celonis.Plugin, config(latURL)), "celonis_audit_log", auditCols, nil)
	rln, drl := rawScan(latURL, nil)
	record("latency_bound_ratio", rate(ln, dl)/rate(rln, drl), fmt.Sprintf("plugin %s, raw loop %s for %d rows at 100 ms a page", dl.Round(time.Millisecond), drl.Round(time.Millisecond), ln))

	// 7. First row at 50 ms a response.
	lat.SetLatency(50 * time.Millisecond)
	first := firstRow(ctx, mustRunner(celonis.Plugin, config(latURL)))
	record("first_row_ms", float64(first.Milliseconds()), "50 ms a response, token request included")

	// 8. Parallelism: a 30-day range at 50 ms a response, the plugin's rate
	// limit at 100 requests a second, against the raw sequential loop.
	big.SetLatency(50 * time.Millisecond)
	from30 := time.Now().Add(-60 * 24 * time.Hour)
	to30 := from30.Add(30 * 24 * time.Hour)
	q30 := []inproc.Qual{inproc.Q("timestamp", ">=", inproc.TimeValue(from30)), inproc.Q("timestamp", "<", inproc.TimeValue(to30))}
	rp, drp := rawScan(bigURL, url.Values{"from": {from30.UTC().Format("2006-01-02T15:04:05.000Z")}, "to": {to30.UTC().Format("2006-01-02T15:04:05.000Z")}})
	big.ResetRequests()
	var maxRPS atomic.Int64
	stop := watchRPS(big, &maxRPS)
	pn, dp := scan(ctx, mustRunner(celonis.Plugin, config(bigURL)+"\n"), "celonis_audit_log", []string{"timestamp", "event"}, q30)
	stop()
	if pn > rp || rp-pn > 2 {
		fail("30-day scan returned %d rows, raw %d", pn, rp)
	}
	record("parallel_speedup", drp.Seconds()/dp.Seconds(), fmt.Sprintf("raw sequential %s, plugin %s for %d rows", drp.Round(time.Millisecond), dp.Round(time.Millisecond), pn))
	record("max_rps_observed", float64(maxRPS.Load()), "most list requests the sandbox saw in one second")
	record("rate_limit_rps", 20, "the celonis_platform limiter (fill rate a second)")

	fmt.Fprintf(os.Stderr, "bench: done in %s\n", time.Since(start).Round(time.Second))
	for _, f := range figures {
		fmt.Printf("BENCH %s=%s\n", f.name, strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", f.value), "0"), "."))
	}
}

//// HELPERS

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}

func serve(o sandbox.CelonisOptions) (*sandbox.Celonis, string) {
	api := sandbox.NewCelonis(o)
	srv, err := sandbox.Serve(api, "")
	if err != nil {
		fail("%v", err)
	}
	return api, srv.URL
}

func config(u string) string { return fmt.Sprintf("url = %q\napp_key = %q\n", u, appKey) }

func mustRunner(p plugin.PluginFunc, cfg string) *inproc.Runner {
	r, err := inproc.New(p, cfg)
	if err != nil {
		fail("%v", err)
	}
	return r
}

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

func scan(ctx context.Context, r *inproc.Runner, table string, cols []string, quals []inproc.Qual) (int, time.Duration) {
	start := time.Now()
	n := 0
	err := r.Execute(ctx, inproc.Query{Table: table, Columns: cols, Quals: inproc.Quals(quals...)}, func(inproc.Row) error {
		n++
		return nil
	})
	if err != nil {
		fail("%s: %v", table, err)
	}
	return n, time.Since(start)
}

func scanLimit(ctx context.Context, r *inproc.Runner, limit int64) (int, time.Duration) {
	start := time.Now()
	rows, err := r.Collect(ctx, inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}, Limit: limit})
	if err != nil {
		fail("limit: %v", err)
	}
	return len(rows), time.Since(start)
}

func firstRow(ctx context.Context, r *inproc.Runner) time.Duration {
	start := time.Now()
	var first time.Duration
	r.Execute(ctx, inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}}, func(inproc.Row) error {
		first = time.Since(start)
		return inproc.ErrStop
	})
	return first
}

// rawScan is the minimal client: the v2 cursor loop with net/http and
// encoding/json into plain structs.
func rawScan(base string, q url.Values) (int, time.Duration) {
	type entry struct {
		UserID    string          `json:"userId"`
		UserRole  string          `json:"userRole"`
		Event     string          `json:"event"`
		Timestamp string          `json:"timestamp"`
		Message   json.RawMessage `json:"message"`
		IPAddress *string         `json:"ipAddress"`
		Port      *string         `json:"port"`
	}
	start := time.Now()
	n, token := 0, ""
	for {
		v := url.Values{"pageSize": {"200"}}
		for k, vs := range q {
			v[k] = vs
		}
		if token != "" {
			v.Set("pageToken", token)
		}
		req, _ := http.NewRequest("GET", base+"/log/api/external/v2/audit?"+v.Encode(), nil)
		req.Header.Set("Authorization", "AppKey "+appKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fail("raw: %v", err)
		}
		var page struct {
			Content       []entry `json:"content"`
			NextPageToken string  `json:"nextPageToken"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			fail("raw: %v", err)
		}
		n += len(page.Content)
		if page.NextPageToken == "" {
			return n, time.Since(start)
		}
		token = page.NextPageToken
	}
}

// queryScan runs the query command with jsonl output into a counter.
func queryScan(cfg, stmt string) (int, time.Duration) {
	var lines lineCounter
	start := time.Now()
	if code := cli.Query(celonis.Plugin, []string{"--config", cfg, "--output", "jsonl", stmt}, &lines, os.Stderr); code != 0 {
		fail("query exited %d", code)
	}
	return int(lines.n), time.Since(start)
}

type lineCounter struct{ n int64 }

func (l *lineCounter) Write(p []byte) (int, error) {
	for _, b := range p {
		if b == '\n' {
			l.n++
		}
	}
	return len(p), nil
}

// peakHeap runs f and returns the most heap in use while it ran.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	return peak.Load()
}

// watchRPS samples the sandbox's request log every second.
func watchRPS(api *sandbox.Celonis, max *atomic.Int64) func() {
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			reqs := api.Requests("/log/")
			if len(reqs) == 0 {
				continue
			}
			// the most requests in any one-second span so far
			j := 0
			for i := range reqs {
				for reqs[i].Time.Sub(reqs[j].Time) >= time.Second {
					j++
				}
				if n := int64(i - j + 1); n > max.Load() {
					max.Store(n)
				}
			}
		}
	}()
	return func() { close(done); time.Sleep(150 * time.Millisecond) }
}
