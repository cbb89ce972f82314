package make

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin/transform"
	"github.com/turbot/steampipe-plugin-sdk/v5/query_cache"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/column"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/lenient"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/scanerr"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/timerange"
	"github.com/celonis-audit/steampipe-plugin-celonis/make/makeapi"
)

//// TABLE DEFINITION

func tableCelonisMakeAuditLog(_ context.Context) *plugin.Table {
	return &plugin.Table{
		Name: "celonis_make_audit_log",
		Description: "Audit log entries of Make (make.com) organizations and teams: who created, changed or deleted " +
			"scenarios, connections, keys, webhooks and members. Needs an Enterprise plan and the Admin/Owner (or Team Admin) role.",
		Tags:              tags,
		GetMatrixItemFunc: organizationMatrix,
		List: &plugin.ListConfig{
			Hydrate: listMakeAuditLogs,
			KeyColumns: plugin.KeyColumnSlice{
				{Name: "team_id", Operators: []string{"="}, Require: plugin.Optional},
				{Name: "event_name", Operators: []string{"="}, Require: plugin.Optional},
				{Name: "actor_id", Operators: []string{"="}, Require: plugin.Optional},
				{Name: "actor_name", Operators: []string{"="}, Require: plugin.Optional},
				{Name: "actor_email", Operators: []string{"="}, Require: plugin.Optional},
				{Name: "triggered_at", Operators: timerange.Operators, Require: plugin.Optional},
				{Name: "uuid", Operators: []string{"="}, Require: plugin.Optional, CacheMatch: query_cache.CacheMatchExact},
			},
		},
		Get: &plugin.GetConfig{
			Hydrate:    getMakeAuditLog,
			KeyColumns: plugin.AllColumns([]string{"organization_id", "uuid"}),
		},
		HydrateConfig: []plugin.HydrateConfig{{Func: getMakeAuditLogDetails, Tags: tags}},
		Columns: []*plugin.Column{
			{Name: "uuid", Type: proto.ColumnType_STRING, Description: "Unique ID of the audit log entry.", Transform: column.Field("UUID")},
			{Name: "organization_id", Type: proto.ColumnType_INT, Description: "ID of the organization the entry belongs to.", Transform: column.Field("OrganizationID")},
			{Name: "organization_name", Type: proto.ColumnType_STRING, Description: "Name of the organization the entry belongs to.", Transform: column.Field("OrganizationName").NullIfZero()},
			{Name: "team_id", Type: proto.ColumnType_INT, Description: "ID of the team the entry belongs to; null for organization-level events.", Transform: column.Field("TeamID")},
			{Name: "team_name", Type: proto.ColumnType_STRING, Description: "Name of the team the entry belongs to.", Transform: column.Field("TeamName").NullIfZero()},
			{Name: "event_name", Type: proto.ColumnType_STRING, Description: "Event that was audited, such as webhook_created or key_deleted.", Transform: column.Field("EventName").NullIfZero()},
			{Name: "actor_id", Type: proto.ColumnType_INT, Description: "ID of the user who caused the event.", Transform: column.Field("ActorID")},
			{Name: "actor_name", Type: proto.ColumnType_STRING, Description: "Name of the user who caused the event; null when anonymized.", Transform: column.Field("ActorName").NullIfZero()},
			{Name: "actor_email", Type: proto.ColumnType_STRING, Description: "Email of the user who caused the event; null when anonymized.", Transform: column.Field("ActorEmail").NullIfZero()},
			{Name: "actor_anonymized", Type: proto.ColumnType_BOOL, Description: "True if Make anonymized the actor (a deleted user, say).", Transform: column.Field("ActorAnonymized")},
			{Name: "target_id", Type: proto.ColumnType_STRING, Description: "ID of the object the event acted on.", Transform: column.Field("TargetID").NullIfZero()},
			{Name: "version_from", Type: proto.ColumnType_STRING, Description: "Version of the object before the change, for versioned objects.", Transform: column.Field("VersionFrom").NullIfZero()},
			{Name: "version_to", Type: proto.ColumnType_STRING, Description: "Version of the object after the change, for versioned objects.", Transform: column.Field("VersionTo").NullIfZero()},
			{Name: "created_at", Type: proto.ColumnType_TIMESTAMP, Description: "Time Make recorded the entry.", Transform: column.Field("CreatedAt")},
			{Name: "triggered_at", Type: proto.ColumnType_TIMESTAMP, Description: "Time the event happened.", Transform: column.Field("TriggeredAt")},
			{Name: "details", Type: proto.ColumnType_JSON, Description: "Event-specific details, read from the entry's detail endpoint.", Hydrate: getMakeAuditLogDetails, Transform: transform.FromValue()},
			{Name: "raw", Type: proto.ColumnType_JSON, Description: "The entry exactly as the API sent it.", Transform: column.JSON("Raw")},
		},
	}
}

