// Package timerange turns the quals on a timestamp column into the one
// inclusive [from, to] window an API is asked for. Every table with a time
// column uses it, so bounds are computed the same way everywhere.
package timerange

import (
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
)

// Operators a timestamp key column accepts; `between` arrives as >= and <=.
var Operators = []string{"=", ">", ">=", "<", "<="}

// Range is an inclusive window; nil ends are open. Empty means the quals
// contradict each other (from after to), so no row can match.
type Range struct {
	From, To *time.Time
	Empty    bool
}

// FromQuals reads column's quals. Strict bounds (> and <) are sent as
// inclusive ones: the window is a superset of what SQL asked, and the rows
// are filtered exactly afterwards. When several bounds are given the
// tightest wins.
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
			r.raiseFrom(t)
			r.lowerTo(t)
		case ">", ">=":
			r.raiseFrom(t)
		case "<", "<=":
			r.lowerTo(t)
		}
	}
	r.Empty = r.From != nil && r.To != nil && r.From.After(*r.To)
	return r
}

func (r *Range) raiseFrom(t time.Time) {
	if r.From == nil || t.After(*r.From) {
		r.From = &t
	}
}

func (r *Range) lowerTo(t time.Time) {
	if r.To == nil || t.Before(*r.To) {
		r.To = &t
	}
}
