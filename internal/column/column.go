// Package column builds the transforms that read a table's columns from its
// row structs. The SDK's transform.FromField looks a field up by name on
// every row, and on the way compiles a regular expression each time
// (go-kit v1.1.0, helpers.IsFieldArray): profiled on a full audit log scan,
// about half the CPU the scan used. Field finds the field once per row type.
package column

import (
	"context"
	"encoding/json"
	"reflect"
	"sync"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin/transform"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/lenient"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/scanerr"
)

// Field reads the exported field name (promoted fields included) of the
// row, which may be a struct or a pointer to one, as transform.FromField
// does for a plain name: nil when the row has no such field.
func Field(name string) *transform.ColumnTransforms {
	var index sync.Map // reflect.Type -> []int; nil when the type has no such field
	return transform.From(func(ctx context.Context, d *transform.TransformData) (any, error) {
		if held, err := scanerr.Hold(ctx, d.HydrateItem); held {
			return nil, err // a failed list call's marker: never a row
		}
		v := reflect.ValueOf(d.HydrateItem)
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				return nil, nil
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return nil, nil
		}
		ix, ok := index.Load(v.Type())
		if !ok {
			var path []int
			if f, found := v.Type().FieldByName(name); found && f.IsExported() {
				path = f.Index
			}
			ix, _ = index.LoadOrStore(v.Type(), path)
		}
		path := ix.([]int)
		if path == nil {
			return nil, nil
		}
		f, err := v.FieldByIndexErr(path)
		if err != nil {
			return nil, nil // through a nil embedded pointer
		}
		return f.Interface(), nil
	})
}

// JSON reads a json.RawMessage field (JSON as the API sent it) as a JSON
// column, null when absent or null, sharing the field's memory. The SDK
// (v5.14.1) builds every column a list call provides for every row,
// selected or not (its query cache keeps whole rows), so this runs for
// each entry of every scan: it copies nothing itself.
func JSON(name string) *transform.ColumnTransforms {
	field := Field(name).Transforms[0].Transform
	return transform.From(func(ctx context.Context, d *transform.TransformData) (any, error) {
		v, err := field(ctx, d)
		if raw, ok := v.(json.RawMessage); ok {
			return lenient.JSONColumn(raw), err
		}
		return v, err
	})
}
