package timerange

import (
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin/quals"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func qual(op string, t time.Time) *quals.Qual {
	return &quals.Qual{Column: "ts", Operator: op, Value: &proto.QualValue{Value: &proto.QualValue_TimestampValue{TimestampValue: timestamppb.New(t)}}}
}

func TestFromQuals(t *testing.T) {
	a := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	b, c, d := a.Add(time.Hour), a.Add(2*time.Hour), a.Add(3*time.Hour)
	m := plugin.KeyColumnQualMap{"ts": {Name: "ts", Quals: quals.QualSlice{qual(">", a), qual(">=", b), qual("<", d), qual("<=", c)}}}
	r := FromQuals(m, "ts")
	if !r.From.Equal(b) || !r.To.Equal(c) || r.Empty {
		t.Fatalf("tightest bounds: %+v", r)
	}
	r = FromQuals(plugin.KeyColumnQualMap{"ts": {Quals: quals.QualSlice{qual("=", b)}}}, "ts")
	if !r.From.Equal(b) || !r.To.Equal(b) {
		t.Fatalf("equality: %+v", r)
	}
	r = FromQuals(plugin.KeyColumnQualMap{"ts": {Quals: quals.QualSlice{qual(">", c), qual("<", a)}}}, "ts")
	if !r.Empty {
		t.Fatalf("contradiction not empty: %+v", r)
	}
	if r := FromQuals(plugin.KeyColumnQualMap{}, "ts"); r.From != nil || r.To != nil || r.Empty {
		t.Fatalf("no quals: %+v", r)
	}
}

func TestContainsIsExact(t *testing.T) {
	a := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	b := a.Add(time.Hour)
	at := func(d time.Duration) *time.Time { x := a.Add(d); return &x }
	r := FromQuals(plugin.KeyColumnQualMap{"ts": {Quals: quals.QualSlice{qual(">", a), qual("<=", b)}}}, "ts")
	if !r.From.Equal(a) || !r.To.Equal(b) {
		t.Fatalf("API window %v %v", r.From, r.To)
	}
	cases := map[time.Duration]bool{0: false, time.Nanosecond: true, time.Hour: true, time.Hour + time.Nanosecond: false}
	for d, want := range cases {
		if got := r.Contains(at(d)); got != want {
			t.Errorf("a+%s: %v", d, got)
		}
	}
	if r.Contains(nil) {
		t.Error("a null time matched a bounded range")
	}
	// > a and >= a: the strict one wins at the same instant.
	r = FromQuals(plugin.KeyColumnQualMap{"ts": {Quals: quals.QualSlice{qual(">=", a), qual(">", a)}}}, "ts")
	if r.Contains(at(0)) || !r.Contains(at(1)) {
		t.Error("strictness at an equal bound")
	}
	r = FromQuals(plugin.KeyColumnQualMap{"ts": {Quals: quals.QualSlice{qual(">", a), qual("<", a)}}}, "ts")
	if !r.Empty {
		t.Error("> a and < a is empty")
	}
}
