package spec

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// bodyGroups are the groups whose grading rests on RFC 9112 §6, §7, §9 and RFC 9110.
var bodyGroups = []string{"rfc9112/6.", "rfc9112/7.", "rfc9112/9.", "rfc9110/"}

func inBodyGroups(id string) bool {
	for _, p := range bodyGroups {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// Every case quotes the sentence that decides its grade, or states the policy it applies and
// then warns at most (../shared/GRADING.md).
func TestBodyCasesRestOnSentences(t *testing.T) {
	for _, c := range Catalogue() {
		if !inBodyGroups(c.ID) {
			continue
		}
		switch {
		case len(c.Sentences) > 0 && c.Policy != "":
			t.Errorf("%s: has both a deciding sentence and a policy", c.ID)
		case len(c.Sentences) > 0:
			if d := c.Sentences[0]; d.Keyword != c.Level {
				t.Errorf("%s: level %s but its deciding sentence (%s) is %s", c.ID, c.Level, d.Ref, d.Keyword)
			}
		case c.Policy != "":
			if c.Level == MUST {
				t.Errorf("%s: a policy with no RFC sentence behind it grades at most warn; level is MUST", c.ID)
			}
		default:
			t.Errorf("%s: quotes no sentence and states no policy", c.ID)
		}
		for _, s := range c.Sentences {
			if !strings.HasPrefix(s.Ref, "RFC 911") || len(s.Text) < 20 {
				t.Errorf("%s: sentence %v is not a quoted RFC sentence", c.ID, s)
			}
		}
	}
}

// Each endpoint of the reference contract is its own need, so a server with /echo but without
// /status does not fail the /status cases; POST / carries the framing cases where /echo is not
// needed; GET never carries a body (RFC 9110 §9.3.1).
func TestBodyCasesNeeds(t *testing.T) {
	uses := []struct {
		re   *regexp.Regexp
		need Need
	}{
		{regexp.MustCompile(`^[A-Z]+ (http://[^/ ]+)?/echo[ ?]`), NeedEcho},
		{regexp.MustCompile(`^[A-Z]+ (http://[^/ ]+)?/status/`), NeedStatus},
		{regexp.MustCompile(`^[A-Z]+ (http://[^/ ]+)?/bytes/`), NeedBytes},
		{regexp.MustCompile(`^[A-Z]+ (http://[^/ ]+)?/sleep/`), NeedSleep},
		{regexp.MustCompile(`^[A-Z]+ (http://[^/ ]+)?/reflect`), NeedReflect},
		{regexp.MustCompile(`^POST / `), NeedPostRoot},
	}
	getWithBody := regexp.MustCompile(`(?i)^GET [^\r\n]*\r\n(?:[^\r\n]+\r\n)*?(content-length: *[1-9]|transfer-encoding:)`)
	for _, c := range Catalogue() {
		if !inBodyGroups(c.ID) {
			continue
		}
		used := map[Need]bool{}
		for _, s := range c.Steps {
			for _, line := range bytes.Split(s.Send, []byte("\n")) {
				for _, u := range uses {
					if u.re.Match(line) {
						used[u.need] = true
					}
				}
			}
			for _, r := range bytes.SplitAfter(s.Send, []byte("\r\n\r\n")) {
				if getWithBody.Match(r) {
					t.Errorf("%s: a GET carries a body; use POST (RFC 9110 §9.3.1)", c.ID)
				}
			}
		}
		has := map[Need]bool{}
		for _, n := range c.Needs {
			has[n] = true
			if n != NeedPersist && n != NeedHTTP11 && n != NeedPID && !used[n] {
				t.Errorf("%s: declares Need %q but never uses it", c.ID, n)
			}
		}
		for n := range used {
			if !has[n] {
				t.Errorf("%s: uses what Need %q names but does not declare it", c.ID, n)
			}
		}
	}
}
