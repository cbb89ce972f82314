package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MakeOrg is one organization of the fake Make zone.
type MakeOrg struct {
	ID       int64
	Name     string
	Events   int    // audit entries; default 300
	Teams    int    // default 3
	Users    int    // default 8
	APILimit int    // license.apiLimit, requests a minute; default 60
	Forbid   bool   // the token's user is not Admin/Owner: 403
	Unpaid   bool   // the licence has no audit logs: 402
	Zone     string // default: the sandbox's own zone
}

// MakeOptions shape a fake Make zone. Zero values are defaults.
type MakeOptions struct {
	Seed  uint64
	Orgs  []MakeOrg     // default: two organizations, 11 and 12
	Start time.Time     // default 2025-01-01T00:00:00Z
	Span  time.Duration // default 365 days
	Token string        // default "sandbox-make-token"
	Zone  string        // default "eu1.make.com"

	V2PathsOnly    bool     // audit logs answer only under /audit-logs/v2/... (Make's SDK paths)
	ISOTriggeredAt bool     // triggeredAt as ISO strings (the SDK's mocks) instead of ms integers
	NoIMTID        bool     // entries without imtId: clients must page by offset
	DetailKey      string   // "details" (the docs) or "detail" (the SDK); default "details"
	MaxLimit       int      // largest pg[limit]; default 10000
	EnforceRate    bool     // answer 429 past each organization's apiLimit within a minute
	People         []Person // users to draw actors from (the same people as a Celonis team, say)
	RetryAfter     string   // Retry-After sent with 429s; "" sends none
}

// Make is a fake Make zone.
type Make struct {
	base
	opts  MakeOptions
	orgs  map[int64]*makeOrg
	order []int64

	rateMu sync.Mutex
	rate   map[int64]*rateWindow
}

type makeOrg struct {
	MakeOrg
	teams   []makeRef
	users   []makeUser
	entries []makeEntry // sorted by imtId ascending
	byUUID  map[string]int
}

type makeRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type makeUser struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type makeEntry struct {
	imtID  string
	at     time.Time
	day    string // at as YYYY-MM-DD, what dateFrom and dateTo compare
	uuid   string
	team   int64 // 0: organization-level
	event  string
	actor  makeUser
	anon   bool
	json   []byte
	detail []byte
}

// MockUUID is the uuid of the audit log entry in Make's SDK mocks; the
// first organization's history holds an entry with it.
const MockUUID = "c37c729235cd4dc4911321b23beaea7d"

// MakeEvents are the event names the fake zone uses, with their filter groups.
var MakeEvents = map[string][]string{
	"Webhooks":    {"webhook_created", "webhook_updated", "webhook_deleted"},
	"Connections": {"connection_created", "connection_deleted"},
	"Keys":        {"key_created", "key_deleted"},
	"Scenarios":   {"scenario_created", "scenario_updated", "scenario_deleted"},
	"Members":     {"user_invited", "user_role_changed"},
}

