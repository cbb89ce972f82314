package sqlengine

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/lenient"
)

// TimeLayout is how timestamps read as text: ISO 8601, UTC, always with
// milliseconds, so that text comparison orders them. It is what
// strftime('%Y-%m-%dT%H:%M:%fZ', ...) produces.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// SQLite's constraint operators (SQLITE_INDEX_CONSTRAINT_*) that key
// columns take.
var opNames = map[byte]string{
	sqlite3.SQLITE_INDEX_CONSTRAINT_EQ: "=", sqlite3.SQLITE_INDEX_CONSTRAINT_GT: ">", sqlite3.SQLITE_INDEX_CONSTRAINT_GE: ">=",
	sqlite3.SQLITE_INDEX_CONSTRAINT_LT: "<", sqlite3.SQLITE_INDEX_CONSTRAINT_LE: "<=",
}

type table struct {
	e   *Engine
	def *tableDef
}

// indexInfo is what xBestIndex is asked (the constraints, how many ORDER
// BY terms, the columns used) and answers (each constraint's ArgIndex, -1
// for none, the plan's IdxStr and its cost).
type indexInfo struct {
	Constraints   []constraint
	OrderBy       int
	ColUsed       uint64
	IdxStr        string
	EstimatedCost float64
	EstimatedRows int64
}

type constraint struct {
	Column   int
	Op       byte
	Usable   bool
	ArgIndex int
}

// bestIndex hands the plugin every constraint its key columns accept;
// SQLite re-checks all of them. The plugin applies key-column quals exactly,
// so LIMIT (plus OFFSET) is handed over only when every constraint is such
// a qual and there is no ORDER BY: then the plugin's first rows are SQLite's.
//
// IdxStr is the columns the statement uses (SQLite's ColUsed, in hex: a
// column such as details costs an API call per row, so unused ones are not
// asked for), a semicolon, then what Filter's arguments are, in order: "col
// op" pairs, then "limit" and "offset".
func (t *table) bestIndex(info *indexInfo) {
	var plan []string
	exact := true
	arg := 0
	limitIdx, offsetIdx := -1, -1
	for i := range info.Constraints {
		c := &info.Constraints[i]
		switch c.Op {
		case sqlite3.SQLITE_INDEX_CONSTRAINT_LIMIT:
			limitIdx = i
			continue
		case sqlite3.SQLITE_INDEX_CONSTRAINT_OFFSET:
			offsetIdx = i
			continue
		}
		if !c.Usable || c.Column < 0 || c.Column >= len(t.def.columns) {
			exact = false
			continue
		}
		col := t.def.columns[c.Column].Name
		op, known := opNames[c.Op]
		if !known || !t.def.keyOps[col][op] {
			exact = false
			continue
		}
		c.ArgIndex = arg
		arg++
		plan = append(plan, col+" "+op)
	}
	if limitIdx >= 0 && exact && info.OrderBy == 0 && info.Constraints[limitIdx].Usable {
		info.Constraints[limitIdx].ArgIndex = arg
		arg++
		plan = append(plan, "limit")
		if offsetIdx >= 0 && info.Constraints[offsetIdx].Usable {
			info.Constraints[offsetIdx].ArgIndex = arg
			arg++
			plan = append(plan, "offset")
		}
	}
	info.IdxStr = strconv.FormatUint(info.ColUsed, 16) + ";" + strings.Join(plan, ",")
	// Each pushed constraint narrows what the APIs send: prefer such plans.
	info.EstimatedCost = 1e6 / float64(1+10*len(plan))
	info.EstimatedRows = int64(1e6 / (1 + 10*len(plan)))
}

// cursor reads one scan's rows as SQLite asks for them, straight from the
// SDK's stream (or replays a kept scan); Close stops the scan.
type cursor struct {
	t      *table
	scan   *inproc.Scan // the running scan, if any
	replay []inproc.Row // the rest of a kept scan being replayed
	key    string       // the scan's key for replay
	keep   bool         // the scan's rows are kept for replay
	kept   []inproc.Row // while keep: the rows so far, nil once too many
	cur    inproc.Row
	rowid  int64
	eof    bool
	text   []byte // a time column's text, written over for each
}

