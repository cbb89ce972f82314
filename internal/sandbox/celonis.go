package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Celonis scopes and team permissions, as API.md documents them.
const (
	ScopeAudit    = "audit.log:read"
	ScopeLogin    = "team.login-history:read"
	ScopeAdoption = "platform-adoption.tracking-events:read"
	ScopeMembers  = "team.user-group-info:read"

	PermAudit    = "Use Audit Log API"
	PermLogin    = "Use Login History API"
	PermAdoption = "Use Studio Adoption API"
	PermMembers  = "Use Team API"
)

// CelonisOptions shape a fake Celonis Platform team. Zero values are defaults.
type CelonisOptions struct {
	Seed           uint64
	AuditEvents    int           // default 1000
	LoginEvents    int           // default 300
	AdoptionEvents int           // default 300
	Members        int           // default 25
	Start          time.Time     // first event; default 2025-01-01T00:00:00Z
	Span           time.Duration // history length; default 365 days

	ClientID     string // default "sandbox-client"
	ClientSecret string // default "sandbox-secret"
	AppKey       string // default "sandbox-app-key"
	APIKey       string // default "sandbox-api-key"

	// Scopes the OAuth client may ask for, and team permissions every
	// credential holds. nil means all.
	Scopes      []string
	Permissions []string

	TokenTTL       time.Duration // default 899 s, as the real token endpoint answers
	DisableAuditV2 bool          // the v2 audit path answers 404
	LoginUnderLog  bool          // login history is served under /log only
	EmptyForbidden bool          // 403s have an empty body, as some Celonis APIs send
	RatePerSecond  int           // requests a second per credential before 429; 0 = no limit

	AuditAt []time.Time // audit events at exactly these times, besides the generated ones
}

// Celonis is a fake Celonis Platform team.
type Celonis struct {
	base
	opts CelonisOptions

	audit    events
	logins   events
	adoption events
	members  []member

	tokMu  sync.Mutex
	tokens map[string]token
	window map[string]*rateWindow
}

type token struct {
	scopes  map[string]bool
	expires time.Time
}

type rateWindow struct {
	start time.Time
	count int
}

// events is a history sorted by time, each entry already rendered as JSON.
type events struct {
	at   []time.Time
	json [][]byte
}

