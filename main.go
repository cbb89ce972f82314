// Command steampipe-plugin-celonis serves the Celonis plugin to Steampipe.
// Run by hand, it also has commands of its own: `query` runs SQL over the
// plugin's tables without Steampipe, `sandbox` serves fake APIs to try it on.
package main

import (
	"fmt"
	"os"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/cli"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "query":
			os.Exit(cli.Query(celonis.Plugin, os.Args[2:], os.Stdout, os.Stderr))
		case "sandbox":
			os.Exit(cli.Sandbox(os.Args[2:], os.Stdout, os.Stderr))
		}
	}
	// Under Steampipe: collect sooner than Go's default, unless GOGC is set
	// (see celonis.GCPercent). The commands above keep Go's default: their
	// query cache is the least the SDK takes, so there is little to gain.
	celonis.SetGCPercent()
	// And, when CELONIS_ONE_CPU asks for it, run Go on one CPU while only
	// Celonis Platform tables scan with the SDK's memory interval on (see
	// celonis.OneCPUEnv). A value that is neither true nor false stops the
	// plugin before it serves, saying what to set.
	if _, err := celonis.EnableOneCPUIfAsked(); err != nil {
		fmt.Fprintln(os.Stderr, "steampipe-plugin-celonis:", err)
		os.Exit(2)
	}
	plugin.Serve(&plugin.ServeOpts{PluginFunc: celonis.Plugin})
}
