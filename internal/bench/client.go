package main

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis/platform"
	plugincfg "github.com/celonis-audit/steampipe-plugin-celonis/config"
)

// The plugin's own work on a scan, without the SDK: what sdk_floor_ratio
// compares against the SDK's per-row cost.

// clientScan reads every audit event of the sandbox at base with the
// plugin's Celonis client as the table's scan does (v2 cursor loop, the
// configured windows at once), drops the entries, and returns the CPU time
// the process spent. With every > 0 it also calls debug.FreeOSMemory()
// every that many entries, on the goroutine that receives them, as the
// SDK does while it streams a table's rows.
func clientScan(ctx context.Context, base string, rows, every int) time.Duration {
	url, key := base, appKey
	res, err := (&plugincfg.Config{URL: &url, AppKey: &key}).ResolveCelonis(func(string) string { return "" })
	if err != nil {
		fail("client: %v", err)
	}
	c := platform.New(res, platform.Options{})
	n := 0
	cpu := procCPU("self")
	err = c.ListAuditLogs(ctx, platform.TimeRange{}, platform.Pager{PageSize: platform.MaxPageSize, Concurrency: plugincfg.DefaultMaxConcurrency},
		func(items []platform.AuditEntry) bool {
			for range items {
				if n++; every > 0 && n%every == 0 {
					debug.FreeOSMemory()
				}
			}
			return true
		})
	spent := procCPU("self") - cpu
	if err != nil || n != rows {
		fail("client: %d entries of %d (%v)", n, rows, err)
	}
	return spent
}

// freeMemAlone returns the CPU time of calls calls of debug.FreeOSMemory()
// with nothing else running.
func freeMemAlone(calls int) time.Duration {
	cpu := procCPU("self")
	for range calls {
		debug.FreeOSMemory()
	}
	return procCPU("self") - cpu
}

// microsPerRow is d spread over rows, in microseconds.
func microsPerRow(d time.Duration, rows int) float64 {
	return math.Round(float64(d.Nanoseconds())/float64(rows)) / 1000
}

// clientPart measures clientScan on one CPU (its figures are CPU time, and
// on one CPU no idle CPU runs mark workers or spins beside it): the client
// alone, and with the SDK's forced collections every 100 rows less what
// as many collections cost alone.
func clientPart(ctx context.Context, base string, rows int, add func(string, float64, string)) {
	alone := clientScan(ctx, base, rows, 0)
	every := 100
	withFree := clientScan(ctx, base, rows, every)
	calls := freeMemAlone(rows / every)
	add("client_us_per_row", microsPerRow(alone, rows), fmt.Sprintf("%.2f s of CPU for %d entries", alone.Seconds(), rows))
	add("client_free_mem_us_per_row", microsPerRow(withFree-calls, rows),
		fmt.Sprintf("%.2f s of CPU with a debug.FreeOSMemory() every %d entries, less %.2f s for the %d calls alone", withFree.Seconds(), every, calls.Seconds(), rows/every))
}
