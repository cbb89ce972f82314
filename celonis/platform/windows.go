package platform

import (
	"context"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// minWindow is the shortest time window a cursor listing is split into.
// Each window costs up to one request more than the rows need (its last,
// partial page), so ranges shorter than two of these are read in one go:
// a short range holds few pages, and a query over a day costs no more
// requests than its rows need.
const minWindow = 24 * time.Hour

// split divides r into up to n consecutive windows of at least minWindow.
// Window k asks the API for [b(k), b(k+1)] and keeps the entries before
// b(k+1); the next one keeps those at b(k+1) and after, so an entry on a
// boundary is read once whether the API's `to` is inclusive or not. The
// last window keeps r's own upper bound (or none). A range without a lower
// bound, or shorter than two windows, is not split.
func (r TimeRange) split(n int, now time.Time) []TimeRange {
	if r.From == nil || n < 2 {
		return nil
	}
	end := now
	if r.To != nil {
		end = *r.To
	}
	span := end.Sub(*r.From)
	n = min(n, int(span/minWindow))
	if n < 2 {
		return nil
	}
	out := make([]TimeRange, n)
	for k := range out {
		from := r.From.Add(span * time.Duration(k) / time.Duration(n)).Truncate(time.Millisecond)
		if k == 0 {
			from = *r.From
		}
		out[k].From = &from
		if k > 0 {
			out[k-1].To = &from
		}
	}
	out[n-1].To = r.To
	return out
}

// fan hands the pages of concurrent fetches to one handler, one page at a
// time (the SDK's row streaming is not safe for concurrent callers), and
// stops them all once the handler has what it needs.
type fan[T any] struct {
	mu      sync.Mutex
	h       Handler[T]
	stopped bool
	cancel  context.CancelFunc
	// remaining is the pager's Remaining as of the last page handed over
	// (see pager), when the pager has one.
	remaining func() int64
	left      atomic.Int64
}

func (f *fan[T]) deliver(items []T) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return false
	}
	if !f.h(items) {
		f.stopped = true
		f.cancel()
	}
	if f.remaining != nil {
		f.left.Store(f.remaining())
	}
	return !f.stopped
}

// pager returns p for the fan's fetches (cursor loops, each keeping one
// request in flight); call it once, before they start. Its Remaining is the
// count as of the last page handed over: the SDK's row count is written
// while rows stream, and a fetch that waited for the streaming page to
// finish before it asked for its next page would leave the API idle (in a
// 30-day scan the windows spent 2.4 s so). A count one page old at most
// only decides whether a page is fetched ahead; the handler still stops the
// listing.
func (f *fan[T]) pager(p Pager) Pager {
	if p.Remaining != nil {
		f.remaining = p.Remaining
		f.left.Store(p.Remaining())
		p.Remaining = f.left.Load
	}
	return p
}

// entryAccess reads what splitting a listing needs of an entry: its time,
// and the entry as sent (its identity).
type entryAccess[T any] struct {
	at  func(*T) *time.Time
	raw func(*T) []byte
}

// cursorWindows runs a cursor listing over r. When the range splits (see
// TimeRange.split) and the query wants more than one page of rows, the
// first page of the whole range is read first: if it is the only one, that
// was the whole listing in one request. Otherwise the range is read as
// windows fetched at once, one cursor loop each, as many as the pager's
// concurrency allows, their pages streamed as they arrive; the entries of
// that first page, already streamed, are skipped once each when a window
// brings them again. The first error stops every window and is returned.
func cursorWindows[T any](ctx context.Context, c *Client, ep endpoint, path string, r TimeRange,
	values func(TimeRange) url.Values, acc entryAccess[T], p Pager, h Handler[T]) error {
	windows := r.split(p.concurrency(), time.Now())
	if len(windows) < 2 || !p.prefetch(p.size()) {
		return cursorLoop(ctx, c, ep, path, values(r), p, h)
	}
	var probe probeSet[T]
	more, err := cursorPages(ctx, c, ep, path, values(r), p, func(items []T) bool {
		probe.add(items, acc)
		return h(items)
	}, true)
	if err != nil || !more {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := &fan[T]{cancel: cancel, h: func(items []T) bool { return h(probe.skip(items, acc)) }}
	wp := f.pager(p)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for k, w := range windows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := cursorLoop(ctx, c, ep, path, values(w), wp, func(items []T) bool {
				return f.deliver(keepWindow(w, items, acc.at, k == 0, k == len(windows)-1))
			})
			if err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return nil // the query has its rows; the others were cancelled
	}
	return first
}

// probeSet is the multiset of entries of the first page of a split
// listing, and the span of their times.
type probeSet[T any] struct {
	n              map[string]int
	lo, hi         time.Time
	timed, untimed bool
}

func (s *probeSet[T]) add(items []T, acc entryAccess[T]) {
	s.n = make(map[string]int, len(items))
	for i := range items {
		s.n[string(acc.raw(&items[i]))]++
		t := acc.at(&items[i])
		switch {
		case t == nil:
			s.untimed = true
		case !s.timed:
			s.lo, s.hi, s.timed = *t, *t, true
		case t.Before(s.lo):
			s.lo = *t
		case t.After(s.hi):
			s.hi = *t
		}
	}
}

// skip drops, in place, the entries that the first page already streamed:
// each of them once, so that equal entries the log really holds twice are
// still both shown.
func (s *probeSet[T]) skip(items []T, acc entryAccess[T]) []T {
	if len(s.n) == 0 {
		return items
	}
	kept := items[:0]
	for i := range items {
		if t := acc.at(&items[i]); (t == nil && s.untimed) || (t != nil && s.timed && !t.Before(s.lo) && !t.After(s.hi)) {
			if k := acc.raw(&items[i]); s.n[string(k)] > 0 {
				s.n[string(k)]--
				continue
			}
		}
		kept = append(kept, items[i])
	}
	return kept
}

// keepWindow drops, in place, the entries of window w that belong to the next
// window (at or after its upper bound), unless w is the last; entries
// without a time stay with the first window only.
func keepWindow[T any](w TimeRange, items []T, at func(*T) *time.Time, first, last bool) []T {
	if last && first {
		return items
	}
	kept := items[:0]
	for i := range items {
		t := at(&items[i])
		switch {
		case t == nil && !first:
		case t != nil && !last && !t.Before(*w.To):
		default:
			kept = append(kept, items[i])
		}
	}
	return kept
}
