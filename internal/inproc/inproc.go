// Package inproc runs the plugin in this process through the SDK's own
// Execute path: the same path Steampipe drives over gRPC, without Steampipe.
// Tests, the benchmark and the SQL engine all use it, so every table has one
// implementation.
package inproc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/anywhere"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/scanerr"
)

// Connection is the name the runner gives its one connection.
const Connection = "celonis"

// Runner is one plugin instance with one configured connection.
type Runner struct {
	server *grpc.PluginServer
	calls  atomic.Int64
}

// New starts the plugin and configures its connection from HCL text (the body
// of a connection block). The query cache is off, so every query reaches the
// API and cancelling a query's context stops its scan.
func New(pluginFunc plugin.PluginFunc, connectionHCL string) (*Runner, error) {
	return NewCacheSized(pluginFunc, connectionHCL, 1)
}

// NewCacheSized is New with the size the query cache is given (still off).
// The SDK preallocates part of it on the heap whatever its state: about 35
// MiB at 1 MB, the least it takes, 326 MiB at 1,024 MB and 328 MiB at
// 16,384 MB. A plugin under Steampipe gets the size of Steampipe's cache
// settings, 16,384 MB by default.
func NewCacheSized(pluginFunc plugin.PluginFunc, connectionHCL string, cacheMb int64) (*Runner, error) {
	s := plugin.Server(&plugin.ServeOpts{PluginFunc: pluginFunc})
	if err := Configure(s, connectionHCL, cacheMb); err != nil {
		return nil, err
	}
	return &Runner{server: s}, nil
}

// Configurer is a plugin to configure as Steampipe does: its server in this
// process, or a gRPC client of one in another (internal/grpchost).
type Configurer interface {
	SetAllConnectionConfigs(*proto.SetAllConnectionConfigsRequest) (*proto.SetConnectionConfigResponse, error)
	SetCacheOptions(*proto.SetCacheOptionsRequest) (*proto.SetCacheOptionsResponse, error)
}

// Configure sets the plugin's one connection (Connection) from HCL text,
// and its query cache: off, of cacheMb.
func Configure(c Configurer, connectionHCL string, cacheMb int64) error {
	res, err := c.SetAllConnectionConfigs(&proto.SetAllConnectionConfigsRequest{
		Configs: []*proto.ConnectionConfig{{
			Connection: Connection, Plugin: "local/celonis", PluginShortName: "celonis", Config: connectionHCL,
		}},
		MaxCacheSizeMb: -1, // the cache is made by SetCacheOptions below
	})
	if err == nil && res != nil && res.FailedConnections[Connection] != "" {
		err = errors.New(res.FailedConnections[Connection])
	}
	if err != nil {
		return fmt.Errorf("connection config: %w", err)
	}
	if _, err := c.SetCacheOptions(&proto.SetCacheOptionsRequest{Enabled: false, MaxSizeMb: cacheMb}); err != nil {
		return fmt.Errorf("cache options: %w", err)
	}
	return nil
}

// SetLimiters adds rate limiters or overrides the plugin's own by name, as
// the `limiter` blocks of a plugin block do under Steampipe.
func (r *Runner) SetLimiters(defs ...*proto.RateLimiterDefinition) error {
	_, err := r.server.SetRateLimiters(&proto.SetRateLimitersRequest{Definitions: defs})
	return err
}

// Schema returns the tables and their columns.
func (r *Runner) Schema() (map[string]*proto.TableSchema, error) {
	res, err := r.server.GetSchema(&proto.GetSchemaRequest{Connection: Connection})
	if err != nil {
		return nil, err
	}
	return res.GetSchema().GetSchema(), nil
}

// Query is one scan of one table.
type Query struct {
	Table   string
	Columns []string
	Quals   map[string]*proto.Quals
	Limit   int64 // 0: no limit
}

// ErrStop, returned by a row callback, ends the scan early without error.
var ErrStop = errors.New("stop")

// Execute runs q and calls fn for every row as it arrives. It returns the
// scan's error even when the SDK reports it after the end of the rows.
func (r *Runner) Execute(ctx context.Context, q Query, fn func(Row) error) error {
	s := r.Start(ctx, q)
	defer s.Close()
	for {
		row, err := s.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(row); err != nil {
			if errors.Is(err, ErrStop) {
				return s.Close()
			}
			return err
		}
	}
}

// Scan is one running scan whose reader asks for each row, as the SQL
// engine's cursors do: Execute without a goroutine between the SDK's
// stream and the reader.
type Scan struct {
	stream *anywhere.LocalPluginStream
	cancel context.CancelFunc
	sink   *scanerr.Sink
	ended  bool
	err    error // what Next returns once the scan has ended
}

// Start starts q. Read its rows with Next; Close it when done.
func (r *Runner) Start(ctx context.Context, q Query) *Scan {
	ctx, cancel := context.WithCancel(ctx)
	ctx, sink := scanerr.WithSink(ctx)
	var limit *proto.NullableInt
	if q.Limit > 0 {
		limit = &proto.NullableInt{Value: q.Limit}
	}
	req := &proto.ExecuteRequest{
		Table:        q.Table,
		QueryContext: &proto.QueryContext{Columns: q.Columns, Quals: q.Quals, Limit: limit},
		Connection:   Connection,
		CallId:       "inproc-" + strconv.FormatInt(r.calls.Add(1), 10),
		ExecuteConnectionData: map[string]*proto.ExecuteConnectionData{
			Connection: {Limit: limit, CacheEnabled: false},
		},
	}
	stream := anywhere.NewLocalPluginStream(ctx)
	r.server.CallExecuteAsync(req, stream)
	return &Scan{stream: stream, cancel: cancel, sink: sink}
}

