// Package make holds the Make (make.com) tables of the plugin. Its HTTP
// client is package makeapi. It does not import package celonis; the
// plugin's table map takes these tables from Tables.
package make

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/rate_limiter"

	"github.com/celonis-audit/steampipe-plugin-celonis/config"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/httpx"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/scanerr"
	"github.com/celonis-audit/steampipe-plugin-celonis/make/makeapi"
)

// Tables returns the Make tables by name.
func Tables(ctx context.Context) map[string]*plugin.Table {
	return map[string]*plugin.Table{
		"celonis_make_audit_log":        tableCelonisMakeAuditLog(ctx),
		"celonis_make_audit_log_filter": tableCelonisMakeAuditLogFilter(ctx),
		"celonis_make_organization":     tableCelonisMakeOrganization(ctx),
	}
}

// RateLimiters are the Make limiters users can override with `limiter`
// blocks. Make limits requests per organization and minute by plan (Core 60
// to Enterprise 1000). The client already keeps each organization to
// make_rate_limit_per_minute; this SDK limiter, one per connection and
// organization, is a ceiling at the largest plan's limit that users can lower.
func RateLimiters() []*rate_limiter.Definition {
	return []*rate_limiter.Definition{{
		Name:       "make_organization",
		FillRate:   1000.0 / 60,
		BucketSize: 20,
		Scope:      []string{"connection", "organization_id"},
		Where:      "service = 'make'",
	}}
}

// tags route a table's calls to the make_organization limiter.
var tags = map[string]string{"service": "make"}

const clientKey = "make.client"

// client returns the connection's Make client, built once per connection.
func client(ctx context.Context, d *plugin.QueryData) (*makeapi.Client, error) {
	if v, ok := d.ConnectionCache.Get(ctx, clientKey); ok {
		return v.(*makeapi.Client), nil
	}
	var cfg *config.Config
	if d.Connection != nil {
		cfg = config.FromConnection(d.Connection.Config)
	} else {
		cfg = &config.Config{}
	}
	resolved, err := cfg.ResolveMake(os.Getenv)
	if err != nil {
		return nil, err
	}
	h, err := cfg.ResolveHTTP()
	if err != nil {
		return nil, err
	}
	c := makeapi.New(resolved, makeapi.Options{Logger: plugin.Logger(ctx), HTTPClient: &http.Client{Timeout: h.Timeout},
		Retry: httpx.Policy{MaxAttempts: h.MaxAttempts, BaseBackoff: h.MinDelay}})
	if err := d.ConnectionCache.Set(ctx, clientKey, c); err != nil {
		plugin.Logger(ctx).Warn("make.client", "cache_error", err)
	}
	return c, nil
}

//// ORGANIZATION FAN-OUT

// Matrix items carry organization_id. Two values are not organizations:
// teamOnly (the query names teams and no organization: read the team
// endpoints), and failed (the organizations could not be worked out; the list
// call reports why, since a matrix function cannot return an error).
const (
	teamOnly int64 = 0
	failed   int64 = -1
)

// organizationMatrix fans a query out over organizations: those the query
// names, else make_organization_ids, else every organization the token can
// see in the connection's zone.
func organizationMatrix(ctx context.Context, d *plugin.QueryData) []map[string]any {
	// An empty IN list never reaches a list call (the SDK makes one call per
	// value), so this is the only place that can refuse it. A matrix
	// function cannot return an error; the SDK turns a panic here into the
	// query's error, which is the clear message the user needs.
	for _, col := range []string{"organization_id", "team_id", "event_name", "actor_id", "actor_name", "actor_email"} {
		if vals, ok := qualList(d.QueryContext.UnsafeQuals[col]); ok && len(vals) == 0 {
			panic(scanerr.Report(ctx, fmt.Errorf("%s in (): the list is empty, so no entry can match; give at least one value", col)))
		}
	}
	ids, err := organizations(ctx, d)
	if err != nil {
		plugin.Logger(ctx).Error("make.organizationMatrix", "error", err)
		return []map[string]any{{"organization_id": failed}}
	}
	out := make([]map[string]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"organization_id": id}
	}
	return out
}

const orgsKey = "make.organizations"

