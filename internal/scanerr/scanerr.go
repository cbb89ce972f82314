// Package scanerr carries a scan's failure past the SDK. In v5.14.1 the
// SDK's streamRows selects between its error channel and the end-of-rows
// marker and, when both are ready, may pick the end: the error is dropped
// and the caller sees a clean, short result. Two remedies:
//   - An in-process caller (the tests, the `query` command) plants a Sink
//     in the scan's context, every list and hydrate function reports its
//     final error to it, and the caller fails the scan when the SDK did not.
//   - Under Steampipe, a list call that fails streams a Failed item before
//     it returns its error (celonis.registered). The SDK ends the rows only
//     once every row it was handed is built, and a Failed item's row is not
//     built until the query's context ends (Hold), which happens after
//     streamRows has taken the error: the end cannot reach it first.
package scanerr

import (
	"context"
	"errors"
	"sync"
)

type key struct{}

// Sink holds the first error reported during a scan.
type Sink struct {
	mu  sync.Mutex
	err error
}

// WithSink returns a context that carries a new Sink.
func WithSink(ctx context.Context) (context.Context, *Sink) {
	s := &Sink{}
	return context.WithValue(ctx, key{}, s), s
}

// Report records err (if any, and not a cancellation) in the context's Sink
// and returns it unchanged, so a function can end with `return nil,
// scanerr.Report(ctx, err)` or report from a deferred call.
func Report(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if s, ok := ctx.Value(key{}).(*Sink); ok {
		s.mu.Lock()
		if s.err == nil {
			s.err = err
		}
		s.mu.Unlock()
	}
	return err
}

// Err returns the first error reported, if any.
func (s *Sink) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Final is what a list or hydrate function returns: err, reported to the
// context's Sink; or nil once the scan's context is done. A cancelled scan's
// consumer is gone and sees its own cancellation; an error from this call
// would instead make the SDK (v5.14.1) stop draining its row pipeline while
// sibling list calls are blocked sending rows into it, stranding them.
func Final(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return Report(ctx, err)
}

// Failed is the item a failed list call streams before it returns Err (see
// the package comment). It never becomes a row: every column transform of
// the plugin's tables holds it (Hold), and fails once the query is over.
type Failed struct{ Err error }

// Hold is what a column transform does first: for a Failed item (ok), wait
// until the query's context ends, then fail with its error, so that the
// SDK drops the row; for any other item, nothing.
func Hold(ctx context.Context, item any) (ok bool, err error) {
	if _, ok := item.(*Failed); !ok {
		return false, nil
	}
	<-ctx.Done()
	return true, ctx.Err()
}
