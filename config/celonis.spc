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
}