// between returns the index range of entries in [from, to].
func (e events) between(from, to *time.Time) (int, int) {
	lo, hi := 0, len(e.at)
	if from != nil {
		lo = sort.Search(len(e.at), func(i int) bool { return !e.at[i].Before(*from) })
	}
	if to != nil {
		hi = sort.Search(len(e.at), func(i int) bool { return e.at[i].After(*to) })
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// add inserts an entry, keeping the history sorted.
func (e *events) add(at time.Time, js []byte) {
	i := sort.Search(len(e.at), func(i int) bool { return e.at[i].After(at) })
	e.at = append(e.at[:i], append([]time.Time{at}, e.at[i:]...)...)
	e.json = append(e.json[:i], append([][]byte{js}, e.json[i:]...)...)
}

type member struct {
	ID, Name, Email, Role string
	Internal              bool
}

// NewCelonis generates the team's history from the seed.
func NewCelonis(o CelonisOptions) *Celonis {
	if o.AuditEvents == 0 {
		o.AuditEvents = 1000
	}
	if o.LoginEvents == 0 {
		o.LoginEvents = 300
	}
	if o.AdoptionEvents == 0 {
		o.AdoptionEvents = 300
	}
	if o.Members == 0 {
		o.Members = 25
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.Span == 0 {
		o.Span = 365 * 24 * time.Hour
	}
	o.ClientID = orDefault(o.ClientID, "sandbox-client")
	o.ClientSecret = orDefault(o.ClientSecret, "sandbox-secret")
	o.AppKey = orDefault(o.AppKey, "sandbox-app-key")
	o.APIKey = orDefault(o.APIKey, "sandbox-api-key")
	if o.TokenTTL == 0 {
		o.TokenTTL = 899 * time.Second
	}
	c := &Celonis{opts: o, tokens: map[string]token{}, window: map[string]*rateWindow{}}
	g := newGen(o.Seed)
	c.members = genMembers(g, o.Members)
	c.audit = genEvents(o.AuditEvents, o.Start, o.Span, g, c.auditEntry)
	for _, at := range o.AuditAt {
		c.audit.add(at.UTC().Truncate(time.Millisecond), c.auditEntry(g, at.UTC().Truncate(time.Millisecond)))
	}
	c.logins = genEvents(o.LoginEvents, o.Start, o.Span, g, c.loginEntry)
	c.adoption = genEvents(o.AdoptionEvents, o.Start, o.Span, g, c.adoptionEntry)
	return c
}

// Options returns the options in force, defaults filled in.
func (c *Celonis) Options() CelonisOptions { return c.opts }

// Person is someone with a name and an email.
type Person struct{ Name, Email string }

// People returns the team's members as people.
func (c *Celonis) People() []Person {
	out := make([]Person, len(c.members))
	for i, m := range c.members {
		out[i] = Person{Name: m.Name, Email: m.Email}
	}
	return out
}

// AuditCount returns how many audit entries fall in [from, to].
func (c *Celonis) AuditCount(from, to *time.Time) int {
	lo, hi := c.audit.between(from, to)
	return hi - lo
}

// AuditTimes returns the timestamps of the audit history, in order.
func (c *Celonis) AuditTimes() []time.Time { return c.audit.at }

// LoginCount returns how many login events fall in [from, to].
func (c *Celonis) LoginCount(from, to *time.Time) int {
	lo, hi := c.logins.between(from, to)
	return hi - lo
}

// AdoptionCount returns how many Studio adoption events fall in [from, to].
func (c *Celonis) AdoptionCount(from, to *time.Time) int {
	lo, hi := c.adoption.between(from, to)
	return hi - lo
}

// MemberCount returns how many members a listing with includeInternal returns.
func (c *Celonis) MemberCount(includeInternal bool) int {
	n := 0
	for _, m := range c.members {
		if includeInternal || !m.Internal {
			n++
		}
	}
	return n
}

var auditEvents = []string{"STUDIO_NODE_UPDATED", "STUDIO_NODE_CREATED", "STUDIO_NODE_DELETED", "USER_LOGIN", "USER_INVITED",
	"PERMISSION_CHANGED", "DATA_POOL_CREATED", "DATA_JOB_EXECUTED", "APPLICATION_KEY_CREATED", "TEAM_SETTINGS_UPDATED"}

func (c *Celonis) auditEntry(g *gen, at time.Time) []byte {
	m := c.members[g.intn(len(c.members))]
	event := auditEvents[g.intn(len(auditEvents))]
	e := map[string]any{
		"userId":    m.ID + " (" + m.Email + ")",
		"userRole":  m.Role,
		"event":     event,
		"timestamp": at.Format("2006-01-02T15:04:05.000Z"),
		"message": map[string]any{
			"nodeName": fmt.Sprintf("Node %d", g.intn(500)), "packageKey": fmt.Sprintf("package-%d", g.intn(40)),
			"nodeKey": fmt.Sprintf("node-%d", g.intn(1000)), "id": g.uuid(), "nodeType": "ASSET", "assetType": "VIEW",
		},
		"ipAddress":   nil,
		"port":        nil,
		"diffPayload": nil,
	}
	switch g.intn(10) {
	case 0:
		e["userId"] = g.uuid() + " (SYSTEM)"
		e["userRole"] = "SYSTEM"
	case 1, 2, 3:
		e["ipAddress"] = fmt.Sprintf("10.%d.%d.%d", g.intn(256), g.intn(256), 1+g.intn(254))
		e["port"] = strconv.Itoa(1024 + g.intn(60000))
	}
	if strings.HasSuffix(event, "_UPDATED") || event == "PERMISSION_CHANGED" {
		e["diffPayload"] = map[string]any{"oldValue": fmt.Sprintf(`{"version":%d}`, g.intn(9)), "newValue": fmt.Sprintf(`{"version":%d}`, 9+g.intn(9))}
	}
	return mustJSON(e)
}

var loginTypes = []string{"LOGIN", "LOGIN", "LOGIN", "LOGIN_SSO", "LOGIN_SSO", "LOGOUT", "BAD_CREDENTIALS", "INVALID_2FA_TOKEN", "ACCOUNT_TEMPORARILY_LOCKED", "LOGIN_OIDC"}

func (c *Celonis) loginEntry(g *gen, at time.Time) []byte {
	m := c.members[g.intn(len(c.members))]
	typ := loginTypes[g.intn(len(loginTypes))]
	ok := !(typ == "BAD_CREDENTIALS" || typ == "INVALID_2FA_TOKEN" || typ == "ACCOUNT_TEMPORARILY_LOCKED")
	return mustJSON(map[string]any{"authenticationEventType": typ, "email": m.Email, "success": ok,
		"timestamp": at.Format("2006-01-02T15:04:05.000Z")})
}

var adoptionActions = []string{"VIEW_OPENED", "VIEW_EDITED", "ANALYSIS_OPENED", "PACKAGE_PUBLISHED"}
var assetTypes = []string{"VIEW", "ANALYSIS", "KNOWLEDGE_MODEL", "ACTION_FLOW"}

func (c *Celonis) adoptionEntry(g *gen, at time.Time) []byte {
	// A fifth of the team never uses Studio, as in any real team.
	m := c.members[g.intn(max(1, len(c.members)*4/5))]
	return mustJSON(map[string]any{
		"id": g.uuid(), "timestamp": at.Format("2006-01-02T15:04:05.000Z"),
		"eventType": adoptionActions[g.intn(len(adoptionActions))], "userId": m.ID, "userEmail": m.Email,
		"assetId": g.uuid(), "assetType": assetTypes[g.intn(len(assetTypes))], "assetName": fmt.Sprintf("Asset %d", g.intn(300)),
		"packageKey": fmt.Sprintf("package-%d", g.intn(40)), "spaceId": g.uuid(),
	})
}

var firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis"}
var lastNames = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Ritchie"}
var roles = []string{"ADMIN", "MEMBER", "MEMBER", "MEMBER", "ANALYST"}

func genMembers(g *gen, n int) []member {
	out := make([]member, n)
	for i := range out {
		first, last := firstNames[g.intn(len(firstNames))], lastNames[g.intn(len(lastNames))]
		domain := "example.com"
		internal := i%7 == 6
		if internal {
			domain = "celonis.com"
		}
		out[i] = member{ID: g.uuid(), Name: first + " " + last,
			Email: fmt.Sprintf("%s.%s%d@%s", strings.ToLower(first), strings.ToLower(last), i, domain),
			Role:  roles[g.intn(len(roles))], Internal: internal}
	}
	return out
}

func (m member) json(g *gen, i int) []byte {
	groups := []map[string]any{{"name": "All users", "teamRole": "MEMBER"}}
	if m.Role == "ADMIN" {
		groups = append(groups, map[string]any{"name": "Admins", "teamRole": "ADMIN"})
	}
	status := "Active"
	if i%9 == 8 {
		status = "Pending"
	}
	return mustJSON(map[string]any{"userId": m.ID, "nameAndEmail": m.Name + " (" + m.Email + ")", "userRole": m.Role,
		"status": status, "lastLogin": fmt.Sprintf("12/%d/2025, 6:49:07 AM UTC", 1+i%28), "inactivityPeriod": i % 30, "group": groups})
}

//// HTTP

// ServeHTTP routes the Celonis Platform paths.
func (c *Celonis) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	entry := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), AuthScheme: scheme(r.Header.Get("Authorization")), Time: time.Now()}
	if r.URL.Path == "/oauth2/token" {
		r.ParseForm()
		entry.Scope = r.PostForm.Get("scope")
		entry.Query = nil
	}
	c.serve(w, r, entry, func(rec *recorder) { c.route(rec, r) })
}

