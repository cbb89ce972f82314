package lenient

import "strings"

// Hand-written decoders for the hot entry types (the audit logs of both
// products) read a page in one pass over its bytes, without reflection,
// and check as they go that the page is valid JSON, as json.Valid would:
// what they read they parse by JSON's grammar, and what they skip
// (members they do not know, raw values) they check with validValue. They
// are a fast path, never the only one: where a page holds anything they
// cannot decode exactly as encoding/json would (a member name with an
// escape, in another case, or repeated; a value of an unexpected type;
// anything not valid JSON), they give way and encoding/json decodes the
// page as before, or refuses it. The fuzz tests hold both paths to the
// same result.

// memberDepth is how deep a value the decoders skip or keep raw may nest:
// below encoding/json's limit by more than the decoders' own nesting, so
// that a value json.Valid would refuse for its depth is never taken (one
// nested deeper than this gives way to encoding/json, which decides).
const memberDepth = maxDepth - 16

// open starts a walk over the members of the JSON object at the start of
// obj: decodeMembers reads them, then OK. (It fills o in place: a 40-byte
// Object returned by value cost 7% of the Make decoder's benchmark.)
func (o *Object) open(obj []byte) {
	i := skipSpace(obj, 0)
	*o = Object{doc: obj, ok: i < len(obj) && obj[i] == '{'}
	if o.ok {
		o.i = skipSpace(obj, i+1)
	}
}

// Object is a walk over one JSON object's members.
type Object struct {
	doc   []byte
	i     int
	ok    bool
	after bool // a member has been read
	comma bool // and a comma followed it
}

// name reads the next member's name and its colon and returns where its
// value starts; the walk goes on once resume is told where the value ends.
func (o *Object) name() (name []byte, value int, more bool) {
	switch {
	case !o.ok || o.i >= len(o.doc) || o.doc[o.i] != '"':
		return nil, 0, false // the end of the object, if OK
	case o.after && !o.comma:
		o.ok = false // a name without a comma before it: not valid JSON
		return nil, 0, false
	}
	end := textRun(o.doc, o.i+1)
	if end >= len(o.doc) || o.doc[end] != '"' {
		o.ok = false // an escape: encoding/json would match the unescaped name
		return nil, 0, false
	}
	colon := skipSpace(o.doc, end+1)
	if colon >= len(o.doc) || o.doc[colon] != ':' {
		o.ok = false
		return nil, 0, false
	}
	return o.doc[o.i+1 : end], skipSpace(o.doc, colon+1), true
}

// resume moves the walk past a member whose value ends at end.
func (o *Object) resume(end int) {
	o.after, o.comma = true, false
	if o.i = skipSpace(o.doc, end); o.i < len(o.doc) && o.doc[o.i] == ',' {
		o.i, o.comma = skipSpace(o.doc, o.i+1), true
	}
}

// OK reports whether the walk read the whole object: false when obj was
// not an object, a name held an escape, or the object was not valid JSON.
func (o *Object) OK() bool {
	return o.ok && !o.comma && o.i < len(o.doc) && o.doc[o.i] == '}'
}

// leadingArray walks the array at the start of doc (JSON that may go on
// after it) and hands f each element with the rest of the array after it:
// f reads the element at the start and returns its length, so that an
// element decoded there is not scanned a second time only to find where it
// ends. It returns the array's length, or false when doc does not start
// with an array, the array is not valid JSON between its elements (a
// missing or trailing comma), or f returned false.
func leadingArray(doc []byte, f func(rest []byte) (n int, ok bool)) (int, bool) {
	i := skipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '[' {
		return 0, false
	}
	if i = skipSpace(doc, i+1); i < len(doc) && doc[i] == ']' {
		return i + 1, true
	}
	for {
		if i >= len(doc) {
			return 0, false
		}
		n, ok := f(doc[i:])
		if !ok || n <= 0 {
			return 0, false
		}
		if i = skipSpace(doc, i+n); i >= len(doc) {
			return 0, false
		}
		switch doc[i] {
		case ']':
			return i + 1, true
		case ',':
			i = skipSpace(doc, i+1)
		default:
			return 0, false
		}
	}
}

// Names are the member names a fast decoder knows, each at the index its
// decoder switches on (at most 64).
type Names []string

// Index returns the index of name in n, or -1 for a name the decoder does
// not know and encoding/json would ignore too. ok is false when
// encoding/json would match name to a known name spelled otherwise (it
// matches names without regard to case): the fast decoder must give way.
func (n Names) Index(name []byte) (i int, ok bool) {
	for i, known := range n {
		if string(name) == known {
			return i, true
		}
	}
	for _, known := range n {
		if strings.EqualFold(string(name), known) {
			return -1, false
		}
	}
	return -1, true
}

// Seen tracks which known members an object has had: encoding/json lets a
// repeated member overwrite (or, for objects, merge into) the first, which
// a fast decoder does not attempt.
type Seen uint64

// First records member i and reports whether it is its first time.
func (s *Seen) First(i int) bool {
	if *s&(1<<i) != 0 {
		return false
	}
	*s |= 1 << i
	return true
}

// Has reports whether member i has been seen.
func (s Seen) Has(i int) bool { return s&(1<<i) != 0 }

// PointerLeading decodes, as encoding/json does, a member that is a
// pointer to a struct, from the value at the start of rest (see
// DecodeLeading): null leaves *p nil, an object is decoded into a new one
// through decode (a DecodeLeading), where it stands, and anything else is
// encoding/json's type error, which decode reports as false.
func PointerLeading[T any](rest []byte, p **T, decode func(*T, []byte) (int, bool)) (int, bool) {
	if n := validLiteral(rest, 0, "null"); n > 0 {
		return n, true
	}
	*p = new(T)
	return decode(*p, rest)
}

