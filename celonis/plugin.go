// Package celonis is the Steampipe plugin: its configuration, retry and rate
// limit defaults, and the tables of both products. The Celonis Platform tables
// live here; the Make tables live in package make (imported as maketables:
// a package named make would shadow the builtin).
package celonis

import (
	"context"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin/transform"
	"github.com/turbot/steampipe-plugin-sdk/v5/rate_limiter"

	"github.com/celonis-audit/steampipe-plugin-celonis/config"
	maketables "github.com/celonis-audit/steampipe-plugin-celonis/make"
)

// Plugin returns the celonis plugin definition.
func Plugin(ctx context.Context) *plugin.Plugin {
	return &plugin.Plugin{
		Name: "steampipe-plugin-celonis",
		ConnectionConfigSchema: &plugin.ConnectionConfigSchema{
			NewInstance: config.NewInstance,
		},
		DefaultTransform: transform.FromGo().NullIfZero(),
		// No SDK RetryConfig: the clients retry 429s, 5xx and network errors
		// per request, bounded in count and time, which also covers pages
		// after the first (the SDK cannot retry a listing that has streamed
		// rows), and a scan's error stays final (see internal/scanerr).
		RateLimiters: append([]*rate_limiter.Definition{
			{
				// Celonis does not publish the audit API's limit; its answers carry
				// x-ratelimit-* headers and the client honours 429s. This keeps one
				// connection polite; override it with a `limiter` block.
				Name:       "celonis_platform",
				FillRate:   20,
				BucketSize: 20,
				Scope:      []string{"connection"},
				Where:      "service = 'celonis_platform'",
			},
		}, maketables.RateLimiters()...),
		TableMap: tableMap(ctx),
	}
}

// tableMap holds every table of both products. Their list functions say
// which CPUs they want (see OneCPUEnv).
func tableMap(ctx context.Context) map[string]*plugin.Table {
	tables := map[string]*plugin.Table{
		"celonis_audit_log":             tableCelonisAuditLog(ctx),
		"celonis_login_history":         tableCelonisLoginHistory(ctx),
		"celonis_studio_adoption_event": tableCelonisStudioAdoptionEvent(ctx),
		"celonis_team_member":           tableCelonisTeamMember(ctx),
	}
	for _, t := range tables {
		t.List.Hydrate = OnOneCPU(t.List.Hydrate)
	}
	for name, t := range maketables.Tables(ctx) {
		t.List.Hydrate = OnAllCPUs(t.List.Hydrate)
		tables[name] = t
	}
	return tables
}

// platformTags route a table's calls to the celonis_platform rate limiter.
var platformTags = map[string]string{"service": "celonis_platform"}
