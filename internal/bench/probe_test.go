package main

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"
)

func TestProbeCPU(t *testing.T) {
	os.Setenv("STEAMPIPE_LOG_LEVEL", "off")
	os.Setenv("STEAMPIPE_FREE_MEM_INTERVAL", os.Getenv("FM"))
	childBinary = "/tmp/bench"
	big := spawn(spec{Kind: "celonis", Events: 60000, Start: time.Now().Add(-24 * time.Hour * 300), Span: "7000h"})
	defer stopChildren()
	floorRows = 60000
	ctx := context.Background()
	r := mustRunner(withFloor("celonis_audit_log"), config(big.URL))
	setLimit(r, 10000)
	capture(ctx, r, "celonis_audit_log", auditCols)
	for _, tbl := range []string{"celonis_audit_log", "bench_floor_celonis_audit_log"} {
		f, _ := os.Create("/tmp/cpu-" + tbl + ".prof")
		pprof.StartCPUProfile(f)
		runtime.MemProfileRate = 4096
		n, d := scan(ctx, r, tbl, auditCols, nil)
		pprof.StopCPUProfile()
		mf, _ := os.Create("/tmp/mem-" + tbl + ".prof")
		pprof.Lookup("allocs").WriteTo(mf, 0)
		mf.Close()
		f.Close()
		t.Logf("%s: %d rows in %s = %.0f rows/s", tbl, n, d, rate(n, d))
	}
}

func TestProbeQuery(t *testing.T) {
	os.Setenv("STEAMPIPE_LOG_LEVEL", "off")
	os.Setenv("STEAMPIPE_FREE_MEM_INTERVAL", os.Getenv("FM"))
	childBinary = "/tmp/bench"
	big := spawn(spec{Kind: "celonis", Events: 60000, Start: time.Now().Add(-24 * time.Hour * 300), Span: "7000h"})
	defer stopChildren()
	f, _ := os.Create("/tmp/cpu-query.prof")
	pprof.StartCPUProfile(f)
	n, d := queryScan(config(big.URL), 10000, "select * from celonis_audit_log")
	pprof.StopCPUProfile()
	f.Close()
	t.Logf("query: %d rows in %s = %.0f rows/s", n, d, rate(n, d))
}
