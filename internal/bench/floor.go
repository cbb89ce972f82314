package main

import (
	"context"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
)

// captured holds celonis_audit_log's first rows as its list function
// streamed them: the decoded row values the SDK then turns into columns.
// The floor cycles through them, so that its own heap stays small (the SDK
// frees OS memory every 100 rows, at a cost that grows with the heap).
var captured []any

// floorRows is how many rows the floor streams.
var floorRows int

// withFloor is the plugin plus two tables with celonis_audit_log's exact
// columns and transforms: one whose list call records the rows the real one
// streams, and the SDK floor, whose list call only streams those rows.
func withFloor() plugin.PluginFunc {
	return func(ctx context.Context) *plugin.Plugin {
		p := celonis.Plugin(ctx)
		real := p.TableMap["celonis_audit_log"]
		realList := real.List.Hydrate

		rec := *real
		rec.Name = "bench_capture_audit_log"
		rec.List = &plugin.ListConfig{Hydrate: func(ctx context.Context, d *plugin.QueryData, h *plugin.HydrateData) (any, error) {
			stream := d.StreamListItem
			d.StreamListItem = func(ctx context.Context, items ...any) {
				if len(captured) < 1000 {
					captured = append(captured, items...)
				}
				stream(ctx, items...)
			}
			return realList(ctx, d, h)
		}}
		floor := *real
		floor.Name = "bench_floor_audit_log"
		floor.List = &plugin.ListConfig{Hydrate: func(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (any, error) {
			for i := 0; i < floorRows; i++ {
				d.StreamListItem(ctx, captured[i%len(captured)])
			}
			return nil, nil
		}}
		p.TableMap[rec.Name], p.TableMap[floor.Name] = &rec, &floor
		return p
	}
}

// capture runs the recording table once.
func capture(ctx context.Context, r *inproc.Runner, cols []string) {
	if _, _ = scan(ctx, r, "bench_capture_audit_log", cols, nil); len(captured) == 0 {
		fail("nothing captured")
	}
}
