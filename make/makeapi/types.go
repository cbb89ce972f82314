package makeapi

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/lenient"
)

// The entry shape differs between the docs and Make's SDK (triggeredAt as
// ms integer or ISO string, details or detail), so fields decode leniently
// and every entry keeps its raw JSON.

// Ref is an {id, name} pair: an organization or a team.
type Ref struct {
	ID   lenient.Int    `json:"id"`
	Name lenient.String `json:"name"`
}

// Actor is who caused an entry; anonymized actors carry only an id.
type Actor struct {
	ID         lenient.Int    `json:"id"`
	Name       lenient.String `json:"name"`
	Email      lenient.String `json:"email"`
	Anonymized lenient.Bool   `json:"anonymized"`
}

// AuditLog is one Make audit log entry. Its nested objects are values: an
// absent or null one reads as its zero value, whose members the table shows
// as nulls, and a page of entries is one allocation rather than one more
// for each nested object.
type AuditLog struct {
	UUID           lenient.String  `json:"uuid"`
	IMTID          lenient.String  `json:"imtId"`
	CreatedAt      lenient.Time    `json:"createdAt"`
	TriggeredAt    lenient.Time    `json:"triggeredAt"`
	OrganizationID lenient.Int     `json:"organizationId"`
	Organization   Ref             `json:"organization"`
	EventName      lenient.String  `json:"eventName"`
	Team           Ref             `json:"team"`
	Actor          Actor           `json:"actor"`
	TargetID       lenient.String  `json:"targetId"`
	Version        Version         `json:"version"`
	DetailsField   json.RawMessage `json:"details"`
	DetailField    json.RawMessage `json:"detail"`
	Raw            json.RawMessage `json:"-"` // as sent; set by the page or answer that held it
}

// Version is the versions an entry's change went between.
type Version struct {
	From lenient.String `json:"from"`
	To   lenient.String `json:"to"`
}

var (
	auditLogNames = lenient.Names{"uuid", "imtId", "createdAt", "triggeredAt", "organizationId", "organization",
		"eventName", "team", "actor", "targetId", "version", "details", "detail"}
	refNames     = lenient.Names{"id", "name"}
	actorNames   = lenient.Names{"id", "name", "email", "anonymized"}
	versionNames = lenient.Names{"from", "to"}
)

// decodeFast decodes the entry at the start of rest (the entry and the
// rest of its page's array, valid JSON) exactly as encoding/json would,
// keeps the entry's bytes as its raw JSON and returns their length; false
// when it cannot be sure (see lenient.DecodeLeading), and encoding/json
// decodes the page instead. Text shares the body's memory (see
// lenient.String.ShareJSON).
func (e *AuditLog) decodeFast(rest []byte) (int, bool) {
	n, ok := lenient.DecodeLeading(rest, auditLogNames, func(i int, rest []byte) (int, bool) {
		switch i {
		case 0:
			return e.UUID.ShareLeading(rest)
		case 1:
			return e.IMTID.ShareLeading(rest)
		case 2:
			return e.CreatedAt.Leading(rest)
		case 3:
			return e.TriggeredAt.Leading(rest)
		case 4:
			return e.OrganizationID.Leading(rest)
		case 5:
			return lenient.ValueLeading(rest, &e.Organization, (*Ref).decodeFast)
		case 6:
			return e.EventName.ShareLeading(rest)
		case 7:
			return lenient.ValueLeading(rest, &e.Team, (*Ref).decodeFast)
		case 8:
			return lenient.ValueLeading(rest, &e.Actor, (*Actor).decodeFast)
		case 9:
			return e.TargetID.ShareLeading(rest)
		case 10:
			return lenient.ValueLeading(rest, &e.Version, (*Version).decodeFast)
		case 11:
			return lenient.RawLeading(rest, &e.DetailsField)
		default:
			return lenient.RawLeading(rest, &e.DetailField)
		}
	})
	e.Raw = rest[:n:n]
	return n, ok
}

// The nested objects decode where they stand in their entry, as the entry
// does in its page (see lenient.DecodeLeading).

func (r *Ref) decodeFast(rest []byte) (int, bool) {
	return lenient.DecodeLeading(rest, refNames, func(i int, rest []byte) (int, bool) {
		if i == 0 {
			return r.ID.Leading(rest)
		}
		return r.Name.ShareLeading(rest)
	})
}

