package sqlengine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Kind is the SQLite storage class of a Value.
type Kind uint8

// The kinds of Value.
const (
	Null Kind = iota
	Int
	Float
	Text
	Blob
)

// Value is one value of a result row. Text holds a Text value, or a Blob's
// bytes, in SQLite's own memory: it is valid only until the row callback
// returns, so a writer that keeps it must copy it (strings.Clone).
type Value struct {
	Kind  Kind
	Int   int64
	Float float64
	Text  string
}

// rawRows reads the rows of a statement that modernc's driver has prepared
// and stepped once, straight from SQLite: each value is read where SQLite
// holds it, where the driver's Rows.Next copies every text into a new Go
// string and boxes every value in an interface (in a profile of a 200,000
// row `query --output jsonl`, the copies alone were 180 MB a scan and the
// driver's reads 1.9 s of 38 s of CPU).
//
// The statement handle and its state are fields of modernc's unexported
// rows, read by name and type (rawRowsOf), as the connection's handles are
// (Engine.register); a version of modernc.org/sqlite that changed them
// makes every query fail with an error that says so, which every query
// test would show.
type rawRows struct {
	tls   *libc.TLS
	db    uintptr
	pstmt uintptr
	mu    uintptr // the connection's mutex (sqlite3_db_mutex)
	ready bool    // the driver has stepped to a row that was not read yet
	done  bool
	vals  []Value
}

// rawRowsOf takes the statement of rows that modernc's conn.QueryContext
// returned on the connection m is registered on. Until rows.Close the
// statement is the caller's to step.
func rawRowsOf(rows driver.Rows, m *module) (*rawRows, error) {
	r := &rawRows{tls: m.tls, db: m.db, vals: make([]Value, len(rows.Columns()))}
	v := reflect.ValueOf(rows)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, layoutError(rows, "rows")
	}
	s := v.Elem()
	pstmt, doStep, empty := s.FieldByName("pstmt"), s.FieldByName("doStep"), s.FieldByName("empty")
	if pstmt.Kind() != reflect.Uintptr || doStep.Kind() != reflect.Bool || empty.Kind() != reflect.Bool {
		return nil, layoutError(rows, "rows")
	}
	r.pstmt = uintptr(pstmt.Uint())
	r.mu = sqlite3.Xsqlite3_db_mutex(r.tls, r.db)
	r.done = empty.Bool() || r.pstmt == 0
	r.ready = !r.done && !doStep.Bool()
	return r, nil
}

// layoutError says that x, modernc's rows or conn (what), lacks a field
// this engine reads.
func layoutError(x any, what string) error {
	return fmt.Errorf("sqlengine: modernc.org/sqlite's %s (%T) no longer has the fields this engine reads; "+
		"use the version go.mod names or update internal/sqlengine", what, x)
}

// next steps to the next row and reads it into r.vals; false at the end.
func (r *rawRows) next() (bool, error) {
	if r.done {
		return false, nil
	}
	if r.ready {
		r.ready = false
	} else {
		switch rc := sqlite3.Xsqlite3_step(r.tls, r.pstmt); rc {
		case sqlite3.SQLITE_ROW:
		case sqlite3.SQLITE_DONE:
			r.done = true
			return false, nil
		default:
			r.done = true
			return false, r.errstr(rc)
		}
	}
	// Each column is read from its value (column_value), not with
	// column_type, column_text and column_bytes, each of which takes and
	// gives back the connection's mutex (in a profile, those took most of
	// the reading's time). The value_ functions need that mutex held, as
	// the column_ ones hold it: it is held across the row.
	sqlite3.Xsqlite3_mutex_enter(r.tls, r.mu)
	defer sqlite3.Xsqlite3_mutex_leave(r.tls, r.mu)
	for i := range r.vals {
		v := &r.vals[i]
		val := sqlite3.Xsqlite3_column_value(r.tls, r.pstmt, int32(i))
		switch typ := sqlite3.Xsqlite3_value_type(r.tls, val); typ {
		case sqlite3.SQLITE_INTEGER:
			*v = Value{Kind: Int, Int: sqlite3.Xsqlite3_value_int64(r.tls, val)}
		case sqlite3.SQLITE_FLOAT:
			*v = Value{Kind: Float, Float: sqlite3.Xsqlite3_value_double(r.tls, val)}
		case sqlite3.SQLITE_TEXT, sqlite3.SQLITE_BLOB:
			if !valueBytes(r.tls, v, typ, val) {
				r.done = true
				return false, errNoMemory
			}
		default:
			*v = Value{}
		}
	}
	return true, nil
}

// errNoMemory is SQLite failing to give a value's bytes.
var errNoMemory = errors.New("sqlengine: SQLite ran out of memory reading a value")

// valueBytes reads a text or blob value (typ) into v, its bytes viewed as
// a string where SQLite holds them, without a copy. It reports false when
// SQLite could not give them (NULL for a value that has bytes: out of
// memory), so that a value is never read as empty by mistake.
func valueBytes(tls *libc.TLS, v *Value, typ int32, val uintptr) bool {
	*v = Value{Kind: Text}
	var p uintptr
	if typ == sqlite3.SQLITE_BLOB {
		v.Kind, p = Blob, sqlite3.Xsqlite3_value_blob(tls, val)
	} else {
		p = sqlite3.Xsqlite3_value_text(tls, val)
	}
	// The length after the bytes, as SQLite asks: reading them can convert.
	switch n := sqlite3.Xsqlite3_value_bytes(tls, val); {
	case n <= 0:
	case p == 0:
		return false
	default:
		v.Text = unsafe.String(at[byte](p), n)
	}
	return true
}

// errstr is the driver's form of an SQLite error: "what: why (code)".
func (r *rawRows) errstr(rc int32) error {
	what := libc.GoString(sqlite3.Xsqlite3_errstr(r.tls, rc))
	if why := libc.GoString(sqlite3.Xsqlite3_errmsg(r.tls, r.db)); why != what {
		return fmt.Errorf("%s: %s (%d)", what, why, rc)
	}
	return fmt.Errorf("%s (%d)", what, rc)
}

// interruptOnDone interrupts the statement once ctx is done, until the
// returned stop is called (the driver does so only while it prepares and
// first steps a statement). Table scans end with their context anyway;
// this ends SQLite's own work, a long sort or a runaway recursive query.
// An interrupt already under way when stop is called ends before stop
// returns, so it cannot reach the connection's next statement.
func (r *rawRows) interruptOnDone(ctx context.Context) (stop func()) {
	var mu sync.Mutex
	stopped := false
	stopAfter := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			// A TLS of its own: r.tls is the stepping goroutine's.
			tls := libc.NewTLS()
			sqlite3.Xsqlite3_interrupt(tls, r.db)
			tls.Close()
		}
	})
	return func() {
		stopAfter()
		mu.Lock()
		stopped = true
		mu.Unlock()
	}
}

var errNotModernc = errors.New("sqlengine: the connection is not modernc.org/sqlite's")
