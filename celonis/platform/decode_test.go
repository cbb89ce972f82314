package platform

import (
	"io"
	"net/http"
	"testing"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/jsontest"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

func newCursorPage() *cursorPage[AuditEntry] {
	return &cursorPage[AuditEntry]{Content: presized[AuditEntry](4)}
}

func newNumberedPage() *numberedPage[AuditEntry] {
	return &numberedPage[AuditEntry]{Content: presized[AuditEntry](4)}
}

// The sandbox's pages, shaped as API.md says the real ones are, take the
// hand-written decoder and decode as encoding/json decodes them.
func TestFastDecoderTakesTheAPIsPages(t *testing.T) {
	api := sandbox.NewCelonis(sandbox.CelonisOptions{AuditEvents: 600})
	srv, err := sandbox.Serve(api, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	get := func(path string) []byte {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "AppKey "+api.Options().AppKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: HTTP %d: %s", path, resp.StatusCode, body)
		}
		return body
	}
	v2 := get("/log/api/external/v2/audit?pageSize=200")
	if !jsontest.SameAsEncodingJSON(t, v2, newCursorPage) {
		t.Error("a v2 page did not take the fast path")
	}
	v1 := get("/log/api/external/audit?pageNumber=1&pageSize=200")
	if !jsontest.SameAsEncodingJSON(t, v1, newNumberedPage) {
		t.Error("a v1 page did not take the fast path")
	}
	var page cursorPage[AuditEntry]
	if !page.DecodeFast(v2) || len(*page.Content) != 200 {
		t.Fatal("the v2 page did not decode to 200 entries")
	}
	diffs := 0
	for _, e := range *page.Content {
		if e.DiffPayload != nil {
			diffs++
		}
	}
	if diffs == 0 {
		t.Error("no entry of the page has a diffPayload: the test does not cover it")
	}
}

// Pages the fast path must give way on, and pages it must get right; each
// decodes as encoding/json decodes it (the reference), fast or not.
var decodeSeeds = []struct {
	body string
	fast bool // the fast path decodes it as a v2 page and as a v1 page
}{
	{`{"content":[{"userId":"u1 (a@b.c)","userRole":"ADMIN","event":"STUDIO_NODE_UPDATED","timestamp":"2025-02-25T14:52:10.903Z","message":{"k":1},"ipAddress":null,"port":"8888","diffPayload":{"oldValue":"a","newValue":"b"}}],"nextPageToken":"t"}`, true},
	{` { "content" : [ { "event" : 12 , "userId" : {"x":[1]} , "timestamp" : 1713528322000 , "diffPayload" : null , "other" : [true] } ] , "nextPageToken" : null } `, true},
	{`{"content":[{"event":"a\u00e9\"b","message":null,"port":8888,"userRole":true}],"extra":1}`, true},
	{`{"content":[],"pageNumber":0,"pageSize":200,"totalCount":0}`, true},
	{`{"content":null,"nextPageToken":"t"}`, true},
	{`{"nextPageToken":"t"}`, false},                                     // no content: the page's error path
	{`{"content":[{"event":"a","event":"b"}]}`, false},                   // repeated member: the last wins
	{`{"content":[{"Event":"a"}]}`, false},                               // another case
	{`{"content":[{"ev\u0065nt":"a"}]}`, false},                          // escaped name
	{`{"content":[{"event":"a"}],"CONTENT":[{"event":"b"}]}`, false},     // the page's array in another case
	{`{"content":[{"diffPayload":"changed"}]}`, false},                   // a type encoding/json refuses
	{`{"content":[{"diffPayload":{"oldValue":1,"oldValue":2}}]}`, false}, // repeated inside
	{`{"content":[{"event":"ok"},{"event":"x","EVENT":"y"}]}`, false},    // gives way after one entry
	{`{"content":[{"userId":"u\u017fer"},{"uſerId":"long s"}]}`, false},  // folds to userId
	{`{"content":[1,"two",[3]]}`, false},                                 // entries that are not objects
	{`{"content":[{"event":"a"}],"Content":[]}`, false},
	{`[{"event":"a"}]`, false},
	// Not valid JSON, found by the decoder's own walk.
	{`{"content":[{"event":"a" "port":"1"}]}`, false},
	{`{"content":[{"event":"a"},],"nextPageToken":null}`, false},
	{`{"content":[{"message":{"k":[1 2]}}]}`, false},
	{`{"content":[{"diffPayload":{"oldValue":-,"newValue":1}}]}`, false},
	{`{"content":[],"nextPageToken":"t"}]`, false},
	{`{"content":[{"timestamp":1e}]}`, false},
}

// v1 pages' numbers are plain ints, as encoding/json reads them.
var numberedSeeds = []string{
	`{"content":[{"event":"a"}],"pageNumber":1.5}`,
	`{"content":[{"timestamp":"2025-02-25T14:52:10"}],"totalCount":"3"}`,
	`{"content":[{"event":"a"}],"pageSize":200,"pageSize":100}`,
}

func TestFastDecoderAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range decodeSeeds {
		fast := jsontest.SameAsEncodingJSON(t, []byte(s.body), newCursorPage)
		fastN := jsontest.SameAsEncodingJSON(t, []byte(s.body), newNumberedPage)
		if fast != s.fast || fastN != s.fast {
			t.Errorf("%s: fast path %v (v2) and %v (v1), want %v", s.body, fast, fastN, s.fast)
		}
	}
	for _, body := range numberedSeeds {
		if jsontest.SameAsEncodingJSON(t, []byte(body), newNumberedPage) {
			t.Errorf("%s: the fast path took it", body)
		}
	}
}

// Every valid body decodes as encoding/json decodes it.
func FuzzFastDecoder(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s.body))
	}
	for _, body := range numberedSeeds {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		jsontest.SameAsEncodingJSON(t, body, newCursorPage)
		jsontest.SameAsEncodingJSON(t, body, newNumberedPage)
	})
}

// go test -bench FastDecoder ./celonis/platform: the hand-written decoder
// against encoding/json on a sandbox page of 200 entries.
func BenchmarkFastDecoder(b *testing.B) {
	api := sandbox.NewCelonis(sandbox.CelonisOptions{AuditEvents: 400})
	srv, err := sandbox.Serve(api, "")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/log/api/external/v2/audit?pageSize=200", nil)
	req.Header.Set("Authorization", "AppKey "+api.Options().AppKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	jsontest.BenchmarkDecoders(b, body, newCursorPage)
}
