// Package httpx holds what both vendors' HTTP clients share: bounded retries
// that honour the server's wait headers, body limits, and strict JSON
// decoding with clear messages. It knows nothing of either API.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ClientOptions tune a vendor's client; the zero value is the production
// default (see WithDefaults).
type ClientOptions struct {
	HTTPClient *http.Client // default: 60 s timeout
	UserAgent  string       // default: steampipe-plugin-celonis (CDNs may reject Go's own agent)
	Retry      Policy       // bounds on retries of 429, 5xx and network errors
	Logger     Logger       // default: none
}

// WithDefaults fills in unset fields.
func (o ClientOptions) WithDefaults() ClientOptions {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if o.UserAgent == "" {
		o.UserAgent = "steampipe-plugin-celonis"
	}
	o.Retry = o.Retry.WithDefaults()
	if o.Logger == nil {
		o.Logger = NopLogger{}
	}
	return o
}

// Policy bounds retries. The zero value means the defaults.
type Policy struct {
	MaxAttempts   int           // tries per request; default 5
	MaxRetryWait  time.Duration // cap on one wait; default 60 s
	MaxRetryTotal time.Duration // cap on all waits of one request; default 3 min
	BaseBackoff   time.Duration // first backoff, doubled each time; default 500 ms
}

// WithDefaults fills in unset fields.
func (p Policy) WithDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.MaxRetryWait <= 0 {
		p.MaxRetryWait = 60 * time.Second
	}
	if p.MaxRetryTotal <= 0 {
		p.MaxRetryTotal = 3 * time.Minute
	}
	if p.BaseBackoff <= 0 {
		p.BaseBackoff = 500 * time.Millisecond
	}
	return p
}

// Response is a fully read HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// MaxBody bounds one response body; a page of any of these APIs is far smaller.
const MaxBody = 64 << 20

// Send sends one request and reads the whole body, refusing bodies over MaxBody.
func Send(c *http.Client, req *http.Request) (*Response, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	buf := readBuffer()
	defer putReadBuffer(buf)
	if resp.ContentLength > 0 && resp.ContentLength <= MaxBody {
		buf.Grow(int(resp.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, MaxBody+1)); err != nil {
		return nil, err
	}
	if buf.Len() > MaxBody {
		return nil, fmt.Errorf("HTTP %d: the response is larger than %d MiB, far more than a page should be", resp.StatusCode, MaxBody>>20)
	}
	// The body is a copy of its exact size: entries keep slices of it.
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: bytes.Clone(buf.Bytes())}, nil
}

// readBuffers holds a few read buffers for reuse, so a body costs one
// allocation of its own size rather than the doubling of a growing read.
// Not a sync.Pool: under Steampipe the SDK runs a GC every 100 rows, and
// each GC empties the pools.
var readBuffers = make(chan *bytes.Buffer, 4)

// firstReadSize is a new read buffer's room: more than a 200-entry Celonis
// page (about 80 KB), so that a body of unknown length (chunked) is read
// without the buffer doubling its way up from 512 bytes, which left about
// its own size in garbage for the SDK to free before the first row.
const firstReadSize = 128 << 10

func readBuffer() *bytes.Buffer {
	select {
	case b := <-readBuffers:
		return b
	default:
		return bytes.NewBuffer(make([]byte, 0, firstReadSize))
	}
}

func putReadBuffer(b *bytes.Buffer) {
	if b.Cap() > 8<<20 {
		return // a rare huge body: let it go
	}
	b.Reset()
	select {
	case readBuffers <- b:
	default:
	}
}