func (c *Celonis) route(w *recorder, r *http.Request) {
	p := r.URL.Path
	if p == "/oauth2/token" {
		c.tokenEndpoint(w, r)
		return
	}
	if r.Method != http.MethodGet {
		catalogError(w, 405, "Method not allowed.", "Only GET is supported", "GENERAL_METHOD_NOT_ALLOWED")
		return
	}
	type route struct {
		scope, perm string
		serve       func(*recorder, *http.Request)
	}
	routes := map[string]route{
		"/log/api/external/v2/audit": {ScopeAudit, PermAudit, func(w *recorder, r *http.Request) { c.cursor(w, r, c.audit) }},
		"/log/api/external/audit":    {ScopeAudit, PermAudit, func(w *recorder, r *http.Request) { c.paged(w, r, c.audit.json, c.audit.between) }},
		"/platform-adoption/api/external/v2/adoption-tracking-events/STUDIO_ASSET": {ScopeAdoption, PermAdoption,
			func(w *recorder, r *http.Request) { c.cursor(w, r, c.adoption) }},
		"/api/external/members": {ScopeMembers, PermMembers, c.membersEndpoint},
	}
	loginPath := "/api/external/authentication-events"
	if c.opts.LoginUnderLog {
		loginPath = "/log" + loginPath
	}
	routes[loginPath] = route{ScopeLogin, PermLogin, func(w *recorder, r *http.Request) { c.paged(w, r, c.logins.json, c.logins.between) }}
	if c.opts.DisableAuditV2 {
		delete(routes, "/log/api/external/v2/audit")
	}
	rt, ok := routes[p]
	if !ok {
		catalogError(w, 404, "Path not found.", "Path "+p+" not found", "GENERAL_NOTFOUND_PATH")
		return
	}
	if !c.authorize(w, r, rt.scope, rt.perm) {
		return
	}
	rt.serve(w, r)
}

