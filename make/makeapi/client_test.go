package makeapi

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/config"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/httpx"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

func newTestClient(t *testing.T, o sandbox.MakeOptions, rpm int64) (*Client, *sandbox.Make) {
	t.Helper()
	api := sandbox.NewMake(o)
	srv, err := sandbox.Serve(api, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	c := New(&config.Make{URL: u, Token: "sandbox-make-token", RateLimitPerMinute: rpm, RateLimitSet: true},
		Options{Retry: httpx.Policy{BaseBackoff: time.Millisecond, MaxRetryWait: 20 * time.Millisecond}})
	return c, api
}

func all(t *testing.T, c *Client, q AuditQuery, p Pager) ([]AuditLog, error) {
	var out []AuditLog
	err := c.ListAuditLogs(context.Background(), q, p, func(e *AuditLog) bool { out = append(out, *e); return true })
	return out, err
}

func TestSortDirectionsAndPaging(t *testing.T) {
	c, api := newTestClient(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 250}}}, 60000)
	for _, dir := range []string{"asc", "desc"} {
		api.ResetRequests()
		got, err := all(t, c, AuditQuery{Scope: Scope{OrganizationID: 11}, SortDir: dir}, Pager{PageSize: 100})
		if err != nil || len(got) != 250 {
			t.Fatalf("%s: %d entries, %v", dir, len(got), err)
		}
		for i := 1; i < len(got); i++ {
			a, b := got[i-1].TriggeredAt.Time, got[i].TriggeredAt.Time
			if (dir == "asc" && b.Before(a)) || (dir == "desc" && b.After(a)) {
				t.Fatalf("%s: entry %d out of order", dir, i)
			}
		}
		reqs := api.Requests("/api/v2/audit-logs/")
		if len(reqs) != 3 || reqs[0].Query.Get("pg[sortDir]") != dir || reqs[2].Query.Get("pg[last]") != string(got[199].IMTID) {
			t.Fatalf("%s: requests %+v", dir, reqs)
		}
	}
}

func TestTriggeredAtBothForms(t *testing.T) {
	ci, _ := newTestClient(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 20}}, ISOTriggeredAt: true}, 60000)
	cm, _ := newTestClient(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 20}}}, 60000)
	a, _ := all(t, ci, AuditQuery{Scope: Scope{OrganizationID: 11}}, Pager{})
	b, _ := all(t, cm, AuditQuery{Scope: Scope{OrganizationID: 11}}, Pager{})
	if len(a) != 20 || len(b) != 20 {
		t.Fatalf("%d %d", len(a), len(b))
	}
	for i := range a {
		if a[i].TriggeredAt.IsZero() || !a[i].TriggeredAt.Equal(b[i].TriggeredAt.Time) {
			t.Fatalf("entry %d: %v vs %v", i, a[i].TriggeredAt, b[i].TriggeredAt)
		}
	}
}

func TestRateLimitPerOrganization(t *testing.T) {
	c, _ := newTestClient(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 5}, {ID: 12, Events: 5}}}, 600) // 10/s, burst 10
	start := time.Now()
	for i := 0; i < 15; i++ {
		if _, err := all(t, c, AuditQuery{Scope: Scope{OrganizationID: 11}}, Pager{}); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Fatalf("15 requests to one organization at 10/s took %s", d)
	}
	start = time.Now()
	for i := 0; i < 5; i++ {
		all(t, c, AuditQuery{Scope: Scope{OrganizationID: 12}}, Pager{})
	}
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Fatalf("another organization's bucket was shared: %s", d)
	}
}

func TestErrorBodies(t *testing.T) {
	c, api := newTestClient(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11}}}, 60000)
	api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/api/v2/", Status: 400, Times: 1,
		Body: `{"detail":"Validation failed","message":"Bad request","code":"SC400","suberrors":[{"message":"dateFrom is invalid"}]}`})
	_, err := all(t, c, AuditQuery{Scope: Scope{OrganizationID: 11}}, Pager{})
	if err == nil || !strings.Contains(err.Error(), "HTTP 400") || !strings.Contains(err.Error(), "dateFrom is invalid") || !strings.Contains(err.Error(), "SC400") {
		t.Fatalf("got %v", err)
	}
	c.opts.UserAgent = "Go-http-client/1.1"
	_, err = all(t, c, AuditQuery{Scope: Scope{OrganizationID: 11}}, Pager{})
	if err == nil || !strings.Contains(err.Error(), "1010") || !strings.Contains(err.Error(), "User-Agent") {
		t.Fatalf("got %v", err)
	}
}

