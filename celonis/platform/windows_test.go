package platform

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/config"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/httpx"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

func TestSplitMakesContiguousWindows(t *testing.T) {
	from := time.Date(2025, 3, 1, 0, 0, 0, 123e6, time.UTC)
	to := from.Add(10*24*time.Hour + 7*time.Millisecond)
	now := from.Add(20 * 24 * time.Hour)
	for _, tc := range []struct {
		name string
		r    TimeRange
		n    int
		want int
	}{
		{"ten days in five", TimeRange{From: &from, To: &to}, 5, 5},
		{"no more windows than days", TimeRange{From: &from, To: &to}, 50, 10},
		{"open upper bound splits up to now", TimeRange{From: &from}, 4, 4},
		{"one at a time", TimeRange{From: &from, To: &to}, 1, 0},
		{"no lower bound", TimeRange{To: &to}, 5, 0},
		{"a day and a half", TimeRange{From: &from, To: ptr(from.Add(36 * time.Hour))}, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.r.split(tc.n, now)
			if len(w) != tc.want {
				t.Fatalf("%d windows, want %d", len(w), tc.want)
			}
			if len(w) == 0 {
				return
			}
			if !w[0].From.Equal(*tc.r.From) || w[len(w)-1].To != tc.r.To {
				t.Fatalf("windows [%v, %v] do not keep the range's own ends", w[0].From, w[len(w)-1].To)
			}
			for k := 1; k < len(w); k++ {
				if w[k-1].To == nil || !w[k-1].To.Equal(*w[k].From) || !w[k].From.After(*w[k-1].From) {
					t.Fatalf("window %d starts at %v, window %d ends at %v", k, w[k].From, k-1, w[k-1].To)
				}
				if w[k].From.Sub(*w[k-1].From) < minWindow-time.Millisecond || !w[k].From.Equal(w[k].From.Truncate(time.Millisecond)) {
					t.Fatalf("window %d: %v", k-1, w[k].From.Sub(*w[k-1].From))
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// tenDays is the range the window tests read: 2025-02-01 and ten days on.
func tenDays() (TimeRange, time.Time, time.Time) {
	from := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(10 * 24 * time.Hour)
	return TimeRange{From: &from, To: &to}, from, to
}

// inflight serves h and records the most requests it ever had at once.
type inflight struct {
	h        http.Handler
	now, max atomic.Int64
}

func (f *inflight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.now.Add(1)
	defer f.now.Add(-1)
	for m := f.max.Load(); n > m && !f.max.CompareAndSwap(m, n); m = f.max.Load() {
	}
	f.h.ServeHTTP(w, r)
}

// windowClient serves a team with events on every window boundary of the
// range and returns a client with the given concurrency.
func windowClient(t *testing.T, r TimeRange, n int, o sandbox.CelonisOptions) (*Client, *sandbox.Celonis, *inflight) {
	t.Helper()
	for _, w := range r.split(n, time.Now()) {
		o.AuditAt = append(o.AuditAt, *w.From, *w.From, w.From.Add(-time.Millisecond))
	}
	o.AuditAt = append(o.AuditAt, *r.From, *r.To)
	api := sandbox.NewCelonis(o)
	counter := &inflight{h: api}
	srv, err := sandbox.Serve(counter, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	cfg := &config.Celonis{URL: u, Auth: config.AuthAppKey, AppKey: api.Options().AppKey, AuditLogAPIVersion: "v2"}
	c := New(cfg, Options{Retry: httpx.Policy{MaxAttempts: 1}, HTTPClient: &http.Client{Timeout: 5 * time.Second}})
	return c, api, counter
}

func TestCursorWindowsReadEveryEntryOnce(t *testing.T) {
	r, from, to := tenDays()
	c, api, counter := windowClient(t, r, 5, sandbox.CelonisOptions{AuditEvents: 20000, Start: from.Add(-24 * time.Hour), Span: 12 * 24 * time.Hour})
	api.SetLatency(5 * time.Millisecond)
	var raws []string
	err := c.ListAuditLogs(context.Background(), r, Pager{Concurrency: 5}, func(items []AuditEntry) bool {
		for _, e := range items {
			raws = append(raws, string(e.Raw))
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	want := api.AuditCount(&from, &to)
	if len(raws) != want {
		t.Fatalf("read %d entries, the range holds %d", len(raws), want)
	}
	sort.Strings(raws)
	for i := 1; i < len(raws); i++ {
		if raws[i] == raws[i-1] {
			// The sandbox renders every entry differently (random ids), so an
			// equal raw entry is one entry read twice.
			t.Fatalf("entry read twice: %s", raws[i])
		}
	}
	// The first page of the whole range, then five windows, each its own
	// cursor from a first request without a token.
	var starts []url.Values
	for _, q := range api.Requests("/log/") {
		if q.Query.Get("pageToken") == "" {
			starts = append(starts, q.Query)
		}
	}
	if len(starts) != 6 || starts[0].Get("from") != "2025-02-01T00:00:00.000Z" || starts[0].Get("to") != "2025-02-11T00:00:00.000Z" {
		t.Fatalf("%d cursors started (want the whole range, then 5 windows): %v", len(starts), starts)
	}
	if m := counter.max.Load(); m < 2 || m > 5 {
		t.Fatalf("at most %d requests were in flight at once, want 2 to 5", m)
	}
	minPages := (want + 199) / 200
	if n := len(api.Requests("/log/")); n > minPages+5 {
		t.Fatalf("%d requests for %d entries: more than one partial page per window", n, want)
	}
}

func TestCursorWindowsStopWhenTheQueryHasItsRows(t *testing.T) {
	r, from, _ := tenDays()
	c, api, _ := windowClient(t, r, 4, sandbox.CelonisOptions{AuditEvents: 20000, Start: from, Span: 10 * 24 * time.Hour})
	api.SetLatency(20 * time.Millisecond)
	var got int
	remaining := func() int64 { return int64(1000 - got) }
	err := c.ListAuditLogs(context.Background(), r, Pager{Concurrency: 4, Remaining: remaining}, func(items []AuditEntry) bool {
		got += len(items)
		return got < 1000
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let cancelled requests reach the log
	if n := len(api.Requests("/log/")); n > 1000/200+8 {
		t.Fatalf("%d requests after the handler had its rows", n)
	}
	// A limit of one page is not split at all.
	api.ResetRequests()
	got = 0
	one := func() int64 { return 150 }
	if err := c.ListAuditLogs(context.Background(), r, Pager{Concurrency: 4, PageSize: 150, Remaining: one}, func(items []AuditEntry) bool { return false }); err != nil {
		t.Fatal(err)
	}
	if n := len(api.Requests("/log/")); n != 1 {
		t.Fatalf("%d requests for one page", n)
	}
}

// While one window's page streams, the other windows still ask for their
// next pages: deciding whether to fetch ahead does not wait for the
// streaming page (it once waited for the fan's lock, leaving the API idle).
func TestCursorWindowsFetchAheadWhileAPageStreams(t *testing.T) {
	r, from, _ := tenDays()
	c, api, _ := windowClient(t, r, 2, sandbox.CelonisOptions{AuditEvents: 20000, Start: from, Span: 10 * 24 * time.Hour})
	api.SetLatency(5 * time.Millisecond)
	// windowsAhead is how many windows have asked for a page after their
	// first.
	windowsAhead := func() int {
		seen := map[string]bool{}
		for _, q := range api.Requests("/log/") {
			if q.Query.Get("pageToken") != "" {
				seen[q.Query.Get("from")] = true
			}
		}
		return len(seen)
	}
	calls, ahead := 0, 0
	err := c.ListAuditLogs(context.Background(), r, Pager{Concurrency: 2, Remaining: func() int64 { return 1 << 40 }}, func([]AuditEntry) bool {
		calls++
		if calls == 2 { // the first window page, after the first page of the whole range
			for deadline := time.Now().Add(3 * time.Second); windowsAhead() < 2 && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			ahead = windowsAhead()
		}
		return calls < 4
	})
	if err != nil {
		t.Fatal(err)
	}
	if ahead != 2 {
		t.Fatalf("while a page streamed, %d of 2 windows asked for their next page", ahead)
	}
}

func TestCursorWindowsFailAsAWhole(t *testing.T) {
	r, from, _ := tenDays()
	c, api, _ := windowClient(t, r, 5, sandbox.CelonisOptions{AuditEvents: 20000, Start: from, Span: 10 * 24 * time.Hour})
	api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/log/", After: 12, Times: 1, Status: 400,
		Body: `{"title":"Bad Request","status":400,"detail":"broken","errorCode":"X"}`})
	start := time.Now()
	err := c.ListAuditLogs(context.Background(), r, Pager{Concurrency: 5}, func([]AuditEntry) bool { return true })
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("err = %v, want the window's 400", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("the other windows were not stopped")
	}
}

func TestPageLoopFetchesPagesAheadInOrder(t *testing.T) {
	r, from, to := tenDays()
	c, api, counter := windowClient(t, r, 1, sandbox.CelonisOptions{AuditEvents: 3000, DisableAuditV2: true, Start: from, Span: 10 * 24 * time.Hour})
	api.SetLatency(10 * time.Millisecond)
	var times []time.Time
	err := c.ListAuditLogs(context.Background(), r, Pager{Concurrency: 4}, func(items []AuditEntry) bool {
		for _, e := range items {
			times = append(times, *e.At())
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	want := api.AuditCount(&from, &to)
	if len(times) != want || !sort.SliceIsSorted(times, func(i, j int) bool { return times[i].Before(times[j]) }) {
		t.Fatalf("%d entries (want %d), in order: %v", len(times), want, sort.SliceIsSorted(times, func(i, j int) bool { return times[i].Before(times[j]) }))
	}
	pages := map[string]int{}
	for _, q := range api.Requests("/log/api/external/audit") {
		pages[q.Query.Get("pageNumber")]++
	}
	if len(pages) != (want+199)/200 {
		t.Fatalf("pages requested %v for %d entries", pages, want)
	}
	for p, n := range pages {
		if n != 1 {
			t.Fatalf("page %s requested %d times", p, n)
		}
	}
	if m := counter.max.Load(); m < 2 || m > 4 {
		t.Fatalf("at most %d requests in flight, want 2 to 4", m)
	}
	// With 250 rows wanted, two pages are enough.
	api.ResetRequests()
	got := 0
	err = c.ListAuditLogs(context.Background(), r, Pager{Concurrency: 4, Remaining: func() int64 { return int64(250 - got) }}, func(items []AuditEntry) bool {
		got += len(items)
		return got < 250
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	if n := len(api.Requests("/log/api/external/audit")); n != 2 {
		t.Fatalf("%d pages requested for 250 rows", n)
	}
}

func TestCursorWindowsOneRequestWhenOnePageHoldsAll(t *testing.T) {
	r, from, to := tenDays()
	c, api, _ := windowClient(t, r, 5, sandbox.CelonisOptions{AuditEvents: 150, Start: from, Span: 10 * 24 * time.Hour})
	got, err := collect(t, func(h Handler[AuditEntry]) error {
		return c.ListAuditLogs(context.Background(), r, Pager{Concurrency: 5}, h)
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := api.AuditCount(&from, &to); len(got) != want {
		t.Fatalf("%d entries, want %d", len(got), want)
	}
	if n := len(api.Requests("/log/")); n != 1 {
		t.Fatalf("%d requests for one page of entries", n)
	}
}

func TestProbeSetSkipsEachEntryOnce(t *testing.T) {
	type e struct {
		raw string
		at  *time.Time
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	acc := entryAccess[e]{at: func(x *e) *time.Time { return x.at }, raw: func(x *e) []byte { return []byte(x.raw) }}
	var s probeSet[e]
	s.add([]e{{"a", &t0}, {"a", &t0}, {"b", &t1}, {"n", nil}}, acc)
	// The log holds a three times: the first page had two of them.
	got := s.skip([]e{{"a", &t0}, {"a", &t0}, {"a", &t0}, {"b", &t1}, {"c", &t1}, {"n", nil}, {"n", nil}}, acc)
	var raws []string
	for _, x := range got {
		raws = append(raws, x.raw)
	}
	if strings.Join(raws, ",") != "a,c,n" {
		t.Fatalf("kept %v, want a,c,n", raws)
	}
	// An entry outside the first page's times is never looked up.
	t2 := t1.Add(time.Hour)
	if got := s.skip([]e{{"b", &t2}}, acc); len(got) != 1 {
		t.Fatal("an entry after the first page's span was skipped")
	}
}
