package cli

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/lenient"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sqlengine"
)

// writer prints a result in one format. end completes the output of a
// query that succeeded; abort ends that of one that failed.
type writer interface {
	header([]sqlengine.Column) error
	row([]sqlengine.Value) error
	end() error
	abort()
}

func newWriter(format string, out io.Writer) (writer, error) {
	bw := bufio.NewWriterSize(out, 64<<10)
	switch format {
	case "table":
		return &tableWriter{out: bw}, nil
	case "json":
		return &jsonWriter{out: bw, array: true}, nil
	case "jsonl":
		return &jsonWriter{out: bw, lines: newLineFlusher(bw)}, nil
	case "csv":
		w := &csvWriter{lines: newLineFlusher(bw)}
		w.w = csv.NewWriter(&w.line)
		return w, nil
	}
	return nil, fmt.Errorf("--output %q: use table, json, jsonl or csv", format)
}

// text renders a value for table and CSV output; NULL is empty. Text is
// SQLite's, valid only until the next row (see sqlengine.Value).
func text(v sqlengine.Value, typ string) string {
	switch v.Kind {
	case sqlengine.Int:
		if typ == "BOOLEAN INTEGER" {
			return strconv.FormatBool(v.Int != 0)
		}
		return strconv.FormatInt(v.Int, 10)
	case sqlengine.Float:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	case sqlengine.Text, sqlengine.Blob:
		return v.Text
	}
	return ""
}

// appendJSON renders a value for JSON output, as encoding/json would:
// JSON columns as JSON (compacted, so a row stays on one line), booleans as
// booleans. Strings and integers, nearly every value, are written directly:
// json.Marshal per value was the larger part of the query command's own
// cost in a profile of a jsonl export.
func appendJSON(dst []byte, v sqlengine.Value, typ string, scratch *jsonScratch) ([]byte, error) {
	switch v.Kind {
	case sqlengine.Int:
		if typ == "BOOLEAN INTEGER" {
			return strconv.AppendBool(dst, v.Int != 0), nil
		}
		return strconv.AppendInt(dst, v.Int, 10), nil
	case sqlengine.Float:
		b, err := json.Marshal(v.Float)
		return append(dst, b...), err
	case sqlengine.Text, sqlengine.Blob:
		return appendJSONText(dst, v.Text, typ, scratch), nil
	}
	return append(dst, "null"...), nil
}

// appendJSONText writes a JSON column that holds valid JSON as that JSON,
// anything else as a string.
func appendJSONText(dst []byte, s, typ string, scratch *jsonScratch) []byte {
	if typ == "JSON TEXT" {
		if verbatimJSON(s) {
			return append(dst, s...)
		}
		scratch.compact.Reset()
		if json.Compact(&scratch.compact, []byte(s)) == nil {
			scratch.escaped.Reset()
			json.HTMLEscape(&scratch.escaped, scratch.compact.Bytes())
			return append(dst, scratch.escaped.Bytes()...)
		}
	}
	return appendString(dst, s)
}

// verbatimJSON reports whether s is valid JSON that json.Compact and
// json.HTMLEscape would both leave as it is (lenient.Plain). Entries come
// compact from the APIs, so nearly every JSON value is written without
// those two passes; the check is one pass (a byte loop for the plain part
// and lenient.Valid after it were 0.55 s of a 200,000-row export's 24 s of
// CPU in a profile, the loop 0.3 s of it).
func verbatimJSON(s string) bool { return lenient.Plain(s) }

// jsonScratch holds the buffers appendJSON reuses from row to row.
type jsonScratch struct{ compact, escaped bytes.Buffer }

// appendString quotes s as encoding/json does (HTML-safe, invalid UTF-8 as
// U+FFFD, U+2028 and U+2029 escaped).
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(append(dst, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(dst, s[start:]...), '"')
}

//// JSON AND JSONL

type jsonWriter struct {
	out     *bufio.Writer
	array   bool
	cols    []sqlengine.Column
	keys    [][]byte
	n       int
	line    []byte
	scratch jsonScratch
	lines   *lineFlusher // jsonl (not array): lines go out within flushDelay
}

func (w *jsonWriter) header(cols []sqlengine.Column) error {
	w.cols = cols
	for _, c := range cols {
		k, _ := json.Marshal(c.Name)
		w.keys = append(w.keys, k)
	}
	if w.array {
		_, err := w.out.WriteString("[")
		return err
	}
	return nil
}

func (w *jsonWriter) row(vals []sqlengine.Value) error {
	if w.array && w.n > 0 {
		w.out.WriteString(",")
	}
	if w.array {
		w.out.WriteString("\n  ")
	}
	line := append(w.line[:0], '{')
	for i, v := range vals {
		if i > 0 {
			line = append(line, ',')
		}
		line = append(append(line, w.keys[i]...), ':')
		var err error
		if line, err = appendJSON(line, v, w.cols[i].Type, &w.scratch); err != nil {
			return err
		}
	}
	w.line = append(line, '}')
	w.n++
	if !w.array {
		w.line = append(w.line, '\n')
		return w.lines.write(w.line)
	}
	w.out.Write(w.line)
	return nil
}

func (w *jsonWriter) end() error {
	if w.lines != nil {
		return w.lines.end()
	}
	if w.array {
		if w.n > 0 {
			w.out.WriteString("\n")
		}
		w.out.WriteString("]\n")
	}
	return w.out.Flush()
}

