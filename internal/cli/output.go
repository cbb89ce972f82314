package cli

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sqlengine"
)

// writer prints a result in one format.
type writer interface {
	header([]sqlengine.Column) error
	row([]any) error
	end() error
}

func newWriter(format string, out io.Writer) (writer, error) {
	bw := bufio.NewWriterSize(out, 64<<10)
	switch format {
	case "table":
		return &tableWriter{out: bw}, nil
	case "json":
		return &jsonWriter{out: bw, array: true}, nil
	case "jsonl":
		return &jsonWriter{out: bw}, nil
	case "csv":
		return &csvWriter{out: bw, w: csv.NewWriter(bw)}, nil
	}
	return nil, fmt.Errorf("--output %q: use table, json, jsonl or csv", format)
}

// text renders a value for table and CSV output; NULL is empty.
func text(v any, typ string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(x)
	case int64:
		if typ == "BOOLEAN INTEGER" {
			return strconv.FormatBool(x != 0)
		}
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// jsonValue renders a value for JSON output: JSON columns as JSON,
// booleans as booleans.
func jsonValue(v any, typ string) any {
	switch x := v.(type) {
	case []byte:
		v = string(x)
	case int64:
		if typ == "BOOLEAN INTEGER" {
			return x != 0
		}
	}
	if s, ok := v.(string); ok && typ == "JSON TEXT" && json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	return v
}

//// JSON AND JSONL

type jsonWriter struct {
	out   *bufio.Writer
	array bool
	cols  []sqlengine.Column
	keys  [][]byte
	n     int
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

func (w *jsonWriter) row(vals []any) error {
	if w.array && w.n > 0 {
		w.out.WriteString(",")
	}
	if w.array {
		w.out.WriteString("\n  ")
	}
	w.out.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			w.out.WriteByte(',')
		}
		w.out.Write(w.keys[i])
		w.out.WriteByte(':')
		b, err := json.Marshal(jsonValue(v, w.cols[i].Type))
		if err != nil {
			return err
		}
		w.out.Write(b)
	}
	w.out.WriteByte('}')
	w.n++
	if !w.array {
		// One line per row, out as it arrives: a SIEM forwarder reads a stream.
		w.out.WriteByte('\n')
		return w.out.Flush()
	}
	return nil
}

func (w *jsonWriter) end() error {
	if w.array {
		if w.n > 0 {
			w.out.WriteString("\n")
		}
		w.out.WriteString("]\n")
	}
	return w.out.Flush()
}

//// CSV

type csvWriter struct {
	out  *bufio.Writer
	w    *csv.Writer
	cols []sqlengine.Column
	rec  []string
}

func (w *csvWriter) header(cols []sqlengine.Column) error {
	w.cols = cols
	w.rec = make([]string, len(cols))
	for i, c := range cols {
		w.rec[i] = c.Name
	}
	return w.w.Write(w.rec)
}

func (w *csvWriter) row(vals []any) error {
	for i, v := range vals {
		w.rec[i] = text(v, w.cols[i].Type)
	}
	return w.w.Write(w.rec)
}

func (w *csvWriter) end() error {
	w.w.Flush()
	if err := w.w.Error(); err != nil {
		return err
	}
	return w.out.Flush()
}

//// TABLE

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

func (w *tableWriter) row(vals []any) error {
	r := make([]string, len(vals))
	for i, v := range vals {
		switch v.(type) {
		case int64, float64, nil:
		default:
			w.numeric[i] = false
		}
		// One line per row: newlines in values are shown escaped.
		r[i] = strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(text(v, w.cols[i].Type))
	}
	w.rows = append(w.rows, r)
	return nil
}

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