// NewMake generates every organization's history from the seed.
func NewMake(o MakeOptions) *Make {
	if len(o.Orgs) == 0 {
		o.Orgs = []MakeOrg{{ID: 11, Name: "Acme Automation"}, {ID: 12, Name: "Acme Labs"}}
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.Span == 0 {
		o.Span = 365 * 24 * time.Hour
	}
	o.Token = orDefault(o.Token, "sandbox-make-token")
	o.Zone = orDefault(o.Zone, "eu1.make.com")
	o.DetailKey = orDefault(o.DetailKey, "details")
	if o.MaxLimit == 0 {
		o.MaxLimit = 10000
	}
	m := &Make{opts: o, orgs: map[int64]*makeOrg{}, rate: map[int64]*rateWindow{}}
	g := newGen(o.Seed + 1000)
	var groups []string
	for k := range MakeEvents {
		groups = append(groups, k)
	}
	sort.Strings(groups)
	var events []string
	for _, k := range groups {
		events = append(events, MakeEvents[k]...)
	}
	for _, spec := range o.Orgs {
		if spec.Events == 0 {
			spec.Events = 300
		}
		if spec.Teams == 0 {
			spec.Teams = 3
		}
		if spec.Users == 0 {
			spec.Users = 8
		}
		if spec.APILimit == 0 {
			spec.APILimit = 60
		}
		if spec.Zone == "" {
			spec.Zone = o.Zone
		}
		org := &makeOrg{MakeOrg: spec, byUUID: map[string]int{}}
		for i := 0; i < spec.Teams; i++ {
			org.teams = append(org.teams, makeRef{ID: spec.ID*100 + int64(i) + 1, Name: fmt.Sprintf("Team %d-%d", spec.ID, i+1)})
		}
		for i := 0; i < spec.Users; i++ {
			u := makeUser{ID: spec.ID*1000 + int64(i) + 1}
			if len(o.People) > 0 {
				p := o.People[(i+int(spec.ID))%len(o.People)]
				u.Name, u.Email = p.Name, p.Email
			} else {
				first, last := firstNames[g.intn(len(firstNames))], lastNames[g.intn(len(lastNames))]
				u.Name, u.Email = first+" "+last, fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(first), strings.ToLower(last), i)
			}
			org.users = append(org.users, u)
		}
		step := o.Span / time.Duration(spec.Events)
		for i := 0; i < spec.Events; i++ {
			at := o.Start.Add(step*time.Duration(i) + time.Duration(g.next()%uint64(max(step, 1)))).Truncate(time.Millisecond)
			u := strings.ReplaceAll(g.uuid(), "-", "")
			if spec.ID == o.Orgs[0].ID && i == spec.Events/2 {
				u = MockUUID // the entry of Make's own SDK mocks, so documented examples find it
			}
			e := makeEntry{at: at, day: at.Format("2006-01-02"), uuid: u, imtID: fmt.Sprintf("%013d_%s", at.UnixMilli(), u),
				event: events[g.intn(len(events))], actor: org.users[g.intn(len(org.users))], anon: g.intn(15) == 0}
			if g.intn(5) != 0 {
				e.team = org.teams[g.intn(len(org.teams))].ID
			}
			e.json, e.detail = m.render(org, &e, g)
			org.entries = append(org.entries, e)
		}
		sort.Slice(org.entries, func(i, j int) bool { return org.entries[i].imtID < org.entries[j].imtID })
		for i, e := range org.entries {
			org.byUUID[e.uuid] = i
		}
		m.orgs[spec.ID] = org
		m.order = append(m.order, spec.ID)
	}
	return m
}

func (m *Make) render(org *makeOrg, e *makeEntry, g *gen) ([]byte, []byte) {
	v := map[string]any{
		"uuid": e.uuid, "imtId": e.imtID,
		"createdAt":      e.at.Add(time.Duration(g.intn(2000)) * time.Millisecond).Format("2006-01-02T15:04:05.000Z"),
		"organizationId": org.ID, "organization": makeRef{ID: org.ID, Name: org.Name},
		"eventName": e.event, "targetId": strconv.Itoa(1000 + g.intn(9000)),
	}
	if m.opts.ISOTriggeredAt {
		v["triggeredAt"] = e.at.Format("2006-01-02T15:04:05.000Z")
	} else {
		v["triggeredAt"] = e.at.UnixMilli()
	}
	if m.opts.NoIMTID {
		delete(v, "imtId")
	}
	if e.team != 0 {
		for _, t := range org.teams {
			if t.ID == e.team {
				v["team"] = t
			}
		}
	}
	if e.anon {
		v["actor"] = map[string]any{"id": e.actor.ID, "anonymized": true}
	} else {
		v["actor"] = e.actor
	}
	if strings.HasSuffix(e.event, "_updated") {
		v["version"] = map[string]string{"from": fmt.Sprintf("1.0.%d", g.intn(5)), "to": fmt.Sprintf("1.0.%d", 5+g.intn(5))}
	}
	detail := map[string]any{"name": fmt.Sprintf("%s %d", strings.Split(e.event, "_")[0], g.intn(100)), "ip": fmt.Sprintf("192.0.2.%d", 1+g.intn(250))}
	d := map[string]any{}
	for k, x := range v {
		d[k] = x
	}
	d[m.opts.DetailKey] = detail
	return mustJSON(v), mustJSON(d)
}

