// Package lenient decodes JSON fields whose types public material does not
// pin down: a value of an unexpected type becomes text or null instead of
// failing the whole page. Entries keep their raw JSON besides.
package lenient

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// String is a JSON scalar read as text: strings as they are, numbers and
// booleans in their JSON spelling, null as "", objects and arrays as JSON.
type String string

// UnmarshalJSON never fails for valid JSON.
func (s *String) UnmarshalJSON(b []byte) error { return s.decode(b, false) }

// ShareJSON decodes b as UnmarshalJSON does, but a string without escapes
// (nearly every one) keeps b's memory instead of a copy: for the fast
// decoders of a response body, which nothing writes to once it is read
// (httpx.Send copies it out of its read buffer, and entries keep slices of
// it as their raw JSON already). b must never change afterwards.
func (s *String) ShareJSON(b []byte) error { return s.decode(b, true) }

func (s *String) decode(b []byte, share bool) error {
	b = bytes.TrimSpace(b)
	switch text, plain := plainText(b); {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case plain && len(text) == len(b)-2: // the string is the whole of b
		if share {
			*s = String(shared(text))
		} else {
			*s = String(text)
		}
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = String(v)
	case share:
		*s = String(shared(b))
	default:
		*s = String(b)
	}
	return nil
}

// ShareLeading decodes, as ShareJSON does, the value at the start of rest
// (see DecodeLeading) and returns its length.
func (s *String) ShareLeading(rest []byte) (int, bool) {
	v, text, err := leadingText(rest)
	if err != nil {
		return 0, false
	}
	*s = text
	return len(v), true
}

// leadingText reads the value at the start of rest (JSON that may go on
// after it) as ShareJSON reads a value: it returns the value and its text,
// which shares rest's memory, or errNotJSON when the value is not valid
// JSON. A string without escapes (nearly
// every one) takes one pass over its bytes: finding its end finds that it
// has none.
func leadingText(rest []byte) (v []byte, text String, err error) {
	if text, ok := plainText(rest); ok {
		n := len(text) + 2 // and its quotes
		return rest[:n:n], String(shared(text)), nil
	}
	v, ok := Leading(rest)
	if !ok {
		return nil, "", errNotJSON
	}
	err = text.ShareJSON(v)
	return v, text, err
}

// errNotJSON is a leading value that is not valid JSON: the fast decoder
// gives way, and encoding/json refuses the page.
var errNotJSON = errors.New("not valid JSON")

// RawLeading stores the value at the start of rest at p, as encoding/json
// stores a json.RawMessage member but sharing rest's memory, and returns
// its length (see DecodeLeading).
func RawLeading(rest []byte, p *json.RawMessage) (int, bool) {
	v, ok := Leading(rest)
	*p = v
	return len(v), ok
}

// unmarshal is UnmarshalJSON for a type parsed from text that it keeps
// nothing of (numbers, booleans, times in UTC): parse reads b's text,
// which shares b's memory.
func unmarshal(b []byte, parse func(String)) error {
	var s String
	err := s.decode(b, true)
	if err == nil {
		parse(s)
	}
	return err
}

// leading is unmarshal for the value at the start of rest (see
// DecodeLeading): it returns the value's length.
func leading(rest []byte, parse func(String)) (int, bool) {
	v, s, err := leadingText(rest)
	if err == nil {
		parse(s)
	}
	return len(v), err == nil
}

// plainText returns the text of the JSON string at the start of rest (JSON
// that may go on after it) when that text is the bytes between its quotes,
// as encoding/json would decode it: no escape sequence, no control
// character (so the string is valid JSON) and valid UTF-8. Finding where
// the string ends finds whether it has an escape, and whether it is ASCII:
// one pass over its bytes, and a second (utf8.Valid) only for text that is
// not ASCII.
func plainText(rest []byte) (text []byte, ok bool) {
	if len(rest) == 0 || rest[0] != '"' {
		return nil, false
	}
	end := asciiRun(rest, 1)
	ascii := end >= len(rest) || rest[end] < 0x80
	if !ascii {
		end = textRun(rest, end)
	}
	if end >= len(rest) || rest[end] != '"' || !ascii && !utf8.Valid(rest[1:end]) {
		return nil, false
	}
	return rest[1:end:end], true
}

// Int is a JSON number or numeric string; anything else leaves it unset.
type Int struct {
	Value int64
	Valid bool
}

// UnmarshalJSON never fails for valid JSON.
func (n *Int) UnmarshalJSON(b []byte) error { return unmarshal(b, n.parse) }

// Leading decodes, as UnmarshalJSON does, the value at the start of rest
// (see DecodeLeading) and returns its length.
func (n *Int) Leading(rest []byte) (int, bool) { return leading(rest, n.parse) }

func (n *Int) parse(s String) {
	if v, ok := smallDecimal(string(s)); ok {
		*n = Int{Value: v, Valid: true}
		return
	}
	*n = intByStrconv(string(s))
}

// intByStrconv is Int's reading of any text with strconv: an integer, or a
// number with no fraction. smallDecimal is a faster path to the same
// answer, which FuzzScalars holds it to.
func intByStrconv(s string) Int {
	text := strings.TrimSpace(s)
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		if f, ferr := strconv.ParseFloat(text, 64); ferr == nil && f == float64(int64(f)) {
			v, err = int64(f), nil
		}
	}
	return Int{Value: v, Valid: err == nil}
}

