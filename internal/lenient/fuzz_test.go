package lenient

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2025-02-25T14:52:10.903Z", "2025-02-25T14:52:10", "1713528322000", "1713528322", "2025-02-25", "12/10/2023, 6:49:07 AM UTC", "-1e12", "", "000000000000001", "999999999999999", "1000000000000000", "99999999999", "100000000000", "100000000001", "0", "+5", " 42 ", "1e3", "9007199254740993"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, ok := ParseTime(s)
		if want, wantOK := parseTimeText(strings.TrimSpace(s)); ok != wantOK || !tm.Equal(want) {
			t.Fatalf("%q: %v, %v; reading numbers with ParseFloat alone gives %v, %v", s, tm, ok, want, wantOK)
		}
		if !ok {
			return
		}
		if tm.Location() != time.UTC {
			t.Fatalf("%q parsed to a non-UTC time", s)
		}
		again, ok := ParseTime(tm.Format(time.RFC3339Nano))
		if tm.Year() >= 0 && tm.Year() <= 9999 && (!ok || !again.Equal(tm)) {
			t.Fatalf("%q: %v does not round-trip", s, tm)
		}
	})
}

func FuzzScalars(f *testing.F) {
	for _, s := range []string{`"x"`, `12`, `null`, `{"a":1}`, `[1,"2"]`, `true`, `"42"`, `7.0`, `"a\"b"`, "\"\xff\"", `"\u00e9t\u00e9"`, `"000000000000042"`, `999999999999999`, `1000000000000000`, `"+7"`, `" 8 "`,
		"\"caf\xc3\xa9 au lait\"", "\"0123456789\xffabc\"", "\"\xc3\xa9\\n\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		var s String
		var n Int
		var v Bool
		var tm Time
		for _, target := range []json.Unmarshaler{&s, &n, &v, &tm} {
			if err := target.UnmarshalJSON(b); err != nil {
				t.Fatalf("valid JSON %q refused: %v", b, err)
			}
		}
		// Integers read as strconv reads them (see smallDecimal).
		if want := intByStrconv(string(s)); n != want {
			t.Fatalf("%q: Int %+v, strconv %+v", b, n, want)
		}
		// Strings decode as encoding/json decodes them.
		var want string
		if json.Unmarshal(b, &want) == nil && string(s) != want {
			t.Fatalf("%q: String %q, encoding/json %q", b, s, want)
		}
		// ShareJSON decodes as UnmarshalJSON does; UnmarshalJSON keeps a
		// copy (encoding/json's contract), so overwriting b leaves it as is.
		var shared String
		if err := shared.ShareJSON(b); err != nil || shared != s {
			t.Fatalf("%q: ShareJSON %q (%v), UnmarshalJSON %q", b, shared, err, s)
		}
		leadingAgrees(t, b)
		before := string(s)
		clear(b)
		if string(s) != before {
			t.Fatalf("UnmarshalJSON kept the caller's memory: %q became %q", before, s)
		}
		_ = JSONText(b, new(string))
		_ = JSONColumn(b)
	})
}

// leadingAgrees checks that the Leading readers decode the valid JSON b,
// followed by more of its document, as UnmarshalJSON decodes b alone, and
// end where b ends.
func leadingAgrees(t *testing.T, b []byte) {
	t.Helper()
	v := bytes.TrimSpace(b)
	rest := append(bytes.Clone(v), `,"more"]`...)
	var s, ls String
	var n, ln Int
	var x, lx Bool
	var tm, ltm Time
	var raw json.RawMessage
	for _, c := range []struct {
		unmarshal json.Unmarshaler
		leading   func([]byte) (int, bool)
	}{
		{&s, ls.ShareLeading}, {&n, ln.Leading}, {&x, lx.Leading}, {&tm, ltm.Leading},
		{new(json.RawMessage), func(r []byte) (int, bool) { return RawLeading(r, &raw) }},
	} {
		if err := c.unmarshal.UnmarshalJSON(v); err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if got, ok := c.leading(rest); got != len(v) || !ok {
			t.Fatalf("%q: a Leading reader read %d bytes (ok %v), want %d", rest, got, ok, len(v))
		}
	}
	if ls != s || ln != n || lx != x || !ltm.Equal(tm.Time) || string(raw) != string(v) {
		t.Fatalf("%q: Leading read %q %v %v %v %s, UnmarshalJSON %q %v %v %v", v, ls, ln, lx, ltm, raw, s, n, x, tm)
	}
}
