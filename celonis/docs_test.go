package celonis

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/celonis-audit/steampipe-plugin-celonis/config"
	"github.com/celonis-audit/steampipe-plugin-celonis/internal/inproc"
)

// Every table has a hub-style page with at least four examples, each in
// Postgres and SQLite, and every page a table.
func TestEveryTableHasItsDocsPage(t *testing.T) {
	tables := Plugin(context.Background()).TableMap
	pages, _ := filepath.Glob("../docs/tables/*.md")
	if len(pages) != len(tables) {
		t.Errorf("%d pages for %d tables", len(pages), len(tables))
	}
	index, _ := os.ReadFile("../docs/index.md")
	for name, table := range tables {
		b, err := os.ReadFile("../docs/tables/" + name + ".md")
		if err != nil {
			t.Errorf("table %s: %v", name, err)
			continue
		}
		doc := string(b)
		if !strings.HasPrefix(doc, "---\ntitle: \"Steampipe Table: "+name) || !strings.Contains(doc, "**Important Notes**") {
			t.Errorf("%s: front matter or Important Notes missing", name)
		}
		pg, lite := strings.Count(doc, "```sql+postgres"), strings.Count(doc, "```sql+sqlite")
		if pg < 4 || pg != lite {
			t.Errorf("%s: %d postgres and %d sqlite examples", name, pg, lite)
		}
		if !strings.Contains(string(index), "tables/"+name+".md") {
			t.Errorf("docs/index.md does not list %s", name)
		}
		for _, c := range table.Columns {
			if !strings.HasSuffix(c.Description, ".") || c.Description == "" {
				t.Errorf("%s.%s: description %q must be a sentence ending in a period", name, c.Name, c.Description)
			}
		}
	}
}

// Every attribute config/celonis.spc documents is one the plugin parses, and
// the other way round.
func TestSpcFileMatchesTheSchema(t *testing.T) {
	b, err := os.ReadFile("../config/celonis.spc")
	if err != nil {
		t.Fatal(err)
	}
	attr := regexp.MustCompile(`(?m)^\s*#\s*([a-z_]+)\s*=\s*(.+)$`)
	var body []string
	seen := map[string]bool{}
	for _, m := range attr.FindAllStringSubmatch(string(b), -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			body = append(body, m[1]+" = "+m[2])
		}
	}
	index, err := os.ReadFile("../docs/index.md")
	if err != nil {
		t.Fatal(err)
	}
	ct := reflect.TypeOf(config.Config{})
	for i := 0; i < ct.NumField(); i++ {
		want, _, _ := strings.Cut(ct.Field(i).Tag.Get("hcl"), ",")
		if !seen[want] {
			t.Errorf("celonis.spc does not document %s", want)
		}
		if !strings.Contains(string(index), "`"+want+"`") {
			t.Errorf("docs/index.md does not document %s", want)
		}
	}
	if _, err := inproc.New(Plugin, strings.Join(body, "\n")); err != nil {
		t.Fatalf("the attributes of celonis.spc do not parse: %v", err)
	}
	if _, err := inproc.New(Plugin, "no_such_option = 1"); err == nil {
		t.Fatal("an unknown attribute was accepted, so this test proves nothing")
	}
}