// Do calls send until it returns a response that retry does not want
// retried, a transport error persists past the policy, or ctx ends. It
// returns the last response or error and the number of attempts made.
// Waits honour x-ratelimit-reset and Retry-After, else back off exponentially.
func Do(ctx context.Context, p Policy, send func(context.Context) (*Response, error), retry func(*Response) bool,
	onRetry func(attempt int, wait time.Duration, resp *Response, err error)) (*Response, int, error) {
	p = p.WithDefaults()
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, attempt - 1, err
		}
		resp, err := send(ctx)
		if err != nil && ctx.Err() != nil {
			return nil, attempt, ctx.Err()
		}
		if err == nil && !retry(resp) {
			return resp, attempt, nil
		}
		wait := Backoff(p, attempt)
		if resp != nil {
			wait = RetryWait(p, resp.Header, attempt)
		}
		if attempt >= p.MaxAttempts || waited+wait > p.MaxRetryTotal {
			return resp, attempt, err
		}
		if onRetry != nil {
			onRetry(attempt, wait, resp, err)
		}
		waited += wait
		if err := Sleep(ctx, wait); err != nil {
			return nil, attempt, err
		}
	}
}

// RetryWait is the server's x-ratelimit-reset or Retry-After (seconds, an
// epoch time, or an HTTP date), capped; without either, Backoff.
func RetryWait(p Policy, h http.Header, attempt int) time.Duration {
	p = p.WithDefaults()
	for _, name := range []string{"X-Ratelimit-Reset", "Retry-After"} {
		v := strings.TrimSpace(h.Get(name))
		if v == "" {
			continue
		}
		if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
			d := time.Duration(n * float64(time.Second))
			if n > 1e9 { // an epoch timestamp rather than a number of seconds
				d = time.Until(time.Unix(int64(n), 0))
			}
			return clamp(d, p.MaxRetryWait)
		}
		if t, err := http.ParseTime(v); err == nil {
			return clamp(time.Until(t), p.MaxRetryWait)
		}
	}
	return Backoff(p, attempt)
}

// Backoff is exponential from BaseBackoff with up to 20% jitter, capped.
func Backoff(p Policy, attempt int) time.Duration {
	p = p.WithDefaults()
	d := p.BaseBackoff << (attempt - 1)
	if d <= 0 || d > p.MaxRetryWait {
		d = p.MaxRetryWait
	}
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

func clamp(d, max time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	if d > max {
		return max
	}
	return d
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Transient reports whether a status is worth another bounded try.
func Transient(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// GaveUp is an API error's message, saying how many attempts were made
// when there was more than one.
func GaveUp(msg string, attempts int) string {
	if attempts > 1 {
		return fmt.Sprintf("%s (gave up after %d attempts)", msg, attempts)
	}
	return msg
}

// Digest is a digest of a body for the page loops' guards, which compare
// each page with the one before: equal bodies have equal digests within the
// process (seeded per process, so not an identity to keep or show). It
// hashes a 150 KB page in about 15 µs, where SHA-256 took 90 µs on this
// project's machine.
func Digest(body []byte) uint64 { return maphash.Bytes(digestSeed, body) }

var digestSeed = maphash.MakeSeed()

// DecodeJSON decodes a 2xx body, refusing empty bodies and anything but a
// JSON object or array (no page is a bare string, number or null) with a
// message that says what arrived instead.
func DecodeJSON(body []byte, contentType string, out any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return fmt.Errorf("the body is empty where a JSON page was expected")
	}
	if !Container(trimmed) {
		return fmt.Errorf("the body is not a JSON object or array (Content-Type %q): %s", contentType, Snippet(body))
	}
	if f, ok := out.(FastDecoder); ok && f.DecodeFast(trimmed) {
		return nil
	}
	if err := json.Unmarshal(trimmed, out); err != nil {
		return fmt.Errorf("the JSON body could not be decoded (Content-Type %q): %v", contentType, err)
	}
	if k, ok := out.(RawKeeper); ok {
		if err := k.KeepRaw(trimmed); err != nil {
			return fmt.Errorf("the JSON body could not be decoded (Content-Type %q): %v", contentType, err)
		}
	}
	return nil
}

// Container reports whether a trimmed body starts as a JSON object or array
// does: DecodeJSON refuses any other body.
func Container(trimmed []byte) bool {
	return len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
}

// FastDecoder is a body type with a hand-written decoder (see
// lenient.DecodeLeading). DecodeFast decodes a body exactly as
// encoding/json and KeepRaw would, or returns false and leaves the value
// untouched (invalid JSON included): encoding/json then decodes it, or
// says what is wrong.
type FastDecoder interface {
	DecodeFast(body []byte) bool
}

// RawKeeper is a decoded body that keeps parts of the body as they were
// sent (a page its entries, say); DecodeJSON hands it the body it decoded.
type RawKeeper interface {
	KeepRaw(body []byte) error
}

// Snippet is a short, single-line excerpt of a body for error messages.
func Snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Redactor scrubs known secrets from text. It is safe for concurrent use
// once built; Add may be called concurrently too.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
}

// NewRedactor returns a redactor for the given secrets.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		r.Add(s)
	}
	return r
}

