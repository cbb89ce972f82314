package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	sdkgrpc "github.com/turbot/steampipe-plugin-sdk/v5/grpc"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/shared"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
)

// pluginEnv names the environment variable that holds the path of the
// plugin's binary (make build), for the parts that run it over gRPC.
const pluginEnv = "BENCH_PLUGIN"

// pluginName is the name the plugin serves itself under (celonis.Plugin).
const pluginName = "steampipe-plugin-celonis"

// grpcResult is one scan read over gRPC from the plugin's own binary.
type grpcResult struct {
	rows     int
	elapsed  time.Duration
	cpu      time.Duration // the plugin process's user and system CPU over the scan
	peakRSS  float64       // the plugin process's VmHWM after the scan, MiB
	startRSS float64       // and before it
}

// grpcScan runs the plugin's binary as Steampipe runs it: a child process
// served by go-plugin, configured and queried over gRPC with the calls
// Steampipe's plugin manager and FDW make. The rows cross a process
// boundary as protobuf messages, so the plugin process does the gRPC work
// Steampipe's plugins do, which the in-process path leaves out. env is
// added to the child's environment.
func grpcScan(bin string, env []string, cfg string, table string, cols []string, limitRPS int) grpcResult {
	log.SetOutput(io.Discard) // the SDK's gRPC client logs its calls with the log package
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), "STEAMPIPE_LOG_LEVEL=ERROR"), env...)
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  shared.Handshake,
		Plugins:          map[string]goplugin.Plugin{pluginName: &shared.WrapperPlugin{}},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.NewNullLogger(),
	})
	defer client.Kill()
	pc, err := sdkgrpc.NewPluginClient(client, pluginName)
	if err != nil {
		fail("start %s: %v", bin, err)
	}
	res, err := pc.Stub.SetAllConnectionConfigs(&proto.SetAllConnectionConfigsRequest{
		Configs: []*proto.ConnectionConfig{{
			Connection: inproc.Connection, Plugin: "local/celonis", PluginShortName: "celonis", Config: cfg,
		}},
		MaxCacheSizeMb: -1,
	})
	if err == nil && res.FailedConnections[inproc.Connection] != "" {
		err = errors.New(res.FailedConnections[inproc.Connection])
	}
	if err != nil {
		fail("connection config over gRPC: %v", err)
	}
	if _, err := pc.Stub.SetCacheOptions(&proto.SetCacheOptionsRequest{Enabled: false, MaxSizeMb: steampipeCacheMb}); err != nil {
		fail("cache options over gRPC: %v", err)
	}
	if _, err := pc.Stub.SetRateLimiters(&proto.SetRateLimitersRequest{Definitions: []*proto.RateLimiterDefinition{{
		Name: "celonis_platform", FillRate: float32(limitRPS), BucketSize: int64(limitRPS),
		Scope: []string{"connection"}, Where: "service = 'celonis_platform'"}}}); err != nil {
		fail("limiter over gRPC: %v", err)
	}
	pid := client.ReattachConfig().Pid
	before := procCPU(pid)
	out := grpcResult{startRSS: procPeakRSS(strconv.Itoa(pid))}
	start := time.Now()
	stream, _, cancel, err := pc.Execute(&proto.ExecuteRequest{
		Table:        table,
		QueryContext: &proto.QueryContext{Columns: cols},
		Connection:   inproc.Connection,
		CallId:       "bench-grpc",
		ExecuteConnectionData: map[string]*proto.ExecuteConnectionData{
			inproc.Connection: {CacheEnabled: false},
		},
	})
	if err != nil {
		fail("execute over gRPC: %v", err)
	}
	defer cancel()
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fail("%s over gRPC after %d rows: %v", table, out.rows, err)
		}
		if resp.Row != nil {
			out.rows++
		}
	}
	out.elapsed = time.Since(start)
	out.cpu = procCPU(pid) - before
	out.peakRSS = procPeakRSS(strconv.Itoa(pid))
	return out
}

// procCPU is a process's user and system CPU time so far (/proc/pid/stat).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		fail("read the plugin's CPU time: %v", err)
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc/pid/stat's times: 100 on Linux.
const clockTicks = 100
