package platform

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/httpx"
)

// Decoders never panic, and what they keep of an entry is the entry: its
// raw JSON decodes again to the same fields.
func FuzzDecodeAuditPage(f *testing.F) {
	f.Add([]byte(`{"content":[{"userId":"u1 (a@b.c)","userRole":"ADMIN","event":"STUDIO_NODE_UPDATED","timestamp":"2025-02-25T14:52:10.903Z","message":{"k":1},"ipAddress":null,"port":"8888","diffPayload":{"oldValue":"a","newValue":"b"}}],"nextPageToken":"t"}`))
	f.Add([]byte(`{"content":[],"pageNumber":0,"pageSize":200,"totalCount":0}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var c cursorPage[AuditEntry]
		if httpx.DecodeJSON(body, "application/json", &c) == nil && c.Content != nil {
			for _, e := range *c.Content {
				var again AuditEntry
				if err := json.Unmarshal(e.Raw, &again); err != nil {
					t.Fatalf("raw entry does not decode again: %v", err)
				}
				if again.Event != e.Event || again.UserID != e.UserID || !again.Timestamp.Equal(e.Timestamp.Time) {
					t.Fatalf("raw entry decodes differently: %+v vs %+v", again, e)
				}
				_ = EntryKey(e.Raw)
				_ = JSONText(e.Message, new(string))
			}
		}
		var n numberedPage[AuditEntry]
		_ = httpx.DecodeJSON(body, "application/json", &n)
	})
}

func FuzzDecodeOtherPages(f *testing.F) {
	f.Add([]byte(`{"content":[{"authenticationEventType":"LOGIN","email":"a@b.c","success":true,"timestamp":"2021-01-08T16:36:29.003Z"}],"totalCount":1}`))
	f.Add([]byte(`{"content":[{"userId":"x","nameAndEmail":"A B (a@b.c)","group":[{"name":"g","teamRole":"ADMIN"}],"inactivityPeriod":"14"}]}`))
	f.Add([]byte(`{"content":[{"eventTime":1713528322000,"action":"VIEW_OPENED","assetKey":"k"}],"nextPageToken":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var l numberedPage[LoginEvent]
		_ = httpx.DecodeJSON(body, "", &l)
		var m numberedPage[Member]
		_ = httpx.DecodeJSON(body, "", &m)
		var a cursorPage[AdoptionEvent]
		if httpx.DecodeJSON(body, "", &a) == nil && a.Content != nil {
			for _, e := range *a.Content {
				if !json.Valid(e.Raw) {
					t.Fatal("raw adoption event is not JSON")
				}
			}
		}
	})
}

func FuzzParseUserID(f *testing.F) {
	for _, s := range []string{"8161c24e-2b32-44eb-bedb-ede2267be989 (ada@example.com)", "u (SYSTEM)", "user11", "", "a (b) (c@d.e)", "(x@y.z)", " ( @ ) "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, email := ParseUserID(s)
		if id != strings.TrimSpace(id) {
			t.Fatalf("id %q has outer spaces", id)
		}
		if email != "" && (!strings.Contains(email, "@") || !strings.Contains(s, email)) {
			t.Fatalf("email %q from %q", email, s)
		}
		if email == "" && id != strings.TrimSpace(s) && !strings.HasSuffix(strings.TrimSpace(s), ")") {
			t.Fatalf("id %q lost text of %q", id, s)
		}
	})
}

func FuzzParseNameAndEmail(f *testing.F) {
	for _, s := range []string{"Lorem Ipsum (email@example.com)", "John (Jack) Doe (j@x.com)", "only@mail.com", "Name", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, email := ParseNameAndEmail(s)
		if email != "" && (!strings.Contains(email, "@") || !strings.Contains(s, email)) {
			t.Fatalf("email %q from %q", email, s)
		}
		if !strings.Contains(s, name) {
			t.Fatalf("name %q is not in %q", name, s)
		}
	})
}

// EntryKey hashes the compacted entry; it skips compacting entries that
// are compact already, and must give the same key as compacting always.
func FuzzEntryKey(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{ "a" : "x y" }`, `{"a":"q\" \\"}`, "[1,\n2]", `not json {`, `"\\"`, ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var buf bytes.Buffer
		want := raw
		if json.Compact(&buf, raw) == nil {
			want = buf.Bytes()
		}
		sum := sha256.Sum256(want)
		if got := EntryKey(raw); got != hex.EncodeToString(sum[:16]) {
			t.Fatalf("%q: key %s, compacting gives %x", raw, got, sum[:16])
		}
	})
}
