package conformance

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/forkproof/forkproof/hygiene"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
)

// sampleReport has one result of every kind, with bytes that need escaping everywhere.
func sampleReport() *Report {
	meta := func(id, sec string, lvl spec.Level, title string) spec.Meta {
		m := spec.Meta{ID: id, Category: spec.Conformance, Section: sec, Level: lvl, Title: title,
			Requirement: "the server must <reject> it", Outcomes: []string{"400 then close", "close without a response"}}
		if sec != "" {
			m.Sentences = []spec.Sentence{{Ref: sec, Keyword: lvl, Text: "A server " + string(lvl) + " <reject> " + title + "."}}
		}
		return m
	}
	// A case with no sentence states its policy instead.
	policy := meta("rfc9110/9.3/1", "RFC 9110 §9.3", spec.SHOULD, "date")
	policy.Sentences, policy.Policy = nil, "a slow client is cut within <10 s>"
	started := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	return &Report{
		Version:  "devel",
		Target:   targets.Target{Addr: "127.0.0.1:8080", Cmd: "srv -p 8080", PID: 42},
		Started:  started,
		Duration: 1234 * time.Millisecond,
		Results: []Result{
			{Meta: meta("rfc9112/3/1", "RFC 9112 §3", spec.MUST, "request line"), Verdict: spec.Pass, Duration: 3 * time.Millisecond},
			{Meta: meta("rfc9112/6.1/2", "RFC 9112 §6.1", spec.MUST, "CL & TE <smuggle>"), Verdict: spec.Fail,
				Detail: `got 200 then close; want one of [400 then close]`, Duration: 7 * time.Millisecond,
				Wire: &Wire{Sent: `POST / HTTP/1.1\r\nHost: x\r\n⟨split⟩</script>"&`, Received: `HTTP/1.1 200 OK\r\n\r\n⟨close⟩`}},
			{Meta: meta("rfc9112/7.1/1", "RFC 9112 §7.1", spec.MUST, "chunk ext"), Verdict: spec.Fail, Quirk: "not parsed yet",
				Detail: "got 200"},
			{Meta: policy, Verdict: spec.Warn, Detail: "no Date"},
			{Meta: meta("rfc9110/15/1", "", spec.MAY, "reason phrase"), Verdict: spec.Info, Detail: "empty reason"},
			{Meta: hygiene.ZombiesMeta, Verdict: spec.Skip, Detail: "the target's PID is unknown"},
		},
		TargetStderr: "listening on 127.0.0.1:8080\npanic: <oops>\n",
	}
}

func TestReportSummaryAndExitCode(t *testing.T) {
	r := sampleReport()
	want := Summary{Pass: 1, Fail: 2, Warn: 1, Info: 1, Skip: 1, Quirk: 1}
	if got := r.Summary(); got != want {
		t.Errorf("Summary = %+v; want %+v", got, want)
	}
	if got := r.ExitCode(); got != 1 {
		t.Errorf("ExitCode = %d; want 1", got)
	}
	r.Results[1].Verdict = spec.Pass
	if got := r.ExitCode(); got != 0 {
		t.Errorf("ExitCode with only a quirked fail = %d; want 0", got)
	}
}

