package celonis

import (
	"context"
	"encoding/json"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin/transform"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis/platform"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/column"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/lenient"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/scanerr"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/timerange"
)

//// TABLE DEFINITION

func tableCelonisAuditLog(_ context.Context) *plugin.Table {
	return &plugin.Table{
		Name:        "celonis_audit_log",
		Description: "Audit log events of a Celonis Platform team: changes, logins and administration, read from the Audit Log API (v2, or v1 by configuration).",
		Tags:        platformTags,
		List: &plugin.ListConfig{
			Hydrate: listCelonisAuditLogs,
			KeyColumns: plugin.KeyColumnSlice{
				{Name: "timestamp", Operators: timerange.Operators, Require: plugin.Optional},
			},
		},
		Columns: []*plugin.Column{
			{Name: "timestamp", Type: proto.ColumnType_TIMESTAMP, Description: "Time the event happened.", Transform: column.Field("Timestamp")},
			{Name: "event", Type: proto.ColumnType_STRING, Description: "Type of the event, such as STUDIO_NODE_UPDATED.", Transform: column.Field("Event").NullIfZero()},
			{Name: "user_id", Type: proto.ColumnType_STRING, Description: "ID of the user who caused the event.", Transform: column.Field("UserID").NullIfZero()},
			{Name: "user_email", Type: proto.ColumnType_STRING, Description: "Email of the user who caused the event, when the API names one.", Transform: column.Field("UserEmail").NullIfZero()},
			{Name: "user_role", Type: proto.ColumnType_STRING, Description: "Team role of the user at the time of the event.", Transform: column.Field("UserRole").NullIfZero()},
			{Name: "ip_address", Type: proto.ColumnType_STRING, Description: "IP address the event came from, when recorded.", Transform: column.Field("IPAddress").NullIfZero()},
			{Name: "port", Type: proto.ColumnType_STRING, Description: "Port the event came from, when recorded.", Transform: column.Field("Port").NullIfZero()},
			{Name: "message", Type: proto.ColumnType_JSON, Description: "Event-specific details as a JSON object.", Transform: column.JSON("Message")},
			{Name: "diff_old_value", Type: proto.ColumnType_STRING, Description: "Value before the change, for events that record a diff.", Transform: column.Field("DiffOldValue").NullIfZero()},
			{Name: "diff_new_value", Type: proto.ColumnType_STRING, Description: "Value after the change, for events that record a diff.", Transform: column.Field("DiffNewValue").NullIfZero()},
			{Name: "event_key", Type: proto.ColumnType_STRING, Description: "Stable key of the entry (a hash of its JSON), for deduplicating repeated exports.", Transform: transform.FromP(auditEventKey, nil)},
			{Name: "api_version", Type: proto.ColumnType_STRING, Description: "Audit Log API version the entry was read from (v2 or v1).", Transform: column.Field("APIVersion").NullIfZero()},
			{Name: "raw", Type: proto.ColumnType_JSON, Description: "The entry exactly as the API sent it.", Transform: column.JSON("Raw")},
		},
	}
}

// auditLogRow is one audit entry as the table shows it.
type auditLogRow struct {
	Timestamp    *time.Time
	Event        string
	UserID       string
	UserEmail    string
	UserRole     string
	IPAddress    string
	Port         string
	Message      json.RawMessage
	DiffOldValue *string
	DiffNewValue *string
	APIVersion   string
	Raw          json.RawMessage

	// values holds what the nullable columns point at, so that a row is
	// one allocation.
	values struct {
		timestamp        time.Time
		diffOld, diffNew string
	}
}

func newAuditLogRow(e *platform.AuditEntry, version string) *auditLogRow {
	id, email := platform.ParseUserID(string(e.UserID))
	r := &auditLogRow{
		Event: string(e.Event), UserID: id, UserEmail: email,
		UserRole: string(e.UserRole), IPAddress: string(e.IPAddress), Port: string(e.Port),
		Message: e.Message, APIVersion: version, Raw: e.Raw,
	}
	v := &r.values
	r.Timestamp = e.Timestamp.In(&v.timestamp)
	if e.DiffPayload != nil {
		r.DiffOldValue = platform.JSONText(e.DiffPayload.OldValue, &v.diffOld)
		r.DiffNewValue = platform.JSONText(e.DiffPayload.NewValue, &v.diffNew)
	}
	return r
}

//// LIST FUNCTION

func listCelonisAuditLogs(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (_ any, err error) {
	defer func() { err = scanerr.Final(ctx, err) }()
	return nil, listTimed(ctx, d, "celonis_audit_log.listCelonisAuditLogs", (*platform.Client).ListAuditLogs,
		(*platform.AuditEntry).At,
		func(c *platform.Client, e *platform.AuditEntry) any {
			return newAuditLogRow(e, c.AuditLogVersion())
		})
}

//// TRANSFORM FUNCTIONS

// auditEventKey is the event_key column. Like every column the list call
// provides, the SDK (v5.14.1) computes it for every row whether the query
// selects it or not (its query cache keeps whole rows).
func auditEventKey(_ context.Context, d *transform.TransformData) (any, error) {
	row, ok := d.HydrateItem.(*auditLogRow)
	if !ok {
		return nil, nil
	}
	return platform.EntryKey(lenient.JSONBytes(row.Raw)), nil // of the entry as the raw column shows it
}
