// Package sqlengine runs SQL over the plugin's tables without Steampipe: an
// embedded SQLite (modernc.org/sqlite, pure Go) with one virtual table per
// plugin table. Each scan goes through the SDK in-process (package inproc),
// so every table has one implementation. xBestIndex hands the plugin the
// quals its key columns accept and, where it is safe, the LIMIT; SQLite
// still checks every constraint on the rows, so answers are exact.
package sqlengine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
)

// Engine is one SQLite connection with every plugin table on it.
type Engine struct {
	db     *sql.DB
	conn   *sql.Conn
	mod    module // the tables' SQLite module on conn
	runner *inproc.Runner
	tables map[string]*tableDef

	ctxMu   sync.Mutex
	ctx     context.Context // the running statement's context, for scans
	errMu   sync.Mutex
	scanErr error // the first scan error of the running statement
	rowid   atomic.Int64

	replayMu sync.Mutex
	replay   map[string][]inproc.Row // complete small scans of the running statement
	asked    map[string]int          // how often each scan was asked for
}

// tableDef is a plugin table as SQLite sees it.
type tableDef struct {
	name    string
	columns []*proto.ColumnDefinition
	// keyOps lists, per column name, the operators its key column accepts.
	keyOps map[string]map[string]bool
}

// Open builds an engine over the runner's tables.
func Open(ctx context.Context, r *inproc.Runner) (*Engine, error) {
	schema, err := r.Schema()
	if err != nil {
		return nil, fmt.Errorf("reading the plugin's schema: %w", err)
	}
	e := &Engine{runner: r, tables: map[string]*tableDef{}, ctx: context.Background()}
	for name, ts := range schema {
		def := &tableDef{name: name, columns: ts.Columns, keyOps: map[string]map[string]bool{}}
		for _, kc := range append(ts.GetListCallKeyColumnList(), ts.GetGetCallKeyColumnList()...) {
			if def.keyOps[kc.Name] == nil {
				def.keyOps[kc.Name] = map[string]bool{}
			}
			for _, op := range kc.Operators {
				def.keyOps[kc.Name][op] = true
			}
			if kc.Operators == nil {
				def.keyOps[kc.Name]["="] = true
			}
		}
		e.tables[name] = def
	}

	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	e.db = db
	if e.conn, err = db.Conn(ctx); err == nil {
		// The module is on this connection alone; every statement runs on it.
		err = e.conn.Raw(e.register)
	}
	if err != nil {
		e.Close()
		return nil, err
	}
	names := make([]string, 0, len(e.tables))
	for n := range e.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := e.conn.ExecContext(ctx, fmt.Sprintf(`CREATE VIRTUAL TABLE temp.%q USING steampipe`, n)); err != nil {
			e.Close()
			return nil, fmt.Errorf("creating table %s: %w", n, err)
		}
	}
	return e, nil
}

// Close releases the connection, then the module's memory. Open calls it
// on a half-built engine, whose connection may not exist.
func (e *Engine) Close() error {
	if e.conn != nil {
		e.conn.Close()
	}
	err := e.db.Close()
	e.mod.release()
	return err
}

// Column is one result column: its name and the declared type of the
// table column it comes from ("JSON TEXT", "TIMESTAMP TEXT", "BOOLEAN
// INTEGER", "TEXT", "INTEGER", "REAL"), or "" for an expression.
type Column struct {
	Name string
	Type string
}