// Ptr returns nil when unset, for nullable columns.
func (n Int) Ptr() *int64 { return n.In(new(int64)) }

// In is Ptr with the value stored at p, which the caller provides (a field
// of the row the pointer goes into, so that a row is one allocation).
func (n Int) In(p *int64) *int64 {
	if !n.Valid {
		return nil
	}
	*p = n.Value
	return p
}

// Bool is a JSON boolean or "true"/"false"; anything else leaves it unset.
type Bool struct {
	Value bool
	Valid bool
}

// UnmarshalJSON never fails for valid JSON.
func (v *Bool) UnmarshalJSON(b []byte) error { return unmarshal(b, v.parse) }

// Leading decodes, as UnmarshalJSON does, the value at the start of rest
// (see DecodeLeading) and returns its length.
func (v *Bool) Leading(rest []byte) (int, bool) { return leading(rest, v.parse) }

func (v *Bool) parse(s String) {
	x, err := strconv.ParseBool(strings.TrimSpace(string(s)))
	*v = Bool{Value: x, Valid: err == nil}
}

// Ptr returns nil when unset, for nullable columns.
func (v Bool) Ptr() *bool {
	if !v.Valid {
		return nil
	}
	x := v.Value
	return &x
}

// Time is a timestamp that accepts ISO 8601 strings (with or without zone,
// with any fraction) and epoch numbers (milliseconds, or seconds when small).
// An unreadable value leaves it zero; the entry's raw JSON keeps the text.
type Time struct{ time.Time }

// UnmarshalJSON never fails for valid JSON.
func (t *Time) UnmarshalJSON(b []byte) error { return unmarshal(b, t.parse) }

// Leading decodes, as UnmarshalJSON does, the value at the start of rest
// (see DecodeLeading) and returns its length.
func (t *Time) Leading(rest []byte) (int, bool) { return leading(rest, t.parse) }

func (t *Time) parse(s String) { t.Time, _ = ParseTime(string(s)) }

// Ptr returns nil for the zero time, for nullable columns.
func (t Time) Ptr() *time.Time { return t.In(new(time.Time)) }

// Ref is Ptr without a copy: nil for the zero time, else t's own time,
// valid as long as t is (an entry's time while its page is read, say).
func (t *Time) Ref() *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t.Time
}

// In is Ptr with the time stored at p, which the caller provides (see
// Int.In).
func (t Time) In(p *time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	*p = t.Time
	return p
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTime reads the timestamp forms the APIs are known or guessed to use.
// Times without a zone are UTC.
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if n, ok := smallDecimal(s); ok {
		return epoch(float64(n)), true
	}
	return parseTimeText(s)
}

// parseTimeText is ParseTime for trimmed text, reading epoch numbers with
// strconv.ParseFloat: smallDecimal is a faster path to the same answer,
// which FuzzParseTime holds it to.
func parseTimeText(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	// Dates have a '-' or ':'; ParseFloat's error would cost an allocation.
	if strings.IndexByte(s, '-') < 0 && strings.IndexByte(s, ':') < 0 {
		if n, err := strconv.ParseFloat(s, 64); err == nil {
			return epoch(n), true
		}
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// epoch is an epoch number's time: milliseconds, or seconds when small.
func epoch(n float64) time.Time {
	if n > 1e11 || n < -1e11 {
		return time.UnixMilli(int64(n)).UTC()
	}
	return time.Unix(int64(n), 0).UTC()
}

// smallDecimal reads s when it is nothing but decimal digits, few enough
// (15) that a float64 holds the number exactly, so that it reads as
// strconv.ParseFloat and ParseInt would without their cost: every Make
// entry's triggeredAt and IDs are such numbers, and those two were a tenth
// of the time its decoder took for one.
func smallDecimal(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 15 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + int64(d)
	}
	return n, true
}

// JSONText returns a value as text, stored at p, which the caller provides
// (see Int.In): a JSON string unquoted, anything else as its JSON; absent
// or null is nil, with p untouched.
func JSONText(b json.RawMessage, p *string) *string {
	t := bytes.TrimSpace(b)
	if len(t) == 0 || string(t) == "null" {
		return nil
	}
	var s String
	if s.UnmarshalJSON(t) != nil {
		return nil
	}
	*p = string(s)
	return p
}

// JSONColumn returns raw JSON for a Steampipe JSON column; absent or null is
// nil. The SDK passes a string through to a JSON column as it is, so entries
// are never decoded into maps and encoded again.
//
// The text shares b's memory, as ShareJSON does (the SDK copies a JSON
// column's text into the row it sends, so a copy here would be a second
// one): b must never change afterwards. Every caller passes raw JSON that
// nothing writes to: slices of a response body, or encoding/json's own
// copies.
func JSONColumn(b json.RawMessage) any {
	if t := JSONBytes(b); t != nil {
		return shared(t)
	}
	return nil
}

// shared is b as a string without a copy; b must never change afterwards.
func shared(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// JSONBytes is the JSON a JSON column shows for b, without copying it:
// b without surrounding space; nil when absent or null.
func JSONBytes(b json.RawMessage) []byte {
	t := bytes.TrimSpace(b)
	if len(t) == 0 || string(t) == "null" {
		return nil
	}
	return t
}