// Filter starts a scan by the plan bestIndex made (idxStr) with its
// arguments: each nil, int64, float64, string or []byte.
func (c *cursor) Filter(idxStr string, vals []any) error {
	c.stop()
	q := inproc.Query{Table: c.t.def.name}
	mask, terms, _ := strings.Cut(idxStr, ";")
	used, err := strconv.ParseUint(mask, 16, 64)
	if err != nil {
		return fmt.Errorf("steampipe: bad plan %q", idxStr)
	}
	for i, col := range c.t.def.columns {
		// Bit 63 stands for every column from the 64th on.
		if used&(1<<min(i, 63)) != 0 {
			q.Columns = append(q.Columns, col.Name)
		}
	}
	if len(q.Columns) == 0 {
		q.Columns = []string{c.t.def.columns[0].Name} // count(*) still needs rows
	}
	var quals []inproc.Qual
	var limit, offset int64
	if terms != "" {
		for i, p := range strings.Split(terms, ",") {
			if i >= len(vals) {
				return fmt.Errorf("steampipe: plan %q has more terms than arguments", idxStr)
			}
			switch p {
			case "limit":
				limit, _ = vals[i].(int64)
				continue
			case "offset":
				offset, _ = vals[i].(int64)
				continue
			}
			col, op, _ := strings.Cut(p, " ")
			qv, err := c.t.qualValue(col, vals[i])
			if err != nil {
				c.t.e.setScanErr(err)
				return err
			}
			if qv == nil {
				// NULL: `col = NULL` matches nothing.
				c.eof = true
				return nil
			}
			quals = append(quals, inproc.Q(col, op, qv))
		}
	}
	if limit > 0 {
		q.Limit = limit + offset
	}
	q.Quals = inproc.Quals(quals...)

	// The inner table of a nested-loop join is scanned once per outer row,
	// mostly with the same arguments. A scan asked for a second time in a
	// statement is kept (up to maxReplayRows) and replayed from then on
	// instead of asking the API again; a scan asked once keeps nothing, so
	// a plain scan's memory stays flat.
	c.key = fmt.Sprintf("%s|%s|%v", c.t.def.name, idxStr, vals)
	c.keep = c.t.e.scanAsked(c.key) > 1
	c.eof = false
	if cached, ok := c.t.e.cachedScan(c.key); ok {
		c.replay, c.keep = cached, false
		return c.Next()
	}
	c.scan, c.kept = c.t.e.runner.Start(c.t.e.statementContext(), q), nil
	return c.Next()
}

// maxReplayRows bounds what one statement keeps of a scan for replay.
const maxReplayRows = 50000

func (c *cursor) Next() error {
	var r inproc.Row
	switch {
	case c.scan != nil:
		var err error
		r, err = c.scan.Next()
		if err != nil {
			c.stop()
			c.eof = true
			if err == io.EOF {
				if c.keep {
					c.t.e.keepScan(c.key, c.kept)
				}
				return nil
			}
			c.t.e.setScanErr(err)
			return err
		}
		if c.keep {
			if len(c.kept) < maxReplayRows {
				c.kept = append(c.kept, r)
			} else {
				c.keep, c.kept = false, nil
			}
		}
	case len(c.replay) > 0:
		r, c.replay = c.replay[0], c.replay[1:]
		if err := c.t.e.statementContext().Err(); err != nil {
			c.eof = true
			return err
		}
	default:
		c.eof = true
		return nil
	}
	c.cur = r
	c.rowid = c.t.e.rowid.Add(1) // unique across Filter calls of a statement
	return nil
}

// stop ends a running scan, if any, and drops what is left to replay.
func (c *cursor) stop() {
	if c.scan != nil {
		c.scan.Close()
		c.scan = nil
	}
	c.replay = nil
}

