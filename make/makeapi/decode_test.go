package makeapi

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/jsontest"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/sandbox"
)

func newAuditPage() *auditPage {
	logs := make([]AuditLog, 0, 4)
	return &auditPage{AuditLogs: &logs}
}

// samplePage is a sandbox page of 200 entries, with triggeredAt as epoch
// milliseconds or (iso) as ISO 8601 text.
func samplePage(tb testing.TB, iso bool) []byte {
	api := sandbox.NewMake(sandbox.MakeOptions{Orgs: []sandbox.MakeOrg{{ID: 11, Events: 300}}, ISOTriggeredAt: iso})
	srv, err := sandbox.Serve(api, "")
	if err != nil {
		tb.Fatal(err)
	}
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/v2/audit-logs/organization/11?pg[limit]=200", nil)
	req.Header.Set("Authorization", "Token sandbox-make-token")
	req.Header.Set("User-Agent", "decode-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		tb.Fatalf("HTTP %d: %s", resp.StatusCode, body)
	}
	return body
}

// go test -bench FastDecoder ./make/makeapi: the hand-written decoder
// against encoding/json on a sandbox page of 200 entries.
func BenchmarkFastDecoder(b *testing.B) {
	jsontest.BenchmarkDecoders(b, samplePage(b, false), newAuditPage)
}

// The sandbox's pages, in both triggeredAt forms, take the hand-written
// decoder and decode as encoding/json decodes them.
func TestFastDecoderTakesTheAPIsPages(t *testing.T) {
	for _, iso := range []bool{false, true} {
		body := samplePage(t, iso)
		if !jsontest.SameAsEncodingJSON(t, body, newAuditPage) {
			t.Errorf("ISO triggeredAt %v: the page did not take the fast path", iso)
		}
		p := newAuditPage()
		if !p.DecodeFast(body) || len(*p.AuditLogs) != 200 {
			t.Fatalf("the page did not decode to 200 entries")
		}
		var actors, versions, anonymized int
		for _, e := range *p.AuditLogs {
			if e.Actor.ID.Valid {
				actors++
				if e.Actor.Anonymized.Value {
					anonymized++
				}
			}
			if e.Version.From != "" || e.Version.To != "" {
				versions++
			}
		}
		if actors == 0 || versions == 0 || anonymized == 0 {
			t.Errorf("actors %d, versions %d, anonymized %d: the page does not cover every nested member", actors, versions, anonymized)
		}
	}
}

var decodeSeeds = []struct {
	body string
	fast bool
}{
	{`{"auditLogs":[{"uuid":"c37c","imtId":"1713528322000_c37c","createdAt":"2024-05-24T14:22:16.879Z","triggeredAt":"2024-04-19T12:05:22.000Z","organizationId":3,"organization":{"id":3,"name":"O"},"eventName":"webhook_created","team":{"id":212,"name":"Operations"},"actor":{"id":212,"name":"John Doe","email":"john.doe@example.com"},"targetId":"3000","version":{"from":"1.0.0","to":"1.0.1"}}],"pg":{"limit":1000}}`, true},
	{`{"auditLogs":[{"uuid":"x","triggeredAt":1713528000000,"actor":{"id":"213","anonymized":"true"},"detail":{"a":1},"details":null,"team":null}],"pg":{}}`, true},
	{` { "auditLogs" : [ { "organizationId" : 3.0 , "targetId" : 3000 , "version" : { "from" : null } , "x" : { } } ] } `, true},
	{`{"auditLogs":null}`, true},
	{`{"pg":{"limit":10}}`, false},
	{`{"auditLogs":[{"actor":{"id":1,"ID":2}}]}`, false},
	{`{"auditLogs":[{"team":[1]}]}`, false},
	{`{"auditLogs":[{"version":"1.0"}]}`, false},
	{`{"auditLogs":[{"uuid":"a"},{"uuid":"b","uuid":"c"}]}`, false},
	{`{"auditLogs":[{"uuid":"a"}],"pg":{"limit":"x"}}`, false},
	{`{"auditLogs":[{"uuid":"a"}],"pg":[]}`, false},
	{`{"auditLogs":[{"\u0075uid":"a"}]}`, false},
	{`{"auditLogs":[{"organization":{"id":1},"organization":{"name":"n"}}]}`, false},
	// Not valid JSON, found by the decoder's own walk: encoding/json refuses them.
	{`{"auditLogs":[{"uuid":"a" "imtId":"b"}]}`, false},
	{`{"auditLogs":[{"uuid":"a",}]}`, false},
	{`{"auditLogs":[{"uuid":"a"},]}`, false},
	{`{"auditLogs":[{"uuid":"a"} {"uuid":"b"}]}`, false},
	{`{"auditLogs":[{"uuid" "a"}]}`, false},
	{`{"auditLogs":[{"organizationId":01}]}`, false},
	{`{"auditLogs":[{"actor":{"id":1,"anonymized":tru}}]}`, false},
	{`{"auditLogs":[{"details":{"a":[1,]}}]}`, false},
	{`{"auditLogs":[{"x":"\q"}]}`, false},
	{`{"auditLogs":[]}}`, false},
	{`{"auditLogs":[],"pg":{"limit":10}`, false},
	{"{\"auditLogs\":[{\"uuid\":\"a\x01\"}]}", false},
}

func TestFastDecoderAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range decodeSeeds {
		if fast := jsontest.SameAsEncodingJSON(t, []byte(s.body), newAuditPage); fast != s.fast {
			t.Errorf("%s: fast path %v, want %v", s.body, fast, s.fast)
		}
	}
}

// Every valid body decodes as encoding/json decodes it.
func FuzzFastDecoder(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		jsontest.SameAsEncodingJSON(t, body, newAuditPage)
	})
}

// A value the decoder skips is checked to encoding/json's nesting limit:
// nested just under it the page is valid (the fast path may give way to
// encoding/json, which decodes it), just over it both refuse the page.
func TestFastDecoderDepthLimit(t *testing.T) {
	for _, depth := range []int{9990, 9997, 9998, 10001} {
		deep := strings.Repeat("[", depth) + strings.Repeat("]", depth)
		body := []byte(`{"auditLogs":[{"uuid":"a","x":` + deep + `}]}`)
		jsontest.SameAsEncodingJSON(t, body, newAuditPage)
	}
}
