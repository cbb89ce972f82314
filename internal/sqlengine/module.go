package sqlengine

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// The plugin's tables are an SQLite module registered through SQLite's own
// API (modernc.org/sqlite/lib, SQLite transpiled to Go), not through
// modernc.org/sqlite/vtab: that package hands each column value over as a
// Go value in an interface and copies every text twice (into a malloc'd C
// string, which it frees again, and then into SQLite), and looks up its
// cursor under a lock at every call. In a profile of a 200,000-row
// `query --output jsonl` those calls took 1.13 s of 30.7 s of CPU.
//
// SQLite calls the x* functions below through the C function pointers of
// an sqlite3_module, on the goroutine that steps a statement of the
// engine's one connection. SQLite's structs live in its own (C) memory:
// transpiled code must not be handed Go memory (under -race, Go's checkptr
// stops such a program), so texts are copied into a C buffer before SQLite
// copies them (SQLITE_TRANSIENT), and the Go objects a C struct stands for
// are found through handles.

// cVtab is an sqlite3_vtab with the handle of its *table.
type cVtab struct {
	base  sqlite3.Sqlite3_vtab
	table uintptr
}

// cCursor is an sqlite3_vtab_cursor with the handle of its *cursor.
type cCursor struct {
	base   sqlite3.Sqlite3_vtab_cursor
	cursor uintptr
}

// handles keeps the Go objects that SQLite's structs stand for (engines,
// tables and cursors), by number: C memory cannot hold Go pointers. Lookups
// read the current slice without a lock (xColumn runs for every column of
// every row); changes, once a scan, copy it.
var handles struct {
	mu  sync.Mutex
	all atomic.Pointer[[]any]
}

// newHandle keeps v and returns its handle, never 0.
func newHandle(v any) uintptr {
	handles.mu.Lock()
	defer handles.mu.Unlock()
	var old []any
	if p := handles.all.Load(); p != nil {
		old = *p
	}
	all := append([]any(nil), old...)
	for i, x := range all {
		if x == nil {
			all[i] = v
			handles.all.Store(&all)
			return uintptr(i + 1)
		}
	}
	all = append(all, v)
	handles.all.Store(&all)
	return uintptr(len(all))
}

func handle(h uintptr) any {
	if p := handles.all.Load(); p != nil && h > 0 && h <= uintptr(len(*p)) {
		return (*p)[h-1]
	}
	return nil
}

func dropHandle(h uintptr) {
	handles.mu.Lock()
	defer handles.mu.Unlock()
	if p := handles.all.Load(); p != nil && h > 0 && h <= uintptr(len(*p)) {
		all := append([]any(nil), (*p)...)
		all[h-1] = nil
		handles.all.Store(&all)
	}
}

// at views C memory at p as a T.
func at[T any](p uintptr) *T { return (*T)(unsafe.Add(unsafe.Pointer(nil), p)) }

// cfunc is f as the C function pointer transpiled SQLite calls: a Go func
// value is a pointer to its code's closure, which for a top-level function
// is static.
func cfunc[T any](f T) uintptr { return *(*uintptr)(unsafe.Pointer(&f)) }

// calloc returns n zeroed bytes of SQLite's memory, or 0.
func calloc(tls *libc.TLS, n uintptr) uintptr {
	p := sqlite3.Xsqlite3_malloc64(tls, uint64(n))
	if p != 0 {
		clear(unsafe.Slice(at[byte](p), n))
	}
	return p
}

// cString copies s into SQLite's memory with a NUL after it, or returns 0.
// SQLite frees it (sqlite3_free) where it takes it over.
func cString(tls *libc.TLS, s string) uintptr {
	p := sqlite3.Xsqlite3_malloc64(tls, uint64(len(s)+1))
	if p != 0 {
		b := unsafe.Slice(at[byte](p), len(s)+1)
		b[copy(b, s)] = 0
	}
	return p
}

// module is the engine's sqlite3_module and the connection it is on.
type module struct {
	tls    *libc.TLS
	db     uintptr
	mod    uintptr // the sqlite3_module
	engine uintptr // the engine's handle: the module's pAux
	// buf is C memory a text is copied into for SQLite to copy, reused.
	buf    uintptr
	bufLen int
}