// OrgEntries returns how many entries an organization has whose triggeredAt
// day lies in [fromDay, toDay] (YYYY-MM-DD, "" for open), optionally only
// those of one team.
func (m *Make) OrgEntries(org int64, team int64, fromDay, toDay string) int {
	o := m.orgs[org]
	n := 0
	for _, e := range o.entries {
		d := e.at.Format("2006-01-02")
		if (fromDay == "" || d >= fromDay) && (toDay == "" || d <= toDay) && (team == 0 || e.team == team) {
			n++
		}
	}
	return n
}

// Entry returns an organization's i-th entry (in triggeredAt order) as JSON.
func (m *Make) Entry(org int64, i int) []byte { return m.orgs[org].entries[i].json }

// Teams returns an organization's team IDs.
func (m *Make) Teams(org int64) []int64 {
	var out []int64
	for _, t := range m.orgs[org].teams {
		out = append(out, t.ID)
	}
	return out
}

//// HTTP

// ServeHTTP routes the Make API paths under /api/v2.
func (m *Make) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	entry := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), AuthScheme: scheme(r.Header.Get("Authorization")), Time: time.Now()}
	m.serve(w, r, entry, func(rec *recorder) { m.route(rec, r) })
}

func makeError(w *recorder, status int, detail, message, code string) {
	writeJSON(w, status, map[string]any{"detail": detail, "message": message, "code": code})
}

func (m *Make) route(w *recorder, r *http.Request) {
	ua := r.Header.Get("User-Agent")
	if ua == "" || strings.HasPrefix(ua, "Go-http-client") || strings.HasPrefix(ua, "Python-urllib") {
		// The CDN in front of Make rejects default agents.
		w.header.Set("Content-Type", "text/plain")
		w.WriteHeader(403)
		w.Write([]byte("error code: 1010"))
		return
	}
	p, ok := strings.CutPrefix(r.URL.Path, "/api/v2")
	if !ok {
		makeError(w, 404, "Not found", "Not found", "SC404")
		return
	}
	if r.Header.Get("Authorization") != "Token "+m.opts.Token {
		makeError(w, 401, "Invalid credentials.", "Access denied", "IM005")
		return
	}
	if r.Method != http.MethodGet {
		makeError(w, 405, "Method not allowed.", "Method not allowed", "SC405")
		return
	}
	if p == "/organizations" {
		m.listOrgs(w, r)
		return
	}
	rest, ok := strings.CutPrefix(p, "/audit-logs/")
	if !ok {
		makeError(w, 404, "Route not found.", "Not found", "SC404")
		return
	}
	if v2, found := strings.CutPrefix(rest, "v2/"); found {
		rest = v2
	} else if m.opts.V2PathsOnly {
		makeError(w, 404, "Route not found.", "Not found", "SC404")
		return
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) >= 2 && (parts[0] == "organization" || parts[0] == "team"):
		id, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			makeError(w, 400, "Invalid id.", "Bad request", "SC400")
			return
		}
		org, teamID := m.orgs[id], int64(0)
		if parts[0] == "team" {
			org, teamID = m.orgOfTeam(id), id
		}
		if org == nil {
			makeError(w, 404, "Not found.", "Not found", "SC404")
			return
		}
		if !m.access(w, org) {
			return
		}
		if len(parts) == 3 && parts[2] == "filters" {
			m.filters(w, org, teamID)
			return
		}
		if len(parts) != 2 {
			makeError(w, 404, "Route not found.", "Not found", "SC404")
			return
		}
		m.list(w, r, org, teamID)
	case len(parts) == 2:
		id, err := strconv.ParseInt(parts[0], 10, 64)
		org := m.orgs[id]
		if err != nil || org == nil {
			makeError(w, 404, "Not found.", "Not found", "SC404")
			return
		}
		if !m.access(w, org) {
			return
		}
		i, ok := org.byUUID[strings.ReplaceAll(parts[1], "-", "")]
		if !ok {
			makeError(w, 404, "Audit log not found.", "Not found", "SC404")
			return
		}
		w.header.Set("Content-Type", "application/json")
		w.Write(org.entries[i].detail)
	default:
		makeError(w, 404, "Route not found.", "Not found", "SC404")
	}
}

