package conformance

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/forkproof/forkproof/spec"
)

// JUnit XML as CI systems read it: one testsuite per category, one testcase per result.
// fail → <failure>, skip → <skipped>, a quirked fail → <skipped> naming the quirk (it does not
// fail the build), warn and info pass with their detail in <system-out>.
//
// The XML is written by hand rather than with encoding/xml: every forked child of the reference
// server re-executes this binary and runs its package initialisers. xmlEscape keeps the output
// well-formed whatever bytes a wire transcript holds.
type junitSuites struct {
	Name     string
	Tests    int
	Failures int
	Skipped  int
	Time     string
	Suites   []junitSuite
}

type junitSuite struct {
	Name      string
	Tests     int
	Failures  int
	Skipped   int
	Time      string
	Timestamp string
	Cases     []junitCase
	SystemErr string
}

type junitCase struct {
	Name      string
	Classname string
	Time      string
	Failure   *junitFailure
	Skipped   *junitSkipped
	SystemOut string
}

type junitFailure struct {
	Message string
	Type    string
	Text    string
}

type junitSkipped struct {
	Message string
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the report as JUnit XML.
func (r *Report) WriteJUnit(w io.Writer) error {
	out := junitSuites{Name: "forkproof " + r.Target.Addr, Time: seconds(r.Duration)}
	index := map[spec.Category]int{}
	var took []time.Duration // by suite
	for _, res := range r.Results {
		i, ok := index[res.Category]
		if !ok {
			i = len(out.Suites)
			index[res.Category] = i
			out.Suites = append(out.Suites, junitSuite{Name: string(res.Category), Timestamp: r.Started.Format("2006-01-02T15:04:05")})
			took = append(took, 0)
		}
		s := &out.Suites[i]
		took[i] += res.Duration
		c := junitCase{
			Name:      res.ID + ": " + res.Title,
			Classname: "forkproof." + string(res.Category),
			Time:      seconds(res.Duration),
		}
		var sysout strings.Builder
		if res.Section != "" || res.Level != "" {
			fmt.Fprintf(&sysout, "%s, %s\n", res.Section, res.Level)
		}
		fmt.Fprintf(&sysout, "verdict: %s\n", VerdictLabel(res))
		grounds := ""
		if res.Verdict == spec.Fail || res.Verdict == spec.Warn {
			for _, g := range Grounds(res.Meta) {
				grounds += "  " + g + "\n"
			}
			if grounds != "" {
				grounds = "rests on:\n" + grounds
			}
		}
		sysout.WriteString(grounds)
		if res.Detail != "" {
			fmt.Fprintf(&sysout, "detail: %s\n", res.Detail)
		}
		if res.Wire != nil {
			fmt.Fprintf(&sysout, "sent:     %s\nreceived: %s\n", res.Wire.Sent, res.Wire.Received)
		}
		switch {
		case res.Verdict == spec.Fail && res.Quirk != "":
			c.Skipped = &junitSkipped{Message: "known failure (quirk): " + res.Quirk}
			s.Skipped++
		case res.Verdict == spec.Fail:
			text := grounds + "acceptable:\n"
			for _, o := range res.Outcomes {
				text += "  - " + o + "\n"
			}
			text += "actual: " + res.Detail + "\n"
			c.Failure = &junitFailure{Message: res.Detail, Type: string(res.Level), Text: text}
			s.Failures++
		case res.Verdict == spec.Skip:
			c.Skipped = &junitSkipped{Message: res.Detail}
			s.Skipped++
		}
		c.SystemOut = sysout.String()
		s.Cases = append(s.Cases, c)
		s.Tests++
	}
	for i := range out.Suites {
		s := &out.Suites[i]
		s.Time = seconds(took[i])
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Skipped += s.Skipped
	}
	if r.TargetStderr != "" && len(out.Suites) > 0 {
		out.Suites[0].SystemErr = r.TargetStderr
	}
	_, err := io.WriteString(w, out.xml())
	return err
}

// xml renders the document the way encoding/xml's indenting encoder did: two-space indent,
// every attribute and text escaped, an element without children closed on its own line.
func (out *junitSuites) xml() string {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	b.WriteString("<testsuites")
	xmlAttr(&b, "name", out.Name)
	xmlAttr(&b, "tests", strconv.Itoa(out.Tests))
	xmlAttr(&b, "failures", strconv.Itoa(out.Failures))
	xmlAttr(&b, "skipped", strconv.Itoa(out.Skipped))
	xmlAttr(&b, "time", out.Time)
	b.WriteString(">")
	for _, s := range out.Suites {
		b.WriteString("\n  <testsuite")
		xmlAttr(&b, "name", s.Name)
		xmlAttr(&b, "tests", strconv.Itoa(s.Tests))
		xmlAttr(&b, "failures", strconv.Itoa(s.Failures))
		xmlAttr(&b, "skipped", strconv.Itoa(s.Skipped))
		xmlAttr(&b, "time", s.Time)
		xmlAttr(&b, "timestamp", s.Timestamp)
		b.WriteString(">")
		for _, c := range s.Cases {
			b.WriteString("\n    <testcase")
			xmlAttr(&b, "name", c.Name)
			xmlAttr(&b, "classname", c.Classname)
			xmlAttr(&b, "time", c.Time)
			b.WriteString(">")
			children := false
			if c.Failure != nil {
				b.WriteString("\n      <failure")
				xmlAttr(&b, "message", c.Failure.Message)
				xmlAttr(&b, "type", c.Failure.Type)
				b.WriteString(">" + xmlEscape(c.Failure.Text) + "</failure>")
				children = true
			}
			if c.Skipped != nil {
				b.WriteString("\n      <skipped")
				xmlAttr(&b, "message", c.Skipped.Message)
				b.WriteString("></skipped>")
				children = true
			}
			if c.SystemOut != "" {
				b.WriteString("\n      <system-out>" + xmlEscape(c.SystemOut) + "</system-out>")
				children = true
			}
			if children {
				b.WriteString("\n    ")
			}
			b.WriteString("</testcase>")
		}
		if s.SystemErr != "" {
			b.WriteString("\n    <system-err>" + xmlEscape(s.SystemErr) + "</system-err>")
		}
		b.WriteString("\n  </testsuite>")
	}
	if len(out.Suites) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("</testsuites>\n")
	return b.String()
}

// xmlAttr writes ` name="value"` with value escaped.
func xmlAttr(b *strings.Builder, name, value string) {
	b.WriteString(" " + name + `="` + xmlEscape(value) + `"`)
}

// xmlEscape makes s safe as XML 1.0 character data or as a quoted attribute value: the markup
// characters become references, tab, newline and carriage return become character references
// (so neither attribute-value normalisation nor line-end handling alters them), and whatever
// is not an XML 1.0 character (other control bytes, U+FFFE, U+FFFF, invalid UTF-8) becomes
// U+FFFD, one per offending byte, so the document always parses.
func xmlEscape(s string) string {
	var b strings.Builder
	last := 0 // s[:last] is in b
	for i := 0; i < len(s); {
		r, width := utf8.DecodeRuneInString(s[i:])
		var repl string
		switch {
		case r == '&':
			repl = "&amp;"
		case r == '<':
			repl = "&lt;"
		case r == '>':
			repl = "&gt;"
		case r == '"':
			repl = "&#34;"
		case r == '\'':
			repl = "&#39;"
		case r == '\t':
			repl = "&#x9;"
		case r == '\n':
			repl = "&#xA;"
		case r == '\r':
			repl = "&#xD;"
		case r == utf8.RuneError && width == 1, !xmlChar(r):
			repl = "\uFFFD"
		}
		if repl != "" {
			if b.Len() == 0 {
				b.Grow(len(s) + len(s)/8)
			}
			b.WriteString(s[last:i])
			b.WriteString(repl)
			last = i + width
		}
		i += width
	}
	if b.Len() == 0 {
		return s // nothing to escape
	}
	b.WriteString(s[last:])
	return b.String()
}

// xmlChar reports whether r is a Char of XML 1.0 (§2.2).
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