// register puts the module on the connection whose driver connection is
// dc (modernc's *conn: its fields db and tls, read by name and type), under
// the name "steampipe".
func (e *Engine) register(dc any) error {
	v := reflect.ValueOf(dc)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return layoutError(dc, "conn")
	}
	db, tls := v.Elem().FieldByName("db"), v.Elem().FieldByName("tls")
	if db.Kind() != reflect.Uintptr || !tls.IsValid() || tls.Type() != reflect.TypeFor[*libc.TLS]() || tls.IsNil() {
		return layoutError(dc, "conn")
	}
	m := &e.mod
	m.tls, m.db = (*libc.TLS)(tls.UnsafePointer()), uintptr(db.Uint())
	m.bufLen = 256 // grown to the longest text; every scan of raw outgrows it
	m.buf = sqlite3.Xsqlite3_malloc64(m.tls, uint64(m.bufLen))
	m.mod = calloc(m.tls, unsafe.Sizeof(sqlite3.Sqlite3_module{}))
	if m.buf == 0 || m.mod == 0 {
		return errNoMemory
	}
	mod := at[sqlite3.Sqlite3_module](m.mod)
	mod.FiVersion = 1
	mod.FxCreate = cfunc(xConnect)
	mod.FxConnect = cfunc(xConnect)
	mod.FxBestIndex = cfunc(xBestIndex)
	mod.FxDisconnect = cfunc(xDisconnect)
	mod.FxDestroy = cfunc(xDisconnect)
	mod.FxOpen = cfunc(xOpen)
	mod.FxClose = cfunc(xClose)
	mod.FxFilter = cfunc(xFilter)
	mod.FxNext = cfunc(xNext)
	mod.FxEof = cfunc(xEof)
	mod.FxColumn = cfunc(xColumn)
	mod.FxRowid = cfunc(xRowid)
	// No xUpdate: the tables are read-only.
	m.engine = newHandle(e)
	name := cString(m.tls, "steampipe")
	if name == 0 {
		return errNoMemory
	}
	defer sqlite3.Xsqlite3_free(m.tls, name)
	if rc := sqlite3.Xsqlite3_create_module_v2(m.tls, m.db, name, m.mod, m.engine, 0); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("sqlengine: registering the tables' module: %s", libc.GoString(sqlite3.Xsqlite3_errstr(m.tls, rc)))
	}
	return nil
}

// release frees the module's memory once its connection is closed.
func (m *module) release() {
	if m.tls == nil {
		return
	}
	dropHandle(m.engine)
	sqlite3.Xsqlite3_free(m.tls, m.mod)
	sqlite3.Xsqlite3_free(m.tls, m.buf)
	m.mod, m.buf = 0, 0
}

// resultText makes s the column's value: copied into m.buf, which SQLite
// copies at once.
func (m *module) resultText(tls *libc.TLS, ctx uintptr, s string) {
	if len(s) > m.bufLen {
		n := max(len(s), 2*m.bufLen)
		p := sqlite3.Xsqlite3_realloc64(tls, m.buf, uint64(n))
		if p == 0 {
			sqlite3.Xsqlite3_result_error_nomem(tls, ctx)
			return
		}
		m.buf, m.bufLen = p, n
	}
	copy(unsafe.Slice(at[byte](m.buf), len(s)), s)
	sqlite3.Xsqlite3_result_text64(tls, ctx, m.buf, uint64(len(s)), sqlite3.SQLITE_TRANSIENT, sqlite3.SQLITE_UTF8)
}

// setErr makes msg the error SQLite reports for the virtual table.
func setErr(tls *libc.TLS, pVtab uintptr, msg string) {
	vt := at[sqlite3.Sqlite3_vtab](pVtab)
	if vt.FzErrMsg != 0 {
		sqlite3.Xsqlite3_free(tls, vt.FzErrMsg)
	}
	vt.FzErrMsg = cString(tls, msg)
}

func cursorOf(pCursor uintptr) *cursor {
	c, _ := handle(at[cCursor](pCursor).cursor).(*cursor)
	return c
}

func tableOf(pVtab uintptr) *table {
	t, _ := handle(at[cVtab](pVtab).table).(*table)
	return t
}

// fail reports a cursor's error to SQLite.
func fail(tls *libc.TLS, pCursor uintptr, err error) int32 {
	setErr(tls, at[cCursor](pCursor).base.FpVtab, err.Error())
	return sqlite3.SQLITE_ERROR
}

func xConnect(tls *libc.TLS, db, pAux uintptr, argc int32, argv, ppVtab, pzErr uintptr) int32 {
	e, _ := handle(pAux).(*Engine)
	args := make([]string, argc)
	for i, p := range unsafe.Slice(at[uintptr](argv), argc) {
		args[i] = libc.GoString(p)
	}
	t, decl, err := e.connect(args)
	if err == nil {
		z := cString(tls, decl)
		if z == 0 {
			return sqlite3.SQLITE_NOMEM
		}
		rc := sqlite3.Xsqlite3_declare_vtab(tls, db, z)
		sqlite3.Xsqlite3_free(tls, z)
		if rc != sqlite3.SQLITE_OK {
			err = errors.New(libc.GoString(sqlite3.Xsqlite3_errmsg(tls, db)))
		}
	}
	if err != nil {
		*at[uintptr](pzErr) = cString(tls, err.Error())
		return sqlite3.SQLITE_ERROR
	}
	p := calloc(tls, unsafe.Sizeof(cVtab{}))
	if p == 0 {
		return sqlite3.SQLITE_NOMEM
	}
	at[cVtab](p).table = newHandle(t)
	*at[uintptr](ppVtab) = p
	return sqlite3.SQLITE_OK
}

