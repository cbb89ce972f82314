package celonis

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

// These tests drive the plugin through the SDK's Execute path. They are not
// run with -race: the SDK v5.14.1 Execute path has data races of its own.

func TestMain(m *testing.M) {
	if os.Getenv("STEAMPIPE_LOG_LEVEL") == "" {
		os.Setenv("STEAMPIPE_LOG_LEVEL", "ERROR")
	}
	os.Exit(m.Run())
}

// env is one sandbox team and one plugin connection pointed at it.
type env struct {
	t      *testing.T
	api    *sandbox.Celonis
	url    string
	runner *inproc.Runner
}

type auth int

const (
	oauth auth = iota
	appKey
	apiKey
	noAuth // the test writes its own auth attributes
)

// newEnv starts a sandbox and a plugin whose connection uses the given auth
// method; extra is appended to the connection block.
func newEnv(t *testing.T, o sandbox.CelonisOptions, a auth, extra string) *env {
	t.Helper()
	return newWrappedEnv(t, o, a, extra, nil)
}

// newWrappedEnv is newEnv with the sandbox's handler wrapped by wrap, if
// given, to watch or hold its requests.
func newWrappedEnv(t *testing.T, o sandbox.CelonisOptions, a auth, extra string, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	return newPluginEnv(t, o, a, extra, wrap, Plugin)
}

// newPluginEnv is newWrappedEnv with the plugin pf (the plugin with a
// table's calls wrapped, to watch them) instead of Plugin.
func newPluginEnv(t *testing.T, o sandbox.CelonisOptions, a auth, extra string, wrap func(http.Handler) http.Handler, pf plugin.PluginFunc) *env {
	t.Helper()
	api := sandbox.NewCelonis(o)
	var h http.Handler = api
	if wrap != nil {
		h = wrap(api)
	}
	srv, err := sandbox.Serve(h, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	opts := api.Options()
	hcl := fmt.Sprintf("url = %q\n", srv.URL)
	switch a {
	case oauth:
		hcl += fmt.Sprintf("client_id = %q\nclient_secret = %q\n", opts.ClientID, opts.ClientSecret)
	case appKey:
		hcl += fmt.Sprintf("app_key = %q\n", opts.AppKey)
	case apiKey:
		hcl += fmt.Sprintf("api_key = %q\n", opts.APIKey)
	}
	hcl += extra
	// Keep the environment out of the connection under test.
	for _, v := range []string{"CELONIS_URL", "CELONIS_CLIENT_ID", "CELONIS_CLIENT_SECRET", "CELONIS_APP_KEY", "CELONIS_API_KEY"} {
		t.Setenv(v, "")
	}
	r, err := inproc.New(pf, hcl)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, api: api, url: srv.URL, runner: r}
}

// query runs a scan with a time bound on the whole test and returns its rows.
func (e *env) query(q inproc.Query) ([]inproc.Row, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return e.runner.Collect(ctx, q)
}

// mustQuery is query that fails the test on error.
func (e *env) mustQuery(q inproc.Query) []inproc.Row {
	e.t.Helper()
	rows, err := e.query(q)
	if err != nil {
		e.t.Fatalf("query %s: %v", q.Table, err)
	}
	return rows
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}
