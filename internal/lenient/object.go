package lenient

import (
	"bytes"
	"strings"
)

// Hand-written decoders for the hot entry types (the audit logs of both
// products) read a page in one pass over its bytes, without reflection.
// They are a fast path, never the only one: where a page holds anything
// they cannot decode exactly as encoding/json would (a member name with an
// escape, in another case, or repeated; a value of an unexpected type), they
// give way and encoding/json decodes the page as before. The fuzz tests hold
// both paths to the same result.

// Members walks the members of the JSON object obj, which must be valid
// JSON (see Valid). Call Next until it returns false, then OK.
func Members(obj []byte) Object {
	i := skipSpace(obj, 0)
	o := Object{doc: obj, ok: i < len(obj) && obj[i] == '{'}
	if o.ok {
		o.i = skipSpace(obj, i+1)
	}
	return o
}

// Object is a walk over one JSON object's members.
type Object struct {
	doc []byte
	i   int
	ok  bool
}

// Next returns the next member: its name as written between the quotes,
// and its value. It returns false at the end of the object or when the
// walk cannot go on (see OK).
func (o *Object) Next() (name, value []byte, more bool) {
	if !o.ok || o.i >= len(o.doc) || o.doc[o.i] != '"' {
		return nil, nil, false
	}
	end := skipValue(o.doc, o.i)
	name = o.doc[o.i+1 : end-1]
	if bytes.IndexByte(name, '\\') >= 0 {
		o.ok = false // encoding/json would match the unescaped name
		return nil, nil, false
	}
	i := skipSpace(o.doc, skipSpace(o.doc, end)+1) // past ':'
	end = skipValue(o.doc, i)
	value = o.doc[i:end:end]
	if o.i = skipSpace(o.doc, end); o.i < len(o.doc) && o.doc[o.i] == ',' {
		o.i = skipSpace(o.doc, o.i+1)
	}
	return name, value, true
}

// OK reports whether the walk read the whole object: false when obj was
// not an object or a name held an escape.
func (o *Object) OK() bool {
	return o.ok && o.i < len(o.doc) && o.doc[o.i] == '}'
}

// Elements calls f with each element of the JSON array arr, valid JSON, in
// order, until f returns false. It returns false when arr is not an array
// or f returned false.
func Elements(arr []byte, f func(elem []byte) bool) bool {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return false
	}
	for i = skipSpace(arr, i+1); i < len(arr) && arr[i] != ']'; {
		end := skipValue(arr, i)
		if !f(arr[i:end:end]) {
			return false
		}
		if i = skipSpace(arr, end); i < len(arr) && arr[i] == ',' {
			i = skipSpace(arr, i+1)
		}
	}
	return i < len(arr)
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

// IsNull reports whether a valid JSON value is null.
func IsNull(v []byte) bool { return len(v) == 4 && string(v) == "null" }

// DecodePointer decodes a member that is a pointer to a struct, as
// encoding/json does: null leaves *p nil, an object is decoded into a new
// one through decode, anything else is encoding/json's type error, which
// decode (a DecodeObject) reports as false.
func DecodePointer[T any](v []byte, p **T, decode func(*T, []byte) bool) bool {
	if IsNull(v) {
		return true
	}
	*p = new(T)
	return decode(*p, v)
}

// DecodeArray decodes the JSON array v (valid JSON) into *items, one
// element at a time through decode, filling the room *items already has.
// null leaves *items nil, as encoding/json would. When decode gives way it
// returns false and leaves *items as it was, but its room may hold what was
// decoded: ClearRoom it before encoding/json decodes into it.
func DecodeArray[T any](v []byte, items **[]T, decode func(e *T, raw []byte) bool) bool {
	if IsNull(v) {
		*items = nil
		return true
	}
	var room []T
	if *items != nil {
		room = (**items)[:0]
	}
	out := room
	if !Elements(v, func(raw []byte) bool {
		var zero T
		out = append(out, zero)
		return decode(&out[len(out)-1], raw)
	}) {
		return false
	}
	*items = &out
	return true
}

// ClearRoom zeroes the whole room of *items (nil: nothing), which a fast
// decoder that gave way may have filled: encoding/json decodes into a
// slice's room without zeroing it first.
func ClearRoom[T any](items *[]T) {
	if items != nil {
		clear((*items)[:cap(*items)])
	}
}

// DecodeObject walks the object doc (valid JSON) and hands each member it
// knows to set, with the member's index in names. It returns the members
// seen, and false when the walk gives way (see Members), a known member
// repeats, or set returns false.
func DecodeObject(doc []byte, names Names, set func(i int, v []byte) bool) (Seen, bool) {
	var seen Seen
	o := Members(doc)
	for name, v, more := o.Next(); more; name, v, more = o.Next() {
		i, ok := names.Index(name)
		if !ok || i >= 0 && (!seen.First(i) || !set(i, v)) {
			return seen, false
		}
	}
	return seen, o.OK()
}

// DecodePage is a page's DecodeFast: body must be valid JSON, an object
// whose members set accepts (see DecodeObject), among them names[0], the
// page's array, which items points at. set decodes into a copy of *page
// that replaces it only then; otherwise the array's room is cleared for
// encoding/json.
func DecodePage[P, T any](body []byte, page *P, items func(*P) **[]T, names Names, set func(q *P, i int, v []byte) bool) bool {
	if !Valid(body) {
		return false
	}
	q := *page
	seen, ok := DecodeObject(body, names, func(i int, v []byte) bool { return set(&q, i, v) })
	if !ok || !seen.Has(0) {
		ClearRoom(*items(page))
		return false
	}
	*page = q
	return true
}