func (a *Actor) decodeFast(rest []byte) (int, bool) {
	return lenient.DecodeLeading(rest, actorNames, func(i int, rest []byte) (int, bool) {
		switch i {
		case 0:
			return a.ID.Leading(rest)
		case 1:
			return a.Name.ShareLeading(rest)
		case 2:
			return a.Email.ShareLeading(rest)
		default:
			return a.Anonymized.Leading(rest)
		}
	})
}

func (ver *Version) decodeFast(rest []byte) (int, bool) {
	return lenient.DecodeLeading(rest, versionNames, func(i int, rest []byte) (int, bool) {
		if i == 0 {
			return ver.From.ShareLeading(rest)
		}
		return ver.To.ShareLeading(rest)
	})
}

// KeepRaw keeps an entry read on its own (the detail endpoint) whole.
func (e *AuditLog) KeepRaw(body []byte) error {
	e.Raw = body
	return nil
}

// Details returns the event-specific object of a detail answer, under
// `details` (the docs) or `detail` (Make's SDK); nil when absent.
func (e *AuditLog) Details() json.RawMessage {
	for _, d := range []json.RawMessage{e.DetailsField, e.DetailField} {
		if t := bytes.TrimSpace(d); len(t) > 0 && string(t) != "null" {
			return t
		}
	}
	return nil
}

// OrgID is the entry's organization: organizationId, else organization.id.
func (e *AuditLog) OrgID() int64 {
	if e.OrganizationID.Valid {
		return e.OrganizationID.Value
	}
	return e.Organization.ID.Value
}

// Organization is one organization the token can see.
type Organization struct {
	ID         lenient.Int    `json:"id"`
	Name       lenient.String `json:"name"`
	Zone       lenient.String `json:"zone"`
	TimezoneID lenient.Int    `json:"timezoneId"`
	License    *struct {
		APILimit lenient.Int `json:"apiLimit"`
	} `json:"license"`
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw entry beside the decoded fields.
func (o *Organization) UnmarshalJSON(b []byte) error {
	type plain Organization
	o.Raw = append(json.RawMessage(nil), b...)
	return json.Unmarshal(b, (*plain)(o))
}

// InZone reports whether the organization lives in the given zone host (an
// organization without a zone is taken to live in it).
func (o *Organization) InZone(host string) bool {
	z := strings.TrimSpace(string(o.Zone))
	return z == "" || strings.EqualFold(z, host)
}

// FilterUser is a user the audit log can be filtered by.
type FilterUser struct {
	ID    lenient.Int    `json:"id"`
	Name  lenient.String `json:"name"`
	Email lenient.String `json:"email"`
	Raw   json.RawMessage
}

// FilterEvent is an event value the audit log can be filtered by.
type FilterEvent struct {
	Header string
	Label  lenient.String `json:"label"`
	Value  lenient.String `json:"value"`
	Raw    json.RawMessage
}

// FilterTeam is a team the organization's audit log can be filtered by.
type FilterTeam struct {
	ID   lenient.Int    `json:"id"`
	Name lenient.String `json:"name"`
	Raw  json.RawMessage
}

// Filters are the values an audit log can be filtered by.
type Filters struct {
	Users  []FilterUser
	Teams  []FilterTeam
	Events []FilterEvent
}

// UnmarshalJSON reads {users, teams, events[{header, items[]}]}; events may
// also come without a header.
func (f *Filters) UnmarshalJSON(b []byte) error {
	var v struct {
		Users  []json.RawMessage `json:"users"`
		Teams  []json.RawMessage `json:"teams"`
		Events []struct {
			Header lenient.String    `json:"header"`
			Items  []json.RawMessage `json:"items"`
		} `json:"events"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	for _, raw := range v.Users {
		var u FilterUser
		if err := json.Unmarshal(raw, &u); err != nil {
			return err
		}
		u.Raw = raw
		f.Users = append(f.Users, u)
	}
	for _, raw := range v.Teams {
		var t FilterTeam
		if err := json.Unmarshal(raw, &t); err != nil {
			return err
		}
		t.Raw = raw
		f.Teams = append(f.Teams, t)
	}
	for _, g := range v.Events {
		for _, raw := range g.Items {
			var e FilterEvent
			if err := json.Unmarshal(raw, &e); err != nil {
				return err
			}
			e.Header, e.Raw = string(g.Header), raw
			f.Events = append(f.Events, e)
		}
	}
	return nil
}
