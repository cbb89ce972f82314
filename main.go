// Command steampipe-plugin-celonis serves the Celonis plugin to Steampipe.
package main

import (
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"

	"github.com/celonis-audit/steampipe-plugin-celonis/celonis"
)

func main() {
	plugin.Serve(&plugin.ServeOpts{PluginFunc: celonis.Plugin})
}