// Next returns the next row as it arrives; io.EOF once every row has come
// and the scan succeeded; the scan's error, even one the SDK reports after
// the end of the rows, if it failed. After the end it returns the same.
func (s *Scan) Next() (Row, error) {
	if s.ended {
		return nil, s.err
	}
	for {
		resp, err := s.stream.Recv()
		if err != nil {
			return nil, s.end(connError{err})
		}
		if resp == nil {
			return nil, s.end(s.finish())
		}
		if resp.Row != nil {
			return Row(resp.Row.Columns), nil
		}
	}
}

// finish reads the end of a stream whose rows have ended and returns the
// scan's error, or io.EOF. The SDK ends a local stream with a nil row even
// when the scan failed, and reports the error only after it. The next Recv
// waits for the end of the Execute call: a second nil on success, the
// error (or the closed stream that carries it) on failure.
func (s *Scan) finish() error {
	resp, err := s.stream.Recv()
	if err != nil {
		return connError{err}
	}
	if resp != nil {
		return fmt.Errorf("plugin sent a row after the end of the results")
	}
	s.cancel()
	if _, err := s.stream.Recv(); err != nil && !errors.Is(err, context.Canceled) {
		return connError{err}
	}
	// The SDK may end the rows cleanly although the scan failed (see
	// package scanerr): what the table reported still fails the scan.
	if err := s.sink.Err(); err != nil {
		return err
	}
	return io.EOF
}

func (s *Scan) end(err error) error {
	s.ended, s.err = true, err
	s.cancel()
	return err
}

// Close stops the scan if it is still running. It returns what the table
// had reported when it was stopped, as Execute does when a callback
// returns ErrStop (stopping early is no error of its own), or the scan's
// error if it had ended.
func (s *Scan) Close() error {
	if !s.ended {
		err := s.sink.Err()
		if err == nil {
			err = io.EOF
		}
		s.end(err)
	}
	if s.err == io.EOF {
		return nil
	}
	return s.err
}

// connError is the SDK's error for a scan. The SDK puts the name of the
// connection before the table's own error; the runner's one connection is
// its own, so that name tells the reader nothing ("celonis: make: GET ...")
// and Error leaves it out. Unwrap gives the SDK's error.
type connError struct{ err error }

func (e connError) Error() string { return strings.TrimPrefix(e.err.Error(), Connection+": ") }
func (e connError) Unwrap() error { return e.err }

// Row is one result row by column name.
type Row map[string]*proto.Column

// Value returns a column as a Go value: nil, float64, int64, string, bool,
// json.RawMessage or time.Time.
func (r Row) Value(col string) any { return Value(r[col]) }

// Value converts one column value.
func Value(c *proto.Column) any {
	if c == nil {
		return nil
	}
	switch v := c.Value.(type) {
	case *proto.Column_NullValue:
		return nil
	case *proto.Column_DoubleValue:
		return v.DoubleValue
	case *proto.Column_IntValue:
		return v.IntValue
	case *proto.Column_StringValue:
		return v.StringValue
	case *proto.Column_BoolValue:
		return v.BoolValue
	case *proto.Column_JsonValue:
		return json.RawMessage(v.JsonValue)
	case *proto.Column_TimestampValue:
		return v.TimestampValue.AsTime().UTC()
	case *proto.Column_IpAddrValue:
		return v.IpAddrValue
	case *proto.Column_CidrRangeValue:
		return v.CidrRangeValue
	case *proto.Column_LtreeValue:
		return v.LtreeValue
	}
	return nil
}

//// QUALS

// Qual is one `column op value` condition for a Query.
type Qual struct {
	Column   string
	Operator string
	Value    *proto.QualValue
}

// Quals groups conditions by column, as ExecuteRequest wants them.
func Quals(qs ...Qual) map[string]*proto.Quals {
	out := map[string]*proto.Quals{}
	for _, q := range qs {
		if out[q.Column] == nil {
			out[q.Column] = &proto.Quals{}
		}
		out[q.Column].Quals = append(out[q.Column].Quals, &proto.Qual{
			FieldName: q.Column, Operator: &proto.Qual_StringValue{StringValue: q.Operator}, Value: q.Value,
		})
	}
	return out
}

// TimeValue, StringValue, IntValue, BoolValue and ListValue build qual values.
func TimeValue(t time.Time) *proto.QualValue {
	return &proto.QualValue{Value: &proto.QualValue_TimestampValue{TimestampValue: timestamppb.New(t)}}
}

// StringValue builds a text qual value.
func StringValue(s string) *proto.QualValue {
	return &proto.QualValue{Value: &proto.QualValue_StringValue{StringValue: s}}
}

// IntValue builds an integer qual value.
func IntValue(n int64) *proto.QualValue {
	return &proto.QualValue{Value: &proto.QualValue_Int64Value{Int64Value: n}}
}

// BoolValue builds a boolean qual value.
func BoolValue(b bool) *proto.QualValue {
	return &proto.QualValue{Value: &proto.QualValue_BoolValue{BoolValue: b}}
}

// ListValue builds the value of an IN (...) qual.
func ListValue(vs ...*proto.QualValue) *proto.QualValue {
	return &proto.QualValue{Value: &proto.QualValue_ListValue{ListValue: &proto.QualValueList{Values: vs}}}
}

// Q builds one condition: Q("timestamp", ">=", TimeValue(t)).
func Q(column, operator string, v *proto.QualValue) Qual {
	return Qual{Column: column, Operator: operator, Value: v}
}

// Collect runs q and returns all its rows.
func (r *Runner) Collect(ctx context.Context, q Query) ([]Row, error) {
	var rows []Row
	err := r.Execute(ctx, q, func(row Row) error {
		rows = append(rows, row)
		return nil
	})
	return rows, err
}