// auditLogRow is one entry as the table shows it.
type auditLogRow struct {
	UUID             string
	OrganizationID   *int64
	OrganizationName string
	TeamID           *int64
	TeamName         string
	EventName        string
	ActorID          *int64
	ActorName        string
	ActorEmail       string
	ActorAnonymized  bool
	TargetID         string
	VersionFrom      string
	VersionTo        string
	CreatedAt        *time.Time
	TriggeredAt      *time.Time
	Raw              json.RawMessage
	details          any // set when the entry came from the detail endpoint
	hasDetails       bool
	// What the pointer fields above point at: a row is one allocation,
	// not one for each (a scan makes a row for every entry it reads).
	values struct {
		organizationID, teamID, actorID int64
		createdAt, triggeredAt          time.Time
	}
}

func newAuditLogRow(e *makeapi.AuditLog) *auditLogRow {
	r := &auditLogRow{UUID: string(e.UUID), EventName: string(e.EventName), TargetID: string(e.TargetID), Raw: e.Raw}
	v := &r.values
	r.CreatedAt, r.TriggeredAt = e.CreatedAt.In(&v.createdAt), e.TriggeredAt.In(&v.triggeredAt)
	if v.organizationID = e.OrgID(); v.organizationID != 0 {
		r.OrganizationID = &v.organizationID
	}
	r.OrganizationName = string(e.Organization.Name)
	r.TeamID, r.TeamName = e.Team.ID.In(&v.teamID), string(e.Team.Name)
	r.ActorID, r.ActorName, r.ActorEmail = e.Actor.ID.In(&v.actorID), string(e.Actor.Name), string(e.Actor.Email)
	r.ActorAnonymized = e.Actor.Anonymized.Value
	r.VersionFrom, r.VersionTo = string(e.Version.From), string(e.Version.To)
	if d := e.Details(); d != nil {
		r.details, r.hasDetails = lenient.JSONColumn(d), true
	}
	return r
}

//// LIST FUNCTION

