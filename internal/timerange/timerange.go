// Package timerange turns the quals on a timestamp column into the one
// inclusive [from, to] window an API is asked for, and matches rows against
// the quals exactly. Every table with a time column uses it, so bounds are
// computed the same way everywhere.
package timerange

import (
	"fmt"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
)

// Operators a timestamp key column accepts; `between` arrives as >= and <=.
var Operators = []string{"=", ">", ">=", "<", "<="}

// Range is the window the quals allow. From and To are inclusive bounds to
// send to an API (nil ends are open); strict bounds are remembered so that
// Contains can match rows exactly. Empty means the quals contradict each
// other, so no row can match.
type Range struct {
	From, To             *time.Time
	fromStrict, toStrict bool
	Empty                bool
}

// FromQuals reads column's quals. Strict bounds (> and <) are sent as
// inclusive ones: the window is a superset of what SQL asked, and rows are
// matched exactly with Contains. When several bounds are given the tightest
// wins.
func FromQuals(quals plugin.KeyColumnQualMap, column string) Range {
	var r Range
	kq := quals[column]
	if kq == nil {
		return r
	}
	for _, q := range kq.Quals {
		if q.Value == nil || q.Value.GetTimestampValue() == nil {
			continue
		}
		t := q.Value.GetTimestampValue().AsTime().UTC()
		switch q.Operator {
		case "=":
			r.raiseFrom(t, false)
			r.lowerTo(t, false)
		case ">":
			r.raiseFrom(t, true)
		case ">=":
			r.raiseFrom(t, false)
		case "<":
			r.lowerTo(t, true)
		case "<=":
			r.lowerTo(t, false)
		}
	}
	if r.From != nil && r.To != nil {
		r.Empty = r.From.After(*r.To) || (r.From.Equal(*r.To) && (r.fromStrict || r.toStrict))
	}
	return r
}

func (r *Range) raiseFrom(t time.Time, strict bool) {
	if r.From == nil || t.After(*r.From) {
		r.From, r.fromStrict = &t, strict
	} else if t.Equal(*r.From) && strict {
		r.fromStrict = true
	}
}

func (r *Range) lowerTo(t time.Time, strict bool) {
	if r.To == nil || t.Before(*r.To) {
		r.To, r.toStrict = &t, strict
	} else if t.Equal(*r.To) && strict {
		r.toStrict = true
	}
}

// Bounded reports whether the quals set any bound.
func (r Range) Bounded() bool { return r.From != nil || r.To != nil }

// Contains reports whether a row's time satisfies every qual exactly. A row
// without a time matches only an unbounded range, as in SQL.
func (r Range) Contains(t *time.Time) bool {
	if r.Empty {
		return false
	}
	if t == nil {
		return !r.Bounded()
	}
	if r.From != nil && (t.Before(*r.From) || (r.fromStrict && t.Equal(*r.From))) {
		return false
	}
	if r.To != nil && (t.After(*r.To) || (r.toStrict && t.Equal(*r.To))) {
		return false
	}
	return true
}

// CheckNotFuture refuses a lower bound more than a minute in the future: no
// entry of an audit log can match it, and it is most likely a mistyped
// date or a reversed comparison.
func (r Range) CheckNotFuture(column string, now time.Time) error {
	if r.From != nil && r.From.After(now.Add(time.Minute)) {
		return fmt.Errorf("%s: the lower bound %s is in the future, so no entry can match; use a bound in the past, e.g. %s > now() - interval '1 day' (Postgres) or %s > strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now', '-1 day') (SQLite)",
			column, r.From.Format(time.RFC3339), column, column)
	}
	return nil
}
