package celonis

import (
	"os"
	"runtime/debug"
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
