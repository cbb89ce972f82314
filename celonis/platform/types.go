package platform

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/lenient"
)

// Much of the entry shape is seen in one public client or guessed (see
// API.md), so every field decodes leniently: a field of an unexpected type
// becomes text or null instead of failing the page, and each entry keeps
// its raw JSON.

// String, Time and ParseTime are the lenient decoders every entry uses.
type (
	String = lenient.String
	Time   = lenient.Time
)

// ParseTime reads the timestamp forms the APIs are known or guessed to use.
func ParseTime(s string) (time.Time, bool) { return lenient.ParseTime(s) }

// rawEntry is embedded by every entry type: the entry exactly as sent, set
// by the page that decoded it (see keepRaw).
type rawEntry struct {
	Raw json.RawMessage `json:"-"`
}

func (r *rawEntry) rawJSON() []byte { return r.Raw }

func (r *rawEntry) keepRaw(b []byte) {
	if r.Raw == nil {
		r.Raw = b
	}
}

// keepRaw gives each entry of a page its raw JSON: the elements of the
// page's `content` array, found in one scan of the body.
func keepRaw[T any](body []byte, content **[]T) error {
	return lenient.KeepRawElements(body, "content", content, func(e *T, raw []byte) {
		if k, ok := any(e).(interface{ keepRaw([]byte) }); ok {
			k.keepRaw(raw)
		}
	})
}

// AuditEntry is one Celonis Platform audit log event (v1 and v2 alike).
type AuditEntry struct {
	UserID      String          `json:"userId"`
	UserRole    String          `json:"userRole"`
	Event       String          `json:"event"`
	Timestamp   Time            `json:"timestamp"`
	Message     json.RawMessage `json:"message"`
	IPAddress   String          `json:"ipAddress"`
	Port        String          `json:"port"`
	DiffPayload *Diff           `json:"diffPayload"`
	rawEntry
}

// Diff is an audit entry's change: the values before and after.
type Diff struct {
	OldValue json.RawMessage `json:"oldValue"`
	NewValue json.RawMessage `json:"newValue"`
}

var (
	auditEntryNames = lenient.Names{"userId", "userRole", "event", "timestamp", "message", "ipAddress", "port", "diffPayload"}
	diffNames       = lenient.Names{"oldValue", "newValue"}
)

// decodeFast decodes the entry at the start of rest (the entry and the
// rest of its page's array, valid JSON) exactly as encoding/json would,
// keeps the entry's bytes as its raw JSON and returns their length; false
// when it cannot be sure (see lenient.DecodeLeading), and encoding/json
// decodes the page instead.
func (e *AuditEntry) decodeFast(rest []byte) (int, bool) {
	n, ok := lenient.DecodeLeading(rest, auditEntryNames, func(i int, rest []byte) (int, bool) {
		switch i {
		case 0:
			return e.UserID.ShareLeading(rest)
		case 1:
			return e.UserRole.ShareLeading(rest)
		case 2:
			return e.Event.ShareLeading(rest)
		case 3:
			return e.Timestamp.Leading(rest)
		case 4:
			return lenient.RawLeading(rest, &e.Message)
		case 5:
			return e.IPAddress.ShareLeading(rest)
		case 6:
			return e.Port.ShareLeading(rest)
		default:
			return lenient.PointerLeading(rest, &e.DiffPayload, (*Diff).decodeFast)
		}
	})
	e.Raw = rest[:n:n]
	return n, ok
}

// decodeFast decodes the diff where it stands in its entry (see
// lenient.DecodeLeading).
func (d *Diff) decodeFast(rest []byte) (int, bool) {
	return lenient.DecodeLeading(rest, diffNames, func(i int, rest []byte) (int, bool) {
		if i == 0 {
			return lenient.RawLeading(rest, &d.OldValue)
		}
		return lenient.RawLeading(rest, &d.NewValue)
	})
}

// fastEntry is an entry type with a hand-written decoder.
type fastEntry interface {
	decodeFast(rest []byte) (n int, ok bool)
}

func hasFastEntries[T any]() bool {
	_, ok := any((*T)(nil)).(fastEntry)
	return ok
}

// decodeFastEntry decodes a page's entry (of a type that hasFastEntries)
// through its hand-written decoder (see lenient.DecodePage).
func decodeFastEntry[T any](e *T, rest []byte) (int, bool) {
	return any(e).(fastEntry).decodeFast(rest)
}

// At is the entry's time, nil when it has none: what a time range is
// matched against, by the windows here and by the tables' filters. It
// points into the entry.
func (e *AuditEntry) At() *time.Time { return e.Timestamp.Ref() }

// LoginEvent is one login history (authentication) event.
type LoginEvent struct {
	AuthenticationEventType String `json:"authenticationEventType"`
	Email                   String `json:"email"`
	Success                 *bool  `json:"success"`
	Timestamp               Time   `json:"timestamp"`
	rawEntry
}

// At is the event's time, as AuditEntry.At is.
func (e *LoginEvent) At() *time.Time { return e.Timestamp.Ref() }