// Add registers one more secret (an issued access token, say).
func (r *Redactor) Add(s string) {
	if len(s) < 4 {
		return // too short to scrub without mangling ordinary text
	}
	r.mu.Lock()
	r.secrets = append(r.secrets, s)
	r.mu.Unlock()
}

// Redact replaces every registered secret in s with ***.
func (r *Redactor) Redact(s string) string {
	r.mu.RLock()
	secrets := r.secrets
	r.mu.RUnlock()
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, "***")
	}
	return s
}

// Logger is the subset of hclog.Logger the clients write to.
type Logger interface {
	Debug(msg string, args ...any)
	Warn(msg string, args ...any)
}

// NopLogger discards everything.
type NopLogger struct{}

// Debug does nothing.
func (NopLogger) Debug(string, ...any) {}

// Warn does nothing.
func (NopLogger) Warn(string, ...any) {}

// Get describes one GET of a vendor API.
type Get struct {
	Vendor string // "celonis" or "make": prefixes messages and log lines
	Client *http.Client
	Policy Policy
	Base   string // scheme://host[/prefix]
	Path   string
	Query  url.Values
	Header http.Header                 // Authorization, User-Agent, ...
	Before func(context.Context) error // run before every attempt (a rate limiter)
	Log    Logger
	Redact func(string) string // scrubs secrets from error text
}

// Do sends the GET, retrying 429, 5xx and transport errors within the
// policy. It returns the final answer whatever its status, with the number of
// attempts, or an error that names the path and how often it was tried. No
// header value appears in a log line or error.
func (g Get) Do(ctx context.Context) (*Response, int, error) {
	u := g.Base + g.Path
	if len(g.Query) > 0 {
		u += "?" + g.Query.Encode()
	}
	if g.Log == nil {
		g.Log = NopLogger{}
	}
	resp, attempts, err := Do(ctx, g.Policy, func(ctx context.Context) (*Response, error) {
		if g.Before != nil {
			if err := g.Before(ctx); err != nil {
				return nil, err
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		for k, v := range g.Header {
			req.Header[k] = v
		}
		req.Header.Set("Accept", "application/json")
		start := time.Now()
		r, err := Send(g.Client, req)
		if err == nil {
			g.Log.Debug(g.Vendor+" request", "method", "GET", "path", g.Path, "query", g.Query.Encode(), "status", r.Status, "ms", time.Since(start).Milliseconds())
		}
		return r, err
	}, func(r *Response) bool { return Transient(r.Status) },
		func(attempt int, wait time.Duration, r *Response, err error) {
			g.Log.Debug(g.Vendor+" retry", "path", g.Path, "attempt", attempt, "wait_ms", wait.Milliseconds(), "error", err)
		})
	if err != nil {
		if ctx.Err() != nil {
			return nil, attempts, ctx.Err()
		}
		msg := fmt.Sprintf("%s: GET %s: %s", g.Vendor, g.Path, err.Error())
		if g.Redact != nil {
			msg = g.Redact(msg)
		}
		if attempts > 1 {
			msg += fmt.Sprintf(" (gave up after %d attempts)", attempts)
		}
		return nil, attempts, errors.New(msg)
	}
	return resp, attempts, nil
}