// ValueLeading is PointerLeading for a member that is a struct value, not
// a pointer: null leaves *p as it is (encoding/json's "no effect"), an
// object is decoded into *p itself. A page of entries whose nested objects
// are values is one allocation, not one more for each nested object.
func ValueLeading[T any](rest []byte, p *T, decode func(*T, []byte) (int, bool)) (int, bool) {
	if n := validLiteral(rest, 0, "null"); n > 0 {
		return n, true
	}
	return decode(p, rest)
}

// decodeArray decodes the JSON array at the start of doc (JSON that may go
// on after it) into *items, one element at a time through decode,
// filling the room *items already has, and returns the array's length.
// decode reads the element at the start of rest (the element and the rest
// of the array) and returns its length, as DecodeLeading does. null leaves
// *items nil, as encoding/json would. When decode gives way it returns
// false and leaves *items as it was, but its room may hold what was
// decoded: ClearRoom it before encoding/json decodes into it.
func decodeArray[T any](doc []byte, items **[]T, decode func(e *T, rest []byte) (n int, ok bool)) (int, bool) {
	if validLiteral(doc, 0, "null") > 0 {
		*items = nil
		return 4, true
	}
	var room []T
	if *items != nil {
		room = (**items)[:0]
	}
	out := room
	n, ok := leadingArray(doc, func(rest []byte) (int, bool) {
		var zero T
		out = append(out, zero)
		return decode(&out[len(out)-1], rest)
	})
	if ok {
		*items = &out
	}
	return n, ok
}

// ClearRoom zeroes the whole room of *items (nil: nothing), which a fast
// decoder that gave way may have filled: encoding/json decodes into a
// slice's room without zeroing it first.
func ClearRoom[T any](items *[]T) {
	if items != nil {
		clear((*items)[:cap(*items)])
	}
}

// DecodeLeading decodes the object at the start of doc (JSON that may go
// on after it: an array element and the rest of its array, or a member's
// value and the rest of its object) and returns the object's
// length. Each member it knows, by its index in names, is decoded where it
// stands: set reads the value at the start of rest (the value and what
// follows it) and returns the value's length, so that no value is scanned
// once to find its end and again to decode it. Leading, PointerLeading,
// ValueLeading and the types' Leading methods are such readers. It
// returns false when the walk gives way (see Object.OK), a known member
// repeats, a member it does not know is not valid JSON, or set returns
// false: set must return false for a value that is not valid JSON, as the
// readers here do.
func DecodeLeading(doc []byte, names Names, set func(i int, rest []byte) (n int, ok bool)) (n int, ok bool) {
	_, n, ok = decodeMembers(doc, names, func(k, i int) (int, bool) {
		n, ok := set(k, doc[i:])
		return i + n, ok
	})
	return n, ok
}

// Leading returns the value at the start of rest, for a DecodeLeading
// reader that needs the whole value; false when it is not valid JSON (or
// nests deeper than memberDepth).
func Leading(rest []byte) ([]byte, bool) {
	end := validValue(rest, 0, memberDepth, false)
	if end < 0 {
		return nil, false
	}
	return rest[:end:end], true
}

// decodeMembers walks the object at the start of doc and,
// for each member it knows, calls value with the member's index in names
// and where its value starts in doc; value decodes it and returns where
// it ends. It returns the members seen and the object's length, or false
// as DecodeLeading does.
func decodeMembers(doc []byte, names Names, value func(k, i int) (end int, ok bool)) (Seen, int, bool) {
	var seen Seen
	var o Object
	o.open(doc)
	for {
		name, i, more := o.name()
		if !more {
			break
		}
		k, ok := names.Index(name)
		if !ok || k >= 0 && !seen.First(k) {
			return seen, 0, false
		}
		end := 0
		if k < 0 {
			// A member the decoder does not know.
			if end = validValue(doc, i, memberDepth, false); end < 0 {
				return seen, 0, false
			}
		} else if end, ok = value(k, i); !ok {
			return seen, 0, false
		}
		o.resume(end)
	}
	if !o.OK() {
		return seen, 0, false
	}
	return seen, o.i + 1, true
}

// DecodePage is a page's DecodeFast: body must be an object, valid JSON,
// whose members are read as DecodeLeading reads them, among them
// names[0], the page's array, which items points at. Its elements are
// decoded through decode (see decodeArray) where the array stands in the
// body, without a pass to find where it ends first; set decodes each of
// the other members from its whole value v. Both decode into a copy of
// *page that replaces it only then; otherwise the array's room is cleared
// for encoding/json. Whether the body is valid JSON is found in the same
// pass: nothing but space may follow the object.
func DecodePage[P, T any](body []byte, page *P, items func(*P) **[]T, decode func(e *T, rest []byte) (n int, ok bool),
	names Names, set func(q *P, i int, v []byte) bool) bool {
	q := *page
	seen, n, ok := decodeMembers(body, names, func(k, i int) (int, bool) {
		if k == 0 {
			n, ok := decodeArray(body[i:], items(&q), decode)
			return i + n, ok
		}
		v, ok := Leading(body[i:])
		return i + len(v), ok && set(&q, k, v)
	})
	if !ok || !seen.Has(0) || skipSpace(body, n) != len(body) {
		ClearRoom(*items(page))
		return false
	}
	*page = q
	return true
}
