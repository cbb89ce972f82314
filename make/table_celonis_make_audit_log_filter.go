package make

import (
	"context"
	"fmt"
	"strconv"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/query_cache"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/column"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/lenient"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/scanerr"
	"github.com/celonis-audit/steampipe-plugin-celonis/make/makeapi"
)

//// TABLE DEFINITION

func tableCelonisMakeAuditLogFilter(_ context.Context) *plugin.Table {
	return &plugin.Table{
		Name: "celonis_make_audit_log_filter",
		Description: "Values a Make audit log can be filtered by: its events (grouped under headers), the users who " +
			"appear in it and, for organizations, their teams.",
		Tags: tags,
		List: &plugin.ListConfig{
			Hydrate: listMakeAuditLogFilters,
			KeyColumns: plugin.KeyColumnSlice{
				{Name: "organization_id", Operators: []string{"="}, Require: plugin.Optional},
				// The value comes from the qual, not the API.
				{Name: "team_id", Operators: []string{"="}, Require: plugin.Optional, CacheMatch: query_cache.CacheMatchExact},
			},
		},
		Columns: []*plugin.Column{
			{Name: "organization_id", Type: proto.ColumnType_INT, Description: "ID of the organization whose filters these are; null when only a team was asked.", Transform: column.Field("OrganizationID")},
			{Name: "team_id", Type: proto.ColumnType_INT, Description: "ID of the team whose filters these are, when the team's filters were asked.", Transform: column.Field("TeamID")},
			{Name: "filter_type", Type: proto.ColumnType_STRING, Description: "Kind of filter value: event, user or team.", Transform: column.Field("FilterType")},
			{Name: "value", Type: proto.ColumnType_STRING, Description: "Value to filter by: the event name, the user ID or the team ID.", Transform: column.Field("Value").NullIfZero()},
			{Name: "label", Type: proto.ColumnType_STRING, Description: "Readable name: the event label, the user name or the team name.", Transform: column.Field("Label").NullIfZero()},
			{Name: "email", Type: proto.ColumnType_STRING, Description: "Email of the user, for user filters.", Transform: column.Field("Email").NullIfZero()},
			{Name: "header", Type: proto.ColumnType_STRING, Description: "Group the event belongs to, for event filters.", Transform: column.Field("Header").NullIfZero()},
			{Name: "raw", Type: proto.ColumnType_JSON, Description: "The filter item exactly as the API sent it.", Transform: column.Field("Raw")},
		},
	}
}

// filterRow is one filter value as the table shows it.
type filterRow struct {
	OrganizationID *int64
	TeamID         *int64
	FilterType     string
	Value          string
	Label          string
	Email          string
	Header         string
	Raw            any
}

//// LIST FUNCTION

func listMakeAuditLogFilters(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (_ any, err error) {
	defer func() { err = scanerr.Final(ctx, err) }()
	// One request per organization (or team): the organizations are read in
	// turn, each paced by its own rate limit in the client.
	if _, lead := equalsValues(d, "organization_id"); !lead {
		return nil, nil // the SDK split an IN list; the first call reads them all
	}
	c, err := client(ctx, d)
	if err != nil {
		return nil, err
	}
	orgs, err := organizations(ctx, d)
	if err != nil {
		return nil, err
	}
	var scopes []makeapi.Scope
	if q := d.EqualsQuals["team_id"]; q != nil {
		teams, err := int64s("team_id", []*proto.QualValue{q})
		if err != nil {
			return nil, err
		}
		scopes = []makeapi.Scope{{TeamID: teams[0]}}
		if len(orgs) == 1 && orgs[0] > 0 {
			scopes[0].OrganizationID = orgs[0] // named with the team: shown, and paced as that organization
		}
	} else {
		for _, org := range orgs {
			if org <= 0 {
				return nil, fmt.Errorf("organization_id = %d: Make organization IDs are positive numbers", org)
			}
			scopes = append(scopes, makeapi.Scope{OrganizationID: org})
		}
	}
	for _, s := range scopes {
		if d.RowsRemaining(ctx) == 0 {
			return nil, nil
		}
		d.WaitForListRateLimit(ctx)
		f, err := c.GetFilters(ctx, s)
		if err != nil {
			plugin.Logger(ctx).Error("celonis_make_audit_log_filter.listMakeAuditLogFilters", "api_error", err)
			return nil, orgError(s.OrganizationID, err)
		}
		streamFilters(ctx, d, s, f)
	}
	return nil, nil
}

// streamFilters streams one organization's or team's filter values.
func streamFilters(ctx context.Context, d *plugin.QueryData, s makeapi.Scope, f *makeapi.Filters) {
	emit := func(r filterRow) {
		// Once the query is cancelled or has its rows, the SDK's
		// StreamListItem can block for ever (v5.14.1).
		if d.RowsRemaining(ctx) > 0 {
			d.StreamListItem(ctx, &r)
		}
	}
	base := filterRow{}
	if s.OrganizationID > 0 {
		org := s.OrganizationID
		base.OrganizationID = &org
	}
	if s.TeamID != 0 {
		t := s.TeamID
		base.TeamID = &t
	}
	for _, e := range f.Events {
		r := base
		r.FilterType, r.Value, r.Label, r.Header, r.Raw = "event", string(e.Value), string(e.Label), e.Header, lenient.JSONColumn(e.Raw)
		emit(r)
	}
	for _, u := range f.Users {
		r := base
		r.FilterType, r.Value, r.Label, r.Email, r.Raw = "user", strconv.FormatInt(u.ID.Value, 10), string(u.Name), string(u.Email), lenient.JSONColumn(u.Raw)
		emit(r)
	}
	for _, t := range f.Teams {
		r := base
		r.FilterType, r.Value, r.Label, r.Raw = "team", strconv.FormatInt(t.ID.Value, 10), string(t.Name), lenient.JSONColumn(t.Raw)
		emit(r)
	}
}