// UnmarshalJSON keeps the raw entry; a success flag of an odd type is null.
func (e *LoginEvent) UnmarshalJSON(b []byte) error {
	var v struct {
		AuthenticationEventType String          `json:"authenticationEventType"`
		Email                   String          `json:"email"`
		Success                 json.RawMessage `json:"success"`
		Timestamp               Time            `json:"timestamp"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	e.AuthenticationEventType, e.Email, e.Timestamp = v.AuthenticationEventType, v.Email, v.Timestamp
	e.Success = parseBool(v.Success)
	e.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// AdoptionEvent is one Studio adoption tracking event. Its fields are not
// public: the ones below are lifted when present under any of the names
// listed, and Raw keeps the rest.
type AdoptionEvent struct {
	Timestamp  Time
	ID         String
	EventType  String
	UserID     String
	UserEmail  String
	AssetID    String
	AssetType  String
	AssetName  String
	PackageKey String
	SpaceID    String
	rawEntry
}

// UnmarshalJSON lifts the known fields leniently and keeps the raw entry.
func (e *AdoptionEvent) UnmarshalJSON(b []byte) error {
	var v struct {
		Timestamp  Time   `json:"timestamp"`
		EventTime  Time   `json:"eventTime"`
		CreatedAt  Time   `json:"createdAt"`
		ID         String `json:"id"`
		EventID    String `json:"eventId"`
		EventType  String `json:"eventType"`
		Event      String `json:"event"`
		Action     String `json:"action"`
		UserID     String `json:"userId"`
		UserEmail  String `json:"userEmail"`
		Email      String `json:"email"`
		AssetID    String `json:"assetId"`
		AssetKey   String `json:"assetKey"`
		AssetType  String `json:"assetType"`
		AssetName  String `json:"assetName"`
		PackageKey String `json:"packageKey"`
		SpaceID    String `json:"spaceId"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	e.Timestamp = v.Timestamp
	if e.Timestamp.IsZero() {
		e.Timestamp = v.EventTime
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = v.CreatedAt
	}
	e.ID = String(firstNonEmpty(string(v.ID), string(v.EventID)))
	e.EventType = String(firstNonEmpty(string(v.EventType), string(v.Event), string(v.Action)))
	e.UserID = v.UserID
	e.UserEmail = String(firstNonEmpty(string(v.UserEmail), string(v.Email)))
	e.AssetID = String(firstNonEmpty(string(v.AssetID), string(v.AssetKey)))
	e.AssetType, e.AssetName, e.PackageKey, e.SpaceID = v.AssetType, v.AssetName, v.PackageKey, v.SpaceID
	e.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// At is the event's time, as AuditEntry.At is.
func (e *AdoptionEvent) At() *time.Time { return e.Timestamp.Ref() }

// Member is one team member.
type Member struct {
	UserID           String          `json:"userId"`
	NameAndEmail     String          `json:"nameAndEmail"`
	UserRole         String          `json:"userRole"`
	Status           String          `json:"status"`
	LastLogin        String          `json:"lastLogin"`
	InactivityPeriod lenient.Int     `json:"inactivityPeriod"`
	Group            json.RawMessage `json:"group"`
	rawEntry
}

func parseBool(b json.RawMessage) *bool {
	var v lenient.Bool
	if v.UnmarshalJSON(b) != nil {
		return nil
	}
	return v.Ptr()
}

// ParseUserID splits the audit log's userId, seen as "<uuid> (<email>)", into
// the id and the email. The part in parentheses is an email only when it has
// an @ (it can be "SYSTEM"); a bare id has no email.
func ParseUserID(s string) (id, email string) {
	s = strings.TrimSpace(s)
	head, inner, ok := splitParenSuffix(s)
	if !ok {
		return s, ""
	}
	if strings.Contains(inner, "@") {
		return head, inner
	}
	return head, ""
}

// ParseNameAndEmail splits the members API's "Name (email)". Names may hold
// parentheses themselves, so the last group is the email.
func ParseNameAndEmail(s string) (name, email string) {
	s = strings.TrimSpace(s)
	head, inner, ok := splitParenSuffix(s)
	if !ok || !strings.Contains(inner, "@") {
		if strings.Contains(s, "@") && !strings.ContainsAny(s, " ()") {
			return "", s
		}
		return s, ""
	}
	return head, inner
}

// splitParenSuffix splits "head (inner)" at the last " (".
func splitParenSuffix(s string) (head, inner string, ok bool) {
	if !strings.HasSuffix(s, ")") {
		return s, "", false
	}
	i := strings.LastIndex(s, "(")
	if i < 0 {
		return s, "", false
	}
	return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1 : len(s)-1]), true
}

// EntryKey is a stable key for an entry: the SHA-256 (hex, first 32 chars) of
// its JSON as sent, with insignificant whitespace removed. The audit log has
// no event id, so this is what deduplicates repeated exports.
func EntryKey(raw json.RawMessage) string {
	b := []byte(raw)
	if !lenient.Compact(b) {
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil {
			b = buf.Bytes()
		}
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// JSONText returns a diff value as text, stored at p: a JSON string
// unquoted, anything else as its JSON, null as nil (see lenient.JSONText).
func JSONText(b json.RawMessage, p *string) *string { return lenient.JSONText(b, p) }
