package make

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
	"github.com/celonis-audit/steampipe-plugin-celonis/make/makeapi"
)

var auditCols = []string{"uuid", "organization_id", "organization_name", "team_id", "team_name", "event_name", "actor_id",
	"actor_name", "actor_email", "actor_anonymized", "target_id", "version_from", "version_to", "created_at", "triggered_at", "raw"}

func TestMakeAuditLogOrganizationsFromConfig(t *testing.T) {
	e := newEnv(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Name: "A", Events: 120}, {ID: 12, Name: "B", Events: 80}}},
		"make_organization_ids = [11, 12]\n")
	rows := e.mustQuery(inproc.Query{Table: "celonis_make_audit_log", Columns: auditCols})
	if len(rows) != 200 {
		t.Fatalf("got %d rows, want 200", len(rows))
	}
	if n := len(e.api.Requests("/api/v2/organizations")); n != 0 {
		t.Fatalf("listed organizations %d times although make_organization_ids is set", n)
	}
	for _, org := range []string{"11", "12"} {
		reqs := e.api.Requests("/api/v2/audit-logs/organization/" + org)
		if len(reqs) != 1 {
			t.Fatalf("org %s: %d requests", org, len(reqs))
		}
		q := reqs[0].Query
		if q.Get("pg[sortBy]") != "triggeredAt" || q.Get("pg[sortDir]") != "desc" || q.Get("pg[limit]") != "10000" || reqs[0].AuthScheme != "Token" {
			t.Fatalf("org %s query %v auth %q", org, q, reqs[0].AuthScheme)
		}
	}
	anon := 0
	for _, r := range rows {
		var raw map[string]any
		json.Unmarshal(r.Value("raw").(json.RawMessage), &raw)
		if r.Value("uuid") != raw["uuid"] || r.Value("event_name") != raw["eventName"] {
			t.Fatalf("row %v vs raw %v", r, raw)
		}
		ms := int64(raw["triggeredAt"].(float64))
		if !r.Value("triggered_at").(time.Time).Equal(time.UnixMilli(ms)) {
			t.Fatalf("triggered_at %v vs %d", r.Value("triggered_at"), ms)
		}
		if r.Value("actor_anonymized") == true {
			anon++
			if r.Value("actor_email") != nil || r.Value("actor_id") == nil {
				t.Fatalf("anonymized row %v", r)
			}
		}
		if raw["team"] == nil && r.Value("team_id") != nil {
			t.Fatalf("organization-level entry with team_id %v", r.Value("team_id"))
		}
	}
	if anon == 0 {
		t.Error("no anonymized actor in the history")
	}
}

func TestMakeAuditLogDiscoversOrganizations(t *testing.T) {
	e := newEnv(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 50}, {ID: 12, Events: 30}, {ID: 13, Events: 20, Zone: "us1.make.com"}}}, "")
	for i := 0; i < 2; i++ {
		rows := e.mustQuery(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid", "organization_id"}})
		if len(rows) != 80 {
			t.Fatalf("got %d rows, want 80 (org 13 lives in another zone)", len(rows))
		}
	}
	if n := len(e.api.Requests("/api/v2/organizations")); n != 1 {
		t.Fatalf("organizations listed %d times, want once", n)
	}
	if n := len(e.api.Requests("/api/v2/audit-logs/organization/13")); n != 0 {
		t.Fatal("read an organization of another zone")
	}
}

