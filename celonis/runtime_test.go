package celonis

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestSetGCPercent: the plugin's target applies only where the environment
// sets no GOGC of its own.
func TestSetGCPercent(t *testing.T) {
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })

	t.Setenv("GOGC", "80") // restored after the test
	if SetGCPercent() {
		t.Error("SetGCPercent set the target although GOGC is set")
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set the target became %d, want it left at 100", got)
	}

	os.Unsetenv("GOGC")
	if !SetGCPercent() {
		t.Error("SetGCPercent left the target although GOGC is not set")
	}
	if got := debug.SetGCPercent(100); got != GCPercent {
		t.Errorf("the target is %d, want %d", got, GCPercent)
	}
}
