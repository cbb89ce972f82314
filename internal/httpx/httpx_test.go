package httpx

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestRetryWaitHonoursHeaders(t *testing.T) {
	p := Policy{MaxRetryWait: 30 * time.Second}
	cases := []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"X-Ratelimit-Reset": {"7"}}, 7 * time.Second},
		{http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond},
		{http.Header{"X-Ratelimit-Reset": {"1000"}}, 30 * time.Second}, // capped
	}
	for _, tc := range cases {
		if got := RetryWait(p, tc.h, 1); got != tc.want {
			t.Errorf("%v: got %s, want %s", tc.h, got, tc.want)
		}
	}
	if got := RetryWait(p, http.Header{}, 1); got < 500*time.Millisecond || got > 600*time.Millisecond {
		t.Errorf("backoff without headers: %s", got)
	}
	if got := RetryWait(p, http.Header{}, 3); got < 2*time.Second || got > 2400*time.Millisecond {
		t.Errorf("third backoff: %s", got)
	}
}

func TestDoIsBounded(t *testing.T) {
	p := Policy{MaxAttempts: 4, BaseBackoff: time.Millisecond}
	calls := 0
	resp, attempts, err := Do(context.Background(), p, func(context.Context) (*Response, error) {
		calls++
		return &Response{Status: 503}, nil
	}, func(r *Response) bool { return Transient(r.Status) }, nil)
	if err != nil || resp.Status != 503 || attempts != 4 || calls != 4 {
		t.Fatalf("resp %v attempts %d calls %d err %v", resp, attempts, calls, err)
	}
	calls = 0
	_, attempts, err = Do(context.Background(), p, func(context.Context) (*Response, error) {
		calls++
		return nil, errors.New("connection refused")
	}, func(*Response) bool { return false }, nil)
	if err == nil || attempts != 4 {
		t.Fatalf("transport errors: attempts %d err %v", attempts, err)
	}
	// The total wait bound stops retries before the attempt bound.
	p = Policy{MaxAttempts: 10, BaseBackoff: 100 * time.Millisecond, MaxRetryTotal: 250 * time.Millisecond}
	start := time.Now()
	_, attempts, _ = Do(context.Background(), p, func(context.Context) (*Response, error) { return &Response{Status: 500}, nil },
		func(r *Response) bool { return true }, nil)
	if attempts != 2 || time.Since(start) > time.Second {
		t.Fatalf("attempts %d in %s", attempts, time.Since(start))
	}
}

func TestDoStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, _, err := Do(ctx, Policy{BaseBackoff: time.Hour}, func(context.Context) (*Response, error) {
		calls++
		cancel()
		return &Response{Status: 429}, nil
	}, func(*Response) bool { return true }, nil)
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("calls %d err %v", calls, err)
	}
}

func TestDecodeJSON(t *testing.T) {
	var v map[string]any
	for body, want := range map[string]string{"": "empty", "<html>x</html>": "not a JSON object or array", "null": "not a JSON object or array", `{"a":`: "could not be decoded"} {
		if err := DecodeJSON([]byte(body), "text/html", &v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v", body, err)
		}
	}
	if err := DecodeJSON([]byte(` {"a":1} `), "application/json", &v); err != nil || v["a"].(float64) != 1 {
		t.Errorf("%v %v", v, err)
	}
}

func TestRedactor(t *testing.T) {
	r := NewRedactor("s3cr3t-value", "ab")
	r.Add("tok_123456")
	got := r.Redact("secret s3cr3t-value and tok_123456 but ab stays")
	if got != "secret *** and *** but ab stays" {
		t.Errorf("%q", got)
	}
}

// A chunked body (no Content-Length) of a Celonis page's size is read into
// one new buffer, not one that doubles its way up from 512 bytes and leaves
// about its own size in garbage: the body costs its read buffer and its copy.
func TestSendReadsAChunkedPageWithoutGrowing(t *testing.T) {
	body := []byte(`{"content":[` + strings.Repeat(`{"event":"X"},`, 7000) + `{}]}`) // about 100 KB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write(body) // more than the server buffers: sent chunked
	}))
	defer srv.Close()
	send := func() (*Response, uint64) {
		for len(readBuffers) > 0 {
			<-readBuffers // a first read: no buffer to reuse
		}
		req, _ := http.NewRequest("GET", srv.URL, nil)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		resp, err := Send(srv.Client(), req)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		return resp, after.TotalAlloc - before.TotalAlloc
	}
	send() // the connection and the client's own first allocations
	resp, allocated := send()
	if string(resp.Body) != string(body) || resp.Header.Get("Content-Length") != "" {
		t.Fatalf("read %d bytes of %d, Content-Length %q", len(resp.Body), len(body), resp.Header.Get("Content-Length"))
	}
	if limit := uint64(firstReadSize + len(body) + 48<<10); allocated > limit {
		t.Errorf("reading a %d-byte chunked body allocated %d bytes, more than %d", len(body), allocated, limit)
	}
	t.Logf("reading a %d-byte chunked body allocated %d bytes", len(body), allocated)
}

// The page loops' guard stops on a body equal to the one before, and only
// there: equal bodies share a digest and the pages of a loop do not.
func TestDigestTellsPagesApart(t *testing.T) {
	page := []byte(`{"content":[{"id":1}],"totalCount":2}`)
	if Digest(page) != Digest(bytes.Clone(page)) {
		t.Fatal("the same body gave two digests")
	}
	seen := map[uint64]string{}
	for _, b := range []string{"", "{}", `{"content":[{"id":2}],"totalCount":2}`, string(page), string(page) + " "} {
		if other, ok := seen[Digest([]byte(b))]; ok {
			t.Fatalf("%q and %q have the same digest", b, other)
		}
		seen[Digest([]byte(b))] = b
	}
}
