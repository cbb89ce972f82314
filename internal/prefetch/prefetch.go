// Package prefetch fetches one page in the background, so that page loops
// overlap the next page's request with streaming the current page's rows:
// API latency and the SDK's per-row work then add up to no more than the
// larger of the two. Both products' page loops use it; the Celonis
// Platform's decode the page in the background too, Make's when its turn
// comes (see makeapi.ListAuditLogs).
package prefetch

import "context"

// Wanted reports whether the page after one of n entries is worth fetching
// before the caller has seen this one: remaining, when set, says how many
// more rows the caller wants.
func Wanted(remaining func() int64, n int) bool {
	return remaining == nil || remaining() > int64(n)
}

// Page is one page being fetched: the decoded body, the HTTP status and a
// digest of the body (for loop guards).
type Page[P any] struct {
	done   chan struct{}
	page   P
	status int
	digest uint64
	err    error
	cancel context.CancelFunc
}

// Start runs before (the rate limiter's wait; nil for none) and then get in
// the background.
func Start[P any](ctx context.Context, before func(context.Context) error, get func(context.Context, *P) (int, uint64, error)) *Page[P] {
	ctx, cancel := context.WithCancel(ctx)
	f := &Page[P]{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(f.done)
		if f.err = ctx.Err(); f.err == nil && before != nil {
			f.err = before(ctx)
		}
		if f.err == nil {
			f.status, f.digest, f.err = get(ctx, &f.page)
		}
	}()
	return f
}

// Wait returns the fetched page.
func (f *Page[P]) Wait() (*P, int, uint64, error) {
	<-f.done
	f.cancel()
	return &f.page, f.status, f.digest, f.err
}

// Drop abandons a fetch the loop no longer needs and waits for it to end,
// so that no request outlives its listing. A nil Page is a no-op.
func (f *Page[P]) Drop() {
	if f != nil {
		f.cancel()
		<-f.done
	}
}
