package spec_test

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/forkproof/forkproof/conformance"
)

// Case IDs are a promise: users' quirks files, CI expectations and the published interop matrix
// name cases by ID, so an ID never changes meaning and a retired ID is never reused. The golden
// file lists every ID with its title (the title stands for the meaning) and every retired ID.

var updateIDs = flag.Bool("update", false, "rewrite testdata/ids.golden from the catalogue (new IDs, new titles, retirements)")

const (
	goldenIDs  = "testdata/ids.golden"
	regenerate = "go test ./spec -run TestStableIDs -update"
)

type golden struct {
	order   []string          // active IDs, in file order
	title   map[string]string // active ID -> title
	retired map[string]string // retired ID -> its last title
}

func readGolden(t *testing.T) golden {
	t.Helper()
	g := golden{title: map[string]string{}, retired: map[string]string{}}
	f, err := os.Open(goldenIDs)
	if os.IsNotExist(err) && *updateIDs {
		return g
	}
	if err != nil {
		t.Fatalf("%v (create it: %s)", err, regenerate)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		retired := strings.HasPrefix(line, "retired ")
		id, title, ok := strings.Cut(strings.TrimPrefix(line, "retired "), "\t")
		if !ok || id == "" {
			t.Fatalf("%s:%d: %q: want \"ID<tab>title\" or \"retired ID<tab>title\"", goldenIDs, n, line)
		}
		_, active := g.title[id]
		_, gone := g.retired[id]
		if active || gone {
			t.Fatalf("%s:%d: %s listed twice", goldenIDs, n, id)
		}
		if retired {
			g.retired[id] = title
		} else {
			g.order = append(g.order, id)
			g.title[id] = title
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return g
}

// currentIDs lists what `forkproof check` runs: the catalogue (conformance and robustness)
// and the end-of-run hygiene checks.
func currentIDs() (ids []string, title map[string]string) {
	title = map[string]string{}
	add := func(id, t string) {
		ids = append(ids, id)
		title[id] = t
	}
	for _, c := range conformance.Catalogue() {
		add(c.ID, c.Title)
	}
	return ids, title
}

func TestStableIDs(t *testing.T) {
	g := readGolden(t)
	ids, title := currentIDs()
	problems, fatal, gone := compareIDs(g, ids, title)
	if len(fatal) > 0 {
		t.Errorf("case IDs break their promise:\n  %s", strings.Join(fatal, "\n  "))
	}
	if !*updateIDs {
		if len(problems) > 0 {
			t.Errorf("case IDs differ from %s:\n  %s\nIf this is intended (a new case, a reworded title of the same check, a case retired), "+
				"regenerate with\n  %s\nand review the diff: an ID must never change meaning (append new cases at the end of their group), "+
				"and a retired ID is never reused.", goldenIDs, strings.Join(problems, "\n  "), regenerate)
		}
		return
	}
	if len(fatal) > 0 {
		return // nothing written while an ID is reused
	}
	for _, id := range gone {
		g.retired[id] = g.title[id]
	}
	var b strings.Builder
	b.WriteString("# Stable case IDs of forkproof check: ID<tab>title, in catalogue order, then the retired IDs.\n")
	b.WriteString("# An ID never changes meaning; a retired ID is never reused. Regenerate with: " + regenerate + "\n")
	for _, id := range ids {
		b.WriteString(id + "\t" + title[id] + "\n")
	}
	retired := make([]string, 0, len(g.retired))
	for id := range g.retired {
		retired = append(retired, id)
	}
	sort.Strings(retired)
	for _, id := range retired {
		b.WriteString("retired " + id + "\t" + g.retired[id] + "\n")
	}
	if err := os.WriteFile(goldenIDs, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Logf("updated %s:\n  %s", goldenIDs, strings.Join(problems, "\n  "))
	}
}

// compareIDs compares the catalogue's IDs with the golden list: problems are what -update may
// accept (new IDs, new titles, IDs that disappeared: gone, to be retired), fatal what it may
// not (an ID used twice, a retired ID reused).
func compareIDs(g golden, ids []string, title map[string]string) (problems, fatal, gone []string) {
	seen := map[string]bool{}
	for _, id := range ids {
		switch {
		case seen[id]:
			fatal = append(fatal, fmt.Sprintf("%s: two cases have this ID", id))
		case hasKey(g.retired, id):
			fatal = append(fatal, fmt.Sprintf("%s: a retired ID reused (it meant %q; now %q): give the case a new ordinal at the end of its group", id, g.retired[id], title[id]))
		case !hasKey(g.title, id):
			problems = append(problems, fmt.Sprintf("%s: new case %q", id, title[id]))
		case g.title[id] != title[id]:
			problems = append(problems, fmt.Sprintf("%s: title changed from %q to %q: the same check reworded, or a new meaning (then move it to a new ordinal)", id, g.title[id], title[id]))
		}
		seen[id] = true
	}
	for _, id := range g.order {
		if !seen[id] {
			gone = append(gone, id)
			problems = append(problems, fmt.Sprintf("%s: disappeared (was %q): -update retires it for good", id, g.title[id]))
		}
	}
	return problems, fatal, gone
}

func TestCompareIDs(t *testing.T) {
	g := golden{order: []string{"a/1", "a/2", "a/3"}, title: map[string]string{"a/1": "one", "a/2": "two", "a/3": "three"},
		retired: map[string]string{"a/9": "nine"}}
	for _, tc := range []struct {
		name                  string
		ids                   []string
		titles                []string
		problems, fatal, gone int
	}{
		{"unchanged", []string{"a/1", "a/2", "a/3"}, []string{"one", "two", "three"}, 0, 0, 0},
		{"appended", []string{"a/1", "a/2", "a/3", "a/4"}, []string{"one", "two", "three", "four"}, 1, 0, 0},
		{"inserted: every later title shifts", []string{"a/1", "a/2", "a/3", "a/4"}, []string{"one", "new", "two", "three"}, 3, 0, 0},
		{"removed", []string{"a/1", "a/3"}, []string{"one", "three"}, 1, 0, 1},
		{"retired reused", []string{"a/1", "a/2", "a/3", "a/9"}, []string{"one", "two", "three", "nine again"}, 0, 1, 0},
		{"twice", []string{"a/1", "a/2", "a/3", "a/3"}, []string{"one", "two", "three", "three"}, 0, 1, 0},
	} {
		title := map[string]string{}
		for i, id := range tc.ids {
			title[id] = tc.titles[i]
		}
		p, f, gone := compareIDs(g, tc.ids, title)
		if len(p) != tc.problems || len(f) != tc.fatal || len(gone) != tc.gone {
			t.Errorf("%s: problems %q, fatal %q, gone %q; want %d, %d, %d", tc.name, p, f, gone, tc.problems, tc.fatal, tc.gone)
		}
	}
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}
