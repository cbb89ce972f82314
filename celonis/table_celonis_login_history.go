package celonis

import (
	"context"
	"encoding/json"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis/platform"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/column"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/scanerr"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/timerange"
)

//// TABLE DEFINITION

func tableCelonisLoginHistory(_ context.Context) *plugin.Table {
	return &plugin.Table{
		Name:        "celonis_login_history",
		Description: "Login history of a Celonis Platform team: every login, logout and failed attempt, from the Login History API.",
		Tags:        platformTags,
		List: &plugin.ListConfig{
			Hydrate: listCelonisLoginHistory,
			KeyColumns: plugin.KeyColumnSlice{
				{Name: "timestamp", Operators: timerange.Operators, Require: plugin.Optional},
			},
		},
		Columns: []*plugin.Column{
			{Name: "timestamp", Type: proto.ColumnType_TIMESTAMP, Description: "Time of the authentication event.", Transform: column.Field("Timestamp")},
			{Name: "event_type", Type: proto.ColumnType_STRING, Description: "Kind of authentication event, such as LOGIN, LOGIN_SSO, LOGOUT or BAD_CREDENTIALS.", Transform: column.Field("EventType").NullIfZero()},
			{Name: "email", Type: proto.ColumnType_STRING, Description: "Email of the account that tried to authenticate.", Transform: column.Field("Email").NullIfZero()},
			{Name: "success", Type: proto.ColumnType_BOOL, Description: "True if the authentication succeeded.", Transform: column.Field("Success")},
			{Name: "raw", Type: proto.ColumnType_JSON, Description: "The entry exactly as the API sent it.", Transform: column.JSON("Raw")},
		},
	}
}

// loginHistoryRow is one authentication event as the table shows it.
type loginHistoryRow struct {
	Timestamp *time.Time
	EventType string
	Email     string
	Success   *bool
	Raw       json.RawMessage

	at time.Time // what Timestamp points at: a row is one allocation
}

//// LIST FUNCTION

func listCelonisLoginHistory(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (_ any, err error) {
	defer func() { err = scanerr.Final(ctx, err) }()
	return nil, listTimed(ctx, d, "celonis_login_history.listCelonisLoginHistory", (*platform.Client).ListLoginHistory,
		(*platform.LoginEvent).At,
		func(c *platform.Client, e *platform.LoginEvent) any {
			r := &loginHistoryRow{EventType: string(e.AuthenticationEventType), Email: string(e.Email), Success: e.Success, Raw: e.Raw}
			r.Timestamp = e.Timestamp.In(&r.at)
			return r
		})
}
