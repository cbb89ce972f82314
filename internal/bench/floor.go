package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
)

// captured holds a table's first rows as its list function streamed them:
// the decoded row values the SDK then turns into columns. The floor cycles
// through them, so that its own heap stays small (the SDK frees OS memory
// every 100 rows, at a cost that grows with the heap).
var captured = map[string][]any{}

// floorRows is how many rows a floor streams.
var floorRows int

// withFloor is the plugin plus, for each of tables, three tables with its
// exact columns and transforms: bench_capture_<table>, whose list call
// records the rows the real one streams; bench_floor_<table>, the SDK
// floor, whose list call only streams those rows; and
// bench_http_floor_<table>, which streams them while it replays the
// requests of the capture (see pageRequests and streamWhileFetching).
func withFloor(tables ...string) plugin.PluginFunc {
	return func(ctx context.Context) *plugin.Plugin {
		p := celonis.Plugin(ctx)
		for _, name := range tables {
			real := p.TableMap[name]
			realList := real.List.Hydrate

			rec := *real
			rec.Name = "bench_capture_" + name
			rec.List = listing(real, func(ctx context.Context, d *plugin.QueryData, h *plugin.HydrateData) (any, error) {
				stream := d.StreamListItem
				d.StreamListItem = func(ctx context.Context, items ...any) {
					if len(captured[name]) < 1000 {
						captured[name] = append(captured[name], items...)
					}
					stream(ctx, items...)
				}
				return realList(ctx, d, h)
			})
			floor := *real
			floor.Name = floorTable(name)
			floor.List = listing(real, func(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (any, error) {
				rows := captured[name]
				for i := 0; i < floorRows; i++ {
					d.StreamListItem(ctx, rows[i%len(rows)])
				}
				return nil, nil
			})
			p.TableMap[rec.Name], p.TableMap[floor.Name] = &rec, &floor
			hf := *real
			hf.Name = httpFloorTable(name)
			hf.List = listing(real, func(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (any, error) {
				reqs := pageRequests[name]
				if len(reqs) == 0 {
					return nil, fmt.Errorf("no requests captured from %s", name)
				}
				next := replay(reqs)
				if replayWorkers > 1 {
					next = replayAtOnce(reqs, replayWorkers)
				}
				return nil, streamWhileFetching(ctx, d, captured[name], len(reqs), next)
			})
			p.TableMap[hf.Name] = &hf
		}
		return p
	}
}

// listing is real's list config (its key columns: the same quals reach the
// twin's list call, and the capture's scan pushes them down as the real
// one does) with hydrate as its list call, which asks for the CPUs the
// real table's asks for (celonis.OnOneCPU, celonis.OnAllCPUs): a floor
// runs as the table it stands in for.
func listing(real *plugin.Table, hydrate plugin.HydrateFunc) *plugin.ListConfig {
	l := *real.List
	l.Hydrate = celonis.OnOneCPU(hydrate)
	if strings.HasPrefix(real.Name, "celonis_make_") {
		l.Hydrate = celonis.OnAllCPUs(hydrate)
	}
	return &l
}

// capture runs a table's recording twin once, with quals if given.
func capture(ctx context.Context, r *inproc.Runner, table string, cols []string, quals ...inproc.Qual) {
	if _, _ = scan(ctx, r, "bench_capture_"+table, cols, quals); len(captured[table]) == 0 {
		fail("nothing captured from %s", table)
	}
}

// pageRequests are, by table, the list requests its capture scan made,
// for its HTTP floor to replay.
var pageRequests = map[string][]pageRequest{}

// pageRequest is one request of a replayed listing.
type pageRequest struct {
	url    string
	header http.Header
}

// replayWorkers is how many requests the HTTP floor keeps in flight: 1
// replays a page loop's requests one a call, more replays the requests of
// a scan read in windows at once (see replayAtOnce).
var replayWorkers = 1

// replay returns a fetch of the given requests in order, one a call: the
// pages a plugin scan asked for, logged by the sandbox (see remote.URLs).
// Each body is read whole and dropped; more is false after the last.
func replay(reqs []pageRequest) func() (more bool, err error) {
	i := 0
	var buf bytes.Buffer
	return func() (bool, error) {
		i++
		return i < len(reqs), fetchPage(reqs[i-1], &buf)
	}
}

// replayAtOnce is replay for a scan read in windows: the first request
// (the plugin's request for the whole range) alone, then the others by
// workers at once, in the order the sandbox logged them; each call returns
// when one more page has arrived.
func replayAtOnce(reqs []pageRequest, workers int) func() (more bool, err error) {
	arrived := make(chan error, len(reqs))
	var start sync.Once
	got := 0
	return func() (bool, error) {
		start.Do(func() {
			go func() {
				var buf bytes.Buffer
				arrived <- fetchPage(reqs[0], &buf)
				queue := make(chan pageRequest)
				for range workers {
					go func() {
						var buf bytes.Buffer
						for r := range queue {
							arrived <- fetchPage(r, &buf)
						}
					}()
				}
				for _, r := range reqs[1:] {
					queue <- r
				}
				close(queue)
			}()
		})
		got++
		return got < len(reqs), <-arrived
	}
}

// fetchPage makes one replayed request and reads its body whole into buf.
func fetchPage(r pageRequest, buf *bytes.Buffer) error {
	req, _ := http.NewRequest("GET", r.url, nil)
	req.Header = r.header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil || resp.StatusCode != 200 {
		return fmt.Errorf("HTTP floor: GET %s: HTTP %d (%v)", r.url, resp.StatusCode, err)
	}
	return nil
}

// streamWhileFetching is the HTTP floor: the SDK floor's rows, streamed
// while the API's pages are fetched as the plugin's own loop fetches them
// (the next page requested as each page arrives, then that page's rows
// streamed; the rows spread evenly over the pages), but with nothing
// decoded: what streaming costs while the requests a scan needs are made,
// in this process and the sandbox's.
func streamWhileFetching(ctx context.Context, d *plugin.QueryData, rows []any, pages int, next func() (bool, error)) error {
	type result struct {
		more bool
		err  error
	}
	fetch := func() chan result {
		ch := make(chan result, 1)
		go func() {
			more, err := next()
			ch <- result{more, err}
		}()
		return ch
	}
	page, more := fetch(), true
	// advance waits for the page in flight and asks for the one after it.
	advance := func() error {
		r := <-page
		if more = r.more; more && r.err == nil {
			page = fetch()
		}
		return r.err
	}
	perPage := max((floorRows+pages-1)/pages, 1)
	for i := 0; i < floorRows; i++ {
		if i%perPage == 0 && more {
			if err := advance(); err != nil {
				return err
			}
		}
		d.StreamListItem(ctx, rows[i%len(rows)])
	}
	for more { // pages beyond the rows (an empty last page)
		if err := advance(); err != nil {
			return err
		}
	}
	return nil
}

// floorTable and httpFloorTable name the floors withFloor adds for table.
func floorTable(table string) string     { return "bench_floor_" + table }
func httpFloorTable(table string) string { return "bench_http_floor_" + table }
