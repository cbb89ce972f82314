// Package config holds the connection configuration shared by the Celonis
// Platform and Make parts of the plugin, and its resolution against the
// environment. It knows nothing of HTTP.
package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the body of a `connection "celonis" { ... }` block.
type Config struct {
	URL                *string `hcl:"url"`
	ClientID           *string `hcl:"client_id"`
	ClientSecret       *string `hcl:"client_secret"`
	AppKey             *string `hcl:"app_key"`
	APIKey             *string `hcl:"api_key"`
	AuditLogAPIVersion *string `hcl:"audit_log_api_version"`

	MakeURL                *string  `hcl:"make_url"`
	MakeAPIToken           *string  `hcl:"make_api_token"`
	MakeOrganizationIDs    []string `hcl:"make_organization_ids,optional"` // numbers; read as text so a bad one gets a clear message
	MakeRateLimitPerMinute *int64   `hcl:"make_rate_limit_per_minute"`

	MaxErrorRetryAttempts *int64 `hcl:"max_error_retry_attempts"`
	MinErrorRetryDelay    *int64 `hcl:"min_error_retry_delay"`
	RequestTimeout        *int64 `hcl:"request_timeout"`
	MaxConcurrency        *int64 `hcl:"max_concurrency"`
}

// NewInstance returns an empty Config for the SDK's HCL parser.
func NewInstance() any { return &Config{} }

// Environment variables read when an attribute is not set in the connection block.
const (
	EnvURL          = "CELONIS_URL"
	EnvClientID     = "CELONIS_CLIENT_ID"
	EnvClientSecret = "CELONIS_CLIENT_SECRET"
	EnvAppKey       = "CELONIS_APP_KEY"
	EnvAPIKey       = "CELONIS_API_KEY"
	EnvMakeURL      = "MAKE_URL"
	EnvMakeAPIToken = "MAKE_API_TOKEN"
)

// DefaultMakeURL is the zone used when none is configured.
const DefaultMakeURL = "https://eu1.make.com"

// DefaultMakeRateLimitPerMinute is the smallest plan's limit (Core).
const DefaultMakeRateLimitPerMinute = 60

// AuthMethod names how requests to the Celonis Platform are authorized.
type AuthMethod string

// The three documented ways to authorize against the Celonis Platform.
const (
	AuthOAuth  AuthMethod = "oauth"   // client credentials, Authorization: Bearer <token>
	AuthAppKey AuthMethod = "app_key" // Authorization: AppKey <key>
	AuthAPIKey AuthMethod = "api_key" // Authorization: Bearer <key>
)

// Celonis is the resolved Celonis Platform part of a connection.
type Celonis struct {
	URL                *url.URL
	Auth               AuthMethod
	ClientID           string
	ClientSecret       string
	AppKey             string
	APIKey             string
	AuditLogAPIVersion string // "v1" or "v2"
}

