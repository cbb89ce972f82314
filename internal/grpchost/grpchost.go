// Package grpchost plays Steampipe's part on the plugin's gRPC protocol: it
// runs the plugin's own binary in a process of its own through go-plugin,
// configures a connection and reads scans over gRPC with the calls
// Steampipe's plugin manager and FDW make. Everything but Postgres: the
// binary's main, the SDK's serve path and the rows' trip across the process
// boundary, which the in-process path (internal/inproc) leaves out. The
// tests of main and the benchmark's gRPC parts use it.
package grpchost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	sdkgrpc "github.com/turbot/steampipe-plugin-sdk/v5/grpc"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/shared"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
)

// PluginName is the name the plugin serves itself under (celonis.Plugin).
const PluginName = "steampipe-plugin-celonis"

// Plugin is one running plugin process.
type Plugin struct {
	client *goplugin.Client
	stub   *sdkgrpc.PluginClient
	// Pid is the plugin process's id.
	Pid int
}

// Start runs the binary at bin as a plugin, with env added to this
// process's environment.
func Start(bin string, env ...string) (*Plugin, error) {
	// The SDK's client logs each call with the log package.
	log.SetOutput(io.Discard)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  shared.Handshake,
		Plugins:          map[string]goplugin.Plugin{PluginName: &shared.WrapperPlugin{}},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.NewNullLogger(),
	})
	stub, err := sdkgrpc.NewPluginClient(client, PluginName)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	return &Plugin{client: client, stub: stub, Pid: client.ReattachConfig().Pid}, nil
}

// Configure sets the one connection (inproc.Connection) from HCL text, and
// the query cache as Steampipe does: off, of cacheMb.
func (p *Plugin) Configure(connectionHCL string, cacheMb int64) error {
	return inproc.Configure(p.stub.Stub, connectionHCL, cacheMb)
}

// SetLimiters adds rate limiters or overrides the plugin's own by name, as
// the `limiter` blocks of a plugin block do.
func (p *Plugin) SetLimiters(defs ...*proto.RateLimiterDefinition) error {
	_, err := p.stub.Stub.SetRateLimiters(&proto.SetRateLimitersRequest{Definitions: defs})
	return err
}

// Execute scans table for cols with the given quals, calling fn with each
// row as it arrives, until the plugin ends the stream; the scan's error, if
// the plugin sends one.
func (p *Plugin) Execute(ctx context.Context, table string, cols []string, quals map[string]*proto.Quals, fn func(*proto.Row)) error {
	stream, sctx, cancel, err := p.stub.Execute(&proto.ExecuteRequest{
		Table:        table,
		QueryContext: &proto.QueryContext{Columns: cols, Quals: quals},
		Connection:   inproc.Connection,
		CallId:       fmt.Sprintf("grpchost-%d", calls.Add(1)),
		ExecuteConnectionData: map[string]*proto.ExecuteConnectionData{
			inproc.Connection: {CacheEnabled: false},
		},
	})
	if err != nil {
		return err
	}
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil && sctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if resp.Row != nil {
			fn(resp.Row)
		}
	}
}

// calls numbers the calls: Steampipe gives each its own id.
var calls atomic.Int64

// Kill stops the plugin process.
func (p *Plugin) Kill() { p.client.Kill() }
