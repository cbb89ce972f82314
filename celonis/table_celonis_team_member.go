package celonis

import (
	"context"
	"strings"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/query_cache"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis/platform"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/column"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/lenient"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/scanerr"
)

//// TABLE DEFINITION

func tableCelonisTeamMember(_ context.Context) *plugin.Table {
	return &plugin.Table{
		Name:        "celonis_team_member",
		Description: "Members of a Celonis Platform team, from the Members API: join audit log actors to people and roles.",
		Tags:        platformTags,
		List: &plugin.ListConfig{
			Hydrate: listCelonisTeamMembers,
			KeyColumns: plugin.KeyColumnSlice{
				// The value comes from the qual, not the API: the cache must
				// not serve one setting's rows to the other.
				{Name: "include_internal", Operators: []string{"="}, Require: plugin.Optional, CacheMatch: query_cache.CacheMatchExact},
			},
		},
		Columns: []*plugin.Column{
			{Name: "user_id", Type: proto.ColumnType_STRING, Description: "ID of the user; matches user_id in celonis_audit_log.", Transform: column.Field("UserID").NullIfZero()},
			{Name: "name", Type: proto.ColumnType_STRING, Description: "Display name of the member.", Transform: column.Field("Name").NullIfZero()},
			{Name: "email", Type: proto.ColumnType_STRING, Description: "Email of the member.", Transform: column.Field("Email").NullIfZero()},
			{Name: "user_role", Type: proto.ColumnType_STRING, Description: "Role of the member in the team, such as ADMIN or MEMBER.", Transform: column.Field("UserRole").NullIfZero()},
			{Name: "status", Type: proto.ColumnType_STRING, Description: "Membership status, such as Active.", Transform: column.Field("Status").NullIfZero()},
			{Name: "last_login", Type: proto.ColumnType_STRING, Description: "Last login as the API writes it (free-form text).", Transform: column.Field("LastLogin").NullIfZero()},
			{Name: "last_login_time", Type: proto.ColumnType_TIMESTAMP, Description: "Last login as a timestamp, when the API's text could be read as one.", Transform: column.Field("LastLoginTime")},
			{Name: "inactivity_period", Type: proto.ColumnType_INT, Description: "Inactivity period of the member, as the API reports it (days).", Transform: column.Field("InactivityPeriod")},
			{Name: "groups", Type: proto.ColumnType_JSON, Description: "Groups the member belongs to, each with its name and team role.", Transform: column.Field("Groups")},
			{Name: "include_internal", Type: proto.ColumnType_BOOL, Description: "Whether internal (Celonis) members were included in the listing; true unless the query sets it to false.", Transform: column.Field("IncludeInternal")},
			{Name: "raw", Type: proto.ColumnType_JSON, Description: "The entry exactly as the API sent it.", Transform: column.Field("Raw")},
		},
	}
}

// teamMemberRow is one member as the table shows it.
type teamMemberRow struct {
	UserID           string
	Name             string
	Email            string
	UserRole         string
	Status           string
	LastLogin        string
	LastLoginTime    *time.Time
	InactivityPeriod *int64
	Groups           any
	IncludeInternal  bool
	Raw              any
}

func newTeamMemberRow(m *platform.Member, includeInternal bool) *teamMemberRow {
	name, email := platform.ParseNameAndEmail(string(m.NameAndEmail))
	return &teamMemberRow{
		UserID: string(m.UserID), Name: name, Email: email, UserRole: string(m.UserRole), Status: string(m.Status),
		LastLogin: string(m.LastLogin), LastLoginTime: parseLastLogin(string(m.LastLogin)),
		InactivityPeriod: m.InactivityPeriod.Ptr(), Groups: lenient.JSONColumn(m.Group),
		IncludeInternal: includeInternal, Raw: lenient.JSONColumn(m.Raw),
	}
}

//// LIST FUNCTION

func listCelonisTeamMembers(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (_ any, err error) {
	defer func() { err = scanerr.Final(ctx, err) }()
	include := true
	if q := d.EqualsQuals["include_internal"]; q != nil {
		include = q.GetBoolValue()
	}
	client, err := platformClient(ctx, d)
	if err != nil {
		plugin.Logger(ctx).Error("celonis_team_member.listCelonisTeamMembers", "connection_error", err)
		return nil, err
	}
	err = client.ListMembers(ctx, include, pager(ctx, d), stream(ctx, d, nil, func(m *platform.Member) any {
		return newTeamMemberRow(m, include)
	}))
	if err != nil {
		plugin.Logger(ctx).Error("celonis_team_member.listCelonisTeamMembers", "api_error", err)
		return nil, err
	}
	return nil, nil
}

//// TRANSFORM FUNCTIONS

// lastLoginLayouts are the forms lastLogin is seen in ("12/10/2023, 6:49:07 AM UTC").
var lastLoginLayouts = []string{"1/2/2006, 3:04:05 PM MST", "01/02/2006, 03:04:05 PM MST"}

func parseLastLogin(s string) *time.Time {
	s = strings.TrimSpace(s)
	if t, ok := platform.ParseTime(s); ok {
		return &t
	}
	for _, l := range lastLoginLayouts {
		if t, err := time.Parse(l, s); err == nil {
			t = t.UTC()
			return &t
		}
	}
	return nil
}