func TestReportJSONSchema(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("JSON report does not parse: %v\n%s", err, buf.Bytes())
	}
	keys := func(m any) []string {
		var ks []string
		for k := range m.(map[string]any) {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	}
	checkKeys := func(what string, m any, want ...string) {
		t.Helper()
		sort.Strings(want)
		if got := keys(m); !reflect.DeepEqual(got, want) {
			t.Errorf("%s keys = %v; want %v", what, got, want)
		}
	}
	checkKeys("report", doc, "tool", "version", "target", "started", "duration_ms", "summary", "results")
	checkKeys("target", doc["target"], "addr", "cmd", "pid")
	checkKeys("summary", doc["summary"], "pass", "fail", "warn", "info", "skip")
	if doc["tool"] != "forkproof" || doc["started"] != "2025-03-01T12:00:00Z" || doc["duration_ms"] != 1234.0 {
		t.Errorf("tool/started/duration = %v %v %v", doc["tool"], doc["started"], doc["duration_ms"])
	}
	if tg := doc["target"].(map[string]any); tg["addr"] != "127.0.0.1:8080" || tg["cmd"] != "srv -p 8080" || tg["pid"] != 42.0 {
		t.Errorf("target = %v", tg)
	}
	results := doc["results"].([]any)
	if len(results) != 6 {
		t.Fatalf("%d results; want 6", len(results))
	}
	// PRODUCT.md's fields, then what a report adds so that it stands on its own: the case's
	// requirement, outcomes, and the sentences (or the policy) its grade rests on.
	base := []string{"id", "category", "section", "level", "title", "verdict", "detail", "duration_ms",
		"requirement", "outcomes"}
	checkKeys("pass result", results[0], append(base, "sentences")...)
	checkKeys("fail result", results[1], append(base, "sentences", "wire")...)
	checkKeys("quirked result", results[2], append(base, "sentences", "quirk")...)
	checkKeys("policy result", results[3], append(base, "policy")...)
	fail := results[1].(map[string]any)
	wire := fail["wire"].(map[string]any)
	if fail["id"] != "rfc9112/6.1/2" || fail["verdict"] != "fail" || fail["section"] != "RFC 9112 §6.1" ||
		fail["level"] != "MUST" || fail["category"] != "conformance" || fail["duration_ms"] != 7.0 ||
		wire["sent"] != `POST / HTTP/1.1\r\nHost: x\r\n⟨split⟩</script>"&` {
		t.Errorf("fail result = %v", fail)
	}
	if s := doc["summary"].(map[string]any); s["fail"] != 2.0 || s["pass"] != 1.0 {
		t.Errorf("summary = %v", s)
	}
}

func TestReportJUnit(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Tests int    `xml:"tests,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
			SystemErr string `xml:"system-err"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, buf.Bytes())
	}
	if doc.Tests != 6 || doc.Failures != 1 || doc.Skipped != 2 {
		t.Errorf("tests/failures/skipped = %d/%d/%d; want 6/1/2 (a quirked fail is skipped)", doc.Tests, doc.Failures, doc.Skipped)
	}
	if len(doc.Suites) != 2 || doc.Suites[0].Name != "conformance" || doc.Suites[1].Name != "hygiene" {
		t.Fatalf("suites = %+v; want conformance and hygiene", doc.Suites)
	}
	c := doc.Suites[0].Cases[1]
	if c.Failure == nil || c.Failure.Message != "got 200 then close; want one of [400 then close]" ||
		!strings.Contains(c.Failure.Text, "close without a response") {
		t.Errorf("failing case = %+v", c)
	}
	if !strings.Contains(c.SystemOut, `⟨split⟩</script>"&`) || !strings.HasPrefix(c.Name, "rfc9112/6.1/2: ") {
		t.Errorf("failing case name %q, system-out %q; want the ID and the wire transcript", c.Name, c.SystemOut)
	}
	if q := doc.Suites[0].Cases[2]; q.Skipped == nil || !strings.Contains(q.Skipped.Message, "not parsed yet") || q.Failure != nil {
		t.Errorf("quirked case = %+v; want skipped naming the quirk", q)
	}
	if !strings.Contains(doc.Suites[0].SystemErr, "panic: <oops>") {
		t.Errorf("system-err = %q; want the target's stderr", doc.Suites[0].SystemErr)
	}
}

