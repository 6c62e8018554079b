package spec

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/forkproof/forkproof/spec/wire"
)

var idPattern = regexp.MustCompile(`^rfc(9110|9112)/([0-9]+(\.[0-9]+)*)/([1-9][0-9]*)$`)

func TestCatalogueSize(t *testing.T) {
	if n := len(Catalogue()); n < 300 {
		t.Fatalf("catalogue has %d cases; want at least 300", n)
	}
}

func TestCatalogueMeta(t *testing.T) {
	seen := map[string]bool{}
	titles := map[string]string{}
	next := map[string]int{}
	for _, c := range Catalogue() {
		m := idPattern.FindStringSubmatch(c.ID)
		if m == nil {
			t.Errorf("ID %q does not match %s", c.ID, idPattern)
			continue
		}
		if seen[c.ID] {
			t.Errorf("duplicate ID %q", c.ID)
		}
		seen[c.ID] = true
		grp := "rfc" + m[1] + "/" + m[2]
		next[grp]++
		if want := fmt.Sprintf("%s/%d", grp, next[grp]); c.ID != want {
			t.Errorf("ID %q out of sequence; want %q (groups must be contiguous and numbered from 1)", c.ID, want)
		}
		if want := "RFC " + m[1] + " §" + m[2]; c.Section != want {
			t.Errorf("%s: Section = %q; want %q", c.ID, c.Section, want)
		}
		if c.Category != Conformance {
			t.Errorf("%s: Category = %q; want conformance", c.ID, c.Category)
		}
		switch {
		case c.Level == MUST, c.Level == SHOULD:
		case c.Level == None && c.Policy != "": // a policy: a miss warns
		default:
			// A weaker level misses only as info: nothing could ever fail or warn it.
			t.Errorf("%s: Level = %q; want MUST or SHOULD so that a miss is visible", c.ID, c.Level)
		}
		if c.Title == "" || strings.Contains(c.Title, "\n") {
			t.Errorf("%s: Title %q must be one non-empty line", c.ID, c.Title)
		}
		if prev, dup := titles[grp+"|"+c.Title]; dup {
			t.Errorf("%s: title %q repeats %s", c.ID, c.Title, prev)
		}
		titles[grp+"|"+c.Title] = c.ID
		if len(c.Requirement) < 10 {
			t.Errorf("%s: Requirement %q too short", c.ID, c.Requirement)
		}
		if len(c.Outcomes) == 0 {
			t.Errorf("%s: no outcome names", c.ID)
		}
	}
}

func TestCatalogueSteps(t *testing.T) {
	for _, c := range Catalogue() {
		expects := 0
		for i, s := range c.Steps {
			kinds := 0
			if len(s.Send) > 0 {
				kinds++
			}
			if s.Reconnect {
				kinds++
			}
			if s.Expect != nil {
				kinds++
				expects++
				if len(s.Expect.Any) == 0 {
					t.Errorf("%s step %d: Expect without outcomes", c.ID, i)
				}
				for _, o := range s.Expect.Any {
					if len(s.Expect.Methods) > 0 && len(s.Expect.Methods) < len(o.Responses) {
						t.Errorf("%s step %d: %d methods for %d responses in %q", c.ID, i, len(s.Expect.Methods), len(o.Responses), o)
					}
					for _, w := range o.Responses {
						if w.Status.Lo < 100 || w.Status.Hi > 599 || w.Status.Lo > w.Status.Hi {
							t.Errorf("%s step %d: bad status set %v", c.ID, i, w.Status)
						}
					}
				}
			}
			if kinds != 1 {
				t.Errorf("%s step %d: %d of Send/Reconnect/Expect set; want exactly one", c.ID, i, kinds)
			}
			last := 0
			for _, at := range s.SplitAt {
				if at <= last || at >= len(s.Send) {
					t.Errorf("%s step %d: split offset %d out of order or outside the %d bytes", c.ID, i, at, len(s.Send))
				}
				last = at
			}
		}
		if expects == 0 {
			t.Errorf("%s: no Expect step: the case judges nothing", c.ID)
		}
		if c.Steps[0].Send == nil {
			t.Errorf("%s: first step does not send", c.ID)
		}
	}
}

// Cases that use the reference server's own endpoints must say so, and only those: other
// servers skip them rather than fail them. Capabilities that no request line shows
// (persistence, HTTP/1.1) may be declared freely; NeedPostRoot only by a case that POSTs to /.
func TestCatalogueNeeds(t *testing.T) {
	endpoint := regexp.MustCompile(`^[A-Z]+ (?:http://[^/ ]+)?/(echo|reflect|status/|bytes/|sleep/)`)
	postRoot := regexp.MustCompile(`^POST / `)
	needOf := map[string]Need{"echo": NeedEcho, "reflect": NeedReflect, "status/": NeedStatus, "bytes/": NeedBytes, "sleep/": NeedSleep}
	for _, c := range Catalogue() {
		used := map[Need]bool{}
		for _, s := range c.Steps {
			for _, line := range bytes.Split(s.Send, []byte("\n")) {
				if m := endpoint.FindSubmatch(line); m != nil {
					used[needOf[string(m[1])]] = true
				}
				if postRoot.Match(line) {
					used[NeedPostRoot] = true
				}
			}
		}
		has := map[Need]bool{}
		for _, n := range c.Needs {
			has[n] = true
		}
		for n := range used {
			if !has[n] && n != NeedPostRoot {
				t.Errorf("%s: uses the %s endpoint but does not declare Need %q", c.ID, n, n)
			}
		}
		for n := range has {
			switch n {
			case NeedPersist, NeedHTTP11, NeedPID:
			default:
				if !used[n] {
					t.Errorf("%s: declares Need %q but never uses it", c.ID, n)
				}
			}
		}
	}
}

