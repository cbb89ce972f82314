#!/usr/bin/env bash
# make demo: start the sandbox (fake Celonis Platform and Make APIs on
# loopback), run example queries through the plugin's own SQL engine, stop.
set -euo pipefail
bin=${1:-./steampipe-plugin-celonis}
cfgfile=$(mktemp)
"$bin" sandbox --events 50000 >"$cfgfile" 2>/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$cfgfile"' EXIT
for _ in $(seq 1 100); do
  grep -q make_api_token "$cfgfile" 2>/dev/null && break
  sleep 0.1
done
grep -q make_api_token "$cfgfile" || { echo "demo: the sandbox did not start" >&2; exit 1; }
cfg=$(cat "$cfgfile")
echo "Sandbox connection config:"
sed 's/^/  /' "$cfgfile"

run() {
  printf '\n== %s\n%s\n\n' "$1" "$2"
  "$bin" query --config "$cfg" "$2"
}

run "Celonis audit log: the last 6 hours (a time window, sent to the API as from/to)" \
  "select timestamp, event, user_email, user_role from celonis_audit_log
   where timestamp > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-6 hours') order by timestamp desc"

run "Celonis login history: accounts with failed logins in the last 7 days" \
  "select email, count(*) as failures from celonis_login_history
   where timestamp > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days') and success = 0
   group by email order by failures desc limit 5"

run "Celonis team members: admins" \
  "select name, email, status, inactivity_period from celonis_team_member where user_role = 'ADMIN'"

run "Celonis Studio adoption: most used assets this month" \
  "select asset_name, asset_type, count(*) as events from celonis_studio_adoption_event
   where timestamp > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-30 days')
   group by asset_name, asset_type order by events desc limit 5"

run "Make audit log with event details (one detail request per row, only because details is selected)" \
  "select triggered_at, event_name, actor_email, details from celonis_make_audit_log
   where organization_id = 11 and triggered_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-2 days')
   order by triggered_at desc limit 5"

run "Make organizations and their filter values" \
  "select o.id, o.name, o.zone, count(f.value) as event_filters from celonis_make_organization o
   left join celonis_make_audit_log_filter f on f.organization_id = o.id and f.filter_type = 'event'
   where o.in_connection_zone = 1 group by o.id, o.name, o.zone"

run "Join Celonis and Make: people who changed things in both this week" \
  "select c.user_email, count(distinct c.event) as celonis_events, count(distinct m.event_name) as make_events
   from celonis_audit_log c join celonis_make_audit_log m on lower(m.actor_email) = lower(c.user_email)
   where c.timestamp > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')
     and m.triggered_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')
   group by c.user_email order by c.user_email limit 5"

printf '\ndemo: done\n'
