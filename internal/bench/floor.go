package main

import (
	"context"

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

// withFloor is the plugin plus, for each of tables, two tables with its
// exact columns and transforms: bench_capture_<table>, whose list call
// records the rows the real one streams, and bench_floor_<table>, the SDK
// floor, whose list call only streams those rows.
func withFloor(tables ...string) plugin.PluginFunc {
	return func(ctx context.Context) *plugin.Plugin {
		p := celonis.Plugin(ctx)
		for _, name := range tables {
			real := p.TableMap[name]
			realList := real.List.Hydrate

			rec := *real
			rec.Name = "bench_capture_" + name
			rec.List = &plugin.ListConfig{Hydrate: func(ctx context.Context, d *plugin.QueryData, h *plugin.HydrateData) (any, error) {
				stream := d.StreamListItem
				d.StreamListItem = func(ctx context.Context, items ...any) {
					if len(captured[name]) < 1000 {
						captured[name] = append(captured[name], items...)
					}
					stream(ctx, items...)
				}
				return realList(ctx, d, h)
			}}
			floor := *real
			floor.Name = "bench_floor_" + name
			floor.List = &plugin.ListConfig{Hydrate: func(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (any, error) {
				rows := captured[name]
				for i := 0; i < floorRows; i++ {
					d.StreamListItem(ctx, rows[i%len(rows)])
				}
				return nil, nil
			}}
			p.TableMap[rec.Name], p.TableMap[floor.Name] = &rec, &floor
			if fetch := pageFetchers[name]; fetch != nil {
				hf := *real
				hf.Name = "bench_http_floor_" + name
				hf.List = &plugin.ListConfig{Hydrate: func(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (any, error) {
					return nil, streamWhileFetching(ctx, d, captured[name], fetch())
				}}
				p.TableMap[hf.Name] = &hf
			}
		}
		return p
	}
}

// capture runs a table's recording twin once, with quals if given.
func capture(ctx context.Context, r *inproc.Runner, table string, cols []string, quals ...inproc.Qual) {
	if _, _ = scan(ctx, r, "bench_capture_"+table, cols, quals); len(captured[table]) == 0 {
		fail("nothing captured from %s", table)
	}
}

// pageFetchers, by table, start a listing of the table's API pages as the
// plugin requests them: each call of the function returned fetches the next
// page, reads its body and drops it, and reports whether more pages follow.
var pageFetchers = map[string]func() func() (more bool, err error){}

// streamWhileFetching is the HTTP floor: the SDK floor's rows, streamed
// while the API's pages are fetched as the plugin's own loop fetches them
// (the next page requested as each page arrives, then that page's rows
// streamed), but with nothing decoded: what streaming costs while the
// requests a scan needs are made, in this process and the sandbox's.
func streamWhileFetching(ctx context.Context, d *plugin.QueryData, rows []any, next func() (bool, error)) error {
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
	for i := 0; i < floorRows; i++ {
		if i%pageRows == 0 && more {
			r := <-page
			if r.err != nil {
				return r.err
			}
			if more = r.more; more {
				page = fetch()
			}
		}
		d.StreamListItem(ctx, rows[i%len(rows)])
	}
	if more {
		<-page
	}
	return nil
}

// pageRows is the page size the page fetchers ask for: the largest, as the
// plugin asks.
const pageRows = 200