// abort writes out the jsonl lines already written, as they would have
// gone out had the query gone on; a JSON array is left unclosed.
func (w *jsonWriter) abort() {
	if w.lines != nil {
		w.lines.end()
	}
}

// flushDelay bounds how long a jsonl or csv line waits in the buffer: a
// SIEM forwarder reading the stream gets each row within it, while a fast
// scan writes 64 KiB at a time instead of making a system call a row.
const flushDelay = 50 * time.Millisecond

// lineFlusher (jsonl and csv) writes lines to a buffer that goes out when
// it fills, and at the latest flushDelay after the first line it holds was
// written.
type lineFlusher struct {
	mu      sync.Mutex
	out     *bufio.Writer
	timer   *time.Timer
	pending bool  // the timer is set to write out the buffer
	err     error // the first error writing out, which ends the query
}

func newLineFlusher(out *bufio.Writer) *lineFlusher {
	f := &lineFlusher{out: out}
	f.timer = time.AfterFunc(time.Hour, f.flush)
	f.timer.Stop()
	return f
}

func (f *lineFlusher) write(line []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if _, err := f.out.Write(line); err != nil {
		f.err = err
		return err
	}
	if !f.pending && f.out.Buffered() > 0 {
		f.pending = true
		f.timer.Reset(flushDelay)
	}
	return nil
}

func (f *lineFlusher) flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending && f.err == nil {
		f.err = f.out.Flush()
	}
	f.pending = false
}

// end writes out what is left and returns the first error writing out.
func (f *lineFlusher) end() error {
	f.timer.Stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = f.out.Flush()
	}
	f.pending = false
	return f.err
}

//// CSV

// csvWriter streams records as jsonl streams lines (see lineFlusher).
type csvWriter struct {
	lines *lineFlusher
	w     *csv.Writer // writes each record into line
	line  bytes.Buffer
	cols  []sqlengine.Column
	rec   []string
}

func (w *csvWriter) header(cols []sqlengine.Column) error {
	w.cols = cols
	w.rec = make([]string, len(cols))
	for i, c := range cols {
		w.rec[i] = c.Name
	}
	return w.write()
}

func (w *csvWriter) row(vals []sqlengine.Value) error {
	for i, v := range vals {
		w.rec[i] = text(v, w.cols[i].Type)
	}
	return w.write()
}

// write hands the record in rec to the lines.
func (w *csvWriter) write() error {
	w.line.Reset()
	if err := w.w.Write(w.rec); err != nil {
		return err
	}
	w.w.Flush()
	if err := w.w.Error(); err != nil {
		return err
	}
	return w.lines.write(w.line.Bytes())
}

func (w *csvWriter) end() error { return w.lines.end() }

// abort writes out the records already written, as jsonWriter does.
func (w *csvWriter) abort() { w.lines.end() }

//// TABLE

// newlines shows line breaks in a table cell escaped.
var newlines = strings.NewReplacer("\n", `\n`, "\r", `\r`)

// tableWriter aligns columns like psql, so it holds the rows until the end.
type tableWriter struct {
	out     *bufio.Writer
	cols    []sqlengine.Column
	rows    [][]string
	numeric []bool // every non-NULL value of the column is a number
}

func (w *tableWriter) header(cols []sqlengine.Column) error {
	w.cols = cols
	w.numeric = make([]bool, len(cols))
	for i, c := range cols {
		w.numeric[i] = c.Type != "BOOLEAN INTEGER"
	}
	return nil
}

func (w *tableWriter) row(vals []sqlengine.Value) error {
	r := make([]string, len(vals))
	for i, v := range vals {
		if v.Kind == sqlengine.Text || v.Kind == sqlengine.Blob {
			w.numeric[i] = false
		}
		// One line per row: newlines in values are shown escaped. The
		// rows are kept to the end, so each text is copied from SQLite's.
		r[i] = strings.Clone(newlines.Replace(text(v, w.cols[i].Type)))
	}
	w.rows = append(w.rows, r)
	return nil
}

func (w *tableWriter) abort() {}

func (w *tableWriter) end() error {
	width := make([]int, len(w.cols))
	for i, c := range w.cols {
		width[i] = utf8.RuneCountInString(c.Name)
	}
	for _, r := range w.rows {
		for i, v := range r {
			width[i] = max(width[i], utf8.RuneCountInString(v))
		}
	}
	line := func(cells []string, right func(int) bool) {
		for i, c := range cells {
			if i > 0 {
				w.out.WriteString(" |")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if right(i) {
				w.out.WriteString(" " + pad + c)
			} else {
				w.out.WriteString(" " + c + pad)
			}
		}
		w.out.WriteString("\n")
	}
	names := make([]string, len(w.cols))
	for i, c := range w.cols {
		names[i] = c.Name
	}
	line(names, func(int) bool { return false })
	for i := range w.cols {
		if i > 0 {
			w.out.WriteString("+")
		}
		w.out.WriteString(strings.Repeat("-", width[i]+2))
	}
	w.out.WriteString("\n")
	for _, r := range w.rows {
		line(r, func(i int) bool { return w.numeric[i] })
	}
	if len(w.rows) == 1 {
		w.out.WriteString("(1 row)\n")
	} else {
		fmt.Fprintf(w.out, "(%d rows)\n", len(w.rows))
	}
	return w.out.Flush()
}
