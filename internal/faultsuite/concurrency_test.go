package faultsuite

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

func TestConcurrentQueriesAreExactAndLeaveNoGoroutine(t *testing.T) {
	d := sandbox.NewDemo(5, 3000, time.Now())
	srv, err := sandbox.Serve(d, "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	r, err := inproc.New(celonis.Plugin, d.Config(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Warm up: the SDK starts goroutines it keeps for the plugin's life (its
	// query cache, rate limiters) on the first query; those are not leaks.
	if _, err := r.Collect(ctx, inproc.Query{Table: "celonis_team_member", Columns: []string{"user_id"}}); err != nil {
		t.Fatal(err)
	}
	before := goleak.IgnoreCurrent()

	queries := []inproc.Query{
		{Table: "celonis_audit_log", Columns: []string{"timestamp", "event"}},
		{Table: "celonis_login_history", Columns: []string{"email"}},
		{Table: "celonis_make_audit_log", Columns: []string{"uuid"}},
		{Table: "celonis_team_member", Columns: []string{"email"}},
	}
	want := map[string]int{}
	for _, q := range queries {
		rows, err := r.Collect(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		want[q.Table] = len(rows)
	}
	var wg sync.WaitGroup
	errs, errs2 := make(chan error, 20), make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(q inproc.Query) {
			defer wg.Done()
			rows, err := r.Collect(ctx, q)
			if err == nil && len(rows) != want[q.Table] {
				err = fmt.Errorf("%s: %d rows, want %d", q.Table, len(rows), want[q.Table])
			}
			errs <- err
		}(queries[i%len(queries)])
	}
	// And 20 that stop reading early, as a join or EXISTS does.
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(q inproc.Query) {
			defer wg.Done()
			n := 0
			errs2 <- r.Execute(ctx, q, func(inproc.Row) error {
				if n++; n == 10 {
					return inproc.ErrStop
				}
				return nil
			})
		}(queries[i%len(queries)])
	}
	wg.Wait()
	close(errs)
	close(errs2)
	for err := range errs2 {
		if err != nil {
			t.Error(err)
		}
	}
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	srv.CloseClientConnections()
	// No goroutine may be blocked in the plugin's own code. Goroutines blocked
	// inside the SDK are named and shown, not failed on: when a consumer stops
	// early, the SDK (v5.14.1) strands its row builders, and a list call that
	// was mid-send into the SDK's row channel when the SDK stopped reading it
	// stays blocked in that send, which no plugin code can release.
	time.Sleep(200 * time.Millisecond)
	err = goleak.Find(before)
	if err == nil {
		return
	}
	sdk := map[string]int{}
	for _, g := range strings.Split(err.Error(), "Goroutine ")[1:] {
		top := strings.TrimSpace(strings.SplitN(strings.SplitN(g, "with ", 2)[1], " on top", 2)[0])
		if strings.Contains(top, "celonis-audit/steampipe-plugin-celonis/") {
			t.Errorf("a goroutine is blocked in the plugin's code:\n%s", g)
			continue
		}
		if strings.Contains(g, "celonis-audit/steampipe-plugin-celonis/") {
			top += " (a plugin list call, blocked in the SDK's send)"
		}
		sdk[top]++
	}
	for top, n := range sdk {
		t.Logf("left blocked inside the SDK after early stops: %d in %s", n, top)
	}
}
