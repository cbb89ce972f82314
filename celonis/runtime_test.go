package celonis

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin/transform"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/onecpu"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/scanerr"
)

// TestSetGCPercent: the plugin's target applies only where the environment
// sets no GOGC of its own.
func TestSetGCPercent(t *testing.T) {
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })

	t.Setenv("GOGC", "80") // restored after the test
	if SetGCPercent() {
		t.Error("SetGCPercent set the target although GOGC is set")
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set the target became %d, want it left at 100", got)
	}

	os.Unsetenv("GOGC")
	if !SetGCPercent() {
		t.Error("SetGCPercent left the target although GOGC is not set")
	}
	if got := debug.SetGCPercent(100); got != GCPercent {
		t.Errorf("the target is %d, want %d", got, GCPercent)
	}
}

// TestEnableOneCPUIfAsked: the one-CPU mode is off unless CELONIS_ONE_CPU
// is true (and GOMAXPROCS unset); a value that is neither true nor false is
// an error naming the variable and what to set. Whether the mode is on
// shows in GOMAXPROCS while a Celonis list call is registered.
func TestEnableOneCPUIfAsked(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	if procs < 2 {
		t.Skipf("GOMAXPROCS is %d: one CPU already", procs)
	}
	for _, v := range []string{"GOMAXPROCS", OneCPUEnv} {
		t.Setenv(v, "") // restored after the test
		os.Unsetenv(v)
	}
	t.Cleanup(onecpu.Disable)
	// during reports GOMAXPROCS while a list call the SDK frees memory
	// for runs.
	during := func() int {
		end := onecpu.Begin(true)
		defer end()
		return runtime.GOMAXPROCS(0)
	}
	for _, c := range []struct {
		value, gomaxprocs string
		want              bool
		wantErr           string
	}{
		{value: "", want: false},
		{value: "false", want: false},
		{value: "0", want: false},
		{value: "true", want: true},
		{value: "1", want: true},
		{value: "TRUE", want: true},
		{value: "true", gomaxprocs: strconv.Itoa(procs), want: false},
		{value: "yes", wantErr: `CELONIS_ONE_CPU="yes": set it to true`},
		{value: "on ", wantErr: `CELONIS_ONE_CPU="on ": set it to true`},
	} {
		onecpu.Disable()
		os.Setenv(OneCPUEnv, c.value)
		os.Unsetenv("GOMAXPROCS")
		if c.gomaxprocs != "" {
			os.Setenv("GOMAXPROCS", c.gomaxprocs)
		}
		on, err := EnableOneCPUIfAsked()
		switch {
		case c.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "or to false") {
				t.Errorf("%s=%q: error %v, want one containing %q and the other choice", OneCPUEnv, c.value, err, c.wantErr)
			}
		case err != nil:
			t.Errorf("%s=%q: %v", OneCPUEnv, c.value, err)
		case on != c.want:
			t.Errorf("%s=%q GOMAXPROCS=%q: mode on %v, want %v", OneCPUEnv, c.value, c.gomaxprocs, on, c.want)
		}
		want := procs
		if c.want {
			want = 1
		}
		if got := during(); got != want {
			t.Errorf("%s=%q GOMAXPROCS=%q: GOMAXPROCS %d during a Celonis scan, want %d", OneCPUEnv, c.value, c.gomaxprocs, got, want)
		}
		if got := runtime.GOMAXPROCS(0); got != procs {
			t.Errorf("%s=%q: GOMAXPROCS %d after the scan, want %d", OneCPUEnv, c.value, got, procs)
		}
	}
}

// oneCPUEnabled enables the one-CPU mode for the test, as the plugin's
// main does when CELONIS_ONE_CPU is true, with neither GOMAXPROCS nor the
// SDK's interval set in the environment (the SDK's default, 100 rows), and
// returns the runtime's default number of CPUs, which must be more than
// one for the mode to show.
func oneCPUEnabled(t *testing.T) int {
	t.Helper()
	procs := runtime.GOMAXPROCS(0)
	if procs < 2 {
		t.Skipf("GOMAXPROCS is %d: one CPU already", procs)
	}
	for _, v := range []string{"GOMAXPROCS", "STEAMPIPE_FREE_MEM_INTERVAL"} {
		t.Setenv(v, "") // restored after the test
		os.Unsetenv(v)
	}
	if !EnableOneCPU() {
		t.Fatal("EnableOneCPU refused although GOMAXPROCS is not set")
	}
	t.Cleanup(onecpu.Disable)
	return procs
}