// qualValue converts a constraint's SQLite value to the column's type.
func (t *table) qualValue(col string, v any) (*proto.QualValue, error) {
	if v == nil {
		return nil, nil
	}
	var typ proto.ColumnType
	for _, c := range t.def.columns {
		if c.Name == col {
			typ = c.Type
		}
	}
	switch typ {
	case proto.ColumnType_TIMESTAMP, proto.ColumnType_DATETIME:
		s := fmt.Sprint(v)
		tm, ok := lenient.ParseTime(s)
		if !ok {
			return nil, fmt.Errorf("%s.%s: %q is not a timestamp: write it as ISO 8601, e.g. '2025-03-01T10:00:00.000Z' or strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now', '-1 day')", t.def.name, col, s)
		}
		return inproc.TimeValue(tm), nil
	case proto.ColumnType_INT:
		switch x := v.(type) {
		case int64:
			return inproc.IntValue(x), nil
		case float64:
			return inproc.IntValue(int64(x)), nil
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %q is not an integer", t.def.name, col, x)
			}
			return inproc.IntValue(n), nil
		}
	case proto.ColumnType_BOOL:
		switch x := v.(type) {
		case int64:
			return inproc.BoolValue(x != 0), nil
		case string:
			b, err := strconv.ParseBool(x)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %q is not a boolean: use 1 or 0", t.def.name, col, x)
			}
			return inproc.BoolValue(b), nil
		}
	case proto.ColumnType_DOUBLE:
		if x, ok := v.(float64); ok {
			return &proto.QualValue{Value: &proto.QualValue_DoubleValue{DoubleValue: x}}, nil
		}
	}
	switch x := v.(type) {
	case []byte:
		return inproc.StringValue(string(x)), nil
	case time.Time:
		return inproc.StringValue(x.UTC().Format(TimeLayout)), nil
	}
	return inproc.StringValue(fmt.Sprint(v)), nil
}

// column makes column i of the current row the result of SQLite's
// xColumn (ctx): timestamps as ISO text, JSON as JSON text, booleans as
// 0/1, the rest as inproc.Value reads it. The kinds the plugin's tables
// have are read from the column itself, not through inproc.Value, which
// would put each value in an interface (an allocation a column of every
// row). SQLite copies each text before column returns, so JSON is handed
// over as the column's own bytes, and a time is written into c.text.
func (c *cursor) column(tls *libc.TLS, ctx uintptr, i int) {
	col := c.cur[c.t.def.columns[i].Name]
	if col == nil {
		sqlite3.Xsqlite3_result_null(tls, ctx)
		return
	}
	m := &c.t.e.mod
	switch v := col.Value.(type) {
	case *proto.Column_StringValue:
		m.resultText(tls, ctx, v.StringValue)
	case *proto.Column_JsonValue:
		m.resultText(tls, ctx, unsafe.String(unsafe.SliceData(v.JsonValue), len(v.JsonValue)))
	case *proto.Column_TimestampValue:
		c.text = v.TimestampValue.AsTime().UTC().AppendFormat(c.text[:0], TimeLayout)
		m.resultText(tls, ctx, unsafe.String(unsafe.SliceData(c.text), len(c.text)))
	case *proto.Column_IntValue:
		sqlite3.Xsqlite3_result_int64(tls, ctx, v.IntValue)
	case *proto.Column_DoubleValue:
		sqlite3.Xsqlite3_result_double(tls, ctx, v.DoubleValue)
	case *proto.Column_BoolValue:
		sqlite3.Xsqlite3_result_int64(tls, ctx, int64(libc.Bool32(v.BoolValue)))
	default:
		// NULL, or a text kind no table of this plugin has (an IP
		// address, a CIDR range, an ltree).
		if s, ok := inproc.Value(col).(string); ok {
			m.resultText(tls, ctx, s)
		} else {
			sqlite3.Xsqlite3_result_null(tls, ctx)
		}
	}
}
