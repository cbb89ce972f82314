package lenient

import (
	"encoding/json"
	"testing"
	"time"
	"unsafe"
)

func TestLenientScalars(t *testing.T) {
	var v struct {
		S1, S2, S3, S4 String
		I1, I2, I3     Int
		B1, B2         Bool
		T1, T2         Time
	}
	in := `{"S1":"x","S2":12,"S3":null,"S4":{"a":1},"I1":"42","I2":7.0,"I3":"n/a","B1":"true","B2":3,"T1":1713528322000,"T2":"2024-04-19T12:05:22.000Z"}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if v.S1 != "x" || v.S2 != "12" || v.S3 != "" || v.S4 != `{"a":1}` {
		t.Errorf("strings %+v", v)
	}
	if v.I1.Value != 42 || !v.I1.Valid || v.I2.Value != 7 || v.I3.Valid || v.I3.Ptr() != nil {
		t.Errorf("ints %+v %+v %+v", v.I1, v.I2, v.I3)
	}
	if !v.B1.Value || v.B2.Valid {
		t.Errorf("bools %+v %+v", v.B1, v.B2)
	}
	if !v.T1.Equal(v.T2.Time) {
		t.Errorf("times %v %v", v.T1, v.T2)
	}
	if JSONText(json.RawMessage(`null`), new(string)) != nil || *JSONText(json.RawMessage(`"a"`), new(string)) != "a" || *JSONText(json.RawMessage(`[1]`), new(string)) != "[1]" {
		t.Error("JSONText")
	}
}

// The fast decoders' text keeps the body's memory: no allocation a field;
// a JSON column's text is the body's bytes too.
func TestShareJSONKeepsTheBodysMemory(t *testing.T) {
	body := []byte(` "user-1" `)
	var s String
	if allocs := testing.AllocsPerRun(100, func() { s.ShareJSON(body) }); allocs != 0 || s != "user-1" {
		t.Fatalf("ShareJSON: %q in %v allocations", s, allocs)
	}
	if unsafe.StringData(string(s)) != &body[2] {
		t.Error("ShareJSON copied the text")
	}
	var n Int
	var b Bool
	var tm Time
	in := [][]byte{[]byte(`"42"`), []byte(`"true"`), []byte(`"2024-04-19T12:05:22.000Z"`)}
	if allocs := testing.AllocsPerRun(100, func() {
		n.UnmarshalJSON(in[0])
		b.UnmarshalJSON(in[1])
		tm.UnmarshalJSON(in[2])
	}); allocs != 0 || n.Value != 42 || !b.Value || tm.IsZero() {
		t.Errorf("numbers, booleans and times: %v allocations, %+v %+v %v", allocs, n, b, tm)
	}
	raw := json.RawMessage(` {"a":1} `)
	col, _ := JSONColumn(raw).(string)
	if col != `{"a":1}` || unsafe.StringData(col) != &raw[1] {
		t.Errorf("JSONColumn %q: not the raw bytes", col)
	}
	// A string with escapes still decodes to its text, a copy.
	esc := []byte(`"a\"b"`)
	if s.ShareJSON(esc); s != `a"b` {
		t.Errorf("escaped string: %q", s)
	}
}

// In stores a set value at the place it is given and returns that place;
// an unset one leaves the place alone and is nil, as Ptr is.
func TestInStoresWhereItIsTold(t *testing.T) {
	var n int64 = -1
	if p := (Int{Value: 7, Valid: true}).In(&n); p != &n || n != 7 {
		t.Errorf("Int.In: %p %d, want %p 7", p, n, &n)
	}
	if p := (Int{Value: 8}).In(&n); p != nil || n != 7 || (Int{}).Ptr() != nil {
		t.Errorf("unset Int.In: %v, place %d", p, n)
	}
	at := time.Date(2024, 5, 24, 14, 22, 16, 0, time.UTC)
	var tm time.Time
	if p := (Time{at}).In(&tm); p != &tm || !tm.Equal(at) {
		t.Errorf("Time.In: %v %v", p, tm)
	}
	if p := (Time{}).In(&tm); p != nil || !tm.Equal(at) || (Time{}).Ptr() != nil {
		t.Errorf("zero Time.In: %v, place %v", p, tm)
	}
	if p := (Time{at}).Ptr(); p == nil || !p.Equal(at) {
		t.Errorf("Time.Ptr: %v", p)
	}
	txt := "kept"
	if p := JSONText(json.RawMessage(`"a\"b"`), &txt); p != &txt || txt != `a"b` {
		t.Errorf("JSONText: %v %q", p, txt)
	}
	for _, b := range []string{``, `null`, ` null `, `"unterminated`} {
		if p := JSONText(json.RawMessage(b), &txt); p != nil || txt != `a"b` {
			t.Errorf("JSONText(%q): %v, place %q", b, p, txt)
		}
	}
}

// Ref points at the time itself, not a copy, and is nil for the zero time.
func TestTimeRef(t *testing.T) {
	v := Time{time.Date(2024, 5, 24, 14, 22, 16, 0, time.UTC)}
	if p := v.Ref(); p != &v.Time {
		t.Errorf("Ref: %p, want %p", p, &v.Time)
	}
	if p := (&Time{}).Ref(); p != nil {
		t.Errorf("zero Time.Ref: %v", p)
	}
}
