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
	i := validValue(b, skipSpace(b, 0), maxDepth)
	return i >= 0 && skipSpace(b, i) == len(b)
}

// validValue checks the JSON value that starts at i, in which containers
// may nest depth deep, and returns the index just past it, or -1.
func validValue[T Text](b T, i, depth int) int {
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
			if i = skipSpace(b, i+1); i < len(b) && b[i] == c+2 { // '}' and ']' are 2 past '{' and '['
				stack = stack[:len(stack)-1]
				i++
				break // an empty container is a whole value
			}
			if c == '{' {
				i = validName(b, i)
			}
			continue
		case '"':
			i = validString(b, i)
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
			if i = skipSpace(b, i); i >= len(b) {
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
			if i = skipSpace(b, i+1); c == '{' {
				i = validName(b, i)
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

// validName checks a member's name and colon at i and returns where its
// value starts, or -1.
func validName[T Text](b T, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i = validString(b, i); i < 0 {
		return -1
	}
	if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
		return -1
	}
	return skipSpace(b, i+1)
}

// validString checks the string that starts at i (its opening quote) and
// returns the index past its closing quote, or -1. Like encoding/json it
// accepts any byte from 0x20 up, valid UTF-8 or not.
func validString[T Text](b T, i int) int {
	for i = textRun(b, i+1); i < len(b); i = textRun(b, i+1) {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		default: // '\\'
			if i++; i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i <= 4 {
					return -1
				}
				for _, h := range []byte{b[i+1], b[i+2], b[i+3], b[i+4]} {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
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
		x := word(b, i)
		q, s := x^(lows*'"'), x^(lows*'\\')
		// A byte's top bit is set where it is zero (q, s) or below 0x20 (x),
		// or where it is set in x and high asks for that. A borrow can set
		// it in a byte above such a byte too, never below: the lowest byte
		// marked is the first one that stops the run.
		if m := ((q-lows)&^q | (s-lows)&^s | (x-lows*0x20)&^x | x&high) & highs; m != 0 {
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
