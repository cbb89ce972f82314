// Command bench measures the plugin against the two limits that bound it:
// the APIs (latency times pages, over the concurrency the rate limit allows)
// and the Steampipe SDK (its per-row cost). Run it with `make bench`. It
// prints a table and, last, one `BENCH name=value` line per figure. It runs
// the plugin in this process, in-process through the SDK as Steampipe
// would over gRPC, and the sandboxes on loopback in child processes.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis"
	plugincfg "github.com/celonis-audit/steampipe-plugin-celonis/config"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/cli"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
)

const (
	appKey    = "sandbox-app-key"
	makeToken = "sandbox-make-token"
)

// bigScan is the size of the full scans; the figure is 200,000.
var bigScan = flag.Int("rows", 200000, "rows of the full scans")

var freeMem = flag.Int("free-mem", 100, "STEAMPIPE_FREE_MEM_INTERVAL: the SDK frees OS memory every this many rows (Steampipe's default 100; 0: never)")

type figure struct {
	Name  string
	Value float64
	Note  string
}

var figures []figure

func record(name string, v float64, note string) {
	figures = append(figures, figure{name, v, note})
	fmt.Fprintf(os.Stderr, "  %-25s %9.3f  %s\n", name, v, note)
}

// target is one of issue 6's targets: a figure against a bound, or
// against another figure.
type target struct {
	name, op string
	bound    float64
	against  string // when set, the bound is this figure's value
}

var targets = []target{
	{name: "sdk_floor_ratio", op: ">=", bound: 0.9},
	{name: "make_sdk_floor_ratio", op: ">=", bound: 0.9},
	{name: "latency_bound_ratio", op: ">=", bound: 0.95},
	{name: "window_requests", op: "=", against: "window_requests_min"},
	{name: "limit_requests", op: "=", bound: 1},
	{name: "parallel_speedup", op: ">=", bound: 4},
	{name: "max_rps_observed", op: "<=", against: "rate_limit_rps"},
	{name: "first_row_ms", op: "<=", bound: 60},
	{name: "heap_growth_mb", op: "<", bound: 50},
	{name: "sql_overhead_ratio", op: ">=", bound: 0.9},
}

// met reports whether v meets t against bound.
func (t target) met(v, bound float64) bool {
	switch t.op {
	case ">=":
		return v >= bound
	case "<=":
		return v <= bound
	case "<":
		return v < bound
	default:
		return v == bound
	}
}

// checkTargets writes each target with the run's figure and whether it
// was met, then how many were, and returns that number. It decides
// nothing: single runs on a shared machine swing across several of the
// bounds (README, "Performance").
func checkTargets(w io.Writer, figures []figure) int {
	byName := map[string]float64{}
	for _, f := range figures {
		byName[f.Name] = f.Value
	}
	met := 0
	fmt.Fprintln(w, "bench: issue 6's targets")
	for _, t := range targets {
		v, ok := byName[t.name]
		bound, boundOK := t.bound, true
		what := strconv.FormatFloat(t.bound, 'f', -1, 64)
		if t.against != "" {
			bound, boundOK = byName[t.against]
			what = fmt.Sprintf("%s (%s)", t.against, strconv.FormatFloat(bound, 'f', -1, 64))
		}
		verdict := "missed"
		switch {
		case !ok || !boundOK:
			verdict = "not measured"
		case t.met(v, bound):
			verdict, met = "met", met+1
		}
		value := "-"
		if ok {
			value = strconv.FormatFloat(v, 'f', 3, 64)
		}
		fmt.Fprintf(w, "  %-25s %9s  %s %s: %s\n", t.name, value, t.op, what, verdict)
	}
	fmt.Fprintf(w, "bench: %d of %d targets met in this run\n", met, len(targets))
	return met
}

// partFlag runs one part of the benchmark in a process of its own: the SDK
// keeps every plugin instance alive (about 330 MiB of preallocated query
// cache each at Steampipe's default size), and under Steampipe a plugin
// process holds one, so each measurement gets a process with one instance,
// as Steampipe would give it.
const partFlag = "-part"