// TestOneCPUWhileThePlatformScans drives the tables through the SDK with
// the one-CPU mode enabled, as CELONIS_ONE_CPU=true does, and reads
// GOMAXPROCS in the sandboxes as each list request arrives: a Celonis
// Platform scan alone runs on one CPU while the SDK's memory interval is
// on; a Make scan beside it gives the process every CPU for as long as it
// runs; with the interval at 0 a Celonis scan keeps every CPU too; and
// every CPU is back after each scan.
func TestOneCPUWhileThePlatformScans(t *testing.T) {
	procs := oneCPUEnabled(t)

	// seen records GOMAXPROCS at each list request of a sandbox; hold, when
	// set, holds the Celonis sandbox's second audit request until it is
	// closed, after closing held.
	type seen struct {
		sync.Mutex
		procs []int
	}
	var platform, mk seen
	var hold, held chan struct{}
	var audits atomic.Int32
	watch := func(s *seen, prefix string, holdSecond bool) func(http.Handler) http.Handler {
		return func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, prefix) {
					s.Lock()
					s.procs = append(s.procs, runtime.GOMAXPROCS(0))
					s.Unlock()
					if holdSecond && hold != nil && audits.Add(1) == 2 {
						close(held)
						<-hold
					}
				}
				h.ServeHTTP(w, r)
			})
		}
	}
	take := func(s *seen) []int {
		s.Lock()
		defer s.Unlock()
		p := s.procs
		s.procs = nil
		return p
	}
	all := func(step string, got []int, want int) {
		t.Helper()
		if len(got) == 0 {
			t.Errorf("%s: no list request", step)
		}
		for i, p := range got {
			if p != want {
				t.Errorf("%s: request %d of %d saw GOMAXPROCS %d, want %d (%v)", step, i+1, len(got), p, want, got)
				return
			}
		}
	}
	back := func(step string) {
		t.Helper()
		if got := runtime.GOMAXPROCS(0); got != procs || onecpu.OnOneCPU() {
			t.Errorf("%s: GOMAXPROCS %d (one-CPU mode %v), want %d", step, got, onecpu.OnOneCPU(), procs)
		}
	}

	const makeToken = "make-token-for-the-cpu-test"
	makeAPI := sandbox.NewMake(sandbox.MakeOptions{Token: makeToken})
	makeSrv, err := sandbox.Serve(watch(&mk, "/api/v2/audit-logs/", false)(makeAPI), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(makeSrv.Close)
	extra := fmt.Sprintf("make_url = %q\nmake_api_token = %q\nmake_organization_ids = [11]\n", makeSrv.URL, makeToken)
	e := newWrappedEnv(t, sandbox.CelonisOptions{AuditEvents: 1000}, appKey, extra, watch(&platform, "/log/api/external/", true))
	auditLog := inproc.Query{Table: "celonis_audit_log", Columns: []string{"timestamp", "event"}}

	// A Celonis Platform scan alone: one CPU.
	if rows := e.mustQuery(auditLog); len(rows) != 1000 {
		t.Fatalf("celonis_audit_log: %d rows, want 1000", len(rows))
	}
	all("celonis_audit_log alone", take(&platform), 1)
	back("after celonis_audit_log")

	// A Make scan while a Celonis Platform scan is held at its second
	// page: every CPU while Make's list call runs, one CPU again after it.
	hold, held = make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		rows, err := e.query(auditLog)
		if err == nil && len(rows) != 1000 {
			err = fmt.Errorf("%d rows, want 1000", len(rows))
		}
		done <- err
	}()
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the Celonis Platform scan did not reach its second page")
	}
	if !onecpu.OnOneCPU() {
		t.Error("one CPU not set while the Celonis Platform scan ran alone")
	}
	if rows := e.mustQuery(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid"}}); len(rows) == 0 {
		t.Fatal("celonis_make_audit_log: no rows")
	}
	all("celonis_make_audit_log beside celonis_audit_log", take(&mk), procs)
	if !onecpu.OnOneCPU() {
		t.Error("one CPU not set again once the Make scan ended and the Celonis Platform scan ran on alone")
	}
	close(hold)
	if err := <-done; err != nil {
		t.Fatalf("celonis_audit_log beside celonis_make_audit_log: %v", err)
	}
	if got := take(&platform); len(got) < 3 || got[0] != 1 || got[len(got)-1] != 1 {
		t.Errorf("celonis_audit_log beside celonis_make_audit_log saw GOMAXPROCS %v, want 1 before and after the Make scan", got)
	}
	back("after both")

	// The interval at 0: the SDK frees no memory, so every CPU.
	hold = nil
	t.Setenv("STEAMPIPE_FREE_MEM_INTERVAL", "0")
	if rows := e.mustQuery(auditLog); len(rows) != 1000 {
		t.Fatalf("celonis_audit_log with the interval at 0: %d rows, want 1000", len(rows))
	}
	all("celonis_audit_log with the interval at 0", take(&platform), procs)
	back("after celonis_audit_log with the interval at 0")
}

