package lenient

import "math/bits"

// maxDepth is encoding/json's limit on nesting: deeper JSON is not valid
// to it.
const maxDepth = 10000

// Text is JSON as bytes or as a string.
type Text interface{ ~string | ~[]byte }

// Valid reports whether b is valid JSON, exactly as json.Valid does (a
// fuzz target holds the two to the same answer), in one plain pass over
// the bytes: json.Valid's state machine calls a function for every byte,
// and was about half of the fast decoders' time.
func Valid[T Text](b T) bool {
	i := validValue(b, skipSpace(b, 0), maxDepth, false)
	return i >= 0 && skipSpace(b, i) == len(b)
}

// Plain reports whether b is valid JSON (as Valid judges it) that
// json.Compact and json.HTMLEscape would both leave as it is: no
// whitespace outside its strings, and none of <, >, &, U+2028 or U+2029 in
// them. It is one pass, as Valid is: a JSON column written verbatim is
// checked this way, once for every value a query writes.
func Plain[T Text](b T) bool { return validValue(b, 0, maxDepth, true) == len(b) }

// validValue checks the JSON value that starts at i, in which containers
// may nest depth deep, and returns the index just past it, or -1. If plain,
// the value must also be Plain: whitespace between tokens fails it, as a
// byte no value or punctuation starts with.
func validValue[T Text](b T, i, depth int, plain bool) int {
	var open [64]byte
	stack := open[:0] // '{' or '[' for each container the value is in
	for {
		// A value starts at i.
		if i < 0 || i >= len(b) {
			return -1
		}
		switch c := b[i]; c {
		case '{', '[':
			if len(stack) >= depth {
				return -1
			}
			stack = append(stack, c)
			if i = space(b, i+1, plain); i < len(b) && b[i] == c+2 { // '}' and ']' are 2 past '{' and '['
				stack = stack[:len(stack)-1]
				i++
				break // an empty container is a whole value
			}
			if c == '{' {
				i = validName(b, i, plain)
			}
			continue
		case '"':
			i = validString(b, i, plain)
		case 't':
			i = validLiteral(b, i, "true")
		case 'f':
			i = validLiteral(b, i, "false")
		case 'n':
			i = validLiteral(b, i, "null")
		default:
			i = validNumber(b, i)
		}
		// A value ended at i: close the containers it ends, then go on to
		// the next value.
		for {
			if i < 0 || len(stack) == 0 {
				return i
			}
			if i = space(b, i, plain); i >= len(b) {
				return -1
			}
			c := stack[len(stack)-1]
			if b[i] == c+2 {
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			if b[i] != ',' {
				return -1
			}
			if i = space(b, i+1, plain); c == '{' {
				i = validName(b, i, plain)
			}
			break
		}
	}
}

// Compact reports whether JSON b has no whitespace outside its strings, so
// that json.Compact would return it unchanged: the common case, since the
// APIs send compact JSON. It looks at every byte outside strings
// (punctuation, numbers and literals, few of them) and skips through
// strings, most of JSON, eight bytes at a time (textRun).
func Compact[T Text](b T) bool {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case ' ', '\n', '\t', '\r':
			return false
		case '"':
			for i = textRun(b, i+1); i < len(b) && b[i] != '"'; i = textRun(b, i+1) {
				if b[i] == '\\' {
					i++ // the escaped byte
				}
			}
		}
	}
	return true
}

// space skips the whitespace at i, unless plain, where there must be none.
// Compact JSON has none between most tokens: one test finds that.
func space[T Text](b T, i int, plain bool) int {
	if plain || i < len(b) && b[i] > ' ' {
		return i
	}
	return skipSpace(b, i)
}

// validName checks a member's name and colon at i and returns where its
// value starts, or -1.
func validName[T Text](b T, i int, plain bool) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i = validString(b, i, plain); i < 0 {
		return -1
	}
	if i = space(b, i, plain); i >= len(b) || b[i] != ':' {
		return -1
	}
	return space(b, i+1, plain)
}

// validString checks the string that starts at i (its opening quote) and
// returns the index past its closing quote, or -1. Like encoding/json it
// accepts any byte from 0x20 up, valid UTF-8 or not; if plain, none of <,
// >, &, U+2028 or U+2029 (plainString).
func validString[T Text](b T, i int, plain bool) int {
	if plain {
		return plainString(b, i)
	}
	for i = textRun(b, i+1); i < len(b); i = textRun(b, i+1) {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		default: // '\\': the escape is checked here, not by validEscape, which
			// the compiler does not inline (with it, Valid on a page of
			// entries was 7-11% slower)
			if i++; i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i = validHex(b, i); i < 0 {
					return -1
				}
			default:
				return -1
			}
		}
	}
	return -1
}

