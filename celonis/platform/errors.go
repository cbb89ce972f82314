package platform

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/celonis-audit/steampipe-plugin-celonis/internal/httpx"
)

// APIError is a Celonis Platform answer other than success. Its message
// carries the HTTP status, the API's own title/detail/errorCode, and what to
// change where that is known.
type APIError struct {
	Method    string
	Path      string
	Status    int
	Title     string
	Detail    string
	ErrorCode string
	attempts  int
	msg       string
}

func (e *APIError) Error() string {
	return httpx.GaveUp(e.msg, e.attempts)
}

// errorBody is the Celonis error envelope, plus the bare {"error": ...} form
// some 401s use.
type errorBody struct {
	Title     string `json:"title"`
	Detail    string `json:"detail"`
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
	Error     string `json:"error"`
}

// apiError builds the one message a failed response gets.
func (c *Client) apiError(ep endpoint, path string, status int, h http.Header, body []byte) *APIError {
	e := &APIError{Method: "GET", Path: path, Status: status}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Title, e.Detail, e.ErrorCode = eb.Title, eb.Detail, eb.ErrorCode
		if e.Title == "" {
			e.Title = firstNonEmpty(eb.Error, eb.Message)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "celonis: GET %s: HTTP %d %s", path, status, http.StatusText(status))
	switch {
	case e.Title != "" || e.Detail != "":
		b.WriteString(": " + firstNonEmpty(e.Title, e.Detail))
		if e.Title != "" && e.Detail != "" && e.Detail != e.Title {
			b.WriteString(" (" + e.Detail + ")")
		}
		if e.ErrorCode != "" {
			b.WriteString(" [" + e.ErrorCode + "]")
		}
	case len(strings.TrimSpace(string(body))) > 0:
		b.WriteString(": " + httpx.Snippet(body))
	}
	head := strings.TrimRight(b.String(), ".")
	b.Reset()
	b.WriteString(head)
	switch status {
	case http.StatusUnauthorized:
		b.WriteString(". The credentials were not accepted: check " + c.credentialNames())
	case http.StatusForbidden:
		fmt.Fprintf(&b, ". Access to the %s is not granted: ", ep.name)
		if c.cfg.Auth == "oauth" {
			fmt.Fprintf(&b, "the OAuth client needs the scope %s and ", ep.scope)
		}
		fmt.Fprintf(&b, "the application or user needs the team permission %q (Admin & Settings > Permissions)", ep.permission)
	case http.StatusNotFound:
		fmt.Fprintf(&b, ". The %s was not found at this path: check `url` (CELONIS_URL) names the team, e.g. https://my-team.eu-1.celonis.cloud", ep.name)
	case http.StatusTooManyRequests:
		b.WriteString(". The Celonis rate limit was hit and retries did not clear it: lower the plugin's rate limiter or query a smaller time range")
		if r := h.Get("X-Ratelimit-Reset"); r != "" {
			b.WriteString(" (x-ratelimit-reset: " + r + ")")
		}
	}
	e.msg = c.Redact(b.String())
	return e
}

func (c *Client) credentialNames() string {
	switch c.cfg.Auth {
	case "app_key":
		return "`app_key` (CELONIS_APP_KEY)"
	case "api_key":
		return "`api_key` (CELONIS_API_KEY)"
	}
	return "`client_id` and `client_secret` (CELONIS_CLIENT_ID, CELONIS_CLIENT_SECRET)"
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
