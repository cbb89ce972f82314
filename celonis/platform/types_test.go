package platform

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/httpx"
)

func TestParseUserID(t *testing.T) {
	cases := []struct{ in, id, email string }{
		{"8161c24e-2b32-44eb-bedb-ede2267be989 (ada@example.com)", "8161c24e-2b32-44eb-bedb-ede2267be989", "ada@example.com"},
		{"8161c24e (SYSTEM)", "8161c24e", ""},
		{"user11", "user11", ""},
		{"", "", ""},
		{"  id (a@b.c)  ", "id", "a@b.c"},
		{"id (x) (a@b.c)", "id (x)", "a@b.c"},
	}
	for _, c := range cases {
		id, email := ParseUserID(c.in)
		if id != c.id || email != c.email {
			t.Errorf("ParseUserID(%q) = %q, %q; want %q, %q", c.in, id, email, c.id, c.email)
		}
	}
}

func TestParseNameAndEmail(t *testing.T) {
	cases := []struct{ in, name, email string }{
		{"Lorem Ipsum (email@example.com)", "Lorem Ipsum", "email@example.com"},
		{"John (Jack) Doe (j@x.com)", "John (Jack) Doe", "j@x.com"},
		{"Just A Name", "Just A Name", ""},
		{"only@mail.com", "", "only@mail.com"},
		{"Name (not an email)", "Name (not an email)", ""},
	}
	for _, c := range cases {
		name, email := ParseNameAndEmail(c.in)
		if name != c.name || email != c.email {
			t.Errorf("ParseNameAndEmail(%q) = %q, %q; want %q, %q", c.in, name, email, c.name, c.email)
		}
	}
}

func TestLenientAuditEntry(t *testing.T) {
	raw := `{"userId":"u (a@b.c)","userRole":7,"event":"X","timestamp":1740495130903,"message":{"k":1},"ipAddress":null,"port":8888,"diffPayload":{"oldValue":"a","newValue":{"v":2}},"extra":"kept"}`
	var page cursorPage[AuditEntry]
	if err := httpx.DecodeJSON([]byte(`{"content":[`+raw+`],"nextPageToken":""}`), "", &page); err != nil || len(*page.Content) != 1 {
		t.Fatal(err)
	}
	e := (*page.Content)[0]
	if e.UserRole != "7" || e.Port != "8888" || e.IPAddress != "" {
		t.Errorf("scalars: %+v", e)
	}
	if want := time.UnixMilli(1740495130903).UTC(); !e.Timestamp.Equal(want) {
		t.Errorf("epoch ms timestamp: %s", e.Timestamp)
	}
	if *JSONText(e.DiffPayload.OldValue, new(string)) != "a" || *JSONText(e.DiffPayload.NewValue, new(string)) != `{"v":2}` {
		t.Errorf("diff values")
	}
	if string(e.Raw) != raw {
		t.Errorf("raw not kept whole: %s", e.Raw)
	}
}

func TestParseTimeForms(t *testing.T) {
	want := time.Date(2025, 2, 25, 14, 52, 10, 903000000, time.UTC)
	for _, s := range []string{"2025-02-25T14:52:10.903Z", "2025-02-25T14:52:10.903", "2025-02-25T15:52:10.903+01:00", "1740495130903", "2025-02-25 14:52:10.903"} {
		got, ok := ParseTime(s)
		if !ok || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %s, %v", s, got, ok)
		}
	}
	if _, ok := ParseTime("yesterday"); ok {
		t.Error("nonsense parsed")
	}
}

func TestEntryKeyIgnoresWhitespaceOnly(t *testing.T) {
	a := EntryKey(json.RawMessage(`{"a": 1, "b": "x"}`))
	b := EntryKey(json.RawMessage(`{"a":1,"b":"x"}`))
	c := EntryKey(json.RawMessage(`{"a":2,"b":"x"}`))
	if a != b || a == c || len(a) != 32 {
		t.Errorf("keys %s %s %s", a, b, c)
	}
}