// authorize checks the Authorization header the way API.md describes.
func (c *Celonis) authorize(w *recorder, r *http.Request, scope, perm string) bool {
	h := r.Header.Get("Authorization")
	if h == "" {
		writeJSON(w, 401, map[string]any{"error": "Unauthorized"})
		return false
	}
	kind, cred, _ := strings.Cut(h, " ")
	var scopes map[string]bool // nil: keys, which carry permissions but no scopes
	switch {
	case strings.EqualFold(kind, "AppKey") && cred == c.opts.AppKey:
	case strings.EqualFold(kind, "Bearer") && cred == c.opts.APIKey:
	case strings.EqualFold(kind, "Bearer"):
		c.tokMu.Lock()
		t, ok := c.tokens[cred]
		c.tokMu.Unlock()
		if !ok || time.Now().After(t.expires) {
			writeJSON(w, 401, map[string]any{"error": "Unauthorized"})
			return false
		}
		scopes = t.scopes
	case strings.EqualFold(kind, "AppKey"):
		writeJSON(w, 401, map[string]any{"error": "Unauthorized"})
		return false
	default:
		w.header.Set("Content-Type", "text/plain")
		w.WriteHeader(401)
		w.Write([]byte(`Invalid "Authorization" header format. Should start either with "Bearer " or "AppKey " (case insensitive).`))
		return false
	}
	if scopes != nil && !scopes[scope] {
		c.forbidden(w, "Access is denied: the token lacks the scope "+scope)
		return false
	}
	if c.opts.Permissions != nil && !contains(c.opts.Permissions, perm) {
		c.forbidden(w, "Access is denied")
		return false
	}
	if c.opts.RatePerSecond > 0 && !c.allow(w, kind+" "+cred) {
		return false
	}
	return true
}

func (c *Celonis) forbidden(w *recorder, detail string) {
	if c.opts.EmptyForbidden {
		w.WriteHeader(403)
		return
	}
	catalogError(w, 403, "Access Denied.", detail, "ADMIN_ACCESS_ERROR")
}

// allow applies a fixed one-second window per credential.
func (c *Celonis) allow(w *recorder, who string) bool {
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	now := time.Now()
	win := c.window[who]
	if win == nil || now.Sub(win.start) >= time.Second {
		win = &rateWindow{start: now}
		c.window[who] = win
	}
	win.count++
	remaining := c.opts.RatePerSecond - win.count
	w.header.Set("x-ratelimit-limit", strconv.Itoa(c.opts.RatePerSecond))
	if remaining < 0 {
		w.header.Set("x-ratelimit-remaining", "0")
		w.header.Set("x-ratelimit-reset", "1")
		catalogError(w, 429, "Rate limit exceeded", "Rate limit for AUDIT_LOG_API_RATE_LIMIT is exceeded. Please try again at "+
			win.start.Add(time.Second).UTC().Format("15:04:05")+" UTC.", "LIMIT_RATE_EXCEEDED")
		return false
	}
	w.header.Set("x-ratelimit-remaining", strconv.Itoa(remaining))
	return true
}

