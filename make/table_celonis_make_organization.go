package make

import (
	"context"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/column"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/lenient"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/scanerr"
)

//// TABLE DEFINITION

func tableCelonisMakeOrganization(_ context.Context) *plugin.Table {
	return &plugin.Table{
		Name:        "celonis_make_organization",
		Description: "Make organizations the API token can see (GET /organizations), in every zone, with their licence's API rate limit.",
		Tags:        tags,
		List: &plugin.ListConfig{
			Hydrate: listMakeOrganizations,
		},
		Columns: []*plugin.Column{
			{Name: "id", Type: proto.ColumnType_INT, Description: "ID of the organization.", Transform: column.Field("ID")},
			{Name: "name", Type: proto.ColumnType_STRING, Description: "Name of the organization.", Transform: column.Field("Name").NullIfZero()},
			{Name: "zone", Type: proto.ColumnType_STRING, Description: "Zone that hosts the organization, such as eu1.make.com.", Transform: column.Field("Zone").NullIfZero()},
			{Name: "timezone_id", Type: proto.ColumnType_INT, Description: "ID of the organization's time zone.", Transform: column.Field("TimezoneID")},
			{Name: "api_limit", Type: proto.ColumnType_INT, Description: "API requests a minute the organization's licence allows.", Transform: column.Field("APILimit")},
			{Name: "in_connection_zone", Type: proto.ColumnType_BOOL, Description: "True if the organization lives in the connection's zone (make_url), so its audit log can be read through this connection.", Transform: column.Field("InConnectionZone")},
			{Name: "raw", Type: proto.ColumnType_JSON, Description: "The organization exactly as the API sent it.", Transform: column.Field("Raw")},
		},
	}
}

type organizationRow struct {
	ID               *int64
	Name             string
	Zone             string
	TimezoneID       *int64
	APILimit         *int64
	InConnectionZone bool
	Raw              any
}

//// LIST FUNCTION

func listMakeOrganizations(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (_ any, err error) {
	defer func() { err = scanerr.Final(ctx, err) }()
	c, err := client(ctx, d)
	if err != nil {
		return nil, err
	}
	d.WaitForListRateLimit(ctx)
	orgs, err := c.ListOrganizations(ctx)
	if err != nil {
		plugin.Logger(ctx).Error("celonis_make_organization.listMakeOrganizations", "api_error", err)
		return nil, err
	}
	for i := range orgs {
		o := &orgs[i]
		r := &organizationRow{ID: o.ID.Ptr(), Name: string(o.Name), Zone: string(o.Zone), TimezoneID: o.TimezoneID.Ptr(),
			InConnectionZone: o.InZone(c.Zone()), Raw: lenient.JSONColumn(o.Raw)}
		if o.License != nil {
			r.APILimit = o.License.APILimit.Ptr()
		}
		// Checked before streaming: once the query is cancelled or has its
		// rows, the SDK's StreamListItem can block for ever (v5.14.1).
		if d.RowsRemaining(ctx) == 0 {
			break
		}
		d.StreamListItem(ctx, r)
	}
	return nil, nil
}
