package make

import (
	"strconv"
	"testing"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

func TestMakeAuditLogFilters(t *testing.T) {
	e := newEnv(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Teams: 4, Users: 6}}}, "make_organization_ids = [11]\n")
	cols := []string{"organization_id", "team_id", "filter_type", "value", "label", "email", "header", "raw"}
	rows := e.mustQuery(inproc.Query{Table: "celonis_make_audit_log_filter", Columns: cols})
	count := map[any]int{}
	events := 0
	for _, v := range sandbox.MakeEvents {
		events += len(v)
	}
	for _, r := range rows {
		count[r.Value("filter_type")]++
		if r.Value("organization_id") != int64(11) || r.Value("team_id") != nil || r.Value("raw") == nil {
			t.Fatalf("row %v", r)
		}
		switch r.Value("filter_type") {
		case "event":
			if r.Value("header") == nil || r.Value("label") == nil {
				t.Fatalf("event row %v", r)
			}
		case "user":
			if r.Value("email") == nil {
				t.Fatalf("user row %v", r)
			}
		}
	}
	if count["event"] != events || count["user"] != 6 || count["team"] != 4 {
		t.Fatalf("counts %v", count)
	}
	if reqs := e.api.Requests("/api/v2/audit-logs/organization/11/filters"); len(reqs) != 1 {
		t.Fatalf("requests %+v", reqs)
	}

	team := e.api.Teams(11)[1]
	e.api.ResetRequests()
	rows = e.mustQuery(inproc.Query{Table: "celonis_make_audit_log_filter", Columns: cols, Quals: inproc.Quals(inproc.Q("team_id", "=", inproc.IntValue(team)))})
	reqs := e.api.Requests("/api/v2/audit-logs/")
	if len(reqs) != 1 || reqs[0].Path != "/api/v2/audit-logs/team/"+strconv.FormatInt(team, 10)+"/filters" {
		t.Fatalf("requests %+v", reqs)
	}
	for _, r := range rows {
		if r.Value("team_id") != team || r.Value("filter_type") == "team" || r.Value("organization_id") != nil {
			t.Fatalf("team row %v", r)
		}
	}
}

func TestMakeOrganizations(t *testing.T) {
	e := newEnv(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Name: "A", APILimit: 240}, {ID: 13, Name: "C", Zone: "us1.make.com"}}}, "")
	rows := e.mustQuery(inproc.Query{Table: "celonis_make_organization", Columns: []string{"id", "name", "zone", "api_limit", "in_connection_zone", "raw"}})
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	byID := map[any]inproc.Row{}
	for _, r := range rows {
		byID[r.Value("id")] = r
	}
	if r := byID[int64(11)]; r.Value("name") != "A" || r.Value("api_limit") != int64(240) || r.Value("in_connection_zone") != true {
		t.Fatalf("org 11: %v", r)
	}
	if r := byID[int64(13)]; r.Value("zone") != "us1.make.com" || r.Value("in_connection_zone") != false {
		t.Fatalf("org 13: %v", r)
	}
}
