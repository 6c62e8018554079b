package conformance

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/forkproof/forkproof/spec"
)

// JUnit XML as CI systems read it: one testsuite per category, one testcase per result.
// fail → <failure>, skip → <skipped>, a quirked fail → <skipped> naming the quirk (it does not
// fail the build), warn and info pass with their detail in <system-out>.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
	SystemErr string      `xml:"system-err,omitempty"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
	Skipped   *junitSkipped `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the report as JUnit XML.
func (r *Report) WriteJUnit(w io.Writer) error {
	out := junitSuites{Name: "forkproof " + r.Target.Addr, Time: seconds(r.Duration)}
	index := map[spec.Category]int{}
	for _, res := range r.Results {
		i, ok := index[res.Category]
		if !ok {
			i = len(out.Suites)
			index[res.Category] = i
			out.Suites = append(out.Suites, junitSuite{Name: string(res.Category), Timestamp: r.Started.Format("2006-01-02T15:04:05")})
		}
		s := &out.Suites[i]
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
			text := "acceptable:\n"
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
		var d time.Duration
		for _, res := range r.Results {
			if string(res.Category) == s.Name {
				d += res.Duration
			}
		}
		s.Time = seconds(d)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Skipped += s.Skipped
	}
	if r.TargetStderr != "" && len(out.Suites) > 0 {
		out.Suites[0].SystemErr = r.TargetStderr
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
