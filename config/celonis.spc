connection "celonis" {
  plugin = "local/celonis"

  # ---- Celonis Platform --------------------------------------------------
  # Team URL. Required for the celonis_audit_log, celonis_login_history,
  # celonis_studio_adoption_event and celonis_team_member tables.
  # Must be https:// (plain http is accepted for loopback hosts only).
  # Can also be set with the CELONIS_URL environment variable.
  # url = "https://my-team.eu-1.celonis.cloud"

  # Set exactly ONE of the three authentication methods below.
  # Values in this file win over environment variables.

  # 1. OAuth 2.0 client credentials (preferred). Register an OAuth client with
  #    "client secret post" and the scopes of the tables you query:
  #    audit.log:read, team.login-history:read,
  #    platform-adoption.tracking-events:read, team.user-group-info:read.
  #    Can also be set with CELONIS_CLIENT_ID and CELONIS_CLIENT_SECRET.
  # client_id     = "00000000-0000-0000-0000-000000000000"
  # client_secret = "..."

  # 2. Application key, sent as "Authorization: AppKey <key>".
  #    Can also be set with CELONIS_APP_KEY.
  # app_key = "..."

  # 3. User API key, sent as "Authorization: Bearer <key>".
  #    Can also be set with CELONIS_API_KEY.
  # api_key = "..."

  # Audit Log API version: "v2" (default, cursor paging) or "v1" (page
  # numbers, deprecated by Celonis). When v2 answers 404 the plugin falls
  # back to v1 for the connection and logs a warning.
  # audit_log_api_version = "v2"

  # ---- Make (make.com) ----------------------------------------------------
  # Required for the celonis_make_* tables. Audit logs need an Enterprise plan
  # and the Admin/Owner role in the organization (Team Admin for a team).

  # API token (Profile > API access), sent as "Authorization: Token <token>".
  # Can also be set with the MAKE_API_TOKEN environment variable.
  # make_api_token = "..."

  # Zone of your organizations. Default "https://eu1.make.com"; others:
  # eu2.make.com, us1.make.com, us2.make.com, eu1.make.celonis.com,
  # us1.make.celonis.com. The plugin appends /api/v2.
  # Can also be set with the MAKE_URL environment variable.
  # make_url = "https://eu1.make.com"

  # Organizations to read when a query names none. Without it, the plugin
  # reads every organization the token can see in this zone.
  # make_organization_ids = [123456]

  # Requests a minute per organization (your plan's limit: Core 60, Pro 120,
  # Teams 240, Enterprise 1000). Default 60; when unset, an organization's
  # licence apiLimit is used once GET /organizations has told it.
  # make_rate_limit_per_minute = 60

  # ---- Requests (both products) --------------------------------------------
  # Tries per request, the first included, for 429, 5xx and network errors.
  # Between 1 and 20; default 5. All waits of one request stop after 3 minutes.
  # max_error_retry_attempts = 5

  # First retry delay in milliseconds, doubled on each retry; a server's
  # x-ratelimit-reset or Retry-After header wins. Default 500.
  # min_error_retry_delay = 500

  # Timeout of one HTTP request in seconds. Default 60.
  # request_timeout = 60

  # Most requests one scan keeps in flight. A Celonis scan bounded in time
  # over at least two days is split into up to this many windows fetched at
  # once, and page loops that know their total fetch this many pages at
  # once. The `celonis_platform` limiter still bounds requests a second.
  # Between 1 and 50; default 5.
  # max_concurrency = 5
}