func TestMakeAuditLogPushdown(t *testing.T) {
	e := newEnv(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 400}, {ID: 12, Events: 400}}}, "make_organization_ids = [11, 12]\n")
	teams := e.api.Teams(11)
	orgQ := func(v ...int64) inproc.Qual {
		if len(v) == 1 {
			return inproc.Q("organization_id", "=", inproc.IntValue(v[0]))
		}
		var l []*proto.QualValue
		for _, x := range v {
			l = append(l, inproc.IntValue(x))
		}
		return inproc.Q("organization_id", "=", inproc.ListValue(l...))
	}
	run := func(t *testing.T, quals ...inproc.Qual) []inproc.Row {
		t.Helper()
		e.api.ResetRequests()
		return e.mustQuery(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid", "organization_id", "team_id", "event_name", "actor_email", "triggered_at"}, Quals: inproc.Quals(quals...)})
	}
	t.Run("organization_id =", func(t *testing.T) {
		rows := run(t, orgQ(12))
		if len(rows) != 400 || len(e.api.Requests("/api/v2/audit-logs/organization/11")) != 0 {
			t.Fatalf("%d rows; requests %v", len(rows), e.api.Requests(""))
		}
	})
	t.Run("organization_id IN", func(t *testing.T) {
		rows := run(t, orgQ(11, 12))
		if len(rows) != 800 || len(e.api.Requests("/api/v2/audit-logs/")) != 2 {
			t.Fatalf("%d rows, %d requests", len(rows), len(e.api.Requests("/api/v2/audit-logs/")))
		}
	})
	t.Run("event_name IN is one request", func(t *testing.T) {
		rows := run(t, orgQ(11), inproc.Q("event_name", "=", inproc.ListValue(inproc.StringValue("webhook_created"), inproc.StringValue("key_deleted"))))
		reqs := e.api.Requests("/api/v2/audit-logs/")
		if len(reqs) != 1 || reqs[0].Query.Get("event[0]") != "webhook_created" || reqs[0].Query.Get("event[1]") != "key_deleted" {
			t.Fatalf("requests %+v", reqs)
		}
		if len(rows) == 0 {
			t.Fatal("no rows")
		}
		for _, r := range rows {
			if ev := r.Value("event_name"); ev != "webhook_created" && ev != "key_deleted" {
				t.Fatalf("event %v", ev)
			}
		}
	})
	t.Run("team_id IN with organization is one team filter", func(t *testing.T) {
		rows := run(t, orgQ(11), inproc.Q("team_id", "=", inproc.ListValue(inproc.IntValue(teams[0]), inproc.IntValue(teams[1]))))
		reqs := e.api.Requests("/api/v2/audit-logs/")
		if len(reqs) != 1 || reqs[0].Path != "/api/v2/audit-logs/organization/11" ||
			reqs[0].Query.Get("team[0]") != strconv.FormatInt(teams[0], 10) || reqs[0].Query.Get("team[1]") != strconv.FormatInt(teams[1], 10) {
			t.Fatalf("requests %+v", reqs)
		}
		want := e.api.OrgEntries(11, teams[0], "", "") + e.api.OrgEntries(11, teams[1], "", "")
		if len(rows) != want {
			t.Fatalf("%d rows, want %d", len(rows), want)
		}
	})
	t.Run("team_id alone reads the team endpoint", func(t *testing.T) {
		rows := run(t, inproc.Q("team_id", "=", inproc.IntValue(teams[2])))
		reqs := e.api.Requests("/api/v2/audit-logs/")
		if len(reqs) != 1 || reqs[0].Path != "/api/v2/audit-logs/team/"+strconv.FormatInt(teams[2], 10) {
			t.Fatalf("requests %+v", reqs)
		}
		if want := e.api.OrgEntries(11, teams[2], "", ""); len(rows) != want || rows[0].Value("organization_id") != int64(11) {
			t.Fatalf("%d rows, want %d; org %v", len(rows), want, rows[0].Value("organization_id"))
		}
	})
	t.Run("actor_email becomes author", func(t *testing.T) {
		var raw struct{ Actor struct{ Email string } }
		for i := 0; raw.Actor.Email == ""; i++ {
			json.Unmarshal(e.api.Entry(11, i), &raw)
		}
		rows := run(t, orgQ(11), inproc.Q("actor_email", "=", inproc.StringValue(raw.Actor.Email)))
		reqs := e.api.Requests("/api/v2/audit-logs/")
		if len(reqs) != 1 || reqs[0].Query.Get("author") != raw.Actor.Email || len(rows) == 0 {
			t.Fatalf("%d rows, requests %+v", len(rows), reqs)
		}
		for _, r := range rows {
			if r.Value("actor_email") != raw.Actor.Email {
				t.Fatalf("row of %v", r.Value("actor_email"))
			}
		}
	})
	t.Run("actor_id and actor_name become author", func(t *testing.T) {
		var raw struct {
			Actor struct {
				ID   int64
				Name string
			}
		}
		for i := 0; raw.Actor.Name == ""; i++ {
			json.Unmarshal(e.api.Entry(12, i), &raw)
		}
		for _, q := range []inproc.Qual{inproc.Q("actor_id", "=", inproc.IntValue(raw.Actor.ID)), inproc.Q("actor_name", "=", inproc.StringValue(raw.Actor.Name))} {
			rows := run(t, orgQ(12), q)
			reqs := e.api.Requests("/api/v2/audit-logs/")
			want := strconv.FormatInt(raw.Actor.ID, 10)
			if q.Column == "actor_name" {
				want = raw.Actor.Name
			}
			if len(reqs) != 1 || reqs[0].Query.Get("author") != want || len(rows) == 0 {
				t.Fatalf("%s: %d rows, requests %+v", q.Column, len(rows), reqs)
			}
		}
	})
	t.Run("triggered_at range covers whole days, rows are exact", func(t *testing.T) {
		from, to := ts("2025-03-05T13:00:00Z"), ts("2025-03-20T01:00:00Z")
		want := 0
		for _, r := range run(t, orgQ(11)) {
			at := r.Value("triggered_at").(time.Time)
			if at.After(from) && !at.After(to) {
				want++
			}
		}
		rows := run(t, orgQ(11), inproc.Q("triggered_at", ">", inproc.TimeValue(from)), inproc.Q("triggered_at", "<=", inproc.TimeValue(to)))
		reqs := e.api.Requests("/api/v2/audit-logs/")
		if len(reqs) != 1 || reqs[0].Query.Get("dateFrom") != "2025-03-05" || reqs[0].Query.Get("dateTo") != "2025-03-20" {
			t.Fatalf("requests %+v", reqs)
		}
		if len(rows) != want || want == 0 || want == e.api.OrgEntries(11, 0, "2025-03-05", "2025-03-20") {
			t.Fatalf("%d rows, want %d (the whole days hold %d)", len(rows), want, e.api.OrgEntries(11, 0, "2025-03-05", "2025-03-20"))
		}
	})
	t.Run("limit counts only rows inside the quals", func(t *testing.T) {
		// The whole days asked of Make hold entries before the bound; they
		// must not use up the limit.
		to := ts("2025-03-20T01:00:00Z")
		e.api.ResetRequests()
		rows := e.mustQuery(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid", "triggered_at"}, Limit: 3,
			Quals: inproc.Quals(orgQ(11), inproc.Q("triggered_at", "<", inproc.TimeValue(to)))})
		if len(rows) != 3 {
			t.Fatalf("%d rows for limit 3", len(rows))
		}
		for _, r := range rows {
			if !r.Value("triggered_at").(time.Time).Before(to) {
				t.Fatalf("row at %v is outside the quals", r.Value("triggered_at"))
			}
		}
	})
	t.Run("limit cuts pg[limit]", func(t *testing.T) {
		e.api.ResetRequests()
		rows := e.mustQuery(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid"}, Quals: inproc.Quals(orgQ(11)), Limit: 7})
		reqs := e.api.Requests("/api/v2/audit-logs/")
		if len(rows) != 7 || len(reqs) != 1 || reqs[0].Query.Get("pg[limit]") != "7" {
			t.Fatalf("%d rows, requests %+v", len(rows), reqs)
		}
	})
	t.Run("negative organization id", func(t *testing.T) {
		_, err := e.query(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid"}, Quals: inproc.Quals(orgQ(-5))})
		assertErr(t, err, "organization_id = -5", "positive")
	})
}

func TestMakeAuditLogPaging(t *testing.T) {
	for _, noIMT := range []bool{false, true} {
		name := "keyset"
		if noIMT {
			name = "offset"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 25000}}, NoIMTID: noIMT}, "make_organization_ids = [11]\n")
			rows := e.mustQuery(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid", "triggered_at"}})
			if len(rows) != 25000 {
				t.Fatalf("%d rows", len(rows))
			}
			seen := map[any]bool{}
			for _, r := range rows {
				if seen[r.Value("uuid")] {
					t.Fatalf("uuid %v twice", r.Value("uuid"))
				}
				seen[r.Value("uuid")] = true
			}
			reqs := e.api.Requests("/api/v2/audit-logs/")
			if len(reqs) != 3 {
				t.Fatalf("%d requests", len(reqs))
			}
			for i, r := range reqs[1:] {
				if noIMT {
					if r.Query.Get("pg[offset]") != strconv.Itoa(10000*(i+1)) || r.Query.Has("pg[last]") {
						t.Fatalf("request %d: %v", i+1, r.Query)
					}
				} else if !strings.Contains(r.Query.Get("pg[last]"), "_") || r.Query.Has("pg[offset]") {
					t.Fatalf("request %d: %v", i+1, r.Query)
				}
			}
		})
	}
}