// A page opens on the problems: fails, then warns and quirks, then info, each expanded; the
// passes and the skips are folded in a closed <details> each, their count in its summary.
func TestReportHTMLFoldsPassesAndSkips(t *testing.T) {
	var buf bytes.Buffer
	if err := orderReport().WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	var order []int
	for _, want := range []string{"<code>c/5</code>", "<code>c/7</code>", "<code>c/3</code>", "<code>c/6</code>", "<code>c/1</code>",
		`<details class="fold" id="passes"><summary>2 cases passed</summary>`, "<code>c/2</code>", "<code>c/8</code>",
		`<details class="fold" id="skips"><summary>1 case skipped: 1 needs an echo endpoint</summary>`, "<code>c/4</code>"} {
		i := strings.Index(page, want)
		if i < 0 {
			t.Fatalf("page lacks %q", want)
		}
		order = append(order, i)
	}
	if !sort.IntsAreSorted(order) {
		t.Errorf("page order %v; want fails, warns and quirks, info, then the passes and skips folded", order)
	}
	// Each fold holds its own cases, closed: nothing but its table sits between it and its end.
	for _, fold := range []struct{ id, verdict string }{{"passes", "pass"}, {"skips", "skip"}} {
		i := strings.Index(page, `<details class="fold" id="`+fold.id+`">`)
		j := i + strings.Index(page[i:], "</table>\n</details>")
		inside := page[i:j]
		if n, all := strings.Count(inside, `data-verdict="`+fold.verdict+`"`), strings.Count(inside, `<tr class="case"`); n == 0 || n != all {
			t.Errorf("fold %s holds %d %s rows of %d", fold.id, n, fold.verdict, all)
		}
	}
	if strings.Contains(page, "class=\"fold\" id=\"passes\" open") || strings.Contains(page, `data-verdict="pass"`) &&
		strings.Index(page, `data-verdict="pass"`) < strings.Index(page, `id="passes"`) {
		t.Error("passing cases shown outside their closed fold")
	}
	if strings.Contains(page, `id="stopped"`) {
		t.Error("a complete run has a stopped banner")
	}
	// Only the passes and skips are folded: a clean page has no table outside the fold.
	clean := orderReport()
	clean.Results = []Result{clean.Results[1]}
	buf.Reset()
	if err := clean.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	if page := buf.String(); strings.Count(page, "<table>") != 1 || !strings.Contains(page, `<details class="fold" id="passes"><summary>1 case passed</summary>`) {
		t.Errorf("a clean report is not one folded table of passes:\n%s", page)
	}
}

// A stopped run's page opens with a banner saying so.
func TestReportHTMLStopped(t *testing.T) {
	r := orderReport()
	r.Stopped = "interrupted <by the user>"
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	banner := `<div class="stopped" id="stopped">STOPPED EARLY: interrupted &lt;by the user&gt; — the cases not run are listed as skips</div>`
	if i := strings.Index(page, banner); i < 0 || i > strings.Index(page, `<div class="meta">`) {
		t.Errorf("page lacks the banner %q before everything else:\n%s", banner, page)
	}
}

// A re-run case shows its earlier runs under what the believed run saw.
func TestReportHTMLAttempts(t *testing.T) {
	r := orderReport()
	r.Results[4].Attempts = []Attempt{{WindowMS: 100, TimeoutMS: 1000, Verdict: spec.Fail, Detail: "no <response>"}}
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	want := `<div>actual: got 200</div><div class="attempt">earlier run (window 100ms, timeout 1s): fail — no &lt;response&gt;</div>`
	if !strings.Contains(buf.String(), want) {
		t.Errorf("page lacks %q", want)
	}
}