func TestLoopGuards(t *testing.T) {
	c, api := newTestClient(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11}}}, 60000)
	api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/api/v2/", Status: 200,
		Body: `{"auditLogs":[{"uuid":"a","imtId":"1_a"},{"uuid":"b","imtId":"1_b"}],"pg":{"limit":2}}`})
	_, err := all(t, c, AuditQuery{Scope: Scope{OrganizationID: 11}}, Pager{PageSize: 2})
	if err == nil || !strings.Contains(err.Error(), "does not advance") {
		t.Fatalf("got %v", err)
	}
	api.ClearFaults()
	api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/api/v2/", Status: 200, Body: `{"logs":[]}`})
	_, err = all(t, c, AuditQuery{Scope: Scope{OrganizationID: 11}}, Pager{})
	if err == nil || !strings.Contains(err.Error(), "no `auditLogs` array") {
		t.Fatalf("got %v", err)
	}
	api.ClearFaults()
	api.AddFault(sandbox.Fault{Kind: sandbox.FaultOversize, Path: "/api/v2/"})
	_, err = all(t, c, AuditQuery{Scope: Scope{OrganizationID: 11}}, Pager{PageSize: 50})
	if err == nil || !strings.Contains(err.Error(), "for pg[limit] 50") {
		t.Fatalf("got %v", err)
	}
}

// An entry twice in a listing, on two pages or on one, fails it.
func TestOverlappingPagesFail(t *testing.T) {
	for _, pages := range [][]string{
		{`[{"uuid":"a","imtId":"3_a"},{"uuid":"b","imtId":"2_b"}]`, `[{"uuid":"b","imtId":"2_b"},{"uuid":"c","imtId":"1_c"}]`},
		{`[{"uuid":"a","imtId":"3_a"},{"uuid":"a","imtId":"2_a"}]`},
	} {
		c, api := newTestClient(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11}}}, 60000)
		for _, p := range pages {
			api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/api/v2/", Status: 200, Times: 1,
				Body: `{"auditLogs":` + p + `,"pg":{"limit":2}}`})
		}
		_, err := all(t, c, AuditQuery{Scope: Scope{OrganizationID: 11}}, Pager{PageSize: 2})
		if err == nil || !strings.Contains(err.Error(), "came twice") {
			t.Fatalf("%d pages: got %v", len(pages), err)
		}
	}
}

// The overlap guard holds two pages of uuids, not every uuid of the
// listing: the heap after the last of 600 pages is the heap after the 20th
// (a guard that kept every uuid grew it by 27 MB, under -race too). The
// sandbox's request log is cleared before each measure, and pages of 100
// keep the client's read buffers (up to 4 kept for reuse, 128 KB each at
// that size) from moving the figure by more than a few hundred KB: with
// pages of 1,000 one buffer more kept was a step of about 500 KB, and the
// test failed once at 1.1 MB against its limit of 1 MiB.
func TestListingHeapStaysFlat(t *testing.T) {
	c, api := newTestClient(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 60000}}}, 600000)
	heap := func() int64 {
		api.ResetRequests() // the sandbox's log of requests grows with them
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	pages, n := 0, 0
	var early, last int64
	// No page is fetched ahead (Remaining says none is wanted; the loop
	// still reads on while the handler asks), so that no page is being
	// read while the heap is measured.
	none := func() int64 { return 0 }
	err := c.ListAuditLogs(context.Background(), AuditQuery{Scope: Scope{OrganizationID: 11}}, Pager{PageSize: 100, Remaining: none}, func(*AuditLog) bool {
		if n++; n%100 == 0 {
			pages++
		}
		switch n {
		case 20 * 100:
			early = heap()
		case 600 * 100:
			last = heap()
		}
		return true
	})
	if err != nil || n != 60000 || pages < 600 {
		t.Fatalf("%d entries in %d pages, %v", n, pages, err)
	}
	t.Logf("the heap grew by %d bytes from page 20 to page 600", last-early)
	if grew := last - early; grew > 1<<20 {
		t.Fatalf("the heap grew by %d bytes from page 20 to page 600", grew)
	}
}