// tokenEndpoint is POST /oauth2/token with client credentials, posted in the
// form or sent as HTTP Basic.
func (c *Celonis) tokenEndpoint(w *recorder, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, 405, map[string]any{"error": "invalid_request", "error_description": "POST required"})
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, 400, map[string]any{"error": "unsupported_grant_type"})
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != c.opts.ClientID || secret != c.opts.ClientSecret {
		writeJSON(w, 401, map[string]any{"error": "invalid_client", "error_description": "Client authentication failed"})
		return
	}
	asked := strings.Fields(r.PostForm.Get("scope"))
	if len(asked) == 0 {
		writeJSON(w, 400, map[string]any{"error": "invalid_scope", "error_description": "no scope requested"})
		return
	}
	granted := map[string]bool{}
	for _, s := range asked {
		if c.opts.Scopes != nil && !contains(c.opts.Scopes, s) {
			writeJSON(w, 400, map[string]any{"error": "invalid_scope", "error_description": "scope " + s + " is not allowed for this client"})
			return
		}
		granted[s] = true
	}
	b := make([]byte, 24)
	rand.Read(b)
	tok := "sbx_" + base64.RawURLEncoding.EncodeToString(b)
	c.tokMu.Lock()
	c.tokens[tok] = token{scopes: granted, expires: time.Now().Add(c.opts.TokenTTL)}
	c.tokMu.Unlock()
	writeJSON(w, 200, map[string]any{"access_token": tok, "scope": strings.Join(asked, " "), "token_type": "Bearer",
		"expires_in": int(c.opts.TokenTTL / time.Second)})
}

// ExpireTokens makes every issued access token invalid, as if they had expired.
func (c *Celonis) ExpireTokens() {
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	c.tokens = map[string]token{}
}

// pageSize reads pageSize (1..200, default 200), answering 400 otherwise.
func pageSize(w *recorder, r *http.Request) (int, bool) {
	v := r.URL.Query().Get("pageSize")
	if v == "" {
		return 200, true
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		catalogError(w, 400, "Query parameter type mismatch.", "Query parameter 'pageSize' must be of type 'Integer'.", "GENERAL_PARAMETER_MISSMATCH")
		return 0, false
	}
	if n < 1 || n > 200 {
		catalogError(w, 400, "Bad Request", "pageSize must be between 1 and 200", "GENERAL_BAD_REQUEST")
		return 0, false
	}
	return n, true
}

// timeFilter reads from/to as ISO date-times, with or without zone.
func timeFilter(w *recorder, r *http.Request) (from, to *time.Time, ok bool) {
	for _, name := range []string{"from", "to"} {
		v := r.URL.Query().Get(name)
		if v == "" {
			continue
		}
		t, err := parseISO(v)
		if err != nil {
			catalogError(w, 400, "Bad Request", fmt.Sprintf("Query parameter '%s' must be an ISO 8601 date-time, got %q", name, v), "GENERAL_BAD_REQUEST")
			return nil, nil, false
		}
		if name == "from" {
			from = &t
		} else {
			to = &t
		}
	}
	return from, to, true
}

func parseISO(v string) (time.Time, error) {
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time")
}

// cursor serves a v2 page: `content` and `nextPageToken`. The token encodes
// the offset and the filter it belongs to.
func (c *Celonis) cursor(w *recorder, r *http.Request, ev events) {
	size, ok := pageSize(w, r)
	if !ok {
		return
	}
	from, to, ok := timeFilter(w, r)
	if !ok {
		return
	}
	lo, hi := ev.between(from, to)
	filter := r.URL.Query().Get("from") + "|" + r.URL.Query().Get("to")
	offset := lo
	if tok := r.URL.Query().Get("pageToken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		f, off, found := strings.Cut(string(raw), "#")
		n, nerr := strconv.Atoi(off)
		if err != nil || !found || nerr != nil || f != filter || n < lo || n > hi {
			catalogError(w, 400, "Bad Request", "Invalid pageToken", "GENERAL_BAD_REQUEST")
			return
		}
		offset = n
	}
	end := min(offset+size, hi)
	next := ""
	if end < hi {
		next = base64.RawURLEncoding.EncodeToString([]byte(filter + "#" + strconv.Itoa(end)))
	}
	w.header.Set("Content-Type", "application/json")
	w.Write([]byte(`{"content":`))
	writeArray(w, ev.json[offset:end])
	fmt.Fprintf(w, `,"nextPageToken":%s}`, mustJSON(next))
}