// TestOneCPUEndsWithTheQuery: a list call still running when its query is
// cancelled (the SDK can leave one blocked for good) gives up its hold on
// one CPU with the query.
func TestOneCPUEndsWithTheQuery(t *testing.T) {
	procs := oneCPUEnabled(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	running, release := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	list := OnOneCPU(func(context.Context, *plugin.QueryData, *plugin.HydrateData) (any, error) {
		close(running)
		<-release // blocked, as in the SDK's StreamListItem
		return nil, nil
	})
	go func() {
		defer close(done)
		list(ctx, &plugin.QueryData{}, nil)
	}()
	<-running
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("GOMAXPROCS %d while the list call runs, want 1", got)
	}
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for onecpu.OnOneCPU() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := runtime.GOMAXPROCS(0); got != procs || onecpu.OnOneCPU() {
		t.Errorf("GOMAXPROCS %d after the query was cancelled, the list call still blocked; want %d", got, procs)
	}
	close(release)
	<-done
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("GOMAXPROCS %d after the list call returned, want %d", got, procs)
	}
}

// A failed list call streams a scanerr.Failed item after its rows (see
// registered), and that item never becomes a row: the scan fails with
// the API's error and shows only the rows read before it.
func TestFailedListStreamsItsMarker(t *testing.T) {
	var mu sync.Mutex
	var streamed []any
	e := newPluginEnv(t, sandbox.CelonisOptions{AuditEvents: 1000}, appKey, "", nil, watchingStreams(func() func([]any) {
		return func(items []any) {
			mu.Lock()
			streamed = append(streamed, items...)
			mu.Unlock()
		}
	}))
	e.api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/log/", After: 2, Status: 400, Body: `{"message":"bad page"}`})
	ctx := context.Background()
	// Every column, as select * asks for them.
	var cols []string
	for _, c := range tableCelonisAuditLog(ctx).Columns {
		cols = append(cols, c.Name)
	}
	rows, err := e.query(inproc.Query{Table: "celonis_audit_log", Columns: cols})
	if err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("scan error %v, want the API's 400", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(streamed) == 0 {
		t.Fatal("nothing streamed")
	}
	last, ok := streamed[len(streamed)-1].(*scanerr.Failed)
	if !ok || last.Err == nil || !strings.Contains(last.Err.Error(), "HTTP 400") {
		t.Fatalf("last streamed item %#v, want a scanerr.Failed with the 400", streamed[len(streamed)-1])
	}
	if want := len(streamed) - 1; len(rows) > want {
		t.Errorf("%d rows from %d entries streamed: the marker became a row", len(rows), want)
	}
	for i, row := range rows {
		if row["event"] == nil {
			t.Errorf("row %d has no event: %v", i, row)
		}
	}
}

// No column a list call provides, in any table, makes a value of a failed
// list call's marker, and in each table at least one holds it and fails
// (scanerr.Hold): the SDK builds every such column of each item it is
// handed, so the marker never becomes a row.
func TestEveryTableHoldsTheFailedMarker(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the query is over: a holding transform fails at once
	item := &scanerr.Failed{Err: fmt.Errorf("HTTP 400")}
	log.SetOutput(io.Discard) // the SDK logs each transform's error
	defer log.SetOutput(os.Stderr)
	p := Plugin(context.Background())
	for name, tbl := range p.TableMap {
		failed := 0
		for _, c := range tbl.Columns {
			if c.Hydrate != nil {
				continue // built from its own hydrate call's result, not the list item
			}
			tr := c.Transform
			if tr == nil {
				tr = tbl.DefaultTransform
			}
			if tr == nil {
				tr = p.DefaultTransform
			}
			v, err := tr.Execute(ctx, &transform.TransformData{HydrateItem: item, ColumnName: c.Name})
			switch {
			case err != nil:
				failed++
			case v != nil:
				t.Errorf("%s.%s: %v from the failed marker, want nothing", name, c.Name, v)
			}
		}
		if failed == 0 {
			t.Errorf("%s: no column holds the failed marker, so it would become a row", name)
		}
	}
}

// TestPageFirstRowGoesOnAtOnce: on one CPU, as the one-CPU mode runs the
// platform's scans, a page's first row reaches the reader before the list
// call queues the rest of the page (stream yields after it), instead of
// after the SDK's next forced collection, at row 100. Scheduling is not
// fully ordered (the runtime takes its global queue first now and then: 3
// first rows of 200 came after 101 rows were queued, in 10 runs), so the
// test asks it of 15 of 20 first rows; without the yield every one came
// after 101.
func TestPageFirstRowGoesOnAtOnce(t *testing.T) {
	old := runtime.GOMAXPROCS(1)
	t.Cleanup(func() { runtime.GOMAXPROCS(old) })
	t.Setenv("STEAMPIPE_FREE_MEM_INTERVAL", "100") // the SDK's default
	// streamed counts the rows the latest list call has queued.
	var streamed atomic.Pointer[atomic.Int64]
	e := newPluginEnv(t, sandbox.CelonisOptions{AuditEvents: 1000}, appKey, "", nil, watchingStreams(func() func([]any) {
		n := new(atomic.Int64)
		streamed.Store(n)
		return func(items []any) { n.Add(int64(len(items))) }
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var at []int64
	for range 20 {
		err := e.runner.Execute(ctx, inproc.Query{Table: "celonis_audit_log", Columns: []string{"event"}}, func(inproc.Row) error {
			at = append(at, streamed.Load().Load())
			return inproc.ErrStop
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	early := 0
	for _, n := range at {
		if n == 1 {
			early++
		}
	}
	t.Logf("rows queued when the first row arrived: %v", at)
	if len(at) != 20 || early < 15 {
		t.Errorf("%d of %d first rows arrived before the list call queued a second row, want at least 15 of 20: rows queued at each first row %v", early, len(at), at)
	}
}

// watchingStreams is Plugin with celonis_audit_log's list call watched:
// each call gets a watcher from begin, which sees the items the call
// streams before the SDK does.
func watchingStreams(begin func() func(items []any)) plugin.PluginFunc {
	return func(ctx context.Context) *plugin.Plugin {
		p := Plugin(ctx)
		list := p.TableMap["celonis_audit_log"].List.Hydrate
		p.TableMap["celonis_audit_log"].List.Hydrate = func(ctx context.Context, d *plugin.QueryData, h *plugin.HydrateData) (any, error) {
			watch, stream := begin(), d.StreamListItem
			d.StreamListItem = func(ctx context.Context, items ...any) {
				watch(items)
				stream(ctx, items...)
			}
			return list(ctx, d, h)
		}
		return p
	}
}
