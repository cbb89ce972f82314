package celonis

import (
	"testing"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

func TestFutureLowerBoundIsRefused(t *testing.T) {
	e := newEnv(t, sandbox.CelonisOptions{AuditEvents: 10}, appKey, "")
	future := time.Now().Add(48 * time.Hour)
	for _, table := range []string{"celonis_audit_log", "celonis_login_history", "celonis_studio_adoption_event"} {
		_, err := e.query(inproc.Query{Table: table, Columns: []string{"timestamp"}, Quals: inproc.Quals(inproc.Q("timestamp", ">", inproc.TimeValue(future)))})
		assertErr(t, err, "timestamp", "in the future", "now() - interval")
	}
	if n := len(e.api.Requests("")); n != 0 {
		t.Fatalf("%d requests for a refused query", n)
	}
	// An upper bound in the future is fine: it means "until now".
	rows := e.mustQuery(inproc.Query{Table: "celonis_audit_log", Columns: []string{"timestamp"}, Quals: inproc.Quals(inproc.Q("timestamp", "<", inproc.TimeValue(future)))})
	if len(rows) != 10 {
		t.Fatalf("%d rows", len(rows))
	}
}