// Secrets returns every credential in the resolved config, so that callers can
// scrub them from anything they print.
func (c *Celonis) Secrets() []string {
	var out []string
	for _, s := range []string{c.ClientSecret, c.AppKey, c.APIKey} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Getenv is the environment lookup used by Resolve; tests replace it.
type Getenv func(string) string

// pick returns the config value when set, else the environment's.
func pick(v *string, env string, getenv Getenv) string {
	if v != nil {
		return strings.TrimSpace(*v)
	}
	return strings.TrimSpace(getenv(env))
}

// ResolveCelonis validates the Celonis Platform part of the connection, with
// config winning over the environment. The errors name what to set.
func (c *Config) ResolveCelonis(getenv Getenv) (*Celonis, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	raw := pick(c.URL, EnvURL, getenv)
	if raw == "" {
		return nil, fmt.Errorf("the Celonis Platform is not configured: set `url` in the connection config or %s to the team URL, e.g. https://my-team.eu-1.celonis.cloud", EnvURL)
	}
	u, err := ParseBaseURL(raw, "url", EnvURL)
	if err != nil {
		return nil, err
	}
	out := &Celonis{
		URL:          u,
		ClientID:     pick(c.ClientID, EnvClientID, getenv),
		ClientSecret: pick(c.ClientSecret, EnvClientSecret, getenv),
		AppKey:       pick(c.AppKey, EnvAppKey, getenv),
		APIKey:       pick(c.APIKey, EnvAPIKey, getenv),
	}

	var methods []string
	if out.ClientID != "" || out.ClientSecret != "" {
		if out.ClientID == "" || out.ClientSecret == "" {
			return nil, fmt.Errorf("OAuth client credentials need both `client_id` (%s) and `client_secret` (%s); only one is set", EnvClientID, EnvClientSecret)
		}
		out.Auth = AuthOAuth
		methods = append(methods, "client_id/client_secret")
	}
	if out.AppKey != "" {
		out.Auth = AuthAppKey
		methods = append(methods, "app_key")
	}
	if out.APIKey != "" {
		out.Auth = AuthAPIKey
		methods = append(methods, "api_key")
	}
	switch len(methods) {
	case 0:
		return nil, fmt.Errorf("no Celonis Platform credentials: set exactly one of `client_id` and `client_secret` (%s, %s), `app_key` (%s) or `api_key` (%s)", EnvClientID, EnvClientSecret, EnvAppKey, EnvAPIKey)
	case 1:
	default:
		return nil, fmt.Errorf("more than one Celonis Platform auth method is set (%s): keep exactly one of `client_id`/`client_secret`, `app_key` or `api_key` (config or %s, %s, %s, %s)", strings.Join(methods, ", "), EnvClientID, EnvClientSecret, EnvAppKey, EnvAPIKey)
	}

	out.AuditLogAPIVersion = "v2"
	if c.AuditLogAPIVersion != nil {
		switch v := strings.ToLower(strings.TrimSpace(*c.AuditLogAPIVersion)); v {
		case "v1", "v2":
			out.AuditLogAPIVersion = v
		default:
			return nil, fmt.Errorf("`audit_log_api_version` is %q: set it to \"v2\" (cursor paging, the default) or \"v1\" (page numbers)", *c.AuditLogAPIVersion)
		}
	}
	return out, nil
}

// ParseBaseURL checks a vendor base URL: https, or http on a loopback host
// only (for the sandbox and tests). attr and env name the setting in errors.
func ParseBaseURL(raw, attr, env string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Host == "" {
		// The value is not echoed: a mistyped URL may hold credentials.
		return nil, fmt.Errorf("`%s` (%s) is not an absolute URL: use the form https://host", attr, env)
	}
	shown := redactUserinfo(u)
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("`%s` (%s) %q uses http: use https (plain http is accepted for loopback hosts only)", attr, env, shown)
		}
	default:
		return nil, fmt.Errorf("`%s` (%s) %q must start with https://", attr, env, shown)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("`%s` (%s) %q must be a plain base URL without credentials, query or fragment", attr, env, shown)
	}
	return u, nil
}

func redactUserinfo(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User("***")
	}
	return c.String()
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Make is the resolved Make part of a connection.
type Make struct {
	URL                *url.URL // the zone, without /api/v2
	Token              string
	OrganizationIDs    []int64
	RateLimitPerMinute int64
	RateLimitSet       bool // false: the default, which a licence's apiLimit may replace
}

// Secrets returns the Make token, for scrubbing.
func (m *Make) Secrets() []string {
	if m.Token == "" {
		return nil
	}
	return []string{m.Token}
}

