// Package onecpu runs the Go runtime on one CPU while the only list calls
// in the process are ones the Steampipe SDK forces garbage collections
// for, and on every CPU again as soon as any other list call runs or the
// last of them ends.
//
// The SDK runs debug.FreeOSMemory() every 100 rows a list call streams
// (STEAMPIPE_FREE_MEM_INTERVAL), on the goroutine that streams them. Each
// call is a full collection: it stops the other CPUs and runs idle mark
// workers there, then sweeps the heap itself and yields after every span
// (runtime.GC), and each yield wakes the thread of an idle CPU
// (goschedImpl calls wakep); then it returns memory with madvise, which
// flushes the other CPUs' TLBs by interrupt. On two CPUs those wake-ups
// and interrupts cost more than the second CPU gives such a scan (README,
// "Performance"). A scan the SDK does not free memory
// for (Make's matrix tables, or any table with the interval at 0) is bound
// by CPU and needs every CPU, so while one runs the process keeps them all.
//
// The package knows nothing of Steampipe: callers say which kind of list
// call they are.
package onecpu

import (
	"os"
	"runtime"
	"sync"
)

var state struct {
	sync.Mutex
	enabled bool
	// forced and other count the list calls running of each kind.
	forced, other int
	// on is whether this package set GOMAXPROCS to 1.
	on bool
}

// Enable lets list calls switch the process to one CPU, unless the
// environment sets GOMAXPROCS: whoever set it chose the CPUs, and the
// runtime does not read it again. It reports whether the mode is enabled.
func Enable() bool {
	state.Lock()
	defer state.Unlock()
	_, set := os.LookupEnv("GOMAXPROCS")
	state.enabled = !set
	update()
	return state.enabled
}

// Disable turns the mode off and gives the process back every CPU.
func Disable() {
	state.Lock()
	defer state.Unlock()
	state.enabled = false
	update()
}

// Begin registers a running list call: forced says whether the SDK frees
// memory every so many rows during it. It returns the call that ends the
// registration (call it once, when the list call returns).
func Begin(forced bool) (end func()) {
	state.Lock()
	defer state.Unlock()
	count := &state.other
	if forced {
		count = &state.forced
	}
	*count++
	update()
	var once sync.Once
	return func() {
		once.Do(func() {
			state.Lock()
			defer state.Unlock()
			*count--
			update()
		})
	}
}

// OnOneCPU reports whether the process runs on one CPU because of this
// package.
func OnOneCPU() bool {
	state.Lock()
	defer state.Unlock()
	return state.on
}

// update sets GOMAXPROCS for the list calls registered; state is locked.
func update() {
	want := state.enabled && state.forced > 0 && state.other == 0
	switch {
	case want && !state.on:
		if runtime.GOMAXPROCS(0) > 1 {
			runtime.GOMAXPROCS(1)
			state.on = true
		}
	case !want && state.on:
		// Back to the runtime's default, which follows the CPUs and the
		// container's CPU limit as if GOMAXPROCS had never been set (the
		// environment does not set it, or the mode would be off).
		runtime.SetDefaultGOMAXPROCS()
		state.on = false
	}
}
