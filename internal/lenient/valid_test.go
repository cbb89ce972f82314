package lenient

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var validCases = []struct {
	doc   string
	valid bool
}{
	{`{}`, true}, {`[]`, true}, {` {"a" : [1, -2.5e+3, true, false, null, "x"] } `, true},
	{`"\u00e9\n\"\\\/\b\f\r\t"`, true}, {"\"\xff\xfe\"", true}, {`0`, true}, {`-0.0e0`, true}, {`1E-7`, true},
	{`{"a":{"b":[{}, [], [[]]]}}`, true}, {"\t\r\n[1]\n", true},
	{``, false}, {` `, false}, {`{`, false}, {`}`, false}, {`[1,]`, false}, {`{"a":1,}`, false}, {`[1 2]`, false},
	{`{"a" 1}`, false}, {`{1:2}`, false}, {`{"a":}`, false}, {`["a":1]`, false}, {`{"a":1]`, false}, {`[1}`, false},
	{`01`, false}, {`-`, false}, {`1.`, false}, {`.5`, false}, {`1e`, false}, {`1e+`, false}, {`+1`, false}, {`0x1`, false},
	{`tru`, false}, {`truex`, false}, {`nul`, false}, {`True`, false}, {`"abc`, false}, {`"\x"`, false}, {`"\u12g4"`, false},
	{`"\u123"`, false}, {"\"a\tb\"", false}, {"\"a\x00\"", false}, {`{} {}`, false}, {`[] x`, false}, {`"a" "b"`, false},
	{`{"a":1 "b":2}`, false}, {`[,1]`, false}, {`{,}`, false}, {"\v1", false}, {`"\`, false}, {`{"a`, false},
}

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range validCases {
		if got, want := Valid([]byte(c.doc)), json.Valid([]byte(c.doc)); got != c.valid || want != c.valid {
			t.Errorf("%q: Valid %v, json.Valid %v, want %v", c.doc, got, want, c.valid)
		}
	}
}

// encoding/json refuses nesting deeper than 10,000; so must Valid.
func TestValidDepthLimit(t *testing.T) {
	for _, depth := range []int{9999, 10000, 10001} {
		for _, pair := range []string{"[]", "{}"} {
			doc := strings.Repeat(pair[:1], depth) + strings.Repeat(pair[1:], depth)
			if pair == "{}" && depth > 1 {
				doc = strings.Repeat(`{"a":`, depth-1) + "{}" + strings.Repeat("}", depth-1)
			}
			if got, want := Valid([]byte(doc)), json.Valid([]byte(doc)); got != want || want != (depth <= 10000) {
				t.Errorf("%s nested %d deep: Valid %v, json.Valid %v", pair, depth, got, want)
			}
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, c := range validCases {
		f.Add([]byte(c.doc))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("%q: Valid %v, json.Valid %v", b, got, want)
		}
	})
}

// go test -bench Valid ./internal/lenient: against json.Valid on a page of
// audit entries.
func BenchmarkValid(b *testing.B) {
	entry := `{"userId":"d7491e93-7a53-486c-b283-4b68e05c1de3 (dennis.thompson16@example.com)","userRole":"ANALYST","event":"STUDIO_NODE_DELETED","timestamp":"2025-11-22T15:32:14.673Z","message":{"assetType":"VIEW","id":"966af94f-937e-4c85-b0aa-255d70783596","nodeKey":"node-325","nodeName":"Node 325 \u00e9","nodeType":"ASSET","packageKey":"package-16"},"ipAddress":"10.149.214.209","port":"21427","diffPayload":{"oldValue":12.5,"newValue":[true,false,null]}}`
	doc := []byte(`{"content":[` + strings.TrimSuffix(strings.Repeat(entry+",", 200), ",") + `],"nextPageToken":"abc"}`)
	for name, valid := range map[string]func([]byte) bool{"lenient": Valid[[]byte], "encoding_json": json.Valid} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if !valid(doc) {
					b.Fatal("not valid")
				}
			}
		})
	}
}

// textRun finds the first quote, backslash or control character from a
// given index on (asciiRun also the first byte above 0x7f, plainRun also
// <, > and &), as a plain loop does, wherever such bytes stand in the
// eight-byte words it tests and whatever bytes are beside them.
func TestTextRun(t *testing.T) {
	loop := func(b []byte, i int, high, html bool) int {
		for ; i < len(b); i++ {
			if c := b[i]; c == '"' || c == '\\' || c < 0x20 || high && c >= 0x80 || html && (c == '<' || c == '>' || c == '&') {
				return i
			}
		}
		return i
	}
	plain := func(b []byte, i int, high bool) int { return loop(b, i, high, false) }
	check := func(b []byte) {
		for i := 0; i <= len(b); i++ {
			if got, want := textRun(b, i), plain(b, i, false); got != want {
				t.Fatalf("%q from %d: %d, want %d", b, i, got, want)
			}
			if got, want := textRun(string(b), i), plain(b, i, false); got != want {
				t.Fatalf("%q as a string from %d: %d, want %d", b, i, got, want)
			}
			if got, want := asciiRun(b, i), plain(b, i, true); got != want {
				t.Fatalf("asciiRun %q from %d: %d, want %d", b, i, got, want)
			}
			if got, want := plainRun(string(b), i), loop(b, i, true, true); got != want {
				t.Fatalf("plainRun %q from %d: %d, want %d", b, i, got, want)
			}
		}
	}
	const size = 19
	b := []byte(strings.Repeat("a", size))
	for p := range size {
		for c := range 256 {
			b[p] = byte(c)
			check(b)
		}
		b[p] = 'a'
	}
	// Pairs of the bytes either side of each test's edges: a borrow from
	// one must never hide the other, nor mark a byte that stops nothing.
	edges := []byte{0x00, 0x01, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
		0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0x81, 0xa2, 0xa6, 0xbc, 0xbe, 0xdc, 0xff}
	for p := range size {
		for q := p + 1; q < size; q++ {
			for _, c := range edges {
				for _, d := range edges {
					b[p], b[q] = c, d
					check(b)
				}
			}
			b[p], b[q] = 'a', 'a'
		}
	}
}