func xDisconnect(tls *libc.TLS, pVtab uintptr) int32 {
	vt := at[cVtab](pVtab)
	dropHandle(vt.table)
	sqlite3.Xsqlite3_free(tls, vt.base.FzErrMsg)
	sqlite3.Xsqlite3_free(tls, pVtab)
	return sqlite3.SQLITE_OK
}

func xBestIndex(tls *libc.TLS, pVtab, pInfo uintptr) int32 {
	t := tableOf(pVtab)
	if t == nil {
		return sqlite3.SQLITE_ERROR
	}
	info := at[sqlite3.Sqlite3_index_info](pInfo)
	n := int(info.FnConstraint)
	cons := unsafe.Slice(at[sqlite3.Tsqlite3_index_constraint](info.FaConstraint), n)
	usage := unsafe.Slice(at[sqlite3.Tsqlite3_index_constraint_usage](info.FaConstraintUsage), n)
	plan := indexInfo{Constraints: make([]constraint, n), OrderBy: int(info.FnOrderBy), ColUsed: info.FcolUsed}
	for i, c := range cons {
		plan.Constraints[i] = constraint{Column: int(c.FiColumn), Op: c.Fop, Usable: c.Fusable != 0, ArgIndex: -1}
	}
	t.bestIndex(&plan)
	for i, c := range plan.Constraints {
		usage[i].FargvIndex = int32(c.ArgIndex + 1) // 0: not passed
	}
	z := cString(tls, plan.IdxStr)
	if z == 0 {
		return sqlite3.SQLITE_NOMEM
	}
	info.FidxStr, info.FneedToFreeIdxStr = z, 1
	info.FestimatedCost, info.FestimatedRows = plan.EstimatedCost, plan.EstimatedRows
	return sqlite3.SQLITE_OK
}

func xOpen(tls *libc.TLS, pVtab, ppCursor uintptr) int32 {
	t := tableOf(pVtab)
	if t == nil {
		return sqlite3.SQLITE_ERROR
	}
	p := calloc(tls, unsafe.Sizeof(cCursor{}))
	if p == 0 {
		return sqlite3.SQLITE_NOMEM
	}
	cc := at[cCursor](p)
	cc.base.FpVtab = pVtab
	cc.cursor = newHandle(&cursor{t: t})
	*at[uintptr](ppCursor) = p
	return sqlite3.SQLITE_OK
}

func xClose(tls *libc.TLS, pCursor uintptr) int32 {
	if c := cursorOf(pCursor); c != nil {
		c.stop()
	}
	dropHandle(at[cCursor](pCursor).cursor)
	sqlite3.Xsqlite3_free(tls, pCursor)
	return sqlite3.SQLITE_OK
}

func xFilter(tls *libc.TLS, pCursor uintptr, _ int32, idxStr uintptr, argc int32, argv uintptr) int32 {
	c := cursorOf(pCursor)
	if c == nil {
		return sqlite3.SQLITE_ERROR
	}
	vals := make([]any, argc)
	for i, v := range unsafe.Slice(at[uintptr](argv), argc) {
		vals[i] = goValue(tls, v)
	}
	if err := c.Filter(libc.GoString(idxStr), vals); err != nil {
		return fail(tls, pCursor, err)
	}
	return sqlite3.SQLITE_OK
}

// goValue is a constraint's value as Go holds it: nil, int64, float64,
// string or []byte.
func goValue(tls *libc.TLS, v uintptr) any {
	switch typ := sqlite3.Xsqlite3_value_type(tls, v); typ {
	case sqlite3.SQLITE_INTEGER:
		return sqlite3.Xsqlite3_value_int64(tls, v)
	case sqlite3.SQLITE_FLOAT:
		return sqlite3.Xsqlite3_value_double(tls, v)
	case sqlite3.SQLITE_TEXT, sqlite3.SQLITE_BLOB:
		var val Value
		if !valueBytes(tls, &val, typ, v) {
			return nil
		}
		if typ == sqlite3.SQLITE_BLOB {
			return []byte(val.Text)
		}
		return strings.Clone(val.Text)
	}
	return nil
}

func xNext(tls *libc.TLS, pCursor uintptr) int32 {
	c := cursorOf(pCursor)
	if c == nil {
		return sqlite3.SQLITE_ERROR
	}
	if err := c.Next(); err != nil {
		return fail(tls, pCursor, err)
	}
	return sqlite3.SQLITE_OK
}

func xEof(_ *libc.TLS, pCursor uintptr) int32 {
	if c := cursorOf(pCursor); c != nil && !c.eof {
		return 0
	}
	return 1
}

func xColumn(tls *libc.TLS, pCursor, ctx uintptr, i int32) int32 {
	c := cursorOf(pCursor)
	if c == nil {
		return sqlite3.SQLITE_ERROR
	}
	c.column(tls, ctx, int(i))
	return sqlite3.SQLITE_OK
}

func xRowid(_ *libc.TLS, pCursor, pRowid uintptr) int32 {
	c := cursorOf(pCursor)
	if c == nil {
		return sqlite3.SQLITE_ERROR
	}
	*at[int64](pRowid) = c.rowid
	return sqlite3.SQLITE_OK
}