// paged serves a v1-style page: content, pageNumber, pageSize, totalCount,
// and 204 when nothing matches.
func (c *Celonis) paged(w *recorder, r *http.Request, all [][]byte, between func(from, to *time.Time) (int, int)) {
	size, ok := pageSize(w, r)
	if !ok {
		return
	}
	from, to, ok := timeFilter(w, r)
	if !ok {
		return
	}
	lo, hi := between(from, to)
	c.page(w, r, all[lo:hi], size)
}

func (c *Celonis) page(w *recorder, r *http.Request, items [][]byte, size int) {
	n := 0
	if v := r.URL.Query().Get("pageNumber"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 {
			catalogError(w, 400, "Query parameter type mismatch.", "Query parameter 'pageNumber' must be of type 'Integer'.", "GENERAL_PARAMETER_MISSMATCH")
			return
		}
	}
	if len(items) == 0 {
		w.WriteHeader(204)
		return
	}
	start := min(n*size, len(items))
	end := min(start+size, len(items))
	w.header.Set("Content-Type", "application/json")
	w.Write([]byte(`{"content":`))
	writeArray(w, items[start:end])
	fmt.Fprintf(w, `,"pageNumber":%d,"pageSize":%d,"totalCount":%d}`, n, size, len(items))
}

func (c *Celonis) membersEndpoint(w *recorder, r *http.Request) {
	size, ok := pageSize(w, r)
	if !ok {
		return
	}
	v := r.URL.Query().Get("includeInternal")
	include, err := strconv.ParseBool(v)
	if err != nil {
		catalogError(w, 400, "Bad Request", "Required request parameter 'includeInternal' for method parameter type Boolean is not present", "GENERAL_BAD_REQUEST")
		return
	}
	g := newGen(c.opts.Seed + 7)
	var items [][]byte
	for i, m := range c.members {
		if include || !m.Internal {
			items = append(items, m.json(g, i))
		}
	}
	c.page(w, r, items, size)
}

//// HELPERS

func writeArray(w *recorder, items [][]byte) {
	w.Write([]byte{'['})
	for i, it := range items {
		if i > 0 {
			w.Write([]byte{','})
		}
		w.Write(it)
	}
	w.Write([]byte{']'})
}

func catalogError(w *recorder, status int, title, detail, code string) {
	writeJSON(w, status, map[string]any{"title": title, "status": status, "detail": detail, "errorCode": code})
}

func writeJSON(w *recorder, status int, v any) {
	w.header.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(mustJSON(v))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func scheme(h string) string {
	k, _, _ := strings.Cut(h, " ")
	return k
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// gen is the deterministic generator behind every history.
type gen struct{ state uint64 }

func newGen(seed uint64) *gen { return &gen{state: seed*0x9E3779B97F4A7C15 + 1} }

// next is splitmix64: fast, and the same on every machine.
func (g *gen) next() uint64 {
	g.state += 0x9E3779B97F4A7C15
	z := g.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func (g *gen) intn(n int) int { return int(g.next() % uint64(n)) }

func (g *gen) uuid() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := g.next()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// genEvents spreads n events over [start, start+span) in time order, with
// millisecond timestamps.
func genEvents(n int, start time.Time, span time.Duration, g *gen, render func(*gen, time.Time) []byte) events {
	ev := events{at: make([]time.Time, n), json: make([][]byte, n)}
	step := span / time.Duration(max(n, 1))
	for i := 0; i < n; i++ {
		at := start.Add(step * time.Duration(i))
		if step > time.Millisecond {
			at = at.Add(time.Duration(g.next() % uint64(step)))
		}
		at = at.Truncate(time.Millisecond)
		ev.at[i] = at
		ev.json[i] = render(g, at)
	}
	return ev
}
