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
		}
		return p
	}
}

// capture runs a table's recording twin once.
func capture(ctx context.Context, r *inproc.Runner, table string, cols []string) {
	if _, _ = scan(ctx, r, "bench_capture_"+table, cols, nil); len(captured[table]) == 0 {
		fail("nothing captured from %s", table)
	}
}
