package scanerr

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Hold passes other items straight through, and holds a Failed item until
// the query's context ends, then fails.
func TestHold(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if held, err := Hold(ctx, struct{ Name string }{"row"}); held || err != nil {
		t.Fatalf("a row: held %v, err %v", held, err)
	}
	done := make(chan error, 1)
	go func() {
		held, err := Hold(ctx, &Failed{Err: errors.New("HTTP 400")})
		if !held {
			err = errors.New("a Failed item was not held")
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Hold returned while the query ran: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("after the query: %v, want its cancellation", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Hold did not return once the query ended")
	}
}