// Compact answers for valid JSON whether json.Compact would leave it as it
// is.
func FuzzCompact(f *testing.F) {
	for _, c := range validCases {
		f.Add([]byte(c.doc))
	}
	for _, s := range []string{`{"a b":"c\" d"}`, `{"a":"0123456789abcdef\" x"} `, `[1,{"b":[true,null]},"s s"]`, `["\\", 1]`,
		`{"0123456789":"0123456789\\"}`, "{\"a\":\"\u00e9\"}\n", `["\"\"\"\"\"\"\"\" x"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		var compacted bytes.Buffer
		json.Compact(&compacted, b)
		want := bytes.Equal(compacted.Bytes(), b)
		if got := Compact(b); got != want || Compact(string(b)) != got {
			t.Fatalf("Compact(%q) = %v, want %v", b, got, want)
		}
	})
}

// plainCases are Plain's own: whitespace outside strings and the bytes
// json.HTMLEscape changes, in and next to strings, at word edges.
var plainCases = []string{
	`{"a":"<"}`, `{"a":">"}`, `{"a":"&"}`, `{"a":"x&y"}`, `["0123456<"]`, `["01234567&"]`, `["012345678>"]`,
	"[\"\u2028\"]", "[\"\u2029\"]", "[\"\u2027\"]", "[\"\u202a\"]", "[\"\u00e9\u20ac\"]", "[\"\xe2\x80\"]", "[\"\xe2\"]",
	`["&n"]`, `["<t"]`, `[">/"]`, `{"&b":1}`, `["\u003c"]`, `{"a":1 }`, `{"a" :1}`, `{"a": 1}`, `[1, 2]`, ` [1]`, `[1] `, "[1]\n", `["a b"]`, `{"a b":"c d"}`,
	`{"a":[1,{"b":null}],"c":"\"<\""}`, `"<"`, `"&amp;"`, `[]`, `{}`, `[ ]`, `{ }`,
}

// Plain answers whether json.Compact and json.HTMLEscape would leave valid
// JSON as it is, and is false for anything json.Valid refuses.
func TestPlain(t *testing.T) {
	for _, c := range validCases {
		checkPlain(t, []byte(c.doc))
	}
	for _, doc := range plainCases {
		checkPlain(t, []byte(doc))
	}
	if !Plain(`{"a":"x"}`) || Plain(`{"a":"<"}`) || Plain(`[1, 2]`) {
		t.Fatal("Plain misjudges the plainest cases")
	}
}

func FuzzPlain(f *testing.F) {
	for _, c := range validCases {
		f.Add([]byte(c.doc))
	}
	for _, doc := range plainCases {
		f.Add([]byte(doc))
	}
	f.Fuzz(checkPlain)
}

// checkPlain holds Plain(b), for b as bytes and as a string, to what
// encoding/json says.
func checkPlain(t *testing.T, b []byte) {
	want := false
	if json.Valid(b) {
		var compacted, escaped bytes.Buffer
		json.Compact(&compacted, b)
		json.HTMLEscape(&escaped, compacted.Bytes())
		want = bytes.Equal(escaped.Bytes(), b)
	}
	if got := Plain(b); got != want || Plain(string(b)) != got {
		t.Fatalf("Plain(%q) = %v, want %v", b, got, want)
	}
}

// go test -bench Compact ./internal/lenient: an audit entry, as EntryKey
// checks it.
func BenchmarkCompact(b *testing.B) {
	entry := `{"userId":"d7491e93-7a53-486c-b283-4b68e05c1de3 (dennis.thompson16@example.com)","userRole":"ANALYST","event":"STUDIO_NODE_DELETED","timestamp":"2025-11-22T15:32:14.673Z","message":{"assetType":"VIEW","id":"966af94f-937e-4c85-b0aa-255d70783596","nodeKey":"node-325","nodeName":"Node 325 \u00e9","nodeType":"ASSET","packageKey":"package-16"},"ipAddress":"10.149.214.209","port":"21427","diffPayload":{"oldValue":12.5,"newValue":[true,false,null]}}`
	b.SetBytes(int64(len(entry)))
	for b.Loop() {
		if !Compact(entry) {
			b.Fatal("not compact")
		}
	}
}
