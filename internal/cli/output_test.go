package cli

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sqlengine"
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
			v   sqlengine.Value
			ref any // the value as database/sql gave it
			typ string
		}{
			{sqlengine.Value{Kind: sqlengine.Text, Text: s}, s, "TEXT"},
			{sqlengine.Value{Kind: sqlengine.Text, Text: s}, s, "JSON TEXT"},
			{sqlengine.Value{Kind: sqlengine.Blob, Text: s}, []byte(s), "JSON TEXT"},
			{sqlengine.Value{Kind: sqlengine.Int, Int: n}, n, "INTEGER"},
			{sqlengine.Value{Kind: sqlengine.Int, Int: n}, n, "BOOLEAN INTEGER"},
			{sqlengine.Value{Kind: sqlengine.Float, Float: x}, x, "REAL"},
			{sqlengine.Value{}, nil, "TEXT"},
		} {
			got, err := appendJSON(nil, c.v, c.typ, &scratch)
			want, werr := jsonValueReference(c.ref, c.typ)
			if (err == nil) != (werr == nil) || (err == nil && string(got) != string(want)) {
				t.Fatalf("%#v as %s: got %s (%v), encoding/json %s (%v)", c.ref, c.typ, got, err, want, werr)
			}
		}
	})
}

// BenchmarkVerbatimJSON checks an audit log entry as the raw column holds
// it, the JSON value query writes most.
func BenchmarkVerbatimJSON(b *testing.B) {
	entry := `{"diffPayload":{"newValue":"{\"version\":12}","oldValue":"{\"version\":3}"},"event":"STUDIO_NODE_UPDATED",` +
		`"ipAddress":"10.12.200.7","message":{"assetType":"VIEW","id":"3f1c2a9e-8b7d-4e21-9c55-0d2f6a1b7e43","nodeKey":"node-417",` +
		`"nodeName":"Node 212","nodeType":"ASSET","packageKey":"package-17"},"port":"43121","timestamp":"2026-11-21T16:32:14.903Z",` +
		`"userId":"8e0b6f0c-2d5a-4c1e-9a77-5b3e2f1d0c99 (ada.lovelace@example.com)","userRole":"ADMIN"}`
	b.SetBytes(int64(len(entry)))
	for b.Loop() {
		if !verbatimJSON(entry) {
			b.Fatal("not verbatim")
		}
	}
}

// timedWriter records when each write came and what it held.
type timedWriter struct {
	mu     sync.Mutex
	writes []time.Time
	buf    bytes.Buffer
}

func (w *timedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, time.Now())
	return w.buf.Write(p)
}

// jsonl and csv stream: the rows of a page go out while the next page is
// still coming, not at the end of the query, and in a few writes, not one
// a row (a system call each on a real stdout).
func TestJSONLAndCSVStreamInBatches(t *testing.T) {
	d, cfg := demo(t, 500)
	const delay = time.Second
	for _, format := range []string{"jsonl", "csv"} {
		t.Run(format, func(t *testing.T) {
			settle(d)
			d.Celonis.AddFault(sandbox.Fault{Kind: sandbox.FaultDelay, Path: "/log/", After: 1, Times: 1, Delay: delay})
			defer d.Celonis.ClearFaults()
			var out timedWriter
			var errb bytes.Buffer
			start := time.Now()
			if code := Query(celonis.Plugin, []string{"--config", cfg, "--output", format, "select event from celonis_audit_log"}, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			took := time.Since(start)
			rows := bytes.Count(out.buf.Bytes(), []byte("\n"))
			if format == "csv" {
				rows-- // the header
			}
			if want := len(d.Celonis.AuditTimes()); rows != want || len(d.Celonis.Requests("/log/")) < 2 {
				t.Fatalf("%d rows in %d requests, want %d rows over more than one page", rows, len(d.Celonis.Requests("/log/")), want)
			}
			if len(out.writes) == 0 || out.writes[0].Sub(start) > took-delay+delay/2 {
				t.Fatalf("the first rows went out %v into a query of %v: they waited for the page delayed %v", out.writes[0].Sub(start), took, delay)
			}
			if len(out.writes) > rows/20 {
				t.Fatalf("%d rows in %d writes", rows, len(out.writes))
			}
		})
	}
}
