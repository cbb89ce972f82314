package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Demo is a fake Celonis Platform team and a fake Make zone behind one
// handler, with histories that end now, for the `sandbox` command, the
// demo and the docs tests. Make is served under /api/v2, the Celonis
// Platform everywhere else.
type Demo struct {
	Celonis *Celonis
	Make    *Make
}

// NewDemo generates the histories: events audit entries over the last 365
// days (a fifth as many logins and Studio events), and events/5 Make entries
// in each of two organizations (11 and 12), plus one organization (13) in
// another zone. Make's users are the Celonis team's members.
func NewDemo(seed uint64, events int, now time.Time, opts ...DemoOption) *Demo {
	if events <= 0 {
		events = 50000
	}
	// A year that ends now, so that the last hour always has events (the
	// docs' examples ask for it); the start falls on the hour.
	start := now.UTC().Add(-365 * 24 * time.Hour).Truncate(time.Hour)
	span := now.UTC().Sub(start)
	co := CelonisOptions{Seed: seed, AuditEvents: events, LoginEvents: max(1, events/5), AdoptionEvents: max(1, events/5),
		Members: 25, Start: start, Span: span}
	mo := MakeOptions{Seed: seed, Start: start, Span: span, Orgs: []MakeOrg{
		{ID: 11, Name: "Acme Automation", Events: max(1, events/5), Teams: 3, Users: 12, APILimit: 1000},
		{ID: 12, Name: "Acme Labs", Events: max(1, events/5), Teams: 2, Users: 8, APILimit: 1000},
		{ID: 13, Name: "Acme US", Events: 10, Zone: "us1.make.com"},
	}}
	for _, o := range opts {
		o(&co, &mo)
	}
	c := NewCelonis(co)
	mo.People = c.People()
	m := NewMake(mo)
	return &Demo{Celonis: c, Make: m}
}

// ServeHTTP routes /api/v2 to Make and everything else to the Celonis Platform.
func (d *Demo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/v2/") {
		d.Make.ServeHTTP(w, r)
		return
	}
	d.Celonis.ServeHTTP(w, r)
}

// Config is the body of a connection block that points at the demo served
// at baseURL, with both products configured (OAuth for the Celonis Platform).
func (d *Demo) Config(baseURL string) string {
	co, mo := d.Celonis.Options(), d.Make.opts
	return fmt.Sprintf("url            = %q\nclient_id      = %q\nclient_secret  = %q\nmake_url       = %q\nmake_api_token = %q\nmake_rate_limit_per_minute = 6000\n",
		baseURL, co.ClientID, co.ClientSecret, baseURL, mo.Token)
}

// DemoOption adjusts a Demo's fake APIs before their histories are made.
type DemoOption func(*CelonisOptions, *MakeOptions)

// WithCredentials sets the credentials the fake APIs accept.
func WithCredentials(clientSecret, appKey, apiKey, makeToken string) DemoOption {
	return func(c *CelonisOptions, m *MakeOptions) {
		c.ClientSecret, c.AppKey, c.APIKey, m.Token = clientSecret, appKey, apiKey, makeToken
	}
}