func TestMakeAuditLogDetails(t *testing.T) {
	for _, key := range []string{"details", "detail"} {
		t.Run(key, func(t *testing.T) {
			e := newEnv(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 365}}, DetailKey: key, ISOTriggeredAt: key == "detail"}, "make_organization_ids = [11]\n")
			day := []inproc.Qual{inproc.Q("triggered_at", ">=", inproc.TimeValue(ts("2025-06-01T00:00:00Z"))), inproc.Q("triggered_at", "<", inproc.TimeValue(ts("2025-06-03T00:00:00Z")))}
			rows := e.mustQuery(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid", "triggered_at"}, Quals: inproc.Quals(day...)})
			if len(rows) == 0 {
				t.Fatal("no rows")
			}
			if n := len(e.api.Requests("/api/v2/audit-logs/11/")); n != 0 {
				t.Fatalf("%d detail requests without the details column", n)
			}
			rows = e.mustQuery(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid", "details"}, Quals: inproc.Quals(day...)})
			if n := len(e.api.Requests("/api/v2/audit-logs/11/")); n != len(rows) {
				t.Fatalf("%d detail requests for %d rows", n, len(rows))
			}
			for _, r := range rows {
				var d map[string]any
				if err := json.Unmarshal(r.Value("details").(json.RawMessage), &d); err != nil || d["ip"] == nil {
					t.Fatalf("details %s", r.Value("details"))
				}
			}

			// organization_id and uuid: one detail request, no listing, and
			// the details come with it.
			e.api.ResetRequests()
			uuid := rows[0].Value("uuid").(string)
			got := e.mustQuery(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid", "details", "triggered_at"}, Quals: inproc.Quals(
				inproc.Q("organization_id", "=", inproc.IntValue(11)), inproc.Q("uuid", "=", inproc.StringValue(uuid)))})
			reqs := e.api.Requests("/api/v2/")
			if len(got) != 1 || got[0].Value("uuid") != uuid || len(reqs) != 1 || reqs[0].Path != "/api/v2/audit-logs/11/"+uuid {
				t.Fatalf("rows %v requests %+v", got, reqs)
			}
			if got[0].Value("triggered_at") == nil || got[0].Value("details") == nil {
				t.Fatalf("row %v", got[0])
			}
		})
	}
}

