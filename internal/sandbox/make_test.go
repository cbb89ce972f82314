package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func makeGet(t *testing.T, base, path, ua string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Token sandbox-make-token")
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMakeFollowsAPIDoc(t *testing.T) {
	m := NewMake(MakeOptions{Orgs: []MakeOrg{{ID: 11, Events: 365}, {ID: 12, Forbid: true}, {ID: 13, Unpaid: true}}})
	srv, _ := Serve(m, "")
	defer srv.Close()
	const ua = "test-agent"
	cases := []struct {
		path, ua string
		status   int
		body     string
	}{
		{"/api/v2/audit-logs/organization/11", "", 403, "error code: 1010"},
		{"/api/v2/audit-logs/organization/11", "Go-http-client/1.1", 403, "1010"},
		{"/api/v2/audit-logs/organization/12", ua, 403, `"code":"SC403"`},
		{"/api/v2/audit-logs/organization/13", ua, 402, `"code":"SC402"`},
		{"/api/v2/audit-logs/organization/11?pg[limit]=10001", ua, 400, `pg[limit]`},
		{"/api/v2/audit-logs/organization/11?dateFrom=March", ua, 400, `YYYY-MM-DD`},
		{"/api/v2/audit-logs/organization/99", ua, 404, `SC404`},
		{"/api/v2/audit-logs/organization/11/filters", ua, 200, `"teams"`},
		{"/api/v2/audit-logs/v2/organization/11?pg[limit]=1", ua, 200, `"auditLogs"`},
	}
	for _, tc := range cases {
		st, body := makeGet(t, srv.URL, tc.path, tc.ua)
		if st != tc.status || !strings.Contains(body, tc.body) {
			t.Errorf("%s: %d %s", tc.path, st, body)
		}
	}

	// Day bounds are inclusive and whole; the count matches OrgEntries.
	_, body := makeGet(t, srv.URL, "/api/v2/audit-logs/organization/11?dateFrom=2025-02-01&dateTo=2025-02-03&pg[returnTotalCount]=true", ua)
	var page struct {
		AuditLogs []map[string]any
		Pg        struct{ TotalCount int }
	}
	json.Unmarshal([]byte(body), &page)
	if want := m.OrgEntries(11, 0, "2025-02-01", "2025-02-03"); len(page.AuditLogs) != want || page.Pg.TotalCount != want || want == 0 {
		t.Fatalf("%d entries, total %d, want %d", len(page.AuditLogs), page.Pg.TotalCount, want)
	}
	// The ISO date-time form Make's SDK sends counts by its day.
	_, body2 := makeGet(t, srv.URL, "/api/v2/audit-logs/organization/11?dateFrom=2025-02-01T10:00:00.000Z&dateTo=2025-02-03T00:00:00.000Z", ua)
	var page2 struct{ AuditLogs []map[string]any }
	json.Unmarshal([]byte(body2), &page2)
	if len(page2.AuditLogs) != len(page.AuditLogs) {
		t.Fatalf("ISO bounds: %d vs %d", len(page2.AuditLogs), len(page.AuditLogs))
	}

	// Team filter by name, author by email.
	team := m.orgs[11].teams[0]
	_, body = makeGet(t, srv.URL, "/api/v2/audit-logs/organization/11?team="+strings.ReplaceAll(team.Name, " ", "%20"), ua)
	json.Unmarshal([]byte(body), &page)
	if want := m.OrgEntries(11, team.ID, "", ""); len(page.AuditLogs) != want {
		t.Fatalf("team by name: %d, want %d", len(page.AuditLogs), want)
	}
}

func TestMakeRateLimitBurst(t *testing.T) {
	m := NewMake(MakeOptions{Orgs: []MakeOrg{{ID: 11, Events: 5, APILimit: 2}}, EnforceRate: true, RetryAfter: "7"})
	srv, _ := Serve(m, "")
	defer srv.Close()
	var last int
	for i := 0; i < 3; i++ {
		last, _ = makeGet(t, srv.URL, "/api/v2/audit-logs/organization/11", "ua")
	}
	if last != 429 {
		t.Fatalf("third request in a minute at apiLimit 2: %d", last)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/v2/audit-logs/organization/11", nil)
	req.Header.Set("Authorization", "Token sandbox-make-token")
	req.Header.Set("User-Agent", "ua")
	resp, _ := http.DefaultClient.Do(req)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" || !strings.Contains(string(b), "Requests limit for organization exceeded") {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, b)
	}
}

// TestMakePagesWalkTheMatch walks every page of a listing, by pg[last] and
// by pg[offset], both ways round, with and without other filters, and
// holds the entries it gets to the ones a plain pass over the history
// picks, in order: the date range cut by search must be the same match.
func TestMakePagesWalkTheMatch(t *testing.T) {
	m := NewMake(MakeOptions{Orgs: []MakeOrg{{ID: 11, Events: 900, Teams: 3}}})
	srv, _ := Serve(m, "")
	defer srv.Close()
	org := m.orgs[11]
	team := org.teams[1]
	mid := org.entries[450].at.Format("2006-01-02")
	late := org.entries[800].at.Format("2006-01-02")
	for _, dates := range [][2]string{{"", ""}, {mid, ""}, {"", mid}, {mid, late}, {late, mid}, {"2000-01-01", "2000-01-02"}} {
		for _, teamID := range []int64{0, team.ID} {
			var want []string
			for _, e := range org.entries {
				d := e.at.Format("2006-01-02")
				if (dates[0] == "" || d >= dates[0]) && (dates[1] == "" || d <= dates[1]) && (teamID == 0 || e.team == teamID) {
					want = append(want, e.imtID)
				}
			}
			for _, dir := range []string{"asc", "desc"} {
				if dir == "desc" {
					want = slices.Clone(want)
					slices.Reverse(want)
				}
				base := "/api/v2/audit-logs/organization/11?pg[limit]=37&pg[returnTotalCount]=true&pg[sortDir]=" + dir
				if dates[0] != "" {
					base += "&dateFrom=" + dates[0]
				}
				if dates[1] != "" {
					base += "&dateTo=" + dates[1]
				}
				if teamID != 0 {
					base += "&team=" + strings.ReplaceAll(team.Name, " ", "%20")
				}
				for _, by := range []string{"last", "offset"} {
					var got []string
					for cursor := ""; len(got) <= len(want); {
						path := base
						if by == "offset" {
							path += "&pg[offset]=" + strconv.Itoa(len(got))
						} else if cursor != "" {
							path += "&pg[last]=" + cursor
						}
						st, body := makeGet(t, srv.URL, path, "test-agent")
						var page struct {
							AuditLogs []struct{ ImtID string }
							Pg        struct {
								TotalCount int
								Last       string
							}
						}
						if st != 200 || json.Unmarshal([]byte(body), &page) != nil {
							t.Fatalf("%s: HTTP %d %s", path, st, body)
						}
						if page.Pg.TotalCount != len(want) {
							t.Fatalf("%s: totalCount %d, want %d", path, page.Pg.TotalCount, len(want))
						}
						for _, e := range page.AuditLogs {
							got = append(got, e.ImtID)
						}
						if len(page.AuditLogs) < 37 {
							break
						}
						if by == "last" && cursor != "" && page.Pg.Last != got[len(got)-1] {
							t.Fatalf("%s: pg.last %q, want the page's last entry %q", path, page.Pg.Last, got[len(got)-1])
						}
						cursor = got[len(got)-1]
					}
					if strings.Join(got, " ") != strings.Join(want, " ") {
						t.Errorf("dates %v, team %d, %s by %s: %d entries, want %d, or out of order", dates, teamID, dir, by, len(got), len(want))
					}
				}
			}
		}
	}
}
