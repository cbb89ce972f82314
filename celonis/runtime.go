package celonis

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/onecpu"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/scanerr"
)

// GCPercent is the garbage collector's target (GOGC) the plugin runs with
// under Steampipe unless GOGC is set in its environment.
//
// At Steampipe's default cache size the SDK preallocates about 328 MiB of
// query cache on the heap, whether the cache is on or not. It is
// pointer-free and not resident until used, but Go's default target of 100
// counts it as live heap and lets as much garbage build up again before it
// collects. So a scan that the SDK does not free memory for (Make's audit
// log, or any table with STEAMPIPE_FREE_MEM_INTERVAL=0) peaked at 411-480
// MiB resident; at 25 it peaks at 159-210 MiB at the same or a better speed
// (make bench, docs "Large exports"). A collection stays cheap: only about
// 3 MiB of the heap holds pointers.
const GCPercent = 25

// SetGCPercent sets the collector's target to GCPercent unless the
// environment sets GOGC (Steampipe's own environment reaches its plugins),
// and reports whether it did.
func SetGCPercent() bool {
	if _, set := os.LookupEnv("GOGC"); set {
		return false
	}
	debug.SetGCPercent(GCPercent)
	return true
}

// OneCPUEnv names the environment variable that turns the one-CPU mode
// on: "true" (or any value strconv.ParseBool takes as true) in the
// environment Steampipe runs in, which reaches its plugins. The mode is off
// by default: what it gains depends on the host (README, "One CPU while the
// SDK frees memory").
const OneCPUEnv = "CELONIS_ONE_CPU"

// EnableOneCPUIfAsked enables the one-CPU mode (EnableOneCPU) when the
// environment sets OneCPUEnv to true, and reports whether the mode is on.
// A value that is neither true nor false is an error that says what to
// set; unset or empty, the mode stays off. The plugin's main calls it
// under Steampipe.
func EnableOneCPUIfAsked() (bool, error) {
	v := os.Getenv(OneCPUEnv)
	if v == "" {
		return false, nil
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: set it to true to run Go on one CPU while only Celonis Platform tables scan, or to false (or leave it unset) to keep every CPU", OneCPUEnv, v)
	}
	if !on {
		return false, nil
	}
	return EnableOneCPU(), nil
}

// EnableOneCPU lets the Celonis Platform tables run the process on one CPU
// while they are the only list calls running and the SDK frees memory
// during them (see internal/onecpu), unless GOMAXPROCS is set in the
// environment: whoever set it chose the CPUs. It reports whether it did.
func EnableOneCPU() bool { return onecpu.Enable() }

// OnOneCPU wraps the list function of a Celonis Platform table: while it
// runs, with the SDK's STEAMPIPE_FREE_MEM_INTERVAL on and no other kind of
// list call running, the process runs Go on one CPU (once the mode is
// enabled, see OneCPUEnv). With the interval on, the SDK's
// debug.FreeOSMemory() every 100 rows bounds the scan, and on some hosts
// one CPU does it faster than two.
func OnOneCPU(list plugin.HydrateFunc) plugin.HydrateFunc {
	return registered(list, func() bool { return plugin.GetFreeMemInterval() > 0 })
}

// OnAllCPUs wraps the list function of a Make table: while it runs, the
// process keeps every CPU. The SDK never frees memory during Make's list
// calls (it runs them per organization on a copy of the query data that
// lacks the interval, v5.14.1), so they are bound by CPU alone.
func OnAllCPUs(list plugin.HydrateFunc) plugin.HydrateFunc {
	return registered(list, func() bool { return false })
}

// registered wraps list so that each call is registered with
// internal/onecpu (forced says whether the SDK frees memory during it)
// while it runs, or until its query ends: the SDK can leave a list call
// blocked in StreamListItem once the query is gone (README, "Known SDK
// limitations"), and such a call must not keep the process on one CPU.
//
// A call that fails streams a scanerr.Failed item before it returns its
// error, so that the SDK cannot end the scan's rows before it has taken
// the error (see package scanerr): under Steampipe a failed scan then
// fails instead of ending short.
func registered(list plugin.HydrateFunc, forced func() bool) plugin.HydrateFunc {
	return func(ctx context.Context, d *plugin.QueryData, h *plugin.HydrateData) (any, error) {
		end := onecpu.Begin(forced())
		stop := context.AfterFunc(ctx, end)
		defer func() {
			stop()
			end()
		}()
		item, err := list(ctx, d, h)
		// As in the page handlers: once the query is cancelled or has its
		// rows, the SDK's StreamListItem can block for ever (v5.14.1).
		if err != nil && ctx.Err() == nil && d.RowsRemaining(ctx) > 0 {
			d.StreamListItem(ctx, &scanerr.Failed{Err: err})
		}
		return item, err
	}
}
