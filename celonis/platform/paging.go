package platform

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// Pager controls one listing: the page size (0 or more than the API allows
// means the largest page) and a hook run before every page request, where
// callers wait on their rate limiter.
type Pager struct {
	PageSize   int
	BeforePage func(context.Context) error
	// Remaining, when set, says how many more rows the caller wants; the
	// next page is fetched while this one streams only if it wants more
	// than this page holds.
	Remaining func() int64
}

// prefetch reports whether the page after one of n entries is worth
// fetching before the caller has seen this one.
func (p Pager) prefetch(n int) bool {
	return p.Remaining == nil || p.Remaining() > int64(n)
}

// ahead fetches one page in the background; the loops overlap the next
// page's request with streaming the current one, so API latency and the
// caller's per-row work add up no more than either does alone.
type ahead[P any] struct {
	done   chan struct{}
	page   P
	status int
	digest [32]byte
	err    error
	cancel context.CancelFunc
}

func fetchAhead[P any](ctx context.Context, p Pager, get func(context.Context, *P) (int, [32]byte, error)) *ahead[P] {
	ctx, cancel := context.WithCancel(ctx)
	a := &ahead[P]{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(a.done)
		if a.err = p.before(ctx); a.err == nil {
			a.status, a.digest, a.err = get(ctx, &a.page)
		}
	}()
	return a
}

// wait returns the fetched page.
func (a *ahead[P]) wait() (*P, int, [32]byte, error) {
	<-a.done
	a.cancel()
	return &a.page, a.status, a.digest, a.err
}

// drop abandons a fetch the loop no longer needs and waits for it to end.
func (a *ahead[P]) drop() {
	if a != nil {
		a.cancel()
		<-a.done
	}
}

func (p Pager) size() int {
	if p.PageSize <= 0 || p.PageSize > MaxPageSize {
		return MaxPageSize
	}
	return p.PageSize
}

func (p Pager) before(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.BeforePage != nil {
		return p.BeforePage(ctx)
	}
	return nil
}

// Handler receives each page's entries as they arrive and returns false to
// stop the listing (the caller has all it needs).
type Handler[T any] func(items []T) bool

// cursorPage is a v2 page: entries under `content`, and the token of the next
// page, absent or empty on the last one.
type cursorPage[T any] struct {
	Content       *[]T   `json:"content"`
	NextPageToken String `json:"nextPageToken"`
}

// maxEmptyCursorPages bounds a cursor that keeps handing out new tokens
// without entries, which would otherwise loop for ever.
const maxEmptyCursorPages = 5

// cursorLoop runs the documented v2 loop: the first request without
// pageToken, then each nextPageToken as pageToken until none comes back.
func cursorLoop[T any](ctx context.Context, c *Client, ep endpoint, path string, base url.Values, p Pager, h Handler[T]) error {
	seen := map[string]bool{}
	empty := 0
	get := func(token string) *ahead[cursorPage[T]] {
		q := cloneValues(base)
		q.Set("pageSize", strconv.Itoa(p.size()))
		if token != "" {
			q.Set("pageToken", token)
		}
		return fetchAhead(ctx, p, func(ctx context.Context, page *cursorPage[T]) (int, [32]byte, error) {
			return c.get(ctx, ep, path, q, page)
		})
	}
	next := get("")
	defer func() { next.drop() }()
	for pageNo := 0; ; pageNo++ {
		page, status, _, err := next.wait()
		next = nil
		if err != nil {
			return err
		}
		if status == 204 {
			return nil
		}
		if page.Content == nil {
			return fmt.Errorf("celonis: GET %s: HTTP %d: the page has no `content` array, so the response is not in the shape the plugin knows; no rows were invented", path, status)
		}
		items := *page.Content
		if len(items) > p.size() {
			return fmt.Errorf("celonis: GET %s: HTTP %d: the API returned %d entries for pageSize %d", path, status, len(items), p.size())
		}
		token := string(page.NextPageToken)
		if token != "" {
			if seen[token] {
				return fmt.Errorf("celonis: GET %s: the API returned the page token of an earlier page again after page %d; stopping rather than looping", path, pageNo)
			}
			seen[token] = true
			if len(items) == 0 {
				if empty++; empty >= maxEmptyCursorPages {
					return fmt.Errorf("celonis: GET %s: %d pages in a row had no entries but a new page token; stopping rather than looping", path, empty)
				}
			} else {
				empty = 0
			}
			if p.prefetch(len(items)) {
				next = get(token)
			}
		}
		if !h(items) || token == "" {
			return nil
		}
		if next == nil {
			next = get(token)
		}
	}
}

// numberedPage is a v1-style page: `content`, with pageNumber, pageSize and
// totalCount where the API gives them.
type numberedPage[T any] struct {
	Content    *[]T   `json:"content"`
	PageNumber *int   `json:"pageNumber"`
	PageSize   *int   `json:"pageSize"`
	TotalCount *int64 `json:"totalCount"`
}

// pageLoop reads pageNumber 0, 1, ... until totalCount entries have been
// read or, when the API gives no total, a page comes back short.
func pageLoop[T any](ctx context.Context, c *Client, ep endpoint, path string, base url.Values, p Pager, h Handler[T]) error {
	var read int64
	var prev [32]byte
	size := p.size()
	for pageNo := 0; ; pageNo++ {
		if err := p.before(ctx); err != nil {
			return err
		}
		q := cloneValues(base)
		q.Set("pageNumber", strconv.Itoa(pageNo))
		q.Set("pageSize", strconv.Itoa(size))
		var page numberedPage[T]
		status, digest, err := c.get(ctx, ep, path, q, &page)
		if err != nil {
			return err
		}
		if status == 204 {
			return nil // No Content: nothing (more) in range
		}
		if page.Content == nil {
			return fmt.Errorf("celonis: GET %s: HTTP %d: the page has no `content` array, so the response is not in the shape the plugin knows; no rows were invented", path, status)
		}
		items := *page.Content
		if page.PageNumber != nil && *page.PageNumber != pageNo {
			return fmt.Errorf("celonis: GET %s: asked for page %d and the API answered with page %d; stopping rather than returning a wrong page", path, pageNo, *page.PageNumber)
		}
		if len(items) > size {
			return fmt.Errorf("celonis: GET %s: HTTP %d: the API returned %d entries for pageSize %d", path, status, len(items), size)
		}
		if pageNo > 0 && len(items) > 0 && digest == prev {
			return fmt.Errorf("celonis: GET %s: page %d is the same as page %d; the page loop does not advance", path, pageNo, pageNo-1)
		}
		prev = digest
		read += int64(len(items))
		if page.TotalCount != nil && read > *page.TotalCount {
			return fmt.Errorf("celonis: GET %s: page %d brings the entries read to %d, more than the %d the API announced; the pages overlap", path, pageNo, read, *page.TotalCount)
		}
		if !h(items) {
			return nil
		}
		pageSize := size
		if page.PageSize != nil && *page.PageSize > 0 && *page.PageSize < size {
			pageSize = *page.PageSize // the server capped our page size: go by its own
		}
		switch {
		case page.TotalCount != nil && read >= *page.TotalCount:
			return nil
		case len(items) == 0:
			if page.TotalCount != nil {
				return fmt.Errorf("celonis: GET %s: page %d was empty after %d of the %d entries the API announced; the listing is incomplete", path, pageNo, read, *page.TotalCount)
			}
			return nil
		case page.TotalCount == nil && len(items) < pageSize:
			return nil
		}
	}
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+2)
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