// urls are the sandboxes' base URLs, handed to the parts.
type urls struct {
	Big, Small, Lat, Make string
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == childFlag {
		serveChild(os.Args[2])
		return
	}
	os.Setenv("STEAMPIPE_LOG_LEVEL", "off")
	if len(os.Args) == 5 && os.Args[1] == partFlag {
		var u urls
		var rows int
		if err := json.Unmarshal([]byte(os.Args[3]), &u); err != nil {
			fail("part: %v", err)
		}
		fmt.Sscan(os.Args[4], &rows)
		if n, err := strconv.Atoi(os.Getenv(pairsEnv)); err == nil && n > 0 {
			*pairs = n
		}
		runPart(os.Args[2], u, rows)
		return
	}
	flag.Parse()
	if *pairs < 1 {
		fail("-pairs %d: measure each figure at least once", *pairs)
	}
	os.Setenv(pairsEnv, strconv.Itoa(*pairs)) // for the parts
	// Steampipe's own default: the SDK frees OS memory every 100 rows. Both
	// sides of every ratio run with it; -free-mem 0 shows the SDK's share.
	os.Setenv("STEAMPIPE_FREE_MEM_INTERVAL", strconv.Itoa(*freeMem))
	defer stopChildren()
	start := time.Now()
	year := 365 * 24 * time.Hour
	yearAgo := time.Now().Add(-year)

	godebug := buildGodebug()
	fmt.Fprintf(os.Stderr, "bench: %d CPUs, %s, %s/%s, %d-row scans, STEAMPIPE_FREE_MEM_INTERVAL=%d, GODEBUG default %q; the sandboxes run in child processes, each part in a process of its own\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, *bigScan, *freeMem, godebug)
	if !strings.Contains(godebug, "madvdontneed=0") {
		fmt.Fprintln(os.Stderr, "bench: built without the plugin binary's GODEBUG default (madvdontneed=0): the figures are not the plugin's as make build builds it; run make bench")
	}
	u := urls{
		Big:   spawn(spec{Kind: "celonis", Events: *bigScan, Start: yearAgo, Span: year.String()}).URL,
		Small: spawn(spec{Kind: "celonis", Events: 10000, Start: yearAgo, Span: year.String()}).URL,
		Lat:   spawn(spec{Kind: "celonis", Events: 20000, Start: yearAgo, Span: year.String()}).URL,
		Make:  spawn(spec{Kind: "make", Events: *bigScan, Start: yearAgo, Span: year.String()}).URL,
	}
	got := map[string]figure{}
	part := func(name string) {
		for _, f := range runChildPart(name, u) {
			got[f.Name] = f
		}
	}
	for _, name := range []string{"floor", "make", "requests", "latency"} {
		part(name)
	}
	// The query command makes a plugin instance per run: one process each,
	// paired with a process that scans the same table through the SDK path,
	// run right before or after it in turns (rates measured minutes apart
	// swung the ratio by 0.2).
	var queries, sdks, overheads []float64
	for i := 0; i < *pairs; i++ {
		for _, name := range inTurn(i, []string{"query", "sdk_scan"}) {
			part(name)
		}
		q, s := got["query_rows_per_s"].Value, got["sdk_rows_per_s"].Value
		queries, sdks, overheads = append(queries, q), append(sdks, s), append(overheads, q/s)
	}
	record("sdk_floor_ratio", got["sdk_floor_ratio"].Value, got["sdk_floor_ratio"].Note)
	record("http_floor_ratio", got["http_floor_ratio"].Value, got["http_floor_ratio"].Note)
	record("raw_ratio", got["raw_ratio"].Value, got["raw_ratio"].Note)
	// What the plugin adds to the floor: its client's own work, and that
	// work while the SDK forces a collection every 100 rows.
	part("client")
	for _, name := range []string{"sdk_floor_us_per_row", "client_us_per_row", "client_free_mem_us_per_row"} {
		record(name, got[name].Value, got[name].Note)
	}
	// The floor's pairs again with the one-CPU mode on: on every CPU the
	// SDK floor, which makes no request, can keep both CPUs busy, and then
	// the plugin's requests and the sandbox's answers (which a real API
	// does not cost this machine) take their CPU from its scan; on one CPU
	// the other is left to them.
	part("floor" + oneCPU)
	for _, name := range []string{"sdk_floor_ratio", "http_floor_ratio", "sdk_floor_us_per_row"} {
		record(name+oneCPU, got[name].Value, got[name].Note+"; CELONIS_ONE_CPU=true (the plugin's one-CPU mode)")
	}
	record("sql_overhead_ratio", median(overheads), fmt.Sprintf("median of %d pairs of processes: query jsonl %.0f rows/s, SDK path %.0f rows/s (medians)", *pairs, median(queries), median(sdks)))
	for _, name := range []string{"make_sdk_floor_ratio", "make_http_floor_ratio"} {
		record(name, got[name].Value, got[name].Note)
	}
	part("heap_small")
	part("heap_big")
	hSmall, hBig := got["peak_heap_small"].Value, got["peak_heap_big"].Value
	record("heap_growth_mb", (hBig-hSmall)/(1<<20), fmt.Sprintf("peak heap %.0f MiB (%d rows) vs %.0f MiB (10,000 rows)", hBig/(1<<20), *bigScan, hSmall/(1<<20)))
	for _, name := range []string{"window_requests", "window_requests_min", "limit_requests", "latency_bound_ratio"} {
		record(name, got[name].Value, got[name].Note)
	}
	// The SDK frees OS memory before it streams a query's first row too; the
	// same part with that off shows its share.
	// Each is split at the sandbox's log of the first list request: before
	// it arrived (the SDK's query setup and the plugin's), the API's time
	// (50 ms and the page), and after its page was ready (the transfer,
	// decoding, and the SDK's work on the first row).
	firstFigures := []struct{ name, note string }{
		{"first_row_ms", "median of 5 processes at 50 ms a response (app key: no token request)"},
		{"first_row_before_request_ms", "of which: from the query's start until the first list request reached the sandbox (median of the same 5)"},
		{"first_row_api_ms", "of which: from the request's arrival until its page was ready to send (50 ms of latency and the sandbox's page)"},
		{"first_row_after_response_ms", "of which: from the page being ready until the first row (the transfer, decoding and the SDK's work on the first row)"},
	}
	for _, v := range []struct{ part, suffix, note string }{
		{"first", "", ""},
		{"first_free_mem_off", "_free_mem_off", "; STEAMPIPE_FREE_MEM_INTERVAL=0: the SDK's debug.FreeOSMemory before the first row is the difference"},
	} {
		runs := map[string][]float64{}
		for i := 0; i < 5; i++ {
			part(v.part)
			for _, f := range firstFigures {
				runs[f.name] = append(runs[f.name], got[f.name].Value)
			}
		}
		for _, f := range firstFigures {
			vals := runs[f.name]
			m := median(vals) // sorts vals
			record(strings.TrimSuffix(f.name, "_ms")+v.suffix+"_ms", m, fmt.Sprintf("%s; min %.1f, max %.1f%s", f.note, vals[0], vals[len(vals)-1], v.note))
		}
	}
	// Large exports, with the plugin's GOGC (celonis.GCPercent) and with Go's
	// default of 100, which counts the SDK's preallocated query cache (about
	// 328 MiB, see steampipeCacheMb) as live heap and so lets as much garbage
	// build up between collections: what the SDK's setting costs in speed,
	// and what turning it off costs in memory. And with the runtime's default
	// MADV_DONTNEED, with which the rows after each of the SDK's
	// debug.FreeOSMemory() calls fault in again the pages it handed back.
	// And with the plugin's one-CPU mode on (CELONIS_ONE_CPU=true): with
	// the SDK's interval the Celonis scan then runs on one CPU, where its
	// collections stop and wake no other.
	// And Make's audit log on one CPU: it never frees memory (the SDK runs
	// matrix queries on a copy of the query data that lacks the interval),
	// so it needs every CPU, which the plugin leaves it.
	for _, e := range []struct{ part, note string }{
		{"export", fmt.Sprintf("celonis_audit_log, STEAMPIPE_FREE_MEM_INTERVAL=%d", *freeMem)},
		{"export_free_mem_off", "celonis_audit_log, STEAMPIPE_FREE_MEM_INTERVAL=0"},
		{"export" + madvDontNeed, fmt.Sprintf("celonis_audit_log, STEAMPIPE_FREE_MEM_INTERVAL=%d and GODEBUG=madvdontneed=1 (the Go runtime's default)", *freeMem)},
		{"export" + oneCPU, fmt.Sprintf("celonis_audit_log, STEAMPIPE_FREE_MEM_INTERVAL=%d and CELONIS_ONE_CPU=true (the plugin's one-CPU mode)", *freeMem)},
		{"export_free_mem_off_gogc100", "celonis_audit_log, STEAMPIPE_FREE_MEM_INTERVAL=0 and GOGC=100"},
		{"make_export", "celonis_make_audit_log (every column but details), which never frees memory"},
		{"make_export" + oneProc, "celonis_make_audit_log with GOMAXPROCS=1"},
		{"make_export_gogc100", "celonis_make_audit_log with GOGC=100"},
	} {
		part(e.part)
		record(e.part+"_rows_per_s", got["export_rows_per_s"].Value, fmt.Sprintf("select of %d rows, Steampipe's default query cache (off): %s", *bigScan, e.note))
		record(e.part+"_peak_rss_mib", got["export_peak_rss_mib"].Value, "the process's peak resident memory (VmHWM) over the same scan; "+got["export_peak_rss_mib"].Note)
	}
	// The same export from the plugin's own binary over gRPC, as Steampipe
	// runs it (make bench builds it first): the rows then cross a process
	// boundary, and the plugin process does the gRPC work the in-process
	// path leaves out. On every CPU, and with the one-CPU mode.
	if os.Getenv(pluginEnv) == "" {
		fmt.Fprintf(os.Stderr, "bench: %s is not set, so the gRPC parts do not run (make bench sets it to the plugin it builds)\n", pluginEnv)
	} else {
		for _, e := range []struct{ part, note string }{
			{"grpc", fmt.Sprintf("celonis_audit_log, STEAMPIPE_FREE_MEM_INTERVAL=%d", *freeMem)},
			{"grpc" + oneCPU, fmt.Sprintf("celonis_audit_log, STEAMPIPE_FREE_MEM_INTERVAL=%d and CELONIS_ONE_CPU=true (the plugin's one-CPU mode)", *freeMem)},
			{"make_grpc", "celonis_make_audit_log (every column but details), which keeps every CPU"},
			{"make_grpc" + oneProc, "celonis_make_audit_log with GOMAXPROCS=1"},
		} {
			part(e.part)
			record(e.part+"_rows_per_s", got["grpc_rows_per_s"].Value, fmt.Sprintf("select of %d rows from the plugin's binary over gRPC: %s", *bigScan, e.note))
			record(e.part+"_cpu_s", got["grpc_cpu_s"].Value, "CPU time of the plugin process over the same scan (user and system)")
			record(e.part+"_peak_rss_mib", got["grpc_peak_rss_mib"].Value, "the plugin process's peak resident memory (VmHWM) over the same scan; "+got["grpc_peak_rss_mib"].Note)
		}
	}
	// The 30-day range, -pairs times (one run read from 2.6 to 3.4 on this
	// shared machine): the median of each ratio, and the most requests a
	// second of any run. Then the same with the SDK's setting off, which
	// shows what its debug.FreeOSMemory every 100 rows costs the range, and
	// with the plugin's one-CPU mode on.
	for _, v := range []struct{ part, suffix, note string }{
		{"parallel", "", ""},
		{"parallel" + oneCPU, oneCPU, "; CELONIS_ONE_CPU=true (the plugin's one-CPU mode)"},
		{"parallel_free_mem_off", "_free_mem_off", "; STEAMPIPE_FREE_MEM_INTERVAL=0"},
	} {
		runs := map[string][]float64{}
		notes := map[string]string{}
		for i := 0; i < *pairs; i++ {
			part(v.part)
			for _, name := range []string{"parallel_speedup", "parallel_sdk_bound", "parallel_http_bound", "max_rps_observed"} {
				runs[name], notes[name] = append(runs[name], got[name].Value), got[name].Note
			}
		}
		for _, name := range []string{"parallel_speedup", "parallel_sdk_bound", "parallel_http_bound"} {
			vals := runs[name]
			m := median(vals) // sorts vals
			record(name+v.suffix, m, fmt.Sprintf("median of %d runs (%.2f-%.2f)%s; the last: %s", *pairs, vals[0], vals[len(vals)-1], v.note, notes[name]))
		}
		record("max_rps_observed"+v.suffix, slices.Max(runs["max_rps_observed"]), fmt.Sprintf("most list requests the sandbox saw in one second, in any of the %d runs%s", *pairs, v.note))
	}
	record("rate_limit_rps", got["rate_limit_rps"].Value, got["rate_limit_rps"].Note)

	checkTargets(os.Stderr, figures)
	fmt.Fprintf(os.Stderr, "bench: done in %s\n", time.Since(start).Round(time.Second))
	for _, f := range figures {
		fmt.Printf("BENCH %s=%s\n", f.Name, strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", f.Value), "0"), "."))
	}
}

// madvDontNeed ends the names of parts run with the Go runtime's default
// way of handing freed memory back to Linux (GODEBUG=madvdontneed=1)
// instead of the plugin binary's MADV_FREE (the Makefile's LDFLAGS).
const madvDontNeed = "_madvdontneed"

// oneProc ends the names of parts run with GOMAXPROCS=1: the Go runtime
// on one CPU, as Steampipe's environment can set it for its plugins.
const oneProc = "_gomaxprocs1"

// oneCPU ends the names of parts run with CELONIS_ONE_CPU=true in the
// environment, which turns the plugin's one-CPU mode on
// (celonis.OneCPUEnv); the other parts run with it off, as the plugin
// does by default.
const oneCPU = "_one_cpu"

// buildGodebug is the GODEBUG default compiled into this program
// (runtime.godebugDefault), which make bench sets as make build sets the
// plugin's.
func buildGodebug() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, st := range bi.Settings {
		if _, v, found := strings.Cut(st.Value, "runtime.godebugDefault="); st.Key == "-ldflags" && found {
			return strings.Trim(strings.Fields(v + " ")[0], `'"`)
		}
	}
	return ""
}

// runChildPart runs one part in a new process and returns its figures.
func runChildPart(name string, u urls) []figure {
	self, err := os.Executable()
	if err != nil {
		fail("%v", err)
	}
	js, _ := json.Marshal(u)
	cmd := exec.Command(self, partFlag, name, string(js), strconv.Itoa(*bigScan))
	// These settings are read at start-up only; the environment's last
	// setting wins.
	switch {
	case strings.HasSuffix(name, madvDontNeed):
		cmd.Env = append(os.Environ(), "GODEBUG="+strings.TrimPrefix(os.Getenv("GODEBUG")+",madvdontneed=1", ","))
	case strings.HasSuffix(name, oneProc):
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	case strings.HasSuffix(name, oneCPU):
		cmd.Env = append(os.Environ(), celonis.OneCPUEnv+"=true")
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		fail("part %s: %v", name, err)
	}
	var fs []figure
	if err := json.Unmarshal(out, &fs); err != nil {
		fail("part %s: %v: %s", name, err, out)
	}
	return fs
}

var auditCols = []string{"timestamp", "event", "user_id", "user_email", "user_role", "ip_address", "port", "message", "diff_old_value", "diff_new_value", "event_key", "api_version", "raw"}

// makeCols is every column of the Make audit log but details, which costs a
// request per row.
var makeCols = []string{"uuid", "organization_id", "organization_name", "team_id", "team_name", "event_name", "actor_id", "actor_name", "actor_email", "actor_anonymized", "target_id", "triggered_at", "created_at", "version_from", "version_to", "raw"}

// pairs is how many times the floor parts scan the table and its floor,
// alternately, and how many times the other paired and repeated figures
// are measured: the machine is shared, and the median of the pairs'
// ratios is steadier than one pair's. Single scans here swing by up to
// 0.3 (Make's scans read 62,000-87,000 rows a second in one run of 10
// pairs on a quiet hour), so a median of 3 still moves by about 0.05
// between runs; -pairs sets more. The parts read it from pairsEnv.
var pairs = flag.Int("pairs", 3, "how many times each paired or repeated figure is measured; the median is reported (more: steadier, slower)")

const pairsEnv = "BENCH_PAIRS"

// floorRates are the medians of floorPairs' rounds.
type floorRates struct {
	plugin, floor, ratio float64
	// httpFloor and httpRatio are set when the table's capture logged its
	// requests (see pageRequests).
	httpFloor, httpRatio float64
}

// floorPairs scans table and its floor alternately, and its HTTP floor
// when it has one, and returns the median rates and ratios of the rounds.
// Every other round runs its scans in the reverse order, so that a drift
// over the rounds (the heap, the machine's other work) favours neither
// side.
//
// Its profiles (see profile) are named by the scanned table and suffix,
// so that a part with a suffix of its own (floor_one_cpu) does not
// overwrite those of the part without it.
func floorPairs(ctx context.Context, r *inproc.Runner, table string, cols []string, rows int, suffix string) floorRates {
	var ps, fs, rs, hs, hrs []float64
	for i := 0; i < *pairs; i++ {
		floor, httpFloor := floorTable(table), httpFloorTable(table)
		tables := []string{table, floor}
		if len(pageRequests[table]) > 0 {
			tables = append(tables, httpFloor)
		}
		rates := map[string]float64{}
		for _, t := range inTurn(i, tables) {
			stop := profile(i, t+suffix)
			n, d := scan(ctx, r, t, cols, nil)
			stop()
			if n != rows {
				fail("%s returned %d rows, want %d", t, n, rows)
			}
			rates[t] = rate(n, d)
		}
		p, f := rates[table], rates[floor]
		ps, fs, rs = append(ps, p), append(fs, f), append(rs, p/f)
		if h, ok := rates[httpFloor]; ok {
			hs, hrs = append(hs, h), append(hrs, p/h)
		}
	}
	return floorRates{median(ps), median(fs), median(rs), median(hs), median(hrs)}
}

// inTurn is the order round i of a paired measurement runs names in:
// every other round reversed, so that a drift over the rounds favours no
// side.
func inTurn(i int, names []string) []string {
	if i%2 == 1 {
		slices.Reverse(names)
	}
	return names
}

// partPair is, for profile, the pair of a part that runs in a process of
// its own once per pair or run (query, sdk_scan, the parallel parts): 0
// until a process has written its profile, so that only the first pair's
// processes are profiled.
func partPair(name string) int {
	dir := os.Getenv("BENCH_PROFILE")
	if dir == "" {
		return 0
	}
	if _, err := os.Stat(filepath.Join(dir, name+".pprof")); err == nil {
		return 1
	}
	return 0
}

// profile writes a CPU profile of the first pair's scans (of the query,
// sdk_scan and parallel parts too: see partPair) into the folder
// BENCH_PROFILE names, if set, one file per table or part (<table>.pprof), and
// allocation profiles from before and after the scan (<table>.allocs0 and
// .allocs1: compare them with pprof -diff_base); it returns the call that
// ends the profile.
func profile(pair int, table string) func() {
	dir := os.Getenv("BENCH_PROFILE")
	if dir == "" || pair != 0 {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, table+".pprof"))
	if err != nil {
		fail("%v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fail("%v", err)
	}
	heap := func(suffix string) {
		h, err := os.Create(filepath.Join(dir, table+suffix))
		if err != nil {
			fail("%v", err)
		}
		pprof.Lookup("allocs").WriteTo(h, 0)
		h.Close()
	}
	heap(".allocs0")
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		heap(".allocs1")
	}
}