// Query runs one statement. It calls header once with the result columns,
// then row for every row as it arrives; a row's text is valid only during
// the call (see Value). A scan's error (an API failure, say) is returned as
// the plugin reported it, not as SQLite's generic message.
func (e *Engine) Query(ctx context.Context, stmt string, header func([]Column) error, row func([]Value) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.ctxMu.Lock()
	e.ctx = ctx
	e.ctxMu.Unlock()
	e.errMu.Lock()
	e.scanErr = nil
	e.errMu.Unlock()
	e.replayMu.Lock()
	e.replay, e.asked = map[string][]inproc.Row{}, map[string]int{}
	e.replayMu.Unlock()

	// The driver prepares the statement (or runs a script's statements up
	// to the last) and steps it once; its rows are then read straight from
	// SQLite (rawRows), on the connection database/sql holds for Raw.
	return e.conn.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return errNotModernc
		}
		rows, err := q.QueryContext(ctx, stmt, nil)
		if err != nil {
			return e.explain(ctx, err)
		}
		defer rows.Close()
		names := rows.Columns()
		types, _ := rows.(driver.RowsColumnTypeDatabaseTypeName)
		cols := make([]Column, len(names))
		for i, n := range names {
			cols[i].Name = n
			if types != nil {
				cols[i].Type = strings.ToUpper(types.ColumnTypeDatabaseTypeName(i))
			}
		}
		raw, err := rawRowsOf(rows, &e.mod)
		if err != nil {
			return err
		}
		if err := header(cols); err != nil {
			return err
		}
		stop := raw.interruptOnDone(ctx)
		defer stop()
		for {
			more, err := raw.next()
			if err != nil {
				return e.explain(ctx, err)
			}
			if !more {
				break
			}
			if err := row(raw.vals); err != nil {
				return err
			}
		}
		// A scan that failed after SQLite had all it needed still failed.
		return e.takeScanErr()
	})
}

// explain prefers the scan's own error, as the plugin reported it, to
// SQLite's form of it, and the context's error to SQLite's "interrupted".
func (e *Engine) explain(ctx context.Context, err error) error {
	if scan := e.takeScanErr(); scan != nil {
		return scan
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return err
}

func (e *Engine) setScanErr(err error) {
	e.errMu.Lock()
	defer e.errMu.Unlock()
	if e.scanErr == nil {
		e.scanErr = err
	}
}

func (e *Engine) takeScanErr() error {
	e.errMu.Lock()
	defer e.errMu.Unlock()
	err := e.scanErr
	e.scanErr = nil
	return err
}

func (e *Engine) cachedScan(key string) ([]inproc.Row, bool) {
	e.replayMu.Lock()
	defer e.replayMu.Unlock()
	rows, ok := e.replay[key]
	return rows, ok
}

// scanAsked counts a request for a scan and returns how often it was asked.
func (e *Engine) scanAsked(key string) int {
	e.replayMu.Lock()
	defer e.replayMu.Unlock()
	e.asked[key]++
	return e.asked[key]
}

func (e *Engine) keepScan(key string, rows []inproc.Row) {
	e.replayMu.Lock()
	defer e.replayMu.Unlock()
	if e.replay != nil {
		e.replay[key] = rows
	}
}

func (e *Engine) statementContext() context.Context {
	e.ctxMu.Lock()
	defer e.ctxMu.Unlock()
	return e.ctx
}

//// TABLES

// connect is xConnect's work for CREATE VIRTUAL TABLE's arguments (the
// module, the schema, the table's name): the table and its declaration.
func (e *Engine) connect(args []string) (*table, string, error) {
	if e == nil {
		return nil, "", errors.New("steampipe: the engine is closed")
	}
	if len(args) < 3 {
		return nil, "", errors.New("steampipe: missing table name")
	}
	name := strings.Trim(args[2], `"`)
	def, ok := e.tables[name]
	if !ok {
		return nil, "", fmt.Errorf("steampipe: the plugin has no table %s", name)
	}
	var cols []string
	for _, c := range def.columns {
		cols = append(cols, fmt.Sprintf("%q %s", c.Name, sqlType(c.Type)))
	}
	return &table{e: e, def: def}, fmt.Sprintf("CREATE TABLE x(%s)", strings.Join(cols, ", ")), nil
}

// sqlType names a column's SQLite type. The names carry TEXT, INTEGER or
// REAL, which give SQLite's usual affinity, and say what the text holds, so
// that output can render JSON as JSON and booleans as booleans.
func sqlType(t proto.ColumnType) string {
	switch t {
	case proto.ColumnType_INT:
		return "INTEGER"
	case proto.ColumnType_DOUBLE:
		return "REAL"
	case proto.ColumnType_BOOL:
		return "BOOLEAN INTEGER"
	case proto.ColumnType_JSON:
		return "JSON TEXT"
	case proto.ColumnType_TIMESTAMP, proto.ColumnType_DATETIME:
		return "TIMESTAMP TEXT"
	}
	return "TEXT"
}