func listMakeAuditLogs(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (_ any, err error) {
	defer func() { err = scanerr.Final(ctx, err) }()
	org, c, err := organizationClient(ctx, d)
	if err != nil {
		return nil, err
	}
	q := makeapi.AuditQuery{Scope: makeapi.Scope{OrganizationID: org}}
	f := rowFilter{rng: timerange.FromQuals(d.Quals, "triggered_at")}
	if err := f.rng.CheckNotFuture("triggered_at", time.Now()); err != nil {
		return nil, err
	}

	// Each list qual below may be an IN list the SDK split into calls; only
	// the call for its first value sends the request, with all values.
	teamVals, lead := equalsValues(d, "team_id")
	teams, err := int64s("team_id", teamVals)
	if err != nil || !lead {
		return nil, err
	}
	if err := nonEmpty(d, "team_id", len(teams)); err != nil {
		return nil, err
	}
	f.teams = setOf(teams)
	events, lead := equalsValues(d, "event_name")
	if !lead {
		return nil, nil
	}
	q.Events = strs(events)
	if err := nonEmpty(d, "event_name", len(q.Events)); err != nil {
		return nil, err
	}
	f.events = setOf(q.Events)
	f.actors = map[string]map[string]bool{}
	for _, col := range []string{"actor_id", "actor_name", "actor_email"} {
		vals, lead := equalsValues(d, col)
		if !lead {
			return nil, nil
		}
		if err := nonEmpty(d, col, len(vals)); err != nil {
			return nil, err
		}
		if d.EqualsQuals[col] != nil {
			f.actors[col] = setOf(strs(vals))
		}
		q.Authors = append(q.Authors, strs(vals)...)
	}
	if org == teamOnly {
		// Only teams named: each team's own endpoint (Team Admin suffices).
		for _, t := range teams {
			q.Scope = makeapi.Scope{TeamID: t}
			if err := listScope(ctx, d, c, q, f); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	q.Teams = teams

	// uuid given: the detail endpoint answers for this organization.
	if uq := d.EqualsQuals["uuid"]; uq != nil {
		e, err := c.GetAuditLog(ctx, org, uq.GetStringValue())
		if err != nil {
			return nil, orgError(org, err)
		}
		if e != nil {
			if row := newAuditLogRow(e); f.keep(row) && d.RowsRemaining(ctx) > 0 {
				d.StreamListItem(ctx, row)
			}
		}
		return nil, nil
	}
	return nil, listScope(ctx, d, c, q, f)
}

// listScope streams one organization's or team's entries in the query's
// time window, whole days (Make's dateFrom/dateTo are dates).
func listScope(ctx context.Context, d *plugin.QueryData, c *makeapi.Client, q makeapi.AuditQuery, f rowFilter) error {
	if f.rng.Empty {
		return nil
	}
	q.From, q.To = f.rng.From, f.rng.To
	p := makeapi.Pager{BeforePage: func(ctx context.Context) error {
		d.WaitForListRateLimit(ctx)
		return ctx.Err()
	}, Remaining: func() int64 { return d.RowsRemaining(ctx) }}
	if d.QueryContext.Limit != nil && *d.QueryContext.Limit > 0 && *d.QueryContext.Limit < makeapi.MaxPageSize {
		p.PageSize = int(*d.QueryContext.Limit)
	}
	err := c.ListAuditLogs(ctx, q, p, func(e *makeapi.AuditLog) bool {
		// Checked before streaming: once the query is cancelled or has its
		// rows, the SDK's StreamListItem can block for ever (v5.14.1).
		if d.RowsRemaining(ctx) == 0 {
			return false
		}
		if row := newAuditLogRow(e); f.keep(row) {
			d.StreamListItem(ctx, row)
		}
		return d.RowsRemaining(ctx) > 0
	})
	if err != nil {
		plugin.Logger(ctx).Error("celonis_make_audit_log.listScope", "api_error", err)
		if q.OrganizationID != 0 {
			return orgError(q.OrganizationID, err)
		}
	}
	return err
}

// nonEmpty refuses an IN list without values: it matches nothing, which is
// never what a query over audit logs means.
func nonEmpty(d *plugin.QueryData, column string, n int) error {
	if d.EqualsQuals[column] != nil && n == 0 {
		return fmt.Errorf("%s in (): the list is empty, so no entry can match; give at least one value", column)
	}
	return nil
}

// rowFilter applies the pushed-down quals to rows exactly. Make is asked
// a superset (whole days; author matches IDs, names and emails alike), and a
// row outside the quals must not count against a LIMIT.
type rowFilter struct {
	rng    timerange.Range
	teams  map[int64]bool
	events map[string]bool
	actors map[string]map[string]bool // column -> accepted values
}

func (f rowFilter) keep(r *auditLogRow) bool {
	if !f.rng.Contains(r.TriggeredAt) {
		return false
	}
	if f.teams != nil && (r.TeamID == nil || !f.teams[*r.TeamID]) {
		return false
	}
	if f.events != nil && !f.events[r.EventName] {
		return false
	}
	for col, ok := range f.actors {
		var v string
		switch col {
		case "actor_id":
			if r.ActorID != nil {
				v = strconv.FormatInt(*r.ActorID, 10)
			}
		case "actor_name":
			v = r.ActorName
		case "actor_email":
			v = r.ActorEmail
		}
		if v == "" || !ok[v] {
			return false
		}
	}
	return true
}

func setOf[T comparable](vs []T) map[T]bool {
	if vs == nil {
		return nil
	}
	m := make(map[T]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// orgError says which organization failed, so that one unreadable
// organization among many is named rather than hidden.
func orgError(org int64, err error) error {
	var ae *makeapi.APIError
	if errors.As(err, &ae) && (ae.Status == 402 || ae.Status == 403) {
		return fmt.Errorf("organization %d could not be read (to leave it out, set `make_organization_ids` or add organization_id to the query): %w", org, err)
	}
	return err
}

// organizationClient returns this call's organization and the client.
func organizationClient(ctx context.Context, d *plugin.QueryData) (int64, *makeapi.Client, error) {
	org, err := matrixOrganization(ctx, d)
	if err != nil {
		return 0, nil, err
	}
	c, err := client(ctx, d)
	return org, c, err
}

//// HYDRATE FUNCTIONS

func getMakeAuditLog(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (_ any, err error) {
	defer func() { err = scanerr.Final(ctx, err) }()
	org, c, err := organizationClient(ctx, d)
	if err != nil {
		return nil, err
	}
	e, err := c.GetAuditLog(ctx, org, d.EqualsQualString("uuid"))
	if err != nil || e == nil {
		return nil, orgError(org, err)
	}
	return newAuditLogRow(e), nil
}

// getMakeAuditLogDetails runs only when the details column is selected.
func getMakeAuditLogDetails(ctx context.Context, d *plugin.QueryData, h *plugin.HydrateData) (_ any, err error) {
	defer func() { err = scanerr.Final(ctx, err) }()
	row, ok := h.Item.(*auditLogRow)
	if !ok || row.UUID == "" || row.OrganizationID == nil {
		return nil, nil
	}
	if row.hasDetails {
		return row.details, nil
	}
	c, err := client(ctx, d)
	if err != nil {
		return nil, err
	}
	e, err := c.GetAuditLog(ctx, *row.OrganizationID, row.UUID)
	if err != nil {
		return nil, orgError(*row.OrganizationID, err)
	}
	if e == nil {
		return nil, nil
	}
	return lenient.JSONColumn(e.Details()), nil
}