func TestReportHTML(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{
		"<!DOCTYPE html>", "</html>", "<style>", "<script>",
		`data-verdict="fail" data-section="RFC 9112 §6.1"`,
		`<input type="checkbox" class="fv" value="warn" checked>`,
		`<option value="RFC 9112 §7.1">`, `<option value="conformance">`, // a result without a section is grouped by category
		"<details open><summary>CL &amp; TE &lt;smuggle&gt;</summary>",
		"&lt;/script&gt;&#34;&amp;", // the transcript, escaped
		"fail (quirk: not parsed yet)",
		"panic: &lt;oops&gt;",
		"<li>close without a response</li>",
		`<blockquote class="rfc"><b>RFC 9112 §6.1 MUST</b>: “A server MUST &lt;reject&gt; CL &amp; TE &lt;smuggle&gt;.”</blockquote>`,
		`<blockquote class="rfc"><b>policy</b>: a slow client is cut within &lt;10 s&gt;</blockquote>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	if n := strings.Count(page, `<tr class="case"`); n != 6 {
		t.Errorf("%d case rows; want 6", n)
	}
	if strings.Contains(page, "</script>\"&") || strings.Contains(page, "src=") || strings.Contains(page, "href=") {
		t.Error("HTML report has unescaped transcript bytes or an external resource")
	}
	// Every opened element we rely on is closed.
	for _, tag := range []string{"details", "table", "tr", "td", "pre", "summary", "script", "style"} {
		if o, c := strings.Count(page, "<"+tag+">")+strings.Count(page, "<"+tag+" "), strings.Count(page, "</"+tag+">"); o != c {
			t.Errorf("<%s>: %d opened, %d closed", tag, o, c)
		}
	}
}

func TestReportText(t *testing.T) {
	var buf bytes.Buffer
	r := sampleReport()
	if err := r.WriteText(&buf, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"FAIL   rfc9112/6.1/2", "QUIRK  rfc9112/7.1/1", "WARN   rfc9110/9.3/1", "INFO   rfc9110/15/1",
		"PASS   1 case (-v lists them)\n", "SKIP   1 case: 1 the target's PID is unknown\n",
		"--- fail rfc9112/6.1/2: CL & TE <smuggle>", "      - 400 then close", "    actual: got 200 then close",
		`    sent:     POST / HTTP/1.1\r\nHost: x\r\n⟨split⟩`, "--- fail (quirk: not parsed yet) rfc9112/7.1/1",
		"    rests on:\n      RFC 9112 §6.1 MUST: \u201cA server MUST <reject> CL & TE <smuggle>.\u201d\n    acceptable:",
		"--- warn rfc9110/9.3/1: date\n    RFC 9110 §9.3, SHOULD\n    requirement: the server must <reject> it\n    rests on:\n      policy: a slow client is cut within <10 s>\n",
		"target stderr (srv -p 8080):\n  listening on",
		"\n\n6 cases against 127.0.0.1:8080: 1 pass, 2 fail (1 quirk), 1 warn, 1 info, 1 skip in 1.234s\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q; got:\n%s", want, out)
		}
	}
	for _, bad := range []string{"PASS   rfc9112/3/1", "SKIP   hygiene/zombies", "--- info", "STOPPED", "\x1b["} {
		if strings.Contains(out, bad) {
			t.Errorf("text report without -v holds %q; got:\n%s", bad, out)
		}
	}
	buf.Reset()
	r.WriteText(&buf, TextOptions{Color: true, Verbose: true})
	if !strings.Contains(buf.String(), "\x1b[31m") || !strings.Contains(buf.String(), "info\x1b[0m rfc9110/15/1") {
		t.Error("colour or verbose details missing when asked for")
	}
}

// orderReport has its results in a catalogue order that mixes every verdict.
func orderReport() *Report {
	res := func(id string, v spec.Verdict, detail string) Result {
		return Result{Meta: spec.Meta{ID: id, Category: spec.Conformance, Level: spec.MUST, Title: "title of " + id},
			Verdict: v, Detail: detail}
	}
	quirk := res("c/6", spec.Fail, "known")
	quirk.Quirk = "we know"
	return &Report{Target: targets.Target{Addr: "127.0.0.1:1"}, Results: []Result{
		res("c/1", spec.Info, "figures"), res("c/2", spec.Pass, ""), res("c/3", spec.Warn, "no Date"),
		res("c/4", spec.Skip, "needs an echo endpoint (POST /echo); probe: 404"), res("c/5", spec.Fail, "got 200"),
		quirk, res("c/7", spec.Fail, "got 500"), res("c/8", spec.Pass, ""),
	}}
}

// listing is a text report's case lines, each cut to its verdict and ID (or count), and its
// detail headers cut to verdict and ID.
func listing(t *testing.T, r *Report, opts TextOptions) (lines, details []string) {
	t.Helper()
	var buf bytes.Buffer
	if err := r.WriteText(&buf, opts); err != nil {
		t.Fatal(err)
	}
	lineRE := regexp.MustCompile(`^(FAIL|QUIRK|WARN|INFO|PASS|SKIP) +(\S+)`)
	detailRE := regexp.MustCompile(`^--- (\w+)(?: \(quirk: [^)]*\))? (\S+):`)
	for _, l := range strings.Split(buf.String(), "\n") {
		if m := lineRE.FindStringSubmatch(l); m != nil {
			lines = append(lines, m[1]+" "+m[2])
		}
		if m := detailRE.FindStringSubmatch(l); m != nil {
			details = append(details, m[1]+" "+m[2])
		}
	}
	return lines, details
}

// A person reads a report from the top: fails, then warns and quirks, then info, each in
// catalogue order; passes and skips are counted unless -v lists them; details follow suit.
func TestReportTextOrder(t *testing.T) {
	r := orderReport()
	lines, details := listing(t, r, TextOptions{})
	want := []string{"FAIL c/5", "FAIL c/7", "WARN c/3", "QUIRK c/6", "INFO c/1", "PASS 2", "SKIP 1"}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("case lines = %q; want %q", lines, want)
	}
	if want := []string{"fail c/5", "fail c/7", "warn c/3", "fail c/6"}; !reflect.DeepEqual(details, want) {
		t.Errorf("detail headers = %q; want %q", details, want)
	}
	lines, details = listing(t, r, TextOptions{Verbose: true})
	want = []string{"FAIL c/5", "FAIL c/7", "WARN c/3", "QUIRK c/6", "INFO c/1", "PASS c/2", "PASS c/8", "SKIP c/4"}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("verbose case lines = %q; want %q", lines, want)
	}
	if want := []string{"fail c/5", "fail c/7", "warn c/3", "fail c/6", "info c/1", "skip c/4"}; !reflect.DeepEqual(details, want) {
		t.Errorf("verbose detail headers = %q; want %q", details, want)
	}
	var buf bytes.Buffer
	r.WriteText(&buf, TextOptions{})
	if !strings.Contains(buf.String(), "\nPASS   2 cases (-v lists them)\nSKIP   1 case: 1 needs an echo endpoint\n") {
		t.Errorf("passes and skips not counted on one line each:\n%s", buf.String())
	}
}

func TestReportTextSkipReasons(t *testing.T) {
	skips := func(details ...string) []Result {
		var rs []Result
		for _, d := range details {
			rs = append(rs, Result{Verdict: spec.Skip, Detail: d})
		}
		return rs
	}
	for _, tt := range []struct {
		skips []Result
		max   int
		want  string
	}{
		{skips("needs an echo endpoint (POST /echo returns the body); probe: 404",
			"needs persistent connections (a second request); probe: close", "needs an echo endpoint (x)"),
			0, "2 needs an echo endpoint, 1 needs persistent connections"},
		// "not run" comes first whatever its count, so a stopped run says how much it left out.
		{skips("a", "a", "b", "not run: target died", "c", "c", "c"), 0, "1 not run, 3 c, 2 a, 1 b"},
		{skips("a", "a", "b", "not run: target died", "c", "c", "c"), 2, "1 not run, 3 c, 3 other"},
		// Naming the last reason takes no more room than "1 other".
		{skips("a", "a", "b"), 1, "2 a, 1 b"},
		{skips("", "not judged: got 200 then close; the server announced close", "the target's PID is unknown"), 0,
			"1 no reason given, 1 not judged, 1 the target's PID is unknown"},
	} {
		if got := skipReasons(tt.skips, tt.max); got != tt.want {
			t.Errorf("skipReasons(max %d) = %q; want %q", tt.max, got, tt.want)
		}
	}
}

// A run that stopped early says so first and last, so the report never reads as complete.
func TestReportTextStopped(t *testing.T) {
	r := orderReport()
	r.Stopped = "the target exited (exit status 2)"
	r.Results = append(r.Results,
		Result{Meta: spec.Meta{ID: "c/9"}, Verdict: spec.Skip, Detail: "not run: the target exited"},
		Result{Meta: spec.Meta{ID: "c/10"}, Verdict: spec.Skip, Detail: "not run: the target exited"})
	var buf bytes.Buffer
	if err := r.WriteText(&buf, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	banner := "STOPPED EARLY: the target exited (exit status 2) \u2014 the cases not run are listed as skips\n"
	if !strings.HasPrefix(out, banner+"\n") {
		t.Errorf("text report does not open with the banner:\n%s", out)
	}
	if !strings.Contains(out, "\n"+banner+"10 cases against 127.0.0.1:1: ") {
		t.Errorf("banner not repeated just above the summary:\n%s", out)
	}
	if !strings.Contains(out, "SKIP   3 cases: 2 not run, 1 needs an echo endpoint\n") {
		t.Errorf("skip line does not count the cases not run:\n%s", out)
	}
}

// A re-run case shows what each earlier run saw, under what the believed run saw.
func TestReportTextAttempts(t *testing.T) {
	r := orderReport()
	r.Results[4].Attempts = []Attempt{
		{WindowMS: 100, TimeoutMS: 1000, Verdict: spec.Fail, Detail: "no response within 1s"},
		{WindowMS: 400, TimeoutMS: 4000, Verdict: spec.Warn},
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "    actual: got 200\n" +
		"      earlier run (window 100ms, timeout 1s): fail \u2014 no response within 1s\n" +
		"      earlier run (window 400ms, timeout 4s): warn\n"
	if !strings.Contains(buf.String(), want) {
		t.Errorf("text report lacks the earlier runs %q:\n%s", want, buf.String())
	}
}

// hostile is text a target can put in a report (wire transcripts hold any byte): markup, both
// quotes, a CDATA end, control bytes, invalid UTF-8, non-characters, CRLF and tabs.
const hostile = "<script>alert(1)</script>\" onmouseover=\"x' onclick='y <img src=x> ]]> &amp; \x00\x01\x08\x0b\x0c\x1b\x7f" +
	"\xff\xfe\xc3\x28\xed\xa0\x80 \uFFFE\uFFFF \uFFFD \U0001F600 \r\n\t\rend"

// hostileReport puts hostile text in every field a report interpolates.
func hostileReport() *Report {
	h := func(s string) string { return s + hostile }
	r := sampleReport()
	r.Target.Addr, r.Target.Cmd, r.Version = h("addr"), h("cmd"), h("v")
	r.TargetStderr = h("stderr")
	for i := range r.Results {
		res := &r.Results[i]
		res.ID, res.Title, res.Requirement, res.Detail = h("id"), h("title"), h("req"), h("detail")
		res.Level = spec.Level(h("level"))
		res.Outcomes = []string{h("outcome")}
		res.Sentences = []spec.Sentence{{Ref: h("ref"), Keyword: spec.MUST, Text: h("sentence")}}
		res.Policy = h("policy")
		res.Wire = &Wire{Sent: h("sent"), Received: h("received")}
		if res.Section != "" {
			res.Section = h("section")
		}
	}
	r.Results[2].Quirk = h("quirk")
	r.Stopped = h("stopped")
	r.Results[1].Attempts = []Attempt{{WindowMS: 1, TimeoutMS: 2, Verdict: spec.Fail, Detail: h("attempt")}}
	return r
}

// xmlClean is what an XML parser must give back for s: every byte that is not part of a
// well-formed XML 1.0 character replaced by U+FFFD (ranging over a string yields one
// utf8.RuneError per invalid byte).
func xmlClean(s string) string {
	var b strings.Builder
	for _, r := range s {
		legal := r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
		if !legal {
			r = '\uFFFD'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// parseXMLStrict reads the whole document with the strict decoder, so any error anywhere fails.
func parseXMLStrict(t testing.TB, doc []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("XML does not parse: %v\n%q", err, doc)
		}
	}
}

func TestReportJUnitHostileContent(t *testing.T) {
	r := hostileReport()
	var buf bytes.Buffer
	if err := r.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	parseXMLStrict(t, buf.Bytes())
	var doc struct {
		Name   string `xml:"name,attr"`
		Suites []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
			SystemErr string `xml:"system-err"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%q", err, buf.Bytes())
	}
	check := func(what, got, want string) {
		t.Helper()
		if got != xmlClean(want) {
			t.Errorf("%s round-trips as\n%q; want\n%q", what, got, xmlClean(want))
		}
	}
	check("testsuites name", doc.Name, "forkproof "+r.Target.Addr)
	if len(doc.Suites) != 2 || len(doc.Suites[0].Cases) != 5 {
		t.Fatalf("suites = %+v; want 2, the first with 5 cases", doc.Suites)
	}
	check("system-err", doc.Suites[0].SystemErr, r.TargetStderr)
	fail, res := doc.Suites[0].Cases[1], r.Results[1]
	check("testcase name", fail.Name, res.ID+": "+res.Title)
	if fail.Failure == nil {
		t.Fatalf("failing case has no <failure>: %+v", fail)
	}
	check("failure message", fail.Failure.Message, res.Detail)
	check("failure type", fail.Failure.Type, string(res.Level))
	grounds := "rests on:\n  " + res.Sentences[0].Ref + " MUST: \u201c" + res.Sentences[0].Text + "\u201d\n  policy: " + res.Policy + "\n"
	check("failure text", fail.Failure.Text, grounds+"acceptable:\n  - "+res.Outcomes[0]+"\nactual: "+res.Detail+"\n")
	check("system-out", fail.SystemOut, res.Section+", "+string(res.Level)+"\nverdict: fail\n"+grounds+"detail: "+res.Detail+
		"\nsent:     "+res.Wire.Sent+"\nreceived: "+res.Wire.Received+"\n")
	quirked := doc.Suites[0].Cases[2]
	if quirked.Skipped == nil {
		t.Fatalf("quirked case has no <skipped>: %+v", quirked)
	}
	check("skipped message", quirked.Skipped.Message, "known failure (quirk): "+r.Results[2].Quirk)
	// The raw document has no byte an XML parser would refuse or reinterpret.
	if i := strings.IndexFunc(buf.String(), func(r rune) bool { return r < 0x20 && r != '\n' || r == 0xFFFE || r == 0xFFFF }); i >= 0 {
		t.Errorf("raw control or non-character at %d: %q", i, buf.String()[max(0, i-20):i+1])
	}
	if strings.Contains(buf.String(), "]]>") || !bytes.Contains(buf.Bytes(), []byte("]]&gt;")) {
		t.Error("a CDATA end in the data is not escaped")
	}
}

