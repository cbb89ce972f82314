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

func tableCelonisStudioAdoptionEvent(_ context.Context) *plugin.Table {
	return &plugin.Table{
		Name: "celonis_studio_adoption_event",
		Description: "Studio adoption tracking events of a Celonis Platform team (STUDIO_ASSET), from the Studio Adoption API. " +
			"The API's fields are not public: known ones are lifted to columns and raw keeps every entry whole.",
		Tags: platformTags,
		List: &plugin.ListConfig{
			Hydrate: listCelonisStudioAdoptionEvents,
			KeyColumns: plugin.KeyColumnSlice{
				{Name: "timestamp", Operators: timerange.Operators, Require: plugin.Optional},
			},
		},
		Columns: []*plugin.Column{
			{Name: "timestamp", Type: proto.ColumnType_TIMESTAMP, Description: "Time of the event.", Transform: column.Field("Timestamp")},
			{Name: "id", Type: proto.ColumnType_STRING, Description: "ID of the event, when the API sends one.", Transform: column.Field("ID").NullIfZero()},
			{Name: "event_type", Type: proto.ColumnType_STRING, Description: "Kind of adoption event, such as a view being opened.", Transform: column.Field("EventType").NullIfZero()},
			{Name: "user_id", Type: proto.ColumnType_STRING, Description: "ID of the user the event belongs to.", Transform: column.Field("UserID").NullIfZero()},
			{Name: "user_email", Type: proto.ColumnType_STRING, Description: "Email of the user the event belongs to.", Transform: column.Field("UserEmail").NullIfZero()},
			{Name: "asset_id", Type: proto.ColumnType_STRING, Description: "ID or key of the Studio asset.", Transform: column.Field("AssetID").NullIfZero()},
			{Name: "asset_type", Type: proto.ColumnType_STRING, Description: "Type of the Studio asset, such as VIEW or ANALYSIS.", Transform: column.Field("AssetType").NullIfZero()},
			{Name: "asset_name", Type: proto.ColumnType_STRING, Description: "Name of the Studio asset.", Transform: column.Field("AssetName").NullIfZero()},
			{Name: "package_key", Type: proto.ColumnType_STRING, Description: "Key of the Studio package that holds the asset.", Transform: column.Field("PackageKey").NullIfZero()},
			{Name: "space_id", Type: proto.ColumnType_STRING, Description: "ID of the Studio space that holds the package.", Transform: column.Field("SpaceID").NullIfZero()},
			{Name: "raw", Type: proto.ColumnType_JSON, Description: "The entry exactly as the API sent it.", Transform: column.JSON("Raw")},
		},
	}
}

// adoptionRow is one Studio adoption event as the table shows it.
type adoptionRow struct {
	Timestamp                        *time.Time
	ID, EventType, UserID, UserEmail string
	AssetID, AssetType, AssetName    string
	PackageKey, SpaceID              string
	Raw                              json.RawMessage

	at time.Time // what Timestamp points at: a row is one allocation
}

//// LIST FUNCTION

func listCelonisStudioAdoptionEvents(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (_ any, err error) {
	defer func() { err = scanerr.Final(ctx, err) }()
	return nil, listTimed(ctx, d, "celonis_studio_adoption_event.listCelonisStudioAdoptionEvents", (*platform.Client).ListStudioAdoptionEvents,
		(*platform.AdoptionEvent).At,
		func(c *platform.Client, e *platform.AdoptionEvent) any {
			r := &adoptionRow{ID: string(e.ID), EventType: string(e.EventType),
				UserID: string(e.UserID), UserEmail: string(e.UserEmail), AssetID: string(e.AssetID),
				AssetType: string(e.AssetType), AssetName: string(e.AssetName), PackageKey: string(e.PackageKey),
				SpaceID: string(e.SpaceID), Raw: e.Raw}
			r.Timestamp = e.Timestamp.In(&r.at)
			return r
		})
}