func TestMakeAuditLogPathFallback(t *testing.T) {
	e := newEnv(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 30}}, V2PathsOnly: true}, "make_organization_ids = [11]\n")
	for i := 0; i < 2; i++ {
		if rows := e.mustQuery(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid"}}); len(rows) != 30 {
			t.Fatalf("%d rows", len(rows))
		}
	}
	if n := len(e.api.Requests("/api/v2/audit-logs/organization/")); n != 1 {
		t.Fatalf("documented path tried %d times, want once per connection", n)
	}
	if n := len(e.api.Requests("/api/v2/audit-logs/v2/organization/11")); n != 2 {
		t.Fatalf("%d requests under /audit-logs/v2", n)
	}
}

func TestMakeAuditLogErrors(t *testing.T) {
	t.Run("403 on one organization is reported", func(t *testing.T) {
		e := newEnv(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11}, {ID: 12, Forbid: true}}}, "")
		_, err := e.query(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid"}})
		assertErr(t, err, "organization 12", "HTTP 403", "Admin or Owner", "SC403", "make_organization_ids")
	})
	t.Run("402 licence", func(t *testing.T) {
		e := newEnv(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Unpaid: true}}}, "make_organization_ids = [11]\n")
		_, err := e.query(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid"}})
		assertErr(t, err, "HTTP 402", "Enterprise")
	})
	t.Run("401 token", func(t *testing.T) {
		e := newEnv(t, sandbox.MakeOptions{}, "make_api_token = \"wrong-token\"\nmake_organization_ids = [11]\n")
		_, err := e.query(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid"}})
		assertErr(t, err, "HTTP 401", "make_api_token")
	})
	t.Run("429 burst with Retry-After recovers exactly", func(t *testing.T) {
		e := newEnv(t, sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 40}}}, "make_organization_ids = [11]\n")
		e.api.AddFault(sandbox.Fault{Kind: sandbox.FaultRespond, Path: "/api/v2/audit-logs/", Times: 2, Status: 429,
			Header: map[string][]string{"Retry-After": {"0"}}, Body: `{"detail":"Requests limit for organization exceeded, please try again later.","message":"Too many requests","code":"SC429"}`})
		rows := e.mustQuery(inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid"}})
		if len(rows) != 40 || len(e.api.Requests("/api/v2/audit-logs/")) != 3 {
			t.Fatalf("%d rows, %d requests", len(rows), len(e.api.Requests("/api/v2/audit-logs/")))
		}
	})
	t.Run("not configured", func(t *testing.T) {
		t.Setenv("MAKE_API_TOKEN", "")
		r, err := inproc.New(testPlugin, `url = "https://x.celonis.cloud"`)
		if err != nil {
			t.Fatal(err)
		}
		err = r.Execute(t.Context(), inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid"}}, func(inproc.Row) error { return nil })
		assertErr(t, err, "make_api_token", "MAKE_API_TOKEN")
	})
	t.Run("organization id that is not a number", func(t *testing.T) {
		r, err := inproc.New(testPlugin, "make_api_token = \"x\"\nmake_organization_ids = [\"acme\"]\n")
		if err != nil {
			t.Fatal(err)
		}
		err = r.Execute(t.Context(), inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid"}}, func(inproc.Row) error { return nil })
		assertErr(t, err, "make_organization_ids", `"acme"`, "positive numbers")
	})
	t.Run("rate limit of 0", func(t *testing.T) {
		e := newEnv(t, sandbox.MakeOptions{}, "")
		r, _ := inproc.New(testPlugin, "make_api_token = \"x\"\nmake_rate_limit_per_minute = 0\n")
		_ = e
		err := r.Execute(t.Context(), inproc.Query{Table: "celonis_make_audit_log", Columns: []string{"uuid"}}, func(inproc.Row) error { return nil })
		assertErr(t, err, "make_rate_limit_per_minute", "at least 1")
	})
}

// A row's nullable columns are null exactly when the entry lacks the value,
// and a row's values are its own (rows share no storage).
func TestMakeAuditLogRowNulls(t *testing.T) {
	decode := func(s string) *auditLogRow {
		var e makeapi.AuditLog
		if err := json.Unmarshal([]byte(s), &e); err != nil {
			t.Fatal(err)
		}
		return newAuditLogRow(&e)
	}
	full := decode(`{"createdAt":"2024-05-24T14:22:16Z","triggeredAt":1713528322000,"organizationId":3,"team":{"id":212},"actor":{"id":7}}`)
	other := decode(`{"createdAt":"2025-01-01T00:00:00Z","triggeredAt":1713528323000,"organizationId":4,"team":{"id":213},"actor":{"id":8}}`)
	if full.CreatedAt == nil || !full.CreatedAt.Equal(time.Date(2024, 5, 24, 14, 22, 16, 0, time.UTC)) ||
		full.TriggeredAt == nil || !full.TriggeredAt.Equal(time.UnixMilli(1713528322000)) ||
		full.OrganizationID == nil || *full.OrganizationID != 3 || full.TeamID == nil || *full.TeamID != 212 ||
		full.ActorID == nil || *full.ActorID != 7 {
		t.Fatalf("full entry: %+v", full)
	}
	if *other.OrganizationID != 4 || *other.TeamID != 213 || *other.ActorID != 8 || other.CreatedAt.Year() != 2025 {
		t.Fatalf("second entry: %+v", other)
	}
	for _, s := range []string{`{}`, `{"team":{"name":"t"},"actor":{"name":"a"},"createdAt":"not a time","organization":{"name":"o"}}`} {
		r := decode(s)
		if r.CreatedAt != nil || r.TriggeredAt != nil || r.OrganizationID != nil || r.TeamID != nil || r.ActorID != nil {
			t.Fatalf("%s: %+v", s, r)
		}
	}
	if r := decode(`{"organization":{"id":5}}`); r.OrganizationID == nil || *r.OrganizationID != 5 {
		t.Fatalf("organization.id: %+v", r)
	}
}