// runPart measures one part and prints its figures as JSON.
func runPart(name string, u urls, rows int) {
	ctx := context.Background()
	floorRows = rows
	var out []figure
	add := func(n string, v float64, note string) { out = append(out, figure{n, v, note}) }
	big, lat := &remote{URL: u.Big}, &remote{URL: u.Lat}
	if name != "query" && name != "sdk_scan" && !strings.Contains(name, "grpc") {
		// As the plugin's main does under Steampipe. The query command, and
		// the SDK scan it is compared with, keep Go's defaults.
		celonis.SetGCPercent()
		if _, err := celonis.EnableOneCPUIfAsked(); err != nil {
			fail("%v", err)
		}
	}
	switch name {
	case "floor", "floor" + oneCPU:
		// The plugin against a stand-in that streams the same rows, already
		// decoded, through the same SDK path. The celonis_platform limiter
		// (20 requests a second by default) would cap this scan at 4,000
		// rows a second: set out of the way, as a limiter block can, so that
		// the figure is the plugin's own per-row cost.
		runner := mustRunner(withFloor("celonis_audit_log"), config(u.Big))
		setLimit(runner, 10000)
		big.ResetRequests()
		capture(ctx, runner, "celonis_audit_log", auditCols)
		pageRequests["celonis_audit_log"] = logged(big, "/log/", http.Header{"Authorization": {"AppKey " + appKey}})
		f := floorPairs(ctx, runner, "celonis_audit_log", auditCols, rows, strings.TrimPrefix(name, "floor"))
		add("plugin_rows_per_s", f.plugin, "")
		add("sdk_floor_us_per_row", 1e6/f.floor, fmt.Sprintf("the SDK floor's time a row: 1/%.0f rows/s", f.floor))
		add("sdk_floor_ratio", f.ratio, fmt.Sprintf("median of %d interleaved pairs: plugin %.0f rows/s, SDK floor %.0f rows/s", *pairs, f.plugin, f.floor))
		add("http_floor_ratio", f.httpRatio, fmt.Sprintf("median of the same %d rounds: plugin %.0f rows/s, SDK floor while fetching the same pages (bodies dropped, nothing decoded) %.0f rows/s", *pairs, f.plugin, f.httpFloor))
		pluginRate := f.plugin
		// A raw loop: net/http and encoding/json into plain structs.
		rn, dRaw := rawScan(u.Big, nil)
		add("raw_ratio", pluginRate/rate(rn, dRaw), fmt.Sprintf("raw loop %.0f rows/s", rate(rn, dRaw)))
	case "client":
		// The plugin's own work on the floor's scan, without the SDK, in CPU
		// time on one CPU (see clientPart).
		runtime.GOMAXPROCS(1)
		clientPart(ctx, u.Big, rows, add)
	case "query":
		stop := profile(partPair("query"), "query")
		qn, dQuery := queryScan(config(u.Big), 10000, "select * from celonis_audit_log")
		stop()
		if qn != rows {
			fail("query returned %d rows, want %d", qn, rows)
		}
		add("query_rows_per_s", rate(qn, dQuery), "")
	case "sdk_scan":
		// As the query command runs the plugin: the least query cache.
		r, err := inproc.New(celonis.Plugin, config(u.Big))
		if err != nil {
			fail("%v", err)
		}
		setLimit(r, 10000)
		stop := profile(partPair("sdk_scan"), "sdk_scan")
		perSec := fullScan(ctx, r, "celonis_audit_log", auditCols, rows)
		stop()
		add("sdk_rows_per_s", perSec, "")
	case "make":
		r := mustRunner(withFloor("celonis_make_audit_log"), makeConfig(u.Make))
		mk := &remote{URL: u.Make}
		mk.ResetRequests()
		capture(ctx, r, "celonis_make_audit_log", makeCols)
		pageRequests["celonis_make_audit_log"] = logged(mk, "/api/v2/audit-logs/", http.Header{"Authorization": {"Token " + makeToken}, "User-Agent": {"steampipe-plugin-celonis"}})
		f := floorPairs(ctx, r, "celonis_make_audit_log", makeCols, rows, "")
		add("make_sdk_floor_ratio", f.ratio, fmt.Sprintf("median of %d interleaved pairs: plugin %.0f rows/s, SDK floor %.0f rows/s", *pairs, f.plugin, f.floor))
		add("make_http_floor_ratio", f.httpRatio, fmt.Sprintf("median of the same %d rounds: plugin %.0f rows/s, SDK floor while fetching the same pages (bodies dropped, nothing decoded) %.0f rows/s", *pairs, f.plugin, f.httpFloor))
	case "heap_small", "heap_big":
		// Peak heap of a full scan; rows are dropped as they arrive.
		target := u.Big
		if name == "heap_small" {
			target = u.Small
		}
		r := mustRunner(celonis.Plugin, config(target))
		setLimit(r, 10000)
		add("peak_"+name, float64(peakHeap(func() { scan(ctx, r, "celonis_audit_log", auditCols, nil) })), "")
	case "requests":
		// A one-day window of a 365-day history, and limit 10.
		runner := mustRunner(celonis.Plugin, config(u.Big))
		big.ResetRequests()
		day := time.Now().Add(-100 * 24 * time.Hour).UTC().Truncate(24 * time.Hour)
		to := day.Add(24*time.Hour - time.Millisecond)
		wn, _ := scan(ctx, runner, "celonis_audit_log", []string{"timestamp"}, []inproc.Qual{
			inproc.Q("timestamp", ">=", inproc.TimeValue(day)), inproc.Q("timestamp", "<=", inproc.TimeValue(to))})
		want := big.AuditCount(day, to)
		if wn != want {
			fail("window returned %d rows, want %d", wn, want)
		}
		add("window_requests", float64(len(big.Requests("/log/"))), fmt.Sprintf("%d rows in the window", wn))
		add("window_requests_min", float64((want+199)/200), "pages of 200 the rows need")
		big.ResetRequests()
		if ln, _ := scanLimit(ctx, runner, 10); ln != 10 {
			fail("limit 10 returned %d rows", ln)
		}
		add("limit_requests", float64(len(big.Requests("/log/"))), "list requests for limit 10")
	case "latency":
		// 100 ms on every response, sequential scans.
		lat.SetLatency(100 * time.Millisecond)
		ln, dl := scan(ctx, mustRunner(celonis.Plugin, config(u.Lat)), "celonis_audit_log", auditCols, nil)
		rln, drl := rawScan(u.Lat, nil)
		add("latency_bound_ratio", rate(ln, dl)/rate(rln, drl), fmt.Sprintf("plugin %s, raw loop %s for %d rows at 100 ms a page", dl.Round(time.Millisecond), drl.Round(time.Millisecond), ln))
	case "first", "first_free_mem_off":
		if name == "first_free_mem_off" {
			os.Setenv("STEAMPIPE_FREE_MEM_INTERVAL", "0") // read by each query
		}
		lat.SetLatency(50 * time.Millisecond)
		r := mustRunner(celonis.Plugin, config(u.Lat))
		lat.ResetRequests()
		start, first := firstRow(ctx, r)
		add("first_row_ms", float64(first.Milliseconds()), "")
		// Where the time went, from the sandbox's log of the first list
		// request: when it arrived, and when its page was ready to send.
		tl := lat.Timeline("/log/")
		if len(tl) == 0 || tl[0][1].IsZero() {
			fail("first row: the sandbox logged no answered list request")
		}
		add("first_row_before_request_ms", millis(tl[0][0].Sub(start)), "")
		add("first_row_api_ms", millis(tl[0][1].Sub(tl[0][0])), "")
		add("first_row_after_response_ms", millis(first-tl[0][1].Sub(start)), "")
	case "export", "export" + madvDontNeed, "export" + oneCPU, "export_free_mem_off", "export_free_mem_off_gogc100",
		"make_export", "make_export" + oneProc, "make_export_gogc100":
		if strings.Contains(name, "free_mem_off") {
			os.Setenv("STEAMPIPE_FREE_MEM_INTERVAL", "0") // read by each query
		}
		if strings.HasSuffix(name, "_gogc100") {
			debug.SetGCPercent(100) // as GOGC=100 in the environment
		}
		table, cols, cfg := "celonis_audit_log", auditCols, config(u.Big)
		if strings.HasPrefix(name, "make_") {
			table, cols, cfg = "celonis_make_audit_log", makeCols, makeConfig(u.Make)
		}
		r := mustRunner(celonis.Plugin, cfg)
		setLimit(r, 10000)
		base := peakRSSMiB()
		add("export_rows_per_s", fullScan(ctx, r, table, cols, rows), "")
		add("export_peak_rss_mib", peakRSSMiB(), fmt.Sprintf("%.0f MiB before the scan", base))
	case "parallel", "parallel" + oneCPU, "parallel_free_mem_off":
		// A 30-day range at 50 ms a response, the plugin's rate limit at 100
		// requests a second, against the raw sequential loop.
		if name == "parallel_free_mem_off" {
			os.Setenv("STEAMPIPE_FREE_MEM_INTERVAL", "0") // read by each query
		}
		const limitRPS = 100
		big.SetLatency(50 * time.Millisecond)
		defer big.SetLatency(0)
		from30 := time.Now().Add(-60 * 24 * time.Hour)
		to30 := from30.Add(30 * 24 * time.Hour)
		q30 := []inproc.Qual{inproc.Q("timestamp", ">=", inproc.TimeValue(from30)), inproc.Q("timestamp", "<", inproc.TimeValue(to30))}
		cols30 := []string{"timestamp", "event"}
		rp, drp := rawScan(u.Big, url.Values{"from": {from30.UTC().Format("2006-01-02T15:04:05.000Z")}, "to": {to30.UTC().Format("2006-01-02T15:04:05.000Z")}})
		pr := mustRunner(withFloor("celonis_audit_log"), config(u.Big))
		setLimit(pr, limitRPS)
		big.ResetRequests()
		pair := partPair(name) // a process each run: profile the first
		stop := profile(pair, name)
		gc := readGC()
		pn, dp := scan(ctx, pr, "celonis_audit_log", cols30, q30)
		gcPlugin := readGC().since(gc)
		stop()
		if pn > rp || rp-pn > 2 {
			fail("30-day scan returned %d rows, raw %d", pn, rp)
		}
		reqs := big.Requests("/log/")
		pageRequests["celonis_audit_log"] = logged(big, "/log/", http.Header{"Authorization": {"AppKey " + appKey}})
		add("parallel_speedup", drp.Seconds()/dp.Seconds(), fmt.Sprintf("raw sequential %s, plugin %s for %d rows in %d requests (%s)", drp.Round(time.Millisecond), dp.Round(time.Millisecond), pn, len(reqs), gcPlugin))
		// The SDK's own bound: its floor streams the same rows, columns and
		// quals with no API at all, after the plugin's scan (the floor needs
		// rows to replay, and must not warm the plugin's).
		capture(ctx, pr, "celonis_audit_log", cols30, q30...)
		floorRows = pn
		stop = profile(pair, name+"_floor")
		gc = readGC()
		_, df := scan(ctx, pr, floorTable("celonis_audit_log"), cols30, q30)
		stop()
		add("parallel_sdk_bound", drp.Seconds()/df.Seconds(), fmt.Sprintf("raw sequential %s, the SDK floor %s streaming the same %d rows, columns and quals without any request (%s): the most speedup the SDK allows", drp.Round(time.Millisecond), df.Round(time.Millisecond), pn, readGC().since(gc)))
		// And with the requests: the same floor while the plugin's requests
		// are made again as its windows made them, at once, at 50 ms each.
		replayWorkers = plugincfg.DefaultMaxConcurrency
		stop = profile(pair, name+"_http_floor")
		hn, dh := scan(ctx, pr, httpFloorTable("celonis_audit_log"), cols30, q30)
		stop()
		if hn != pn {
			fail("the 30-day HTTP floor returned %d rows, want %d", hn, pn)
		}
		add("parallel_http_bound", drp.Seconds()/dh.Seconds(), fmt.Sprintf("raw sequential %s, the SDK floor %s streaming the same rows while it makes the plugin's %d requests again, %d at once (bodies dropped, nothing decoded)", drp.Round(time.Millisecond), dh.Round(time.Millisecond), len(reqs), plugincfg.DefaultMaxConcurrency))
		add("max_rps_observed", float64(maxPerSecond(reqs)), "most list requests the sandbox saw in one second")
		add("rate_limit_rps", limitRPS, "the celonis_platform limiter, overridden as a limiter block would (fill rate a second)")
	case "grpc", "grpc" + oneCPU, "make_grpc", "make_grpc" + oneProc:
		// The plugin's own binary, served and queried over gRPC as under
		// Steampipe (see grpcScan); this process only receives the rows.
		// The plugin inherits this process's environment, with the
		// setting of the part's suffix (runChildPart).
		table, cols, cfg := "celonis_audit_log", auditCols, config(u.Big)
		if strings.HasPrefix(name, "make_") {
			table, cols, cfg = "celonis_make_audit_log", makeCols, makeConfig(u.Make)
		}
		g := grpcScan(os.Getenv(pluginEnv), cfg, table, cols, 10000)
		if g.rows != rows {
			fail("%s over gRPC returned %d rows, want %d", table, g.rows, rows)
		}
		add("grpc_rows_per_s", rate(g.rows, g.elapsed), "")
		add("grpc_cpu_s", g.cpu.Seconds(), "")
		add("grpc_peak_rss_mib", g.peakRSS, fmt.Sprintf("%.0f MiB before the scan", g.startRSS))
	default:
		fail("no part %q", name)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

//// HELPERS

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	stopChildren()
	os.Exit(1)
}

func config(u string) string { return fmt.Sprintf("url = %q\napp_key = %q\n", u, appKey) }

func makeConfig(u string) string {
	return fmt.Sprintf("make_url = %q\nmake_api_token = %q\nmake_organization_ids = [%d]\nmake_rate_limit_per_minute = 60000\n", u, makeToken, benchMakeOrg)
}

// steampipeCacheMb is the query cache size Steampipe gives a plugin by
// default (cache_max_size_mb, DefaultMaxCacheSizeMb in Steampipe's
// pkg/constants). The SDK preallocates about 328 MiB of it on the heap,
// pointer-free and not resident until used, whether the cache is on or not.
const steampipeCacheMb = 16384

// mustRunner makes a plugin instance as Steampipe would, with its default
// query cache size (the cache off: every scan reaches the API).
func mustRunner(p plugin.PluginFunc, cfg string) *inproc.Runner {
	r, err := inproc.NewCacheSized(p, cfg, steampipeCacheMb)
	if err != nil {
		fail("%v", err)
	}
	return r
}

// setLimit overrides the celonis_platform limiter, as a limiter block in
// the plugin's config would.
func setLimit(r *inproc.Runner, rps int) {
	if err := r.SetLimiters(platformLimiter(rps)); err != nil {
		fail("limiter: %v", err)
	}
}

// platformLimiter overrides the celonis_platform limiter as a limiter
// block would: rps requests a second.
func platformLimiter(rps int) *proto.RateLimiterDefinition {
	return &proto.RateLimiterDefinition{Name: "celonis_platform", FillRate: float32(rps), BucketSize: int64(rps),
		Scope: []string{"connection"}, Where: "service = 'celonis_platform'"}
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

// fullScan scans every row of table and returns the rows a second; it fails
// unless the scan read all rows.
func fullScan(ctx context.Context, r *inproc.Runner, table string, cols []string, rows int) float64 {
	n, d := scan(ctx, r, table, cols, nil)
	if n != rows {
		fail("%s returned %d rows, want %d", table, n, rows)
	}
	return rate(n, d)
}

func scanLimit(ctx context.Context, r *inproc.Runner, limit int64) (int, time.Duration) {
	start := time.Now()
	rows, err := r.Collect(ctx, inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}, Limit: limit})
	if err != nil {
		fail("limit: %v", err)
	}
	return len(rows), time.Since(start)
}

