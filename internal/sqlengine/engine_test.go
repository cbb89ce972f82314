package sqlengine

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
)

// These tests hold the engine's own reading of SQLite's rows (rawRows);
// internal/cli's tests run it over the plugin's tables and the sandbox.

func open(t *testing.T) *Engine {
	t.Helper()
	e := openUnclosed(t)
	t.Cleanup(func() { e.Close() })
	return e
}

// openUnclosed is open without closing the engine after the test.
func openUnclosed(t *testing.T) *Engine {
	t.Helper()
	t.Setenv("STEAMPIPE_LOG_LEVEL", "off")
	r, err := inproc.New(celonis.Plugin, "url = \"https://x.celonis.cloud\"\napi_key = \"not-used\"\n")
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// collect runs stmt and returns its columns and rows, each text copied
// while it is valid.
func collect(ctx context.Context, e *Engine, stmt string) ([]Column, [][]Value, error) {
	var cols []Column
	var rows [][]Value
	err := e.Query(ctx, stmt, func(c []Column) error { cols = c; return nil }, func(vals []Value) error {
		row := make([]Value, len(vals))
		for i, v := range vals {
			v.Text = strings.Clone(v.Text)
			row[i] = v
		}
		rows = append(rows, row)
		return nil
	})
	return cols, rows, err
}

func TestValuesOfEveryKind(t *testing.T) {
	e := open(t)
	long := strings.Repeat("x", 100000)
	cols, rows, err := collect(context.Background(), e,
		`select 1 as i, -2.5 as f, 'é"\' as t, x'00ff' as b, null as n, '' as empty, printf('%.*c', 100000, 'x') as long`)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"i", "f", "t", "b", "n", "empty", "long"}
	if len(cols) != len(names) {
		t.Fatalf("columns %v", cols)
	}
	for i, c := range cols {
		if c.Name != names[i] || c.Type != "" {
			t.Errorf("column %d: %+v, want %s with no declared type", i, c, names[i])
		}
	}
	want := []Value{{Kind: Int, Int: 1}, {Kind: Float, Float: -2.5}, {Kind: Text, Text: `é"\`}, {Kind: Blob, Text: "\x00\xff"},
		{Kind: Null}, {Kind: Text}, {Kind: Text, Text: long}}
	if len(rows) != 1 {
		t.Fatalf("%d rows, want 1", len(rows))
	}
	for i, v := range rows[0] {
		if v != want[i] {
			t.Errorf("%s: %+v, want %+v", names[i], short(v), short(want[i]))
		}
	}
}

// short cuts a value's text for a message.
func short(v Value) Value {
	if len(v.Text) > 40 {
		v.Text = v.Text[:40] + "..."
	}
	return v
}

// A script runs every statement and returns the last one's rows, as the
// driver's own Query does; each row's values are the row's, not the last
// row's (they are read afresh after every step).
func TestScriptAndManyRows(t *testing.T) {
	e := open(t)
	cols, rows, err := collect(context.Background(), e, `create table t(x integer, y text);
		insert into t with recursive n(v) as (select 1 union all select v + 1 from n where v < 1000) select v, 'row ' || v from n;
		select x, y from t order by x; `)
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) != 2 || cols[0].Type != "INTEGER" || cols[1].Type != "TEXT" {
		t.Fatalf("columns %+v", cols)
	}
	if len(rows) != 1000 {
		t.Fatalf("%d rows, want 1000", len(rows))
	}
	for i, r := range rows {
		if r[0].Int != int64(i+1) || r[1].Text != "row "+strconv.FormatInt(r[0].Int, 10) {
			t.Fatalf("row %d: %+v", i, r)
		}
	}
	if _, rows, err := collect(context.Background(), e, "select x from t where x < 0"); err != nil || len(rows) != 0 {
		t.Fatalf("no rows: %v, %v", rows, err)
	}
}

func TestErrorsKeepSQLitesMessage(t *testing.T) {
	e := open(t)
	for stmt, want := range map[string]string{
		"selec 1":                        `near "selec": syntax error`,
		"select nope from sqlite_master": "no such column: nope",
		// An error at the second step, after a row was read.
		"select json(x) from (select '[1]' as x union all select '[' as x)": "malformed JSON",
	} {
		_, _, err := collect(context.Background(), e, stmt)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", stmt, err, want)
		}
	}
}

// A statement that has given its first row and then works on without
// end stops once its context is done: the driver interrupts only while it
// prepares and first steps a statement, so the engine does the rest.
func TestCanceledStatementIsInterrupted(t *testing.T) {
	// Closed only once the statement has ended: Close would wait for it.
	e := openUnclosed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	type result struct {
		rows [][]Value
		err  error
	}
	done := make(chan result, 1)
	go func() {
		_, rows, err := collect(ctx, e, `with recursive c(x) as (select 1 union all select x + 1 from c) select x from c where x = 1 or x < 0`)
		done <- result{rows, err}
	}()
	select {
	case r := <-done:
		if !errors.Is(r.err, context.DeadlineExceeded) || len(r.rows) != 1 {
			t.Fatalf("%d rows, %v; want the first row, then the context's error", len(r.rows), r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the statement ran on after its context was done")
	}
	defer e.Close()
	// The interrupt does not outlive its statement.
	if _, rows, err := collect(context.Background(), e, "select 1"); err != nil || len(rows) != 1 {
		t.Fatalf("next statement: %v, %v", rows, err)
	}
}

// otherRows is a driver's rows that are not modernc's.
type otherRows struct{ pstmt int }

func (otherRows) Columns() []string              { return []string{"x"} }
func (otherRows) Close() error                   { return nil }
func (otherRows) Next(dest []driver.Value) error { return io.EOF }

// Rows whose fields are not modernc's are refused with an error that says
// what to change, not read.
func TestRawRowsOfOtherRows(t *testing.T) {
	for _, rows := range []driver.Rows{otherRows{}, &otherRows{}} {
		_, err := rawRowsOf(rows, &module{})
		if err == nil || !strings.Contains(err.Error(), "modernc.org/sqlite") || !strings.Contains(err.Error(), "go.mod") {
			t.Errorf("%T: %v", rows, err)
		}
	}
}

// The tables' module, in the parts that start no scan (the SDK-driven
// scans are internal/cli's tests, which cannot run under -race): every
// table is declared with its columns, a NULL key-column argument matches
// nothing, and a constraint that is not a timestamp fails with the
// plugin's message, not SQLite's.
func TestModuleWithoutScans(t *testing.T) {
	e := open(t)
	ctx := context.Background()
	_, rows, err := collect(ctx, e, "select count(*) from pragma_table_info('celonis_audit_log') where name in ('timestamp', 'raw')")
	if err != nil || len(rows) != 1 || rows[0][0].Int != 2 {
		t.Fatalf("columns: %v %v", rows, err)
	}
	cols, rows, err := collect(ctx, e, "select timestamp, raw from celonis_audit_log where timestamp = NULL")
	if err != nil || len(rows) != 0 || len(cols) != 2 || cols[0].Type != "TIMESTAMP TEXT" || cols[1].Type != "JSON TEXT" {
		t.Fatalf("= NULL: %v %v %v", cols, rows, err)
	}
	_, _, err = collect(ctx, e, "select * from celonis_audit_log where timestamp > 'yesterday'")
	if err == nil || !strings.Contains(err.Error(), "ISO 8601") || strings.Contains(err.Error(), "SQL logic error") {
		t.Fatalf("bad timestamp: %v", err)
	}
	_, _, err = collect(ctx, e, "create virtual table temp.celonis_nope using steampipe")
	if err == nil || !strings.Contains(err.Error(), "no table celonis_nope") {
		t.Fatalf("unknown table: %v", err)
	}
}

// An engine's tables, cursors and the engine itself are let go when it
// closes: the handles SQLite's structs are found by do not pile up.
func TestCloseLetsHandlesGo(t *testing.T) {
	inUse := func() (n int) {
		if p := handles.all.Load(); p != nil {
			for _, v := range *p {
				if v != nil {
					n++
				}
			}
		}
		return n
	}
	before := inUse()
	e := openUnclosed(t)
	if _, _, err := collect(context.Background(), e, "select * from celonis_audit_log where timestamp = NULL"); err != nil {
		t.Fatal(err)
	}
	if inUse() <= before {
		t.Fatalf("%d handles in use with an engine open, %d before", inUse(), before)
	}
	e.Close()
	if after := inUse(); after != before {
		t.Fatalf("%d handles in use after Close, %d before", after, before)
	}
}
