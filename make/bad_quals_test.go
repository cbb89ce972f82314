package make

import (
	"testing"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

func TestBadQuals(t *testing.T) {
	e := newEnv(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 20}}}, "make_organization_ids = [11]\n")
	cases := []struct {
		name string
		q    inproc.Qual
		want []string
	}{
		{"future lower bound", inproc.Q("triggered_at", ">=", inproc.TimeValue(time.Now().Add(72*time.Hour))), []string{"triggered_at", "in the future"}},
		{"empty event list", inproc.Q("event_name", "=", inproc.ListValue()), []string{"event_name in ()", "at least one value"}},
		{"empty team list", inproc.Q("team_id", "=", inproc.ListValue()), []string{"team_id in ()", "at least one value"}},
		{"empty actor list", inproc.Q("actor_email", "=", inproc.ListValue()), []string{"actor_email in ()"}},
		{"negative organization", inproc.Q("organization_id", "=", inproc.IntValue(-7)), []string{"organization_id = -7", "positive"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.api.ResetRequests()
			_, err := e.query(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid"}, Quals: inproc.Quals(tc.q)})
			assertErr(t, err, tc.want...)
			if n := len(e.api.Requests("/api/v2/audit-logs/")); n != 0 {
				t.Fatalf("%d requests for a refused query", n)
			}
		})
	}
}