// ResolveMake validates the Make part of the connection, with config winning
// over the environment. The errors name what to set.
func (c *Config) ResolveMake(getenv Getenv) (*Make, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	token := pick(c.MakeAPIToken, EnvMakeAPIToken, getenv)
	if token == "" {
		return nil, fmt.Errorf("Make is not configured: set `make_api_token` in the connection config or %s to a Make API token (Profile > API access), and `make_url` (%s) to your zone if it is not %s", EnvMakeAPIToken, EnvMakeURL, DefaultMakeURL)
	}
	raw := pick(c.MakeURL, EnvMakeURL, getenv)
	if raw == "" {
		raw = DefaultMakeURL
	}
	raw = strings.TrimSuffix(strings.TrimRight(raw, "/"), "/api/v2")
	u, err := ParseBaseURL(raw, "make_url", EnvMakeURL)
	if err != nil {
		return nil, err
	}
	out := &Make{URL: u, Token: token, RateLimitPerMinute: DefaultMakeRateLimitPerMinute}
	seen := map[int64]bool{}
	for _, raw := range c.MakeOrganizationIDs {
		id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("`make_organization_ids` holds %q: organization IDs are positive numbers, as in the URL https://<zone>/organization/<id>/dashboard, e.g. make_organization_ids = [123456]", raw)
		}
		if !seen[id] {
			seen[id] = true
			out.OrganizationIDs = append(out.OrganizationIDs, id)
		}
	}
	if c.MakeRateLimitPerMinute != nil {
		if *c.MakeRateLimitPerMinute < 1 {
			return nil, fmt.Errorf("`make_rate_limit_per_minute` is %d: set it to at least 1 (your plan's limit: Core 60, Pro 120, Teams 240, Enterprise 1000), or remove it for the default of %d", *c.MakeRateLimitPerMinute, DefaultMakeRateLimitPerMinute)
		}
		out.RateLimitPerMinute = *c.MakeRateLimitPerMinute
		out.RateLimitSet = true
	}
	return out, nil
}

// FromConnection returns the parsed connection block the SDK hands back
// (by value or by pointer); an empty Config when there is none.
func FromConnection(v any) *Config {
	switch c := v.(type) {
	case Config:
		return &c
	case *Config:
		if c != nil {
			return c
		}
	}
	return &Config{}
}

// HTTP is how both products' clients send requests: tries per request
// (the first included) for 429, 5xx and network errors, the first backoff
// (doubled each retry; a server's x-ratelimit-reset or Retry-After wins),
// and the timeout of one request.
type HTTP struct {
	MaxAttempts int
	MinDelay    time.Duration
	Timeout     time.Duration
	// Concurrency is the most requests one scan keeps in flight: the time
	// windows or pages it fetches at once. The rate limiters still bound
	// how many requests a second all scans send together.
	Concurrency int
}

// Defaults of HTTP.
const (
	DefaultMaxErrorRetryAttempts = 5
	DefaultMinErrorRetryDelay    = 500 // milliseconds
	DefaultRequestTimeout        = 60  // seconds
	DefaultMaxConcurrency        = 5
)

// ResolveHTTP validates the retry and timeout settings.
func (c *Config) ResolveHTTP() (HTTP, error) {
	h := HTTP{MaxAttempts: DefaultMaxErrorRetryAttempts, MinDelay: DefaultMinErrorRetryDelay * time.Millisecond,
		Timeout: DefaultRequestTimeout * time.Second, Concurrency: DefaultMaxConcurrency}
	if v := c.MaxErrorRetryAttempts; v != nil {
		if *v < 1 || *v > 20 {
			return h, fmt.Errorf("`max_error_retry_attempts` is %d: set it between 1 (no retries) and 20; the default is %d", *v, DefaultMaxErrorRetryAttempts)
		}
		h.MaxAttempts = int(*v)
	}
	if v := c.MinErrorRetryDelay; v != nil {
		if *v < 1 || *v > 60000 {
			return h, fmt.Errorf("`min_error_retry_delay` is %d: set it in milliseconds between 1 and 60000; the default is %d", *v, DefaultMinErrorRetryDelay)
		}
		h.MinDelay = time.Duration(*v) * time.Millisecond
	}
	if v := c.RequestTimeout; v != nil {
		if *v < 1 || *v > 3600 {
			return h, fmt.Errorf("`request_timeout` is %d: set it in seconds between 1 and 3600; the default is %d", *v, DefaultRequestTimeout)
		}
		h.Timeout = time.Duration(*v) * time.Second
	}
	if v := c.MaxConcurrency; v != nil {
		if *v < 1 || *v > 50 {
			return h, fmt.Errorf("`max_concurrency` is %d: set it between 1 (one request at a time) and 50; the default is %d", *v, DefaultMaxConcurrency)
		}
		h.Concurrency = int(*v)
	}
	return h, nil
}
