// Package cli holds the plugin binary's own commands: `query`, which runs
// SQL over the plugin's tables without Steampipe, and `sandbox`, which
// serves the fake APIs. Started by Steampipe, the binary serves the plugin
// as usual (see main.go).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sqlengine"
)

const queryUsage = `usage: steampipe-plugin-celonis query [--config HCL] [--config-file FILE] [--output table|json|jsonl|csv] "SQL"

Runs one SQL statement (SQLite dialect) over the plugin's tables and prints
the rows. --config takes the body of a connection block, with the attributes
of config/celonis.spc; --config-file a file with such a body or a whole
connection "..." { } block, and optionally limiter "<name>" { } blocks (at
the top level or in a plugin "celonis" { } block, as in Steampipe) that
replace the plugin's rate limiters of the same name. Without either, the
environment variables apply (CELONIS_URL, CELONIS_CLIENT_ID, ...,
MAKE_API_TOKEN, MAKE_URL).

Timestamps are ISO 8601 text (2025-03-01T10:00:00.000Z), JSON columns JSON
text (use json_extract), booleans 0/1.
`

// Query runs the query command and returns the process exit code: 0 on
// success, 1 when the query failed, 2 for bad usage.
func Query(pluginFunc plugin.PluginFunc, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg := fs.String("config", "", "body of a connection block")
	cfgFile := fs.String("config-file", "", "file with a connection block or its body")
	output := fs.String("output", "table", "table, json, jsonl or csv")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "error: %v\n\n%s", err, queryUsage)
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "error: give exactly one SQL statement (got %d arguments)\n\n%s", fs.NArg(), queryUsage)
		return 2
	}
	w, err := newWriter(*output, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 2
	}
	body := *cfg
	var limiters []*proto.RateLimiterDefinition
	if *cfgFile != "" {
		if body != "" {
			fmt.Fprintln(stderr, "error: give --config or --config-file, not both")
			return 2
		}
		b, err := os.ReadFile(*cfgFile)
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return 2
		}
		fc, err := readConfigFile(b, *cfgFile)
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return 2
		}
		body, limiters = fc.body, fc.limiters
	}
	standalone()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, pluginFunc, body, limiters, fs.Arg(0), w); err != nil {
		fmt.Fprintf(stderr, "error: %s\n", strings.TrimSpace(err.Error()))
		return 1
	}
	return 0
}

// standalone sets the SDK's knobs for a run outside Steampipe, where this
// program and not Steampipe decides them (an explicit setting wins): no SDK
// log lines on stderr, and no forced return of memory to the OS every 100
// rows, which costs most of the SDK's per-row time; rows are dropped as they
// are printed, so memory stays flat without it.
func standalone() {
	for k, v := range map[string]string{"STEAMPIPE_LOG_LEVEL": "off", "STEAMPIPE_FREE_MEM_INTERVAL": "0"} {
		if _, set := os.LookupEnv(k); !set {
			os.Setenv(k, v)
		}
	}
}

func run(ctx context.Context, pluginFunc plugin.PluginFunc, body string, limiters []*proto.RateLimiterDefinition, stmt string, w writer) error {
	r, err := inproc.New(pluginFunc, body)
	if err != nil {
		return err
	}
	if len(limiters) > 0 {
		if err := r.SetLimiters(limiters...); err != nil {
			return fmt.Errorf("limiter: %w", err)
		}
	}
	e, err := sqlengine.Open(ctx, r)
	if err != nil {
		return err
	}
	defer e.Close()
	err = e.Query(ctx, stmt, w.header, w.row)
	if err != nil {
		w.abort()
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		return err
	}
	return w.end()
}

// fileConfig is what a config file gives a query: the connection's body
// and the rate limiters to set.
type fileConfig struct {
	body     string
	limiters []*proto.RateLimiterDefinition
}

// readConfigFile returns what a config file holds for one connection: the
// body of its first connection block without `plugin`, or the file itself
// when it is a bare body; and its `limiter` blocks, at the top level or in
// a `plugin` block, as Steampipe reads them from a plugin block.
func readConfigFile(src []byte, name string) (fileConfig, error) {
	var fc fileConfig
	f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return fc, fmt.Errorf("%s: %s", name, diags.Error())
	}
	body := f.Body.(*hclsyntax.Body)
	conn, bare := "", true
	for _, b := range body.Blocks {
		bare = false
		switch b.Type {
		case "connection":
			if conn != "" {
				continue
			}
			var lines []string
			for name, a := range b.Body.Attributes {
				if name != "plugin" {
					lines = append(lines, string(a.SrcRange.SliceBytes(src)))
				}
			}
			conn = strings.Join(lines, "\n")
		case "plugin":
			for _, l := range b.Body.Blocks {
				def, err := limiterBlock(l)
				if err != nil {
					return fc, fmt.Errorf("%s: %w", name, err)
				}
				fc.limiters = append(fc.limiters, def)
			}
		case "limiter":
			def, err := limiterBlock(b)
			if err != nil {
				return fc, fmt.Errorf("%s: %w", name, err)
			}
			fc.limiters = append(fc.limiters, def)
		default:
			return fc, fmt.Errorf("%s:%d: a %q block is not read here: use connection, plugin or limiter blocks", name, b.TypeRange.Start.Line, b.Type)
		}
	}
	if bare {
		fc.body = string(src)
	} else {
		fc.body = conn
	}
	return fc, nil
}

// limiterBlock reads one `limiter "name" { ... }` block: fill_rate,
// bucket_size, max_concurrency, scope and where, as in Steampipe. A
// limiter named like one of the plugin's replaces it.
func limiterBlock(b *hclsyntax.Block) (*proto.RateLimiterDefinition, error) {
	if b.Type != "limiter" || len(b.Labels) != 1 {
		return nil, fmt.Errorf("line %d: want limiter \"<name>\" { ... }, found %s %v", b.TypeRange.Start.Line, b.Type, b.Labels)
	}
	var l struct {
		FillRate       *float64 `hcl:"fill_rate"`
		BucketSize     *int64   `hcl:"bucket_size"`
		MaxConcurrency *int64   `hcl:"max_concurrency"`
		Scope          []string `hcl:"scope,optional"`
		Where          *string  `hcl:"where"`
	}
	if diags := gohcl.DecodeBody(b.Body, nil, &l); diags.HasErrors() {
		return nil, fmt.Errorf("limiter %q: %s", b.Labels[0], diags.Error())
	}
	def := &proto.RateLimiterDefinition{Name: b.Labels[0], Scope: l.Scope}
	if l.FillRate != nil {
		def.FillRate = float32(*l.FillRate)
	}
	if l.BucketSize != nil {
		def.BucketSize = *l.BucketSize
	}
	if l.MaxConcurrency != nil {
		def.MaxConcurrency = *l.MaxConcurrency
	}
	if l.Where != nil {
		def.Where = *l.Where
	}
	if (def.FillRate > 0) != (def.BucketSize > 0) || (def.FillRate == 0 && def.MaxConcurrency == 0) {
		return nil, fmt.Errorf("limiter %q: set fill_rate and bucket_size together, max_concurrency, or both", def.Name)
	}
	return def, nil
}
