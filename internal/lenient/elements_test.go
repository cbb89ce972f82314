package lenient

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// viaJSON is what encoding/json decodes for key: the reference.
func viaJSON(t testing.TB, doc []byte) (*[]json.RawMessage, error) {
	var v struct {
		Content *[]json.RawMessage `json:"content"`
	}
	err := json.Unmarshal(doc, &v)
	return v.Content, err
}

// matches reports whether ArrayElements' answer is encoding/json's.
func matches(got [][]byte, found bool, want *[]json.RawMessage) bool {
	if want == nil {
		return !found && got == nil
	}
	return found && sameElements(got, *want)
}

func sameElements(a [][]byte, b []json.RawMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestArrayElementsMatchesEncodingJSON(t *testing.T) {
	for _, doc := range []string{
		`{"content":[{"a":1},{"b":"x\"]}"},[1,[2]],"s",null,-1.5e3,true],"nextPageToken":"t"}`,
		` { "pg" : {"last":"x"} , "content" : [ ] } `,
		`{"content":null}`,
		`{"other":[1]}`,
		`{"content":[1],"content":[2,3]}`,     // repeated: the last wins
		`{"Content":[1],"content":[2]}`,       // another case: encoding/json reads both
		`{"CONTENT":[1]}`,                     // only another case
		`{"con\u0074ent":[4]}`,                // escaped key
		`{"content":[{"k":"\\"}],"x":"\\\""}`, // escapes at string ends
		`{"a":{"content":[9]},"content":[{"content":[8]}]}`,
		`{"content":"not an array"}`,
	} {
		got, found, err := ArrayElements([]byte(doc), "content")
		if doc == `{"content":"not an array"}` {
			if err == nil {
				t.Errorf("%s: no error", doc)
			}
			continue
		}
		want, _ := viaJSON(t, []byte(doc))
		if err != nil || !matches(got, found, want) {
			t.Errorf("%s: got %q found %v (%v), encoding/json %v", doc, got, found, err, want)
		}
	}
}

func FuzzArrayElements(f *testing.F) {
	for _, s := range []string{`{"content":[{"a":1},"x",[1]]}`, `{"content":[],"c":{"d":[1,"]"]}}`, `{"Content":[1]}`, `{"content":null}`, `[1]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		want, err := viaJSON(t, doc)
		if err != nil {
			return // ArrayElements is only ever given documents encoding/json decoded
		}
		got, found, err := ArrayElements(doc, "content")
		if err != nil || !matches(got, found, want) {
			t.Fatalf("%q: got %q found %v (%v), encoding/json %v", doc, got, found, err, want)
		}
	})
}

func BenchmarkArrayElements(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"content":[`)
	for i := 0; i < 200; i++ {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"userId":"8161c24e-2b32-44eb-bedb-ede2267be989 (ada@example.com)","userRole":"ADMIN","event":"STUDIO_NODE_UPDATED","timestamp":"2025-02-25T14:52:10.903Z","message":{"nodeKey":"k","spaceId":"s"},"ipAddress":null,"port":"8888"}`)
	}
	buf.WriteString(`],"nextPageToken":"abc"}`)
	doc := buf.Bytes()
	b.SetBytes(int64(len(doc)))
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			ArrayElements(doc, "content")
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			viaJSON(b, doc)
		}
	})
}

func TestMembersAndNames(t *testing.T) {
	names := Names{"userId", "kind"}
	for _, c := range []struct {
		name  string
		index int
		ok    bool
	}{
		{"userId", 0, true}, {"kind", 1, true}, {"other", -1, true},
		{"UserID", -1, false},      // encoding/json matches without regard to case
		{"\u212aind", -1, false},   // the Kelvin sign folds to k
		{"u\u017ferId", -1, false}, // the long s folds to s
		{"userIdx", -1, true},
	} {
		if i, ok := names.Index([]byte(c.name)); i != c.index || ok != c.ok {
			t.Errorf("%q: index %d ok %v, want %d %v", c.name, i, ok, c.index, c.ok)
		}
	}
	acd := Names{"a", "c", "d"}
	var got []string
	collect := func(i int, rest []byte) (int, bool) {
		v, ok := Leading(rest)
		got = append(got, acd[i]+"="+string(v))
		return len(v), ok
	}
	doc := `{ "a" : [1, {"b":"}"}] , "c":"x\"y" , "d" : null } `
	n, ok := DecodeLeading([]byte(doc), acd, collect)
	if want := []string{`a=[1, {"b":"}"}]`, `c="x\"y"`, `d=null`}; !ok || n != len(doc)-1 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("members %q (length %d, ok %v), want %q (%d)", got, n, ok, want, len(doc)-1)
	}
	// Names it cannot match exactly, and objects that are not valid JSON.
	for _, doc := range []string{`{"a\u0062":1}`, `[1]`, `"s"`, ``, `{"a":1 "c":2}`, `{"a":1,}`, `{"a" 1}`, `{"a":1,,"c":2}`,
		`{"b":[1,]}`, `{"b":01}`, `{"a":"\x"}`, `{"b":{"x":1 "y":2}}`, `{"a":tru}`, `{"a":1`, `{,"a":1}`} {
		if _, ok := DecodeLeading([]byte(doc), acd, collect); ok {
			t.Errorf("%s: the walk says it read an object it cannot decode exactly", doc)
		}
	}
	var s Seen
	if !s.First(3) || s.First(3) || !s.Has(3) || s.Has(2) {
		t.Error("Seen does not track members")
	}
}

// An array's elements and a page's array are decoded where they stand:
// each decoder reads from the start of the rest of the document and says
// where its value ended.
func TestLeadingValuesEndWhereTheyEnd(t *testing.T) {
	names := Names{"a", "b"}
	for _, c := range []struct {
		doc string
		n   int
		ok  bool
	}{
		{`{"a":1} , {"b":2}]`, 7, true},
		{`{ "a" : {"x":"}"} , "z":[1,{}] }]`, 32, true},
		{`{}]`, 2, true},
		{`{"a":1,"a":2}]`, 0, false}, // a repeated member: encoding/json decodes that
		{`[1]]`, 0, false},
	} {
		var got []string
		n, ok := DecodeLeading([]byte(c.doc), names, func(i int, rest []byte) (int, bool) {
			v, ok := Leading(rest)
			got = append(got, names[i]+"="+string(v))
			return len(v), ok
		})
		if n != c.n || ok != c.ok {
			t.Errorf("%s: length %d ok %v (members %q), want %d %v", c.doc, n, ok, got, c.n, c.ok)
		}
	}
	type entry struct{ A, B string }
	decode := func(e *entry, rest []byte) (int, bool) {
		return DecodeLeading(rest, names, func(i int, rest []byte) (int, bool) {
			v, ok := Leading(rest)
			*[]*string{&e.A, &e.B}[i] = string(v)
			return len(v), ok
		})
	}
	for _, c := range []struct {
		body string
		want []entry
		ok   bool
	}{
		{`{"a":[ {"a":"1"} , {"b":"2","c":{"a":3}} ],"b":"x"}`, []entry{{A: `"1"`}, {B: `"2"`}}, true},
		{`{"b":"x","a":[]}`, []entry{}, true},
		{`{"a":null}`, nil, true},
		{`{"a":[{"a":1},2]}`, nil, false}, // an element that is not an object
		{`{"b":"x"}`, nil, false},         // no array: not a page
		// Not valid JSON: the walk finds it, with no pass of json.Valid.
		{`{"a":[{"a":"1"}] "b":"x"}`, nil, false}, {`{"a":[{"a":"1"},],"b":"x"}`, nil, false},
		{`{"a":[{"a":"1"} {"a":"2"}]}`, nil, false}, {`{"a":[],"b":"x"} x`, nil, false}, {`{"a":[],"b":"x"`, nil, false},
		{`{"a":[],"b":[1 2]}`, nil, false}, {`{"a":[],"c":-}`, nil, false}, {`{"a":[{"a":"1","c":"\q"}]}`, nil, false},
		{`{"a":[]}` + "\n", []entry{}, true},
	} {
		room := make([]entry, 0, 4) // pages come with room, as the clients make them
		var page struct{ items *[]entry }
		page.items = &room
		var others []string
		ok := DecodePage([]byte(c.body), &page, func(p *struct{ items *[]entry }) **[]entry { return &p.items }, decode, names,
			func(_ *struct{ items *[]entry }, i int, v []byte) bool {
				others = append(others, string(v))
				return true
			})
		var got []entry
		if page.items != nil {
			got = *page.items
		}
		if ok != c.ok || ok && !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: ok %v, entries %+v; want %v %+v", c.body, ok, got, c.ok, c.want)
		}
		if c.ok && strings.Contains(c.body, `"b":"x"`) && (len(others) != 1 || others[0] != `"x"`) {
			t.Errorf("%s: the other members %q", c.body, others)
		}
	}
}

// A pointer member decodes where it stands: null leaves it nil, an object
// is decoded into a new value, anything else gives way. A value member
// (ValueLeading) reads the same, null leaving it as it was.
func TestPointerAndValueLeading(t *testing.T) {
	type pair struct{ A, B String }
	names := Names{"a", "b"}
	decode := func(p *pair, rest []byte) (int, bool) {
		return DecodeLeading(rest, names, func(i int, rest []byte) (int, bool) {
			return []*String{&p.A, &p.B}[i].ShareLeading(rest)
		})
	}
	for _, c := range []struct {
		rest string
		n    int
		ok   bool
		want *pair
	}{
		{`null,"x":1}`, 4, true, nil},
		{`{"a":"1","b":"\u0032"},"x":1}`, 22, true, &pair{"1", "2"}},
		{`{ "b" : "x" } }`, 13, true, &pair{B: "x"}},
		{`[1],"x":1}`, 0, false, &pair{}},
		{`"s"}`, 0, false, &pair{}},
	} {
		var p *pair
		n, ok := PointerLeading([]byte(c.rest), &p, decode)
		if ok != c.ok || ok && (n != c.n || !reflect.DeepEqual(p, c.want)) {
			t.Errorf("%s: %d bytes, ok %v, decoded %+v; want %d %v %+v", c.rest, n, ok, p, c.n, c.ok, c.want)
		}
		// As encoding/json decodes into a value that already holds one.
		v, want := pair{A: "before"}, pair{A: "before"}
		if c.ok {
			if err := json.Unmarshal([]byte(c.rest[:c.n]), &want); err != nil {
				t.Fatal(err)
			}
		}
		n, ok = ValueLeading([]byte(c.rest), &v, decode)
		if ok != c.ok || ok && (n != c.n || v != want) {
			t.Errorf("value %s: %d bytes, ok %v, decoded %+v; want %d %v %+v", c.rest, n, ok, v, c.n, c.ok, want)
		}
	}
}

// The fast path itself is sure of the documents a page holds, null and
// an absent key among them, and gives way only where it must.
func TestScanArraySure(t *testing.T) {
	for _, c := range []struct {
		doc   string
		elems int
		found bool
		ok    bool
	}{
		{`{"content":null}`, 0, false, true},
		{` { "content" : null , "nextPageToken" : "t" } `, 0, false, true},
		{`{"pg":{"last":"x"},"content":null,"x":[1,2]}`, 0, false, true},
		{`{"other":[1]}`, 0, false, true},
		{`{"content":[1,{"a":null}],"x":null}`, 2, true, true},
		{`{"content":[]}`, 0, true, true},
		{`{"con\u0074ent":[4]}`, 0, false, false},
		{`{"content":[1],"content":[2]}`, 0, false, false},
	} {
		elems, found, ok := scanArray([]byte(c.doc), "content")
		if ok != c.ok || ok && (found != c.found || len(elems) != c.elems) {
			t.Errorf("%s: %d elements, found %v, ok %v; want %d, %v, %v", c.doc, len(elems), found, ok, c.elems, c.found, c.ok)
		}
	}
}
