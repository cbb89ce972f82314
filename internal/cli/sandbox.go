package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

const sandboxUsage = `usage: steampipe-plugin-celonis sandbox [--addr 127.0.0.1:0] [--events N] [--seed S]

Serves fake Celonis Platform and Make APIs on loopback with a generated
history that ends now, prints the connection config that points at them,
and runs until interrupted. Use the printed config with query --config.
`

// Sandbox runs the sandbox command; it returns the exit code.
func Sandbox(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on")
	events := fs.Int("events", 50000, "Celonis audit log entries over the last 365 days")
	seed := fs.Uint64("seed", 1, "seed of the generated history")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		if err == nil {
			err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
		fmt.Fprintf(stderr, "error: %v\n\n%s", err, sandboxUsage)
		return 2
	}
	if *events < 1 {
		fmt.Fprintf(stderr, "error: --events must be at least 1\n")
		return 2
	}
	demo := sandbox.NewDemo(*seed, *events, time.Now())
	srv, err := sandbox.Serve(demo, *addr)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	defer srv.Close()
	fmt.Fprint(stdout, demo.Config(srv.URL))
	if f, ok := stdout.(*os.File); ok {
		f.Sync()
	}
	fmt.Fprintf(stderr, "sandbox: serving the Celonis Platform and Make on %s (%d audit entries); Ctrl-C stops it\n", srv.URL, *events)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return 0
}
