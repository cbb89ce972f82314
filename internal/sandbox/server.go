// Package sandbox serves fake Celonis Platform and Make APIs on loopback for
// tests, benchmarks and demos. It follows ../shared/reference/API.md: the
// same paths, parameters, page caps, auth headers and error bodies, with a
// deterministic generated history, a request log and switchable faults. It
// knows nothing of the plugin.
package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Request is one request as the sandbox received it. Credentials are not
// kept: only the Authorization scheme.
type Request struct {
	Method     string
	Path       string
	Query      url.Values
	AuthScheme string // "Bearer", "AppKey", "Token", "Basic" or ""
	Scope      string // token requests: the scope asked for
	Status     int
	Time       time.Time // when the request arrived
	// Ready is when its response was ready to send, after the latency and
	// the handler: set on every response the handler's body is sent for (no
	// fault, or a delay, truncation or oversize fault); zero for one a fault
	// writes itself or cuts off (respond, reset, endless).
	Ready time.Time
}

// FaultKind says how a fault breaks a response.
type FaultKind int

// Fault kinds.
const (
	FaultRespond  FaultKind = iota // answer with Status, Header and Body instead
	FaultReset                     // send headers and part of a body, then drop the connection
	FaultTruncate                  // send the real response cut in half, with a correct-looking status
	FaultDelay                     // wait Delay, then answer normally
	FaultOversize                  // answer normally but repeat the page's entries (a page far larger than asked)
	FaultEndless                   // answer an empty page with a new cursor token every time
)

// Fault breaks matching requests. Faults apply in the order added; the first
// that matches and still has uses left wins.
type Fault struct {
	Kind   FaultKind
	Path   string // prefix of the URL path to match; "" matches every path
	After  int    // let this many matching requests through first
	Times  int    // break this many matching requests; 0 means all
	Status int
	Header http.Header
	Body   string
	Delay  time.Duration
	Hook   func() // run when the fault fires, before the request is answered

	seen, used int
}

// base holds what every fake API shares: the request log and the faults.
type base struct {
	mu       sync.Mutex
	requests []Request
	faults   []*Fault
	latency  time.Duration
}

// AddFault switches a fault on.
func (b *base) AddFault(f Fault) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = append(b.faults, &f)
}

// ClearFaults switches every fault off.
func (b *base) ClearFaults() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = nil
}

// SetLatency adds a delay to every response.
func (b *base) SetLatency(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.latency = d
}

// Requests returns the requests received so far whose path starts with prefix.
func (b *base) Requests(prefix string) []Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Request
	for _, r := range b.requests {
		if strings.HasPrefix(r.Path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets the request log.
func (b *base) ResetRequests() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.requests = nil
}

func (b *base) record(r Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.requests = append(b.requests, r)
}

// fault returns the fault that applies to this request, if any.
func (b *base) fault(path string) (*Fault, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range b.faults {
		if !strings.HasPrefix(path, f.Path) {
			continue
		}
		f.seen++
		if f.seen <= f.After || (f.Times > 0 && f.used >= f.Times) {
			continue
		}
		f.used++
		return f, b.latency
	}
	return nil, b.latency
}

// recorder captures a response so that faults can rewrite it.
type recorder struct {
	header http.Header
	status int
	body   *bytes.Buffer
}

// bodies are the recorders' buffers, kept for the next response: the
// sandbox stands in for a server on another machine, so a page should cost
// the machine that runs the client as little as it can (growing and
// copying a fresh 80 KB page took about a third of the sandbox's CPU, which
// competed with the client's on two cores).
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(s int)           { r.status = s }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }

// serve runs handler for one request with faults and latency applied, and
// logs it.
func (b *base) serve(w http.ResponseWriter, req *http.Request, entry Request, handler func(*recorder)) {
	f, latency := b.fault(req.URL.Path)
	if f != nil && f.Hook != nil {
		f.Hook()
	}
	if latency > 0 {
		if !sleepCtx(req, latency) {
			return
		}
	}
	rec := &recorder{header: http.Header{}, status: 200, body: bodies.Get().(*bytes.Buffer)}
	defer func() {
		rec.body.Reset()
		bodies.Put(rec.body)
	}()
	handler(rec)
	entry.Status = rec.status
	if f != nil {
		entry.Status = f.Status
		switch f.Kind {
		case FaultDelay:
			entry.Status = rec.status
			if !sleepCtx(req, f.Delay) {
				b.record(entry)
				return
			}
		case FaultRespond:
			b.record(entry)
			for k, v := range f.Header {
				w.Header()[k] = v
			}
			if w.Header().Get("Content-Type") == "" && f.Body != "" {
				w.Header().Set("Content-Type", "application/json")
			}
			w.WriteHeader(f.Status)
			fmt.Fprint(w, f.Body)
			return
		case FaultReset:
			b.record(entry)
			hijackAndReset(w, rec)
			return
		case FaultTruncate:
			entry.Status = rec.status
			body := rec.body.String()
			rec.body.Reset()
			rec.body.WriteString(body[:len(body)/2])
		case FaultEndless:
			b.record(entry)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"content":[],"nextPageToken":"endless-%d-%d"}`, time.Now().UnixNano(), f.used)
			return
		case FaultOversize:
			entry.Status = rec.status
			body := oversize(rec.body.String(), req.URL.Query())
			rec.body.Reset()
			rec.body.WriteString(body)
		}
	}
	entry.Ready = time.Now()
	b.record(entry)
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

func sleepCtx(req *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-req.Context().Done():
		return false
	case <-t.C:
		return true
	}
}

// hijackAndReset announces a full body, sends part of it and closes the
// connection: a connection reset in the middle of a body.
func hijackAndReset(w http.ResponseWriter, rec *recorder) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("sandbox: response writer cannot hijack")
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	body := rec.body.String()
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body)+1000, body[:len(body)/2])
	buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // RST rather than FIN
	}
	conn.Close()
}

// Serve starts h on addr (loopback only) and returns the running server.
func Serve(h http.Handler, addr string) (*httptest.Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("sandbox: address %q is not a loopback address; the sandbox serves loopback only", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := httptest.NewUnstartedServer(h)
	s.Listener.Close()
	s.Listener = l
	s.Start()
	return s, nil
}

// oversize repeats the entries of a JSON page until it holds more than
// twice the page size the request asked for.
func oversize(body string, q url.Values) string {
	asked := 200
	for _, k := range []string{"pageSize", "pg[limit]"} {
		if n, err := strconv.Atoi(q.Get(k)); err == nil {
			asked = n
		}
	}
	var page map[string]json.RawMessage
	if json.Unmarshal([]byte(body), &page) != nil {
		return body
	}
	for _, key := range []string{"content", "auditLogs"} {
		var items []json.RawMessage
		if json.Unmarshal(page[key], &items) != nil || len(items) == 0 {
			continue
		}
		var more []json.RawMessage
		for len(more) <= 2*asked {
			more = append(more, items...)
		}
		page[key], _ = json.Marshal(more)
	}
	out, _ := json.Marshal(page)
	return string(out)
}