func (m *Make) orgOfTeam(team int64) *makeOrg {
	for _, id := range m.order {
		for _, t := range m.orgs[id].teams {
			if t.ID == team {
				return m.orgs[id]
			}
		}
	}
	return nil
}

// access applies role, licence and rate limit checks, in that order.
func (m *Make) access(w *recorder, org *makeOrg) bool {
	if org.Forbid {
		makeError(w, 403, "Access denied.", "Permission denied", "SC403")
		return false
	}
	if org.Unpaid {
		makeError(w, 402, "Your organization's plan does not include audit logs.", "Payment required", "SC402")
		return false
	}
	if m.opts.EnforceRate {
		m.rateMu.Lock()
		defer m.rateMu.Unlock()
		now := time.Now()
		win := m.rate[org.ID]
		if win == nil || now.Sub(win.start) >= time.Minute {
			win = &rateWindow{start: now}
			m.rate[org.ID] = win
		}
		win.count++
		if win.count > org.APILimit {
			if m.opts.RetryAfter != "" {
				w.header.Set("Retry-After", m.opts.RetryAfter)
			}
			makeError(w, 429, "Requests limit for organization exceeded, please try again later.", "Too many requests", "SC429")
			return false
		}
	}
	return true
}

func (m *Make) listOrgs(w *recorder, r *http.Request) {
	var out []map[string]any
	for _, id := range m.order {
		o := m.orgs[id]
		zone := o.Zone
		if zone == m.opts.Zone {
			zone = r.Host // this fake zone is served from wherever it listens
		}
		out = append(out, map[string]any{"id": o.ID, "name": o.Name, "zone": zone, "timezoneId": 113,
			"license": map[string]any{"apiLimit": o.APILimit}})
	}
	w.header.Set("Content-Type", "application/json")
	w.Write(mustJSON(map[string]any{"organizations": out, "pg": map[string]any{"sortBy": "name", "sortDir": "asc", "limit": 10000, "offset": 0}}))
}

func (m *Make) filters(w *recorder, org *makeOrg, team int64) {
	var groups []string
	for k := range MakeEvents {
		groups = append(groups, k)
	}
	sort.Strings(groups)
	var events []map[string]any
	for _, h := range groups {
		var items []map[string]string
		for _, v := range MakeEvents[h] {
			items = append(items, map[string]string{"label": strings.ReplaceAll(strings.ToUpper(v[:1])+v[1:], "_", " "), "value": v})
		}
		events = append(events, map[string]any{"header": h, "items": items})
	}
	out := map[string]any{"users": org.users, "events": events}
	if team == 0 {
		out["teams"] = org.teams
	}
	w.header.Set("Content-Type", "application/json")
	w.Write(mustJSON(out))
}

// arrayParam reads name, name[], and name[0], name[1], ... as one list.
func arrayParam(r *http.Request, name string) []string {
	q := r.URL.Query()
	out := append([]string{}, q[name]...)
	out = append(out, q[name+"[]"]...)
	for i := 0; ; i++ {
		v, ok := q[fmt.Sprintf("%s[%d]", name, i)]
		if !ok {
			break
		}
		out = append(out, v...)
	}
	return out
}

// dayParam reads dateFrom/dateTo: YYYY-MM-DD as documented, or an ISO
// date-time as Make's SDK sends; either way only the day counts.
func dayParam(w *recorder, r *http.Request, name string) (string, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return "", true
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t.Format("2006-01-02"), true
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC().Format("2006-01-02"), true
	}
	makeError(w, 400, fmt.Sprintf("Invalid date in %s: %q, use YYYY-MM-DD.", name, v), "Bad request", "SC400")
	return "", false
}

