package onecpu

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// These tests change the process's GOMAXPROCS: none of them is parallel.

// enabled turns the mode on for the test, with GOMAXPROCS unset in the
// environment, and returns the runtime's default number of CPUs, which
// must be more than one for the mode to show.
func enabled(t *testing.T) int {
	t.Helper()
	procs := runtime.GOMAXPROCS(0)
	if procs < 2 {
		t.Skipf("GOMAXPROCS is %d: one CPU already", procs)
	}
	t.Setenv("GOMAXPROCS", "") // restored after the test
	os.Unsetenv("GOMAXPROCS")
	if !Enable() {
		t.Fatal("Enable refused although GOMAXPROCS is not set")
	}
	t.Cleanup(Disable)
	return procs
}

func wantProcs(t *testing.T, step string, want int, wantOn bool) {
	t.Helper()
	if got := runtime.GOMAXPROCS(0); got != want {
		t.Errorf("%s: GOMAXPROCS is %d, want %d", step, got, want)
	}
	if got := OnOneCPU(); got != wantOn {
		t.Errorf("%s: OnOneCPU() = %v, want %v", step, got, wantOn)
	}
}

func TestForcedListRunsOnOneCPU(t *testing.T) {
	procs := enabled(t)
	wantProcs(t, "before", procs, false)
	end := Begin(true)
	wantProcs(t, "during a forced list call", 1, true)
	end()
	wantProcs(t, "after it", procs, false)
	end() // a second call changes nothing
	end2 := Begin(true)
	wantProcs(t, "during the next one", 1, true)
	end2()
	wantProcs(t, "after the next one", procs, false)
}

func TestOtherListKeepsEveryCPU(t *testing.T) {
	procs := enabled(t)
	endOther := Begin(false)
	wantProcs(t, "another kind alone", procs, false)
	endForced := Begin(true)
	wantProcs(t, "a forced list call beside another kind", procs, false)
	endForced2 := Begin(true)
	endOther()
	wantProcs(t, "two forced list calls, the other kind ended", 1, true)
	endForced()
	wantProcs(t, "one forced list call left", 1, true)
	endForced2()
	wantProcs(t, "all ended", procs, false)
}

func TestOffUntilEnabled(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	Disable()
	end := Begin(true)
	wantProcs(t, "not enabled", procs, false)
	end()
}

func TestGOMAXPROCSInTheEnvironmentWins(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	t.Setenv("GOMAXPROCS", strconv.Itoa(procs))
	if Enable() {
		t.Error("Enable accepted although GOMAXPROCS is set")
	}
	end := Begin(true)
	wantProcs(t, "GOMAXPROCS set", procs, false)
	end()
}

func TestDisableGivesTheCPUsBack(t *testing.T) {
	procs := enabled(t)
	end := Begin(true)
	wantProcs(t, "during", 1, true)
	Disable()
	wantProcs(t, "disabled during a forced list call", procs, false)
	end()
	wantProcs(t, "after", procs, false)
	// Enabled again while a forced call runs: one CPU at once.
	end = Begin(true)
	if !Enable() {
		t.Fatal("Enable refused")
	}
	wantProcs(t, "enabled during a forced list call", 1, true)
	end()
	wantProcs(t, "after that", procs, false)
}

// TestConcurrentLists: list calls of both kinds beginning and ending at
// once (run under -race) leave every CPU and no count behind.
func TestConcurrentLists(t *testing.T) {
	procs := enabled(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				end := Begin((i+j)%3 != 0)
				runtime.Gosched()
				end()
			}
		}()
	}
	wg.Wait()
	wantProcs(t, "after", procs, false)
	end := Begin(true)
	wantProcs(t, "a forced list call after them", 1, true)
	end()
}