// plainString is validString for Plain: a string without the bytes
// json.HTMLEscape changes.
func plainString[T Text](b T, i int) int {
	for i = plainRun(b, i+1); i < len(b); i = plainRun(b, i+1) {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < 0x20, c == '<', c == '>', c == '&':
			return -1
		case c >= 0x80: // U+2028 and U+2029 are E2 80 A8 and E2 80 A9
			if c == 0xE2 && len(b)-i > 2 && b[i+1] == 0x80 && b[i+2]&^1 == 0xA8 {
				return -1
			}
		default: // '\\'
			if i = validEscape(b, i); i < 0 {
				return -1
			}
		}
	}
	return -1
}

// validEscape checks the escape whose backslash is at i and returns the
// index of its last byte, or -1.
func validEscape[T Text](b T, i int) int {
	if i++; i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i
	case 'u':
		return validHex(b, i)
	}
	return -1
}

// validHex checks the four hex digits after the u at i and returns the
// index of the last, or -1.
func validHex[T Text](b T, i int) int {
	if len(b)-i <= 4 {
		return -1
	}
	for _, h := range []byte{b[i+1], b[i+2], b[i+3], b[i+4]} {
		if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
			return -1
		}
	}
	return i + 4
}

const (
	lows  = 0x0101010101010101 // 0x01 in each byte of a word
	highs = 0x8080808080808080 // 0x80 in each byte
)

// textRun returns the index of the first byte from i on that ends a run of
// plain string text: a quote, a backslash or a control character (below
// 0x20); len(b) if there is none. JSON is mostly strings, and reading them
// was most of the decoders' time: it tests eight bytes at a time.
func textRun[T Text](b T, i int) int { return run(b, i, 0) }

// asciiRun is textRun that also stops at a byte above 0x7f, so that text
// found to be ASCII needs no check that it is valid UTF-8 (a second pass
// over every string the decoders share with the body).
func asciiRun[T Text](b T, i int) int { return run(b, i, highs) }

// run is textRun, stopping at bytes above 0x7f as well when high is highs.
func run[T Text](b T, i int, high uint64) int {
	for ; len(b)-i >= 8; i += 8 {
		if m := stops(word(b, i), high); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 || c >= 0x80 && high != 0 {
			return i
		}
	}
	return i
}

// plainRun is asciiRun that also stops at <, > and &: the bytes of a
// string that Plain looks at. Setting a bit of each byte first makes one
// test find two bytes: " and & differ only in 0x04, < and > in 0x02.
func plainRun[T Text](b T, i int) int {
	for ; len(b)-i >= 8; i += 8 {
		x := word(b, i)
		if m := (zeros(x|lows*0x04, '&') | zeros(x|lows*0x02, '>') | zeros(x, '\\') | (x-lows*0x20)&^x | x) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			return i
		}
	}
	return i
}

// stops marks, in the top bit of its byte, each byte of the word x that
// ends a run of text: a quote, a backslash, a control character (below
// 0x20), or a byte above 0x7f when high is highs. A byte's top bit is set
// where it is zero (zeros) or below 0x20, or where it is set in x and high
// asks for that. A borrow can set it in a byte above such a byte too, never
// below: the lowest byte marked is the first one that stops the run.
func stops(x, high uint64) uint64 {
	return (zeros(x, '"') | zeros(x, '\\') | (x-lows*0x20)&^x | x&high) & highs
}

// zeros sets the top bit of each byte of x that is c (and perhaps of bytes
// above one that is: see stops), among others it leaves for the caller to
// mask with highs.
func zeros(x uint64, c byte) uint64 {
	y := x ^ lows*uint64(c)
	return (y - lows) &^ y
}

// word is the eight bytes of b from i on, the first the lowest.
func word[T Text](b T, i int) uint64 {
	b = b[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// validLiteral checks that lit is spelled at i and returns the index past
// it, or -1.
func validLiteral[T Text](b T, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// validNumber checks the number that starts at i against JSON's grammar
// (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?) and returns the index
// past it, or -1.
func validNumber[T Text](b T, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(b, i+1); b[i-1] == '.' {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

// digits returns the index past the run of ASCII digits at i.
func digits[T Text](b T, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}