func TestCatalogueIsStable(t *testing.T) {
	a, b := Catalogue(), Catalogue()
	if len(a) != len(b) {
		t.Fatalf("two calls gave %d and %d cases", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Title != b[i].Title || !bytes.Equal(a[i].Steps[0].Send, b[i].Steps[0].Send) {
			t.Fatalf("case %d differs between calls: %s %q vs %s %q", i, a[i].ID, a[i].Title, b[i].ID, b[i].Title)
		}
	}
}

func TestChecks(t *testing.T) {
	now := time.Now().UTC().Format(imfFixdate)
	resp := func(body string, fields ...string) *wire.Response {
		r := &wire.Response{Version: "HTTP/1.1", StatusCode: 200, Body: []byte(body)}
		for i := 0; i+1 < len(fields); i += 2 {
			r.Header = append(r.Header, [2]string{fields[i], fields[i+1]})
		}
		return r
	}
	tests := []struct {
		name string
		c    check
		r    *wire.Response
		ok   bool
	}{
		{"date ok", dateOK(), resp("", "Date", now), true},
		{"date missing", dateOK(), resp(""), false},
		{"date twice", dateOK(), resp("", "Date", now, "date", now), false},
		{"date rfc850", dateOK(), resp("", "Date", "Sunday, 06-Nov-94 08:49:37 GMT"), false},
		{"date old", dateOK(), resp("", "Date", "Sun, 06 Nov 1994 08:49:37 GMT"), false},
		{"body is", bodyIs("hi"), resp("hi"), true},
		{"body is not", bodyIs("hi"), resp("ho"), false},
		{"no body", noBody(), resp("x"), false},
		{"allow token", hasToken("Allow", "POST"), resp("", "Allow", "GET, post"), true},
		{"allow token missing", hasToken("Allow", "POST"), resp("", "Allow", "GET, POSTX"), false},
		{"no CL", noHeader("Content-Length"), resp("", "content-length", "0"), false},
		{"self-delimited", selfDelimited(), resp("", "Content-Length", "0"), true},
		{"close-delimited", selfDelimited(), resp("x"), false},
		{"reflect field", reflectsField("X-A", "a b"), resp(`{"headers":[["Host","h"],["x-a","a b"]]}`), true},
		{"reflect field raw CR", reflectsField("X-A", "a b"), resp(`{"headers":[["X-A","a\rb"]]}`), false},
		{"reflect absent", reflectsField("X-Ghost"), resp(`{"headers":[["Host","h"]]}`), true},
		{"reflect present", reflectsField("X-Ghost"), resp(`{"headers":[["X-Ghost","1"]]}`), false},
		{"reflect not json", reflectsField("X-A", "1"), resp(`nope`), false},
		{"reflect body", reflectsBody("hi"), resp(`{"body":"aGk="}`), true},
	}
	for _, tt := range tests {
		if err := tt.c.fn(tt.r); (err == nil) != tt.ok {
			t.Errorf("%s: check %q gave %v; want ok=%v", tt.name, tt.c.desc, err, tt.ok)
		}
	}

	s := &sameLength{}
	if err := s.record().fn(resp("hello", "Content-Length", "5")); err != nil {
		t.Fatalf("record: %v", err)
	}
	if err := s.compare().fn(resp("", "Content-Length", "5")); err != nil {
		t.Errorf("HEAD with GET's length: %v", err)
	}
	if err := s.compare().fn(resp("", "Content-Length", "6")); err == nil {
		t.Errorf("HEAD with Content-Length 6 after GET's 5 passed; want an error")
	}
}

func TestOutcomeSets(t *testing.T) {
	names := func(os []Outcome) string {
		var s []string
		for _, o := range os {
			s = append(s, o.String()+"="+string(verdictOf(o)))
		}
		return strings.Join(s, "; ")
	}
	tests := []struct {
		got  []Outcome
		want string
	}{
		{rejected(), "400 then close=pass; close without a response=pass; 400 but the connection stays open after a syntax error=warn"},
		{badFraming(400, 501), "400 then close=pass; 501 then close=pass; close without the required error response=warn"},
		{must400(), "400=pass; close without the required error response=warn"},
		{waits(), "no response; connection stays open=pass"},
	}
	for _, tt := range tests {
		if got := names(tt.got); got != tt.want {
			t.Errorf("outcomes = %s\nwant %s", got, tt.want)
		}
	}
}

func verdictOf(o Outcome) Verdict {
	if o.Verdict == "" {
		return Pass
	}
	return o.Verdict
}