func TestServerCappedPageSizeIsNotEnd(t *testing.T) {
	c, api := newTestClient(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 30}}}, 60000)
	// A server that answers 10 at a time and says so in pg.limit.
	for i := 0; i < 3; i++ {
		var b strings.Builder
		b.WriteString(`{"auditLogs":[`)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString(`{"uuid":"u` + string(rune('a'+i)) + string(rune('a'+j)) + `","imtId":"` + string(rune('a'+i)) + string(rune('a'+j)) + `"}`)
		}
		b.WriteString(`],"pg":{"limit":10}}`)
		api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/api/v2/", Status: 200, Times: 1, Body: b.String()})
	}
	api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/api/v2/", Status: 200, Times: 1, Body: `{"auditLogs":[],"pg":{"limit":10}}`})
	got, err := all(t, c, AuditQuery{Scope: Scope{OrganizationID: 11}}, Pager{})
	if err != nil || len(got) != 30 {
		t.Fatalf("%d entries, %v", len(got), err)
	}
}

func TestUserAgentAndToken(t *testing.T) {
	var ua, auth string
	srv, _ := sandbox.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua, auth = r.Header.Get("User-Agent"), r.Header.Get("Authorization")
		w.Write([]byte(`{"auditLogs":[]}`))
	}), "")
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := New(&config.Make{URL: u, Token: "tkn-123", RateLimitPerMinute: 60}, Options{})
	if _, err := all(t, c, AuditQuery{Scope: Scope{OrganizationID: 1}}, Pager{}); err != nil {
		t.Fatal(err)
	}
	if ua != "steampipe-plugin-celonis" || auth != "Token tkn-123" {
		t.Fatalf("ua %q auth %q", ua, auth)
	}
}

// An entry is cleared once the handler returns, so that a streaming page
// holds for the collector only the entries still to come; the text the
// handler took from it stays as it was.
func TestEntriesAreClearedOnceHandled(t *testing.T) {
	c, _ := newTestClient(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 250}}}, 60000)
	var prev *AuditLog
	uuids := map[string]string{}
	err := c.ListAuditLogs(context.Background(), AuditQuery{Scope: Scope{OrganizationID: 11}}, Pager{PageSize: 100}, func(e *AuditLog) bool {
		if prev != nil && !reflect.DeepEqual(*prev, AuditLog{}) {
			t.Fatalf("entry %d was not cleared once handled: %+v", len(uuids), *prev)
		}
		prev = e
		uuids[string(e.UUID)] = string(e.EventName)
		return true
	})
	if err != nil || len(uuids) != 250 {
		t.Fatalf("%d distinct uuids, %v", len(uuids), err)
	}
	want, err := all(t, c, AuditQuery{Scope: Scope{OrganizationID: 11}}, Pager{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range want {
		if ev, ok := uuids[string(e.UUID)]; !ok || ev != string(e.EventName) {
			t.Fatalf("entry %s: event %q taken while handled, %q read again", e.UUID, ev, e.EventName)
		}
	}
}

// The next page is requested while the handler still holds this one, and
// only when the caller wants more rows than this page holds.
func TestNextPageIsFetchedWhileThisOneStreams(t *testing.T) {
	c, api := newTestClient(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 250}}}, 60000)
	q := AuditQuery{Scope: Scope{OrganizationID: 11}}
	seenAhead := false
	err := c.ListAuditLogs(context.Background(), q, Pager{PageSize: 100}, func(*AuditLog) bool {
		if !seenAhead {
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && !seenAhead; time.Sleep(5 * time.Millisecond) {
				seenAhead = len(api.Requests("/api/v2/audit-logs/")) >= 2
			}
		}
		return true
	})
	if err != nil || !seenAhead {
		t.Fatalf("err %v; second page requested while the first streamed: %v", err, seenAhead)
	}
	api.ResetRequests()
	wanted := int64(100)
	err = c.ListAuditLogs(context.Background(), q, Pager{PageSize: 100, Remaining: func() int64 { return wanted }}, func(*AuditLog) bool {
		if wanted == 100 {
			time.Sleep(50 * time.Millisecond) // time for a request that should not be made
		}
		wanted--
		return wanted > 0
	})
	if n := len(api.Requests("/api/v2/audit-logs/")); err != nil || n != 1 {
		t.Fatalf("err %v, %d requests for a caller that wanted one page", err, n)
	}
}
