package cli

import (
	"encoding/json"
	"testing"
)

// jsonValueReference is how values were rendered before appendJSON: by
// encoding/json, JSON columns holding valid JSON as json.RawMessage.
func jsonValueReference(v any, typ string) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		v = string(x)
	case int64:
		if typ == "BOOLEAN INTEGER" {
			v = x != 0
		}
	}
	if s, ok := v.(string); ok && typ == "JSON TEXT" && json.Valid([]byte(s)) {
		v = json.RawMessage(s)
	}
	return json.Marshal(v)
}

func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{"plain", "a\"b\\c\n\t\b\f\x01<>&", "\u2028\u2029é", "\xff\xfe", `{"a": [1, "<x>"],  "b":null}`, " [1,\n2] ", "not json {",
		`{"a":[1,"x y"],"b":null,"c":-2.5e3}`, `["a\"b\\c\u00e9"]`, "[\"\u2028\"]", `{"a":"<"}`, `{"a":1}x`, `"\u12"`} {
		f.Add(s, int64(7), 1.5)
	}
	f.Fuzz(func(t *testing.T, s string, n int64, x float64) {
		var scratch jsonScratch
		for _, c := range []struct {
			v   any
			typ string
		}{{s, "TEXT"}, {s, "JSON TEXT"}, {[]byte(s), "JSON TEXT"}, {n, "INTEGER"}, {n, "BOOLEAN INTEGER"}, {x, "REAL"}, {nil, "TEXT"}} {
			got, err := appendJSON(nil, c.v, c.typ, &scratch)
			want, werr := jsonValueReference(c.v, c.typ)
			if (err == nil) != (werr == nil) || (err == nil && string(got) != string(want)) {
				t.Fatalf("%#v as %s: got %s (%v), encoding/json %s (%v)", c.v, c.typ, got, err, want, werr)
			}
		}
	})
}
