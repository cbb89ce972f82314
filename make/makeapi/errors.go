package makeapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/httpx"
)

// APIError is a Make answer other than success: the HTTP status, Make's own
// detail, message and code, and what to change where that is known.
type APIError struct {
	Path     string
	Status   int
	Detail   string
	Message  string
	Code     string
	attempts int
	msg      string
}

func (e *APIError) Error() string {
	return httpx.GaveUp(e.msg, e.attempts)
}

// IsNotFound reports whether err is a 404.
func IsNotFound(err error) bool {
	e, ok := err.(*APIError)
	return ok && e.Status == http.StatusNotFound
}

// errorBody is Make's error envelope.
type errorBody struct {
	Detail    string `json:"detail"`
	Message   string `json:"message"`
	Code      string `json:"code"`
	Suberrors []struct {
		Message string `json:"message"`
	} `json:"suberrors"`
}

func (c *Client) apiError(s Scope, path string, resp *httpx.Response) *APIError {
	e := &APIError{Path: path, Status: resp.Status}
	var eb errorBody
	parsed := json.Unmarshal(resp.Body, &eb) == nil
	if parsed {
		e.Detail, e.Message, e.Code = eb.Detail, eb.Message, eb.Code
	}
	var b strings.Builder
	fmt.Fprintf(&b, "make: GET %s: HTTP %d %s", path, resp.Status, http.StatusText(resp.Status))
	switch {
	case parsed && (e.Detail != "" || e.Message != ""):
		b.WriteString(": " + firstNonEmpty(e.Detail, e.Message))
		if e.Message != "" && e.Detail != "" && e.Message != e.Detail {
			b.WriteString(" (" + e.Message + ")")
		}
		if e.Code != "" {
			b.WriteString(" [" + e.Code + "]")
		}
		for _, se := range eb.Suberrors {
			if se.Message != "" {
				b.WriteString("; " + se.Message)
			}
		}
	case len(strings.TrimSpace(string(resp.Body))) > 0:
		b.WriteString(": " + httpx.Snippet(resp.Body))
	}
	head := strings.TrimRight(b.String(), ".")
	b.Reset()
	b.WriteString(head)
	what := "organization " + fmt.Sprint(s.OrganizationID)
	if s.OrganizationID == 0 {
		what = "team " + fmt.Sprint(s.TeamID)
	}
	switch resp.Status {
	case http.StatusUnauthorized:
		b.WriteString(". The token was not accepted: check `make_api_token` (MAKE_API_TOKEN) and `make_url` (MAKE_URL), the zone the token belongs to")
	case http.StatusPaymentRequired:
		fmt.Fprintf(&b, ". The plan of %s does not include audit logs: they need an Enterprise plan", what)
	case http.StatusForbidden:
		if strings.Contains(string(resp.Body), "1010") {
			b.WriteString(". Make's CDN refused the request's User-Agent")
		} else if s.OrganizationID == 0 {
			fmt.Fprintf(&b, ". Reading the audit log of %s needs the Team Admin role in that team and a token with the scope audit-logs:read (organization:read in older docs)", what)
		} else {
			fmt.Fprintf(&b, ". Reading the audit log of %s needs the Admin or Owner role in that organization and a token with the scope audit-logs:read (organization:read in older docs)", what)
		}
	case http.StatusTooManyRequests:
		fmt.Fprintf(&b, ". Make's per-organization rate limit was hit for %s and retries did not clear it: lower `make_rate_limit_per_minute` to your plan's limit (Core 60, Pro 120, Teams 240, Enterprise 1000)", what)
	}
	e.msg = c.Redact(b.String())
	return e
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
