package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

// The sandbox runs in a child process of the benchmark, so that its
// generated history is not in the heap of the process that runs the SDK:
// the SDK's debug.FreeOSMemory every 100 rows costs time in proportion to
// that heap, and under Steampipe the plugin process holds no such history.

// spec is what the child serves: one fake API with a generated history.
type spec struct {
	Kind   string    `json:"kind"` // "celonis" or "make"
	Events int       `json:"events"`
	Start  time.Time `json:"start"`
	Span   string    `json:"span"`
}

// childFlag is the argument that makes the benchmark a sandbox child.
const childFlag = "-sandbox-child"

// benchMakeOrg is the one organization of the Make sandbox.
const benchMakeOrg = 11

// remote is the parent's handle on a child sandbox: the API's base URL and
// the admin calls the figures need.
type remote struct {
	URL string
	cmd *exec.Cmd
}

var children []*remote

// childBinary runs the children; "" means this program.
var childBinary string

// spawn starts a child sandbox serving s and waits for its URL.
func spawn(s spec) *remote {
	self := childBinary
	if self == "" {
		var err error
		if self, err = os.Executable(); err != nil {
			fail("%v", err)
		}
	}
	js, _ := json.Marshal(s)
	cmd := exec.Command(self, childFlag, string(js))
	cmd.Stderr = os.Stderr
	// The child serves until its stdin closes: when this process ends,
	// however it ends.
	if _, err := cmd.StdinPipe(); err != nil {
		fail("%v", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		fail("%v", err)
	}
	if err := cmd.Start(); err != nil {
		fail("sandbox child: %v", err)
	}
	r := &remote{cmd: cmd}
	children = append(children, r)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		fail("sandbox child did not start: %v", err)
	}
	r.URL = strings.TrimSpace(line)
	return r
}

// stopChildren ends every child sandbox.
func stopChildren() {
	for _, c := range children {
		if c.cmd.Process != nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	}
	children = nil
}

func (r *remote) admin(path string, q url.Values, out any) {
	resp, err := http.Post(r.URL+"/_bench/"+path+"?"+q.Encode(), "text/plain", nil)
	if err != nil {
		fail("sandbox admin %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		fail("sandbox admin %s: HTTP %d: %s", path, resp.StatusCode, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			fail("sandbox admin %s: %v", path, err)
		}
	}
}

// SetLatency adds d to every API response.
func (r *remote) SetLatency(d time.Duration) {
	r.admin("latency", url.Values{"d": {d.String()}}, nil)
}

// ResetRequests clears the request log.
func (r *remote) ResetRequests() { r.admin("reset", nil, nil) }

// Requests returns when each logged request under prefix arrived.
func (r *remote) Requests(prefix string) []time.Time {
	tl := r.Timeline(prefix)
	out := make([]time.Time, len(tl))
	for i, t := range tl {
		out[i] = t[0]
	}
	return out
}

// Timeline returns, for each logged request under prefix, when it arrived
// and when its response was ready to send (sandbox.Request.Ready: zero for
// a response a fault wrote itself or cut off).
func (r *remote) Timeline(prefix string) [][2]time.Time {
	var ns [][2]int64
	r.admin("timeline", url.Values{"prefix": {prefix}}, &ns)
	out := make([][2]time.Time, len(ns))
	for i, n := range ns {
		out[i][0] = time.Unix(0, n[0])
		if n[1] != 0 {
			out[i][1] = time.Unix(0, n[1])
		}
	}
	return out
}

// URLs returns the path and query of each logged request under prefix, in
// the order they arrived.
func (r *remote) URLs(prefix string) []string {
	var urls []string
	r.admin("urls", url.Values{"prefix": {prefix}}, &urls)
	return urls
}

// AuditCount is how many audit events fall in [from, to].
func (r *remote) AuditCount(from, to time.Time) int {
	var n int
	r.admin("count", url.Values{"from": {from.Format(time.RFC3339Nano)}, "to": {to.Format(time.RFC3339Nano)}}, &n)
	return n
}

// serveChild is the child's main: it serves the API of the spec and the
// admin calls on loopback, prints the URL, and runs until killed or until
// its parent goes away (stdin closes).
func serveChild(arg string) {
	var s spec
	if err := json.Unmarshal([]byte(arg), &s); err != nil {
		fail("child spec: %v", err)
	}
	span, err := time.ParseDuration(s.Span)
	if err != nil {
		fail("child span: %v", err)
	}
	type api interface {
		http.Handler
		SetLatency(time.Duration)
		ResetRequests()
		Requests(string) []sandbox.Request
	}
	var a api
	var celonisAPI *sandbox.Celonis
	switch s.Kind {
	case "celonis":
		celonisAPI = sandbox.NewCelonis(sandbox.CelonisOptions{AuditEvents: s.Events, Start: s.Start, Span: span})
		a = celonisAPI
	case "make":
		a = sandbox.NewMake(sandbox.MakeOptions{Start: s.Start, Span: span,
			Orgs: []sandbox.MakeOrg{{ID: benchMakeOrg, Name: "Bench", Events: s.Events, APILimit: 1000}}})
	default:
		fail("child kind %q", s.Kind)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_bench/latency", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		a.SetLatency(d)
		fmt.Fprint(w, "{}")
	})
	mux.HandleFunc("POST /_bench/reset", func(w http.ResponseWriter, r *http.Request) {
		a.ResetRequests()
		fmt.Fprint(w, "{}")
	})
	mux.HandleFunc("POST /_bench/timeline", func(w http.ResponseWriter, r *http.Request) {
		out := [][2]int64{}
		for _, q := range a.Requests(r.URL.Query().Get("prefix")) {
			ready := int64(0)
			if !q.Ready.IsZero() {
				ready = q.Ready.UnixNano()
			}
			out = append(out, [2]int64{q.Time.UnixNano(), ready})
		}
		json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("POST /_bench/urls", func(w http.ResponseWriter, r *http.Request) {
		var urls []string
		for _, q := range a.Requests(r.URL.Query().Get("prefix")) {
			urls = append(urls, q.Path+"?"+q.Query.Encode())
		}
		json.NewEncoder(w).Encode(urls)
	})
	mux.HandleFunc("POST /_bench/count", func(w http.ResponseWriter, r *http.Request) {
		from, err1 := time.Parse(time.RFC3339Nano, r.URL.Query().Get("from"))
		to, err2 := time.Parse(time.RFC3339Nano, r.URL.Query().Get("to"))
		if celonisAPI == nil || err1 != nil || err2 != nil {
			http.Error(w, "count needs a celonis sandbox, from and to", 400)
			return
		}
		fmt.Fprint(w, celonisAPI.AuditCount(&from, &to))
	})
	mux.Handle("/", a)
	srv, err := sandbox.Serve(mux, "")
	if err != nil {
		fail("%v", err)
	}
	fmt.Println(srv.URL)
	// The parent holds our stdin open; when it exits, so do we.
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}