// organizations works out the organizations a query reads.
func organizations(ctx context.Context, d *plugin.QueryData) ([]int64, error) {
	c, err := client(ctx, d)
	if err != nil {
		return nil, err
	}
	if vals, ok := qualList(d.QueryContext.UnsafeQuals["organization_id"]); ok {
		// As given, so that the SDK's matrix filter keeps them; each list
		// call checks its own (matrixOrganization).
		var ids []int64
		for _, v := range vals {
			ids = append(ids, v.GetInt64Value())
		}
		return ids, nil
	}
	if _, ok := qualList(d.QueryContext.UnsafeQuals["team_id"]); ok {
		return []int64{teamOnly}, nil
	}
	if ids := c.OrganizationIDs(); len(ids) > 0 {
		return ids, nil
	}
	if v, ok := d.ConnectionCache.Get(ctx, orgsKey); ok {
		return v.([]int64), nil
	}
	orgs, err := c.ListOrganizations(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the organizations the Make token can see (set `make_organization_ids` or add organization_id to the query to skip this): %w", err)
	}
	var ids []int64
	var elsewhere []string
	for _, o := range orgs {
		if !o.InZone(c.Zone()) {
			elsewhere = append(elsewhere, fmt.Sprintf("%d (%s)", o.ID.Value, o.Zone))
			continue
		}
		ids = append(ids, o.ID.Value)
	}
	if len(elsewhere) > 0 {
		plugin.Logger(ctx).Warn("make.organizations", "skipped_other_zones", elsewhere,
			"hint", "their audit logs are served by their own zone: add a connection with that make_url")
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if err := d.ConnectionCache.SetWithTTL(ctx, orgsKey, ids, 5*time.Minute); err != nil {
		plugin.Logger(ctx).Warn("make.organizations", "cache_error", err)
	}
	return ids, nil
}

// matrixOrganization returns the organization of this call's matrix item,
// or the error that kept the fan-out from working one out.
func matrixOrganization(ctx context.Context, d *plugin.QueryData) (int64, error) {
	q := d.EqualsQuals["organization_id"]
	if q == nil {
		return 0, errors.New("make: no organization in this call")
	}
	id := q.GetInt64Value()
	if _, named := qualList(d.QueryContext.UnsafeQuals["organization_id"]); named && id <= 0 {
		return 0, fmt.Errorf("organization_id = %d: Make organization IDs are positive numbers", id)
	}
	if id == failed {
		_, err := organizations(ctx, d)
		if err == nil {
			err = errors.New("make: the organizations to read could not be worked out")
		}
		return 0, err
	}
	return id, nil
}

//// QUALS

// qualList returns the values of a column's = or IN qual as the query gave
// them, before the SDK splits an IN list into calls.
func qualList(q *proto.Quals) ([]*proto.QualValue, bool) {
	if q == nil {
		return nil, false
	}
	for _, qual := range q.Quals {
		if qual.GetStringValue() != "=" || qual.Value == nil {
			continue
		}
		if lv := qual.Value.GetListValue(); lv != nil {
			return lv.Values, true
		}
		return []*proto.QualValue{qual.Value}, true
	}
	return nil, false
}

// equalsValues returns every value the query gives column with = or IN, and
// whether this call should send them. For a single IN list the SDK calls the
// list function once per value; Make takes the whole list in one request
// (event[0]=..&event[1]=..), so the call for the first value sends all of
// them and the others stand down.
func equalsValues(d *plugin.QueryData, column string) ([]*proto.QualValue, bool) {
	cur := d.EqualsQuals[column]
	if cur == nil {
		return nil, true
	}
	if lv := cur.GetListValue(); lv != nil {
		return lv.Values, true
	}
	all, ok := qualList(d.QueryContext.UnsafeQuals[column])
	if !ok || len(all) <= 1 {
		return []*proto.QualValue{cur}, true
	}
	return all, grpc.GetQualValueString(cur) == grpc.GetQualValueString(all[0])
}

func strs(vals []*proto.QualValue) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vals {
		s := grpc.GetQualValueString(v)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// int64s reads ID quals, refusing values that cannot be Make IDs.
func int64s(column string, vals []*proto.QualValue) ([]int64, error) {
	seen := map[int64]bool{}
	var out []int64
	for _, v := range vals {
		id := v.GetInt64Value()
		if id <= 0 {
			return nil, fmt.Errorf("%s = %s: Make IDs are positive numbers", column, grpc.GetQualValueString(v))
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}