// TestXMLEscapeAnyBytes: whatever bytes a string holds, escaped as an attribute value and as
// text it parses with the strict decoder and reads back as the string with its illegal
// characters replaced.
func TestReportXMLEscapeAnyBytes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := string(rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(t, "bytes"))
		if rapid.Bool().Draw(t, "text") {
			s = rapid.String().Draw(t, "string") + s
		}
		doc := `<a v="` + xmlEscape(s) + `">` + xmlEscape(s) + `</a>`
		var got struct {
			V    string `xml:"v,attr"`
			Text string `xml:",chardata"`
		}
		if err := xml.Unmarshal([]byte(doc), &got); err != nil {
			t.Fatalf("escaped %q does not parse: %v\n%q", s, err, doc)
		}
		if want := xmlClean(s); got.V != want || got.Text != want {
			t.Fatalf("%q round-trips as attribute %q, text %q; want %q", s, got.V, got.Text, want)
		}
	})
}

func TestReportJUnitEmpty(t *testing.T) {
	var buf bytes.Buffer
	r := &Report{Target: targets.Target{Addr: "127.0.0.1:1"}}
	if err := r.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	want := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" +
		`<testsuites name="forkproof 127.0.0.1:1" tests="0" failures="0" skipped="0" time="0.000"></testsuites>` + "\n"
	if buf.String() != want {
		t.Errorf("empty report:\n%s\nwant:\n%s", buf.String(), want)
	}
	parseXMLStrict(t, buf.Bytes())
}