func (m *Make) list(w *recorder, r *http.Request, org *makeOrg, teamID int64) {
	q := r.URL.Query()
	from, ok := dayParam(w, r, "dateFrom")
	if !ok {
		return
	}
	to, ok := dayParam(w, r, "dateTo")
	if !ok {
		return
	}
	teams := map[int64]bool{}
	if teamID != 0 {
		teams[teamID] = true
	} else {
		for _, t := range arrayParam(r, "team") {
			for _, ref := range org.teams {
				if strconv.FormatInt(ref.ID, 10) == t || ref.Name == t {
					teams[ref.ID] = true
				}
			}
		}
		if len(arrayParam(r, "team")) > 0 && len(teams) == 0 {
			teams[-1] = true // a team filter that matches nothing
		}
	}
	events := map[string]bool{}
	for _, e := range arrayParam(r, "event") {
		events[e] = true
	}
	authors := arrayParam(r, "author")
	sortBy := orDefault(q.Get("pg[sortBy]"), "triggeredAt")
	if sortBy != "triggeredAt" {
		makeError(w, 400, "The sandbox sorts by triggeredAt only.", "Bad request", "SC400")
		return
	}
	dir := orDefault(q.Get("pg[sortDir]"), "desc")
	if dir != "asc" && dir != "desc" {
		makeError(w, 400, "pg[sortDir] must be asc or desc.", "Bad request", "SC400")
		return
	}
	limit := 10000
	if v := q.Get("pg[limit]"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > m.opts.MaxLimit {
			makeError(w, 400, fmt.Sprintf("pg[limit] must be between 1 and %d.", m.opts.MaxLimit), "Bad request", "SC400")
			return
		}
		limit = n
	}
	// The entries are in imtId order, so in day order too: the dates cut a
	// range out of them, and with no other filter that range is the match,
	// found without a pass over the whole history (the sandbox stands in
	// for a server on another machine, and a pass per page cost the
	// machine that runs the client a third of a core in a long scan).
	lo, hi := 0, len(org.entries)
	if from != "" {
		lo = sort.Search(hi, func(i int) bool { return org.entries[i].day >= from })
	}
	if to != "" {
		hi = max(lo, sort.Search(hi, func(i int) bool { return org.entries[i].day > to }))
	}
	var match []*makeEntry
	n := hi - lo
	filtered := len(teams) > 0 || len(events) > 0 || len(authors) > 0
	if filtered {
		for i := lo; i < hi; i++ {
			e := &org.entries[i]
			if len(teams) > 0 && !teams[e.team] {
				continue
			}
			if len(events) > 0 && !events[e.event] {
				continue
			}
			if len(authors) > 0 && !matchAuthor(e, authors) {
				continue
			}
			match = append(match, e)
		}
		n = len(match)
	}
	// at is the i-th match in the order asked for.
	at := func(i int) *makeEntry {
		if dir == "desc" {
			i = n - 1 - i
		}
		if filtered {
			return match[i]
		}
		return &org.entries[lo+i]
	}
	start := 0
	pg := map[string]any{"sortBy": sortBy, "sortDir": dir, "limit": limit}
	if last := q.Get("pg[last]"); last != "" {
		start = sort.Search(n, func(i int) bool {
			if dir == "asc" {
				return at(i).imtID > last
			}
			return at(i).imtID < last
		})
		pg["showLast"] = true
	} else if v := q.Get("pg[offset]"); v != "" {
		off, err := strconv.Atoi(v)
		if err != nil || off < 0 {
			makeError(w, 400, "pg[offset] must be a non-negative integer.", "Bad request", "SC400")
			return
		}
		start = min(off, n)
		pg["offset"] = off
	} else {
		pg["offset"] = 0
	}
	end := min(start+limit, n)
	if end > start && pg["showLast"] == true {
		pg["last"] = at(end - 1).imtID
	}
	if q.Get("pg[returnTotalCount]") == "true" {
		pg["totalCount"] = n
	}
	w.header.Set("Content-Type", "application/json")
	w.Write([]byte(`{"auditLogs":[`))
	for i := start; i < end; i++ {
		if i > start {
			w.Write([]byte{','})
		}
		w.Write(at(i).json)
	}
	w.Write([]byte(`],"pg":`))
	b, _ := json.Marshal(pg)
	w.Write(b)
	w.Write([]byte(`}`))
}

func matchAuthor(e *makeEntry, authors []string) bool {
	for _, a := range authors {
		if a == strconv.FormatInt(e.actor.ID, 10) || (!e.anon && (a == e.actor.Name || a == e.actor.Email)) {
			return true
		}
	}
	return false
}
