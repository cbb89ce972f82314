package config

import (
	"strings"
	"testing"
)

func ptr(s string) *string { return &s }

func TestResolveCelonis(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	c := Config{URL: ptr("https://t.eu-1.celonis.cloud/"), ClientID: ptr("id"), ClientSecret: ptr("s")}
	r, err := c.ResolveCelonis(getenv)
	if err != nil || r.Auth != AuthOAuth || r.URL.String() != "https://t.eu-1.celonis.cloud" || r.AuditLogAPIVersion != "v2" {
		t.Fatalf("%+v %v", r, err)
	}
	env[EnvAPIKey] = "from-env"
	c = Config{URL: ptr("http://127.0.0.1:8080")}
	if r, err = c.ResolveCelonis(getenv); err != nil || r.Auth != AuthAPIKey || r.APIKey != "from-env" {
		t.Fatalf("%+v %v", r, err)
	}
	c.APIKey = ptr("from-config")
	if r, _ = c.ResolveCelonis(getenv); r.APIKey != "from-config" {
		t.Fatalf("config must win over env: %q", r.APIKey)
	}
	c = Config{URL: ptr("https://x.example"), AppKey: ptr("k"), AuditLogAPIVersion: ptr(" V1 ")}
	if r, err = c.ResolveCelonis(getenv); err == nil {
		t.Fatalf("app_key plus api_key from env must be refused: %+v", r)
	}
	delete(env, EnvAPIKey)
	if r, err = c.ResolveCelonis(getenv); err != nil || r.AuditLogAPIVersion != "v1" {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestParseBaseURLNeverEchoesCredentials(t *testing.T) {
	_, err := ParseBaseURL("https://user:hunter2@t.celonis.cloud", "url", EnvURL)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v", err)
	}
	_, err = ParseBaseURL("http://user:hunter2@t.celonis.cloud", "url", EnvURL)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v", err)
	}
	for _, ok := range []string{"http://localhost:1", "http://127.0.0.1:9", "http://[::1]:9", "https://a.b"} {
		if _, err := ParseBaseURL(ok, "url", EnvURL); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"ftp://a.b", "a.b", "http://10.0.0.1", "https://a.b/?x=1"} {
		if _, err := ParseBaseURL(bad, "url", EnvURL); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestResolveMake(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	c := Config{}
	if _, err := c.ResolveMake(getenv); err == nil || !strings.Contains(err.Error(), "make_api_token") || !strings.Contains(err.Error(), EnvMakeAPIToken) {
		t.Fatalf("unconfigured: %v", err)
	}
	env[EnvMakeAPIToken] = "tok"
	m, err := c.ResolveMake(getenv)
	if err != nil || m.URL.String() != DefaultMakeURL || m.RateLimitPerMinute != 60 || m.RateLimitSet {
		t.Fatalf("defaults: %+v %v", m, err)
	}
	c = Config{MakeURL: ptr("https://us1.make.com/api/v2/"), MakeOrganizationIDs: []string{"5", "5", "7"}, MakeRateLimitPerMinute: new(int64)}
	if _, err = c.ResolveMake(getenv); err == nil || !strings.Contains(err.Error(), "at least 1") {
		t.Fatalf("rate 0: %v", err)
	}
	*c.MakeRateLimitPerMinute = 240
	m, err = c.ResolveMake(getenv)
	if err != nil || m.URL.String() != "https://us1.make.com" || len(m.OrganizationIDs) != 2 || m.RateLimitPerMinute != 240 || !m.RateLimitSet {
		t.Fatalf("%+v %v", m, err)
	}
	for _, bad := range []string{"-3", "abc", "1.5"} {
		c.MakeOrganizationIDs = []string{bad}
		if _, err = c.ResolveMake(getenv); err == nil || !strings.Contains(err.Error(), "make_organization_ids") || !strings.Contains(err.Error(), bad) {
			t.Fatalf("id %q: %v", bad, err)
		}
	}
	c = Config{MakeURL: ptr("http://eu1.make.com")}
	if _, err = c.ResolveMake(getenv); err == nil || !strings.Contains(err.Error(), "make_url") {
		t.Fatalf("http: %v", err)
	}
}

func TestResolveHTTP(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	h, err := (&Config{}).ResolveHTTP()
	if err != nil || h.MaxAttempts != DefaultMaxErrorRetryAttempts || h.Concurrency != DefaultMaxConcurrency || h.Timeout.Seconds() != DefaultRequestTimeout {
		t.Fatalf("defaults: %+v %v", h, err)
	}
	if h, err = (&Config{MaxConcurrency: n(12), RequestTimeout: n(3)}).ResolveHTTP(); err != nil || h.Concurrency != 12 || h.Timeout.Seconds() != 3 {
		t.Fatalf("%+v %v", h, err)
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{MaxConcurrency: n(0)}, "`max_concurrency` is 0: set it between 1"},
		{Config{MaxConcurrency: n(51)}, "`max_concurrency` is 51"},
		{Config{MaxErrorRetryAttempts: n(0)}, "`max_error_retry_attempts` is 0"},
		{Config{MinErrorRetryDelay: n(-1)}, "`min_error_retry_delay` is -1"},
		{Config{RequestTimeout: n(0)}, "`request_timeout` is 0"},
	} {
		if _, err := c.cfg.ResolveHTTP(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
}
