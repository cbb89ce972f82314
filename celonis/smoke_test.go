package celonis

import (
	"testing"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

func TestSmoke(t *testing.T) {
	e := newEnv(t, sandbox.CelonisOptions{AuditEvents: 450}, oauth, "")
	rows := e.mustQuery(inproc.Query{Table: "celonis_audit_log", Columns: []string{"timestamp", "event", "user_id", "user_email", "raw", "event_key"}})
	t.Logf("rows %d first %v", len(rows), rows[0].Value("user_email"))
	for _, r := range e.api.Requests("") {
		t.Logf("%s %s %v %d", r.Method, r.Path, r.Query, r.Status)
	}
}
