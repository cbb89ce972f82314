package make

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin/transform"

	"github.com/celonis-audit/steampipe-plugin-celonis/config"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

// These tests drive the Make tables through the SDK's Execute path, in a
// plugin of their own (this package does not import package celonis). They
// are not run with -race: the SDK v5.14.1 Execute path has races of its own.

func TestMain(m *testing.M) {
	if os.Getenv("STEAMPIPE_LOG_LEVEL") == "" {
		os.Setenv("STEAMPIPE_LOG_LEVEL", "ERROR")
	}
	os.Exit(m.Run())
}

func testPlugin(ctx context.Context) *plugin.Plugin {
	return &plugin.Plugin{
		Name:                   "steampipe-plugin-celonis-make-test",
		ConnectionConfigSchema: &plugin.ConnectionConfigSchema{NewInstance: config.NewInstance},
		DefaultTransform:       transform.FromGo().NullIfZero(),
		RateLimiters:           RateLimiters(),
		TableMap:               Tables(ctx),
	}
}

type env struct {
	t      *testing.T
	api    *sandbox.Make
	runner *inproc.Runner
}

// newEnv serves a fake Make zone and a connection to it; extra is appended
// to the connection block.
func newEnv(t *testing.T, o sandbox.MakeOptions, extra string) *env {
	t.Helper()
	api := sandbox.NewMake(o)
	srv, err := sandbox.Serve(api, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	t.Setenv("MAKE_URL", "")
	t.Setenv("MAKE_API_TOKEN", "")
	token := o.Token
	if token == "" {
		token = "sandbox-make-token"
	}
	hcl := fmt.Sprintf("make_url = %q\n", srv.URL)
	if !strings.Contains(extra, "make_api_token") {
		hcl += fmt.Sprintf("make_api_token = %q\n", token)
	}
	hcl += "make_rate_limit_per_minute = 60000\n" + extra
	r, err := inproc.New(testPlugin, hcl)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, api: api, runner: r}
}

func (e *env) query(q inproc.Query) ([]inproc.Row, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return e.runner.Collect(ctx, q)
}

func (e *env) mustQuery(q inproc.Query) []inproc.Row {
	e.t.Helper()
	rows, err := e.query(q)
	if err != nil {
		e.t.Fatalf("query %s: %v", q.Table, err)
	}
	return rows
}

func assertErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "sandbox-make-token") || strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("error leaks the token: %s", err)
	}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}
