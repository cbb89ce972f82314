package main

import (
	"strings"
	"testing"
)

// The figures of make bench at 18:10 on 2026-11-23 (-pairs 7): six of the
// ten targets met (the rate limit held, the windows and limit took their
// least requests; the floor ratios, the speedup and the query missed).
func TestCheckTargets(t *testing.T) {
	run := []figure{
		{Name: "sdk_floor_ratio", Value: 0.844}, {Name: "make_sdk_floor_ratio", Value: 0.870},
		{Name: "latency_bound_ratio", Value: 1.004}, {Name: "window_requests", Value: 3},
		{Name: "window_requests_min", Value: 3}, {Name: "limit_requests", Value: 1},
		{Name: "parallel_speedup", Value: 3.747}, {Name: "max_rps_observed", Value: 86},
		{Name: "rate_limit_rps", Value: 100}, {Name: "first_row_ms", Value: 57},
		{Name: "heap_growth_mb", Value: 0.055}, {Name: "sql_overhead_ratio", Value: 0.818},
	}
	var out strings.Builder
	if n := checkTargets(&out, run); n != 6 {
		t.Errorf("%d targets met, want 6:\n%s", n, out.String())
	}
	for _, want := range []string{
		"sdk_floor_ratio               0.844  >= 0.9: missed",
		"window_requests               3.000  = window_requests_min (3): met",
		"max_rps_observed             86.000  <= rate_limit_rps (100): met",
		"first_row_ms                 57.000  <= 60: met",
		"6 of 10 targets met",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
	// A figure the run did not measure is neither met nor missed.
	out.Reset()
	if n := checkTargets(&out, run[:1]); n != 0 || !strings.Contains(out.String(), "first_row_ms                      -  <= 60: not measured") {
		t.Errorf("%d met:\n%s", n, out.String())
	}
	// The bound is the other figure's value, not a number of its own.
	out.Reset()
	checkTargets(&out, []figure{{Name: "window_requests", Value: 4}, {Name: "window_requests_min", Value: 3}})
	if !strings.Contains(out.String(), "window_requests               4.000  = window_requests_min (3): missed") {
		t.Errorf("window 4 against 3:\n%s", out.String())
	}
}