// firstRow runs a query for its first row only, and returns when it
// started and how long the first row took.
func firstRow(ctx context.Context, r *inproc.Runner) (time.Time, time.Duration) {
	start := time.Now()
	var first time.Duration
	r.Execute(ctx, inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}}, func(inproc.Row) error {
		first = time.Since(start)
		return inproc.ErrStop
	})
	return start, first
}

// millis is d in milliseconds, to the microsecond.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// gcCounts are the runtime's collection counters: the collections forced
// by the program (the SDK's debug.FreeOSMemory), and the CPU spent
// collecting (estimated by the runtime at each collection).
type gcCounts struct {
	forced uint64
	cpu    float64
}

func readGC() gcCounts {
	s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	return gcCounts{s[0].Value.Uint64(), s[1].Value.Float64()}
}

// since says what the runtime did from before to now.
func (now gcCounts) since(before gcCounts) string {
	return fmt.Sprintf("%d forced collections, %.2f s of GC CPU", now.forced-before.forced, now.cpu-before.cpu)
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

// logged returns the requests under prefix that the sandbox r logged, in
// order, with header, for an HTTP floor to replay.
func logged(r *remote, prefix string, header http.Header) []pageRequest {
	var out []pageRequest
	for _, u := range r.URLs(prefix) {
		out = append(out, pageRequest{url: r.URL + u, header: header})
	}
	if len(out) == 0 {
		fail("the sandbox logged no requests under %s", prefix)
	}
	return out
}

// queryScan runs the query command with jsonl output into a counter, with
// the celonis_platform limiter at rps, set by a limiter block.
func queryScan(cfg string, rps int, stmt string) (int, time.Duration) {
	f, err := os.CreateTemp("", "bench-*.spc")
	if err != nil {
		fail("%v", err)
	}
	defer os.Remove(f.Name())
	fmt.Fprintf(f, "plugin \"celonis\" {\n  limiter \"celonis_platform\" {\n    fill_rate = %d\n    bucket_size = %d\n    where = \"service = 'celonis_platform'\"\n  }\n}\n"+
		"connection \"celonis\" {\n  plugin = \"local/celonis\"\n%s}\n", rps, rps, cfg)
	f.Close()
	var lines lineCounter
	start := time.Now()
	if code := cli.Query(celonis.Plugin, []string{"--config-file", f.Name(), "--output", "jsonl", stmt}, &lines, os.Stderr); code != 0 {
		fail("query exited %d", code)
	}
	return int(lines.n), time.Since(start)
}

type lineCounter struct{ n int64 }

// Write counts with bytes.Count (vectorised): a loop a byte cost the query
// process 0.4% of its CPU samples.
func (l *lineCounter) Write(p []byte) (int, error) {
	l.n += int64(bytes.Count(p, newline))
	return len(p), nil
}

var newline = []byte{'\n'}

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

// median is the middle value of v (sorted in place); 0 for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// peakRSSMiB is the process's peak resident memory so far (Linux: VmHWM in
// /proc/self/status); 0 where that is not available.
func peakRSSMiB() float64 { return procPeakRSS("self") }

// procPeakRSS is a process's peak resident memory (VmHWM) in MiB: proc is
// a pid or "self".
func procPeakRSS(proc string) float64 {
	b, err := os.ReadFile("/proc/" + proc + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			fmt.Sscan(v, &kb) // "   74588 kB"
			return kb / 1024
		}
	}
	return 0
}

// maxPerSecond is the most requests that arrived within any one second.
func maxPerSecond(times []time.Time) int {
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	most, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= time.Second {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}