func TestReportHTMLHostileContent(t *testing.T) {
	r := hostileReport()
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script>alert", "</script>\"", "<img", `" onmouseover`, "' onclick", "]]>"} {
		if strings.Contains(page, bad) {
			t.Errorf("HTML report holds unescaped data %q", bad)
		}
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d <script> elements; want only the page's own", n)
	}
	// Every tag in the page is one the writer makes, with attributes it makes: the data added
	// none. Data cannot hold a raw '<', '>' or quote, so a tag ends at the first '>' and a
	// quoted value at the next quote.
	allowedTags := map[string]bool{"!DOCTYPE": true, "html": true, "head": true, "meta": true, "title": true, "style": true,
		"body": true, "h1": true, "div": true, "code": true, "br": true, "span": true, "label": true, "input": true,
		"select": true, "option": true, "table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
		"details": true, "summary": true, "p": true, "ul": true, "li": true, "pre": true, "script": true,
		"blockquote": true, "b": true}
	allowedAttrs := map[string]bool{"html": true, "lang": true, "charset": true, "class": true, "id": true, "type": true,
		"value": true, "checked": true, "data-verdict": true, "data-section": true, "open": true}
	tagRE := regexp.MustCompile(`<(/?)([^\s>/]+)([^>]*)>`)
	attrRE := regexp.MustCompile(`\s+([^\s="]+)(="[^"]*")?`)
	sections := map[string]bool{}
	for _, m := range tagRE.FindAllStringSubmatch(page, -1) {
		if !allowedTags[m[2]] {
			t.Errorf("unexpected tag %q", m[0])
			continue
		}
		rest := m[3]
		for _, a := range attrRE.FindAllStringSubmatch(rest, -1) {
			if !allowedAttrs[a[1]] {
				t.Errorf("unexpected attribute %q in %q", a[1], m[0])
			}
			if a[1] == "data-section" {
				sections[html.UnescapeString(strings.Trim(a[2], `="`))] = true
			}
		}
		if leftover := strings.TrimSpace(attrRE.ReplaceAllString(rest, "")); leftover != "" {
			t.Errorf("tag %q has stray text %q", m[0], leftover)
		}
	}
	// Attribute values decode back to the data.
	if !sections["section"+hostile] || !sections["conformance"] {
		t.Errorf("data-section values %v; want the hostile section and the category", sections)
	}
	// Text decodes back to the data.
	for _, want := range []string{"title" + hostile, "sent" + hostile, "sentence" + hostile, "policy" + hostile, "stderr" + hostile, "fail (quirk: quirk" + hostile + ")",
		"STOPPED EARLY: stopped" + hostile, "fail \u2014 attempt" + hostile} {
		if !strings.Contains(html.UnescapeString(page), want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	if n := strings.Count(page, `<tr class="case"`); n != 6 {
		t.Errorf("%d case rows; want 6", n)
	}
}

// A JSON report reads back as the report that wrote it (what JSON carries of it).
func TestReportJSONRoundTrip(t *testing.T) {
	r := sampleReport()
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := *r
	want.TargetStderr = "" // not in JSON
	want.Results = append([]Result(nil), r.Results...)
	for i := range want.Results {
		want.Results[i].Duration = want.Results[i].Duration.Truncate(time.Millisecond)
	}
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("ReadJSON(WriteJSON(r)) =\n%+v\nwant\n%+v", got, &want)
	}
	for _, bad := range []string{``, `{"tool":"other"}`, `{"tool":"forkproof","started":"yesterday"}`, `[1,2]`} {
		if _, err := ReadJSON(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadJSON(%q) = nil error; want one", bad)
		}
	}
}
