package conformance

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/forkproof/forkproof/spec"
)

// Quirks are the known, expected failures of one implementation. A quirks file has one entry
// per line:
//
//	# comment
//	rfc9112/6.1/2     we answer 501 to unknown codings on purpose
//	rfc9112/7.1       chunk extensions are not parsed yet   (a prefix selects a group)
//
// The first word is a case ID or an ID prefix (ending where an ID element or section number
// ends, as for -run: rfc9112/7 covers rfc9112/7/1 and rfc9112/7.1/2, not rfc9112/70/1), the
// rest of the line is the reason, which is required. Blank lines and lines starting with # are ignored.
type Quirks struct {
	entries []quirk
}

type quirk struct {
	id, reason string
	line       int
}

// ParseQuirks reads a quirks file; name is used in errors ("quirks.txt:3: …").
func ParseQuirks(r io.Reader, name string) (*Quirks, error) {
	q := &Quirks{}
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason := line, ""
		if i := strings.IndexFunc(line, unicode.IsSpace); i >= 0 {
			id, reason = line[:i], strings.TrimSpace(line[i:])
		}
		id = strings.TrimSuffix(id, "/")
		if reason == "" {
			return nil, fmt.Errorf("%s:%d: quirk %q has no reason (want: ID-or-prefix reason…)", name, n, id)
		}
		if err := checkQuirkID(id); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, n, err)
		}
		if prev, ok := seen[id]; ok {
			return nil, fmt.Errorf("%s:%d: quirk %q already listed on line %d", name, n, id, prev)
		}
		seen[id] = n
		q.entries = append(q.entries, quirk{id: id, reason: reason, line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return q, nil
}

// LoadQuirks reads the quirks file at path.
func LoadQuirks(path string) (*Quirks, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("quirks file: %v", err)
	}
	defer f.Close()
	return ParseQuirks(f, path)
}

func checkQuirkID(id string) error {
	if id == "" {
		return fmt.Errorf("empty quirk ID")
	}
	for _, r := range id {
		if r < 0x21 || r > 0x7e || r == '#' {
			return fmt.Errorf("quirk ID %q: character %q is not allowed in a case ID", id, r)
		}
	}
	return nil
}

// Len is the number of entries.
func (q *Quirks) Len() int {
	if q == nil {
		return 0
	}
	return len(q.entries)
}

// Unmatched describes, one line each ("quirks.txt:3: rfc9112/99 matches no case"), the
// entries that match none of ids (every case a run could have): a typo or a retired ID,
// which would otherwise be accepted silently and never apply.
func (q *Quirks) Unmatched(name string, ids []string) []string {
	if q == nil {
		return nil
	}
	var out []string
	for _, e := range q.entries {
		if !slices.ContainsFunc(ids, func(id string) bool { return hasGroupPrefix(id, e.id) }) {
			out = append(out, fmt.Sprintf("%s:%d: %s matches no case (see 'forkproof spec')", name, e.line, e.id))
		}
	}
	return out
}

// match returns the most specific entry matching id.
func (q *Quirks) match(id string) (quirk, bool) {
	var best quirk
	found := false
	for _, e := range q.entries {
		if hasGroupPrefix(id, e.id) && (!found || len(e.id) > len(best.id)) {
			best, found = e, true
		}
	}
	return best, found
}

// Apply marks every failing result a quirk covers (Result.Quirk = reason; the verdict stays
// fail but no longer counts in the exit code) and returns one info result per stale quirk: an
// entry that matched cases in this run none of which failed. Entries that matched nothing
// (filtered out by -run, or a typo) are not judged.
func (q *Quirks) Apply(results []Result) []Result {
	if q.Len() == 0 {
		return nil
	}
	type use struct {
		matched, failed int
		category        spec.Category
	}
	uses := map[string]*use{}
	for i := range results {
		e, ok := q.match(results[i].ID)
		if !ok {
			continue
		}
		u := uses[e.id]
		if u == nil {
			u = &use{category: results[i].Category}
			uses[e.id] = u
		}
		u.matched++
		if results[i].Verdict == spec.Fail {
			u.failed++
			results[i].Quirk = e.reason
		}
	}
	var stale []Result
	for _, e := range q.entries {
		u := uses[e.id]
		if u == nil || u.failed > 0 {
			continue
		}
		stale = append(stale, Result{
			Meta: spec.Meta{
				ID:          "quirk/" + e.id,
				Category:    u.category,
				Level:       spec.None,
				Title:       "stale quirk: " + e.id + " no longer fails",
				Requirement: "every entry of the quirks file names a deviation the target still has",
			},
			Verdict: spec.Info,
			Detail:  fmt.Sprintf("quirk on line %d (%q) matched %d case(s) in this run and none failed; remove it", e.line, e.reason, u.matched),
		})
	}
	return stale
}
