// Package jsontest holds what the hand-written page decoders are measured
// against: encoding/json's answer (for the fuzz tests) and its speed (for
// the benchmarks).
package jsontest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/httpx"
)

// SameAsEncodingJSON decodes body as the plugin does (httpx.DecodeJSON:
// the fast path where it applies, encoding/json where it gives way) into a
// page from newPage, and as encoding/json alone (plus KeepRaw) into
// another, and fails t unless both refuse the body or both decode the same
// values; a body that is not an object or array the plugin must refuse.
// It reports whether the fast path decoded the body by itself.
func SameAsEncodingJSON[P any](t testing.TB, body []byte, newPage func() *P) (fast bool) {
	t.Helper()
	got, want := newPage(), newPage()
	gotErr := httpx.DecodeJSON(body, "application/json", got)
	trimmed := bytes.TrimSpace(body)
	if !httpx.Container(trimmed) {
		// Refused by design, where encoding/json would decode null into
		// nothing: a page is an object or an array.
		if gotErr == nil {
			t.Fatalf("%s\nthe plugin decoded a body that is not a JSON object or array", body)
		}
		return false
	}
	wantErr := json.Unmarshal(trimmed, want)
	if k, ok := any(want).(httpx.RawKeeper); ok && wantErr == nil {
		wantErr = k.KeepRaw(trimmed)
	}
	switch {
	case (gotErr == nil) != (wantErr == nil):
		t.Fatalf("%s\nthe plugin's decoding says %v, encoding/json %v", body, gotErr, wantErr)
	case gotErr == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("%s\nthe plugin decoded\n%+v\nencoding/json\n%+v", body, got, want)
	}
	f, ok := any(newPage()).(httpx.FastDecoder)
	return ok && f.DecodeFast(trimmed)
}

// BenchmarkDecoders times decoding body into pages from newPage: "fast",
// the page's hand-written decoder, which must take the body; and
// "encoding_json", encoding/json plus KeepRaw.
func BenchmarkDecoders[P any](b *testing.B, body []byte, newPage func() *P) {
	for _, fast := range []bool{true, false} {
		b.Run(map[bool]string{true: "fast", false: "encoding_json"}[fast], func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				p := newPage()
				if fast {
					if f, ok := any(p).(httpx.FastDecoder); !ok || !f.DecodeFast(body) {
						b.Fatal("the hand-written decoder did not take the body")
					}
					continue
				}
				err := json.Unmarshal(body, p)
				if k, ok := any(p).(httpx.RawKeeper); ok && err == nil {
					err = k.KeepRaw(body)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
