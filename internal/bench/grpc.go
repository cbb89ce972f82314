package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/grpchost"
)

// pluginEnv names the environment variable that holds the path of the
// plugin's binary (make build), for the parts that run it over gRPC.
const pluginEnv = "BENCH_PLUGIN"

// grpcResult is one scan read over gRPC from the plugin's own binary.
type grpcResult struct {
	rows     int
	elapsed  time.Duration
	cpu      time.Duration // the plugin process's user and system CPU over the scan
	peakRSS  float64       // the plugin process's VmHWM after the scan, MiB
	startRSS float64       // and before it
}

// grpcScan scans table from the plugin's binary run as Steampipe runs it
// (see grpchost): the plugin process then also does the gRPC work of
// sending each row, which the in-process path leaves out.
func grpcScan(bin string, cfg string, table string, cols []string, limitRPS int) grpcResult {
	p, err := grpchost.Start(bin, "STEAMPIPE_LOG_LEVEL=ERROR")
	if err != nil {
		fail("%v", err)
	}
	defer p.Kill()
	if err := p.Configure(cfg, steampipeCacheMb); err != nil {
		fail("over gRPC: %v", err)
	}
	if err := p.SetLimiters(platformLimiter(limitRPS)); err != nil {
		fail("limiter over gRPC: %v", err)
	}
	pid := strconv.Itoa(p.Pid)
	before := procCPU(pid)
	out := grpcResult{startRSS: procPeakRSS(pid)}
	start := time.Now()
	if err := p.Execute(context.Background(), table, cols, nil, func(*proto.Row) { out.rows++ }); err != nil {
		fail("%s over gRPC after %d rows: %v", table, out.rows, err)
	}
	out.elapsed = time.Since(start)
	out.cpu = procCPU(pid) - before
	out.peakRSS = procPeakRSS(pid)
	return out
}

// procCPU is a process's user and system CPU time so far (/proc/pid/stat).
func procCPU(pid string) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%s/stat", pid))
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
