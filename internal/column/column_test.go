package column

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin/transform"
)

type inner struct{ Deep string }

type row struct {
	Name  string
	Ptr   *int
	Slice []string
	*inner
	hidden string
}

// Field gives what the SDK's FromField gives, for every kind of row the
// tables stream.
func TestFieldMatchesFromField(t *testing.T) {
	n := 7
	rows := []any{
		&row{Name: "a", Ptr: &n, Slice: []string{"x"}, inner: &inner{Deep: "d"}, hidden: "h"},
		row{Name: "b"},
		&row{Name: "c", inner: &inner{}}, // nil pointer field, zero values
	}
	for _, name := range []string{"Name", "Ptr", "Slice", "Missing"} {
		ours := Field(name).Transforms[0]
		sdk := transform.FromField(name).Transforms[0]
		for i, r := range rows {
			got, err := ours.Transform(context.Background(), &transform.TransformData{HydrateItem: r, Param: ours.Param})
			if err != nil {
				t.Fatal(err)
			}
			want, _ := sdk.Transform(context.Background(), &transform.TransformData{HydrateItem: r, Param: sdk.Param})
			if isNil(got) != isNil(want) || (!isNil(got) && !reflect.DeepEqual(got, want)) {
				t.Errorf("row %d, %s: got %#v, FromField gives %#v", i, name, got, want)
			}
		}
	}
	// Where FromField panics or reads maps, Field gives nil.
	for _, r := range []any{&row{}, (*row)(nil), map[string]any{"Name": "x"}, nil, 3} {
		if v, err := Field("Deep").Transforms[0].Transform(context.Background(), &transform.TransformData{HydrateItem: r}); v != nil || err != nil {
			t.Errorf("%#v: got %v, %v", r, v, err)
		}
	}
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return r.IsNil()
	}
	return false
}

func BenchmarkField(b *testing.B) {
	r := &row{Name: "a"}
	ours, sdk := Field("Name").Transforms[0], transform.FromField("Name").Transforms[0]
	b.Run("column.Field", func(b *testing.B) {
		for b.Loop() {
			ours.Transform(context.Background(), &transform.TransformData{HydrateItem: r})
		}
	})
	b.Run("transform.FromField", func(b *testing.B) {
		for b.Loop() {
			sdk.Transform(context.Background(), &transform.TransformData{HydrateItem: r, Param: sdk.Param})
		}
	})
}

func TestJSONMakesTheColumnText(t *testing.T) {
	type r struct{ Raw json.RawMessage }
	for _, c := range []struct {
		row  any
		want any
	}{
		{&r{Raw: json.RawMessage(` {"a":1} `)}, `{"a":1}`},
		{&r{Raw: json.RawMessage(`null`)}, nil},
		{&r{}, nil},
		{&row{Name: "x"}, nil}, // no such field
	} {
		got, err := JSON("Raw").Transforms[0].Transform(context.Background(), &transform.TransformData{HydrateItem: c.row})
		if err != nil || got != c.want {
			t.Errorf("%#v: got %#v, want %#v", c.row, got, c.want)
		}
	}
}
