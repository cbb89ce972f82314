package makeapi

import (
	"encoding/json"
	"testing"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/httpx"
)

func FuzzDecodeAuditPage(f *testing.F) {
	f.Add([]byte(`{"auditLogs":[{"uuid":"c37c729235cd4dc4911321b23beaea7d","imtId":"1713528322000_c37c","createdAt":"2024-05-24T14:22:16.879Z","triggeredAt":"2024-04-19T12:05:22.000Z","organizationId":3,"organization":{"id":3,"name":"O"},"eventName":"webhook_created","team":{"id":212,"name":"Operations"},"actor":{"id":212,"name":"John Doe","email":"john.doe@example.com"},"targetId":"3000","version":{"from":"1.0.0","to":"1.0.1"}}],"pg":{"limit":1000}}`))
	f.Add([]byte(`{"auditLogs":[{"uuid":"x","triggeredAt":1713528000000,"actor":{"id":213,"anonymized":true},"detail":{"a":1}}],"pg":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var p auditPage
		if httpx.DecodeJSON(body, "application/json", &p) == nil && p.AuditLogs != nil {
			for _, e := range *p.AuditLogs {
				var again AuditLog
				if err := json.Unmarshal(e.Raw, &again); err != nil {
					t.Fatalf("raw entry does not decode again: %v", err)
				}
				if again.UUID != e.UUID || !again.TriggeredAt.Equal(e.TriggeredAt.Time) || again.OrgID() != e.OrgID() {
					t.Fatalf("raw entry decodes differently")
				}
				if d := e.Details(); d != nil && !json.Valid(d) {
					t.Fatal("details are not JSON")
				}
			}
		}
	})
}

func FuzzDecodeFiltersAndOrganizations(f *testing.F) {
	f.Add([]byte(`{"users":[{"id":212,"name":"John Doe","email":"john.doe@example.com"}],"teams":[{"id":212,"name":"Operations"}],"events":[{"header":"Webhooks","items":[{"label":"Webhook created","value":"webhook_created"}]}]}`))
	f.Add([]byte(`{"organizations":[{"id":5,"name":"N","zone":"eu1.make.com","license":{"apiLimit":240}}],"pg":{"limit":10000}}`))
	f.Add([]byte(`{"events":[{"items":[{"label":1,"value":null}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var fl Filters
		if httpx.DecodeJSON(body, "", &fl) == nil {
			for _, e := range fl.Events {
				if !json.Valid(e.Raw) {
					t.Fatal("raw filter is not JSON")
				}
			}
		}
		var o orgPage
		_ = httpx.DecodeJSON(body, "", &o)
	})
}
