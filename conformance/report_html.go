package conformance

import (
	"html"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/forkproof/forkproof/spec"
)

// The HTML report is written by hand rather than with html/template: every forked child of the
// reference server re-executes this binary and runs its package initialisers, and html/template's
// cost a few percent of each child's CPU. Every interpolated value goes through esc.

// WriteHTML writes the report as one self-contained page (inline CSS; a little JS for the
// filters, which the page does not need): a banner when the run stopped early, the summary,
// filters by verdict and by section, then one row per fail, per warn and quirk, per info, with
// its requirement, outcomes and wire transcript in <details>, open on fails and warns; the
// passes and the skips are folded in a closed <details> each, their count in its summary.
func (r *Report) WriteHTML(w io.Writer) error {
	sections := map[string]bool{}
	for _, res := range r.Results {
		sections[sectionKey(res)] = true
	}
	var secs []string
	for s := range sections {
		secs = append(secs, s)
	}
	sort.Strings(secs)
	sum := r.Summary()

	var b strings.Builder
	b.WriteString(htmlHead)
	b.WriteString("<title>forkproof report: " + esc(r.Target.Addr) + "</title>\n")
	b.WriteString(strings.Replace(htmlStyle, "</style>", reportStyle+"</style>", 1))
	if r.Stopped != "" {
		b.WriteString(`<div class="stopped" id="stopped">` + esc(r.StoppedBanner()) + "</div>\n")
	}
	b.WriteString(`<div class="meta">target <code>` + esc(r.Target.Addr) + "</code>")
	if r.Target.PID != 0 {
		b.WriteString(" pid " + strconv.Itoa(r.Target.PID))
	}
	if r.Target.Cmd != "" {
		b.WriteString(" — <code>" + esc(r.Target.Cmd) + "</code>")
	}
	b.WriteString("<br>\nstarted " + esc(r.Started.Format(time.RFC3339)) + ", " +
		esc(r.Duration.Round(time.Millisecond).String()) + ", forkproof " + esc(r.Version) + "</div>\n")

	b.WriteString("<div class=\"summary\" id=\"summary\">\n")
	b.WriteString(`<span class="v-pass">` + strconv.Itoa(sum.Pass) + ` pass</span><span class="v-fail">` + strconv.Itoa(sum.Fail) + " fail")
	if sum.Quirk != 0 {
		b.WriteString(" (" + strconv.Itoa(sum.Quirk) + " quirk)")
	}
	b.WriteString(`</span><span class="v-warn">` + strconv.Itoa(sum.Warn) + ` warn</span><span class="v-info">` + strconv.Itoa(sum.Info) +
		` info</span><span class="v-skip">` + strconv.Itoa(sum.Skip) + " skip</span>\n</div>\n")

	// The filters narrow what is shown; the passes and skips are already folded away.
	b.WriteString("<div class=\"filters\">\n")
	for _, v := range []spec.Verdict{spec.Fail, spec.Warn, spec.Info, spec.Skip, spec.Pass} {
		b.WriteString(`<label><input type="checkbox" class="fv" value="` + esc(string(v)) + `" checked> ` + esc(string(v)) + "</label>\n")
	}
	b.WriteString("<label>section <select id=\"fs\"><option value=\"\">all</option>\n")
	for _, s := range secs {
		b.WriteString(`<option value="` + esc(s) + `">` + esc(s) + "</option>\n")
	}
	b.WriteString("</select></label>\n<span id=\"shown\"></span>\n</div>\n")

	var listed, passes, skips []Result
	for _, res := range readingOrder(r.Results) {
		switch {
		case res.Verdict == spec.Pass:
			passes = append(passes, res)
		case res.Verdict == spec.Skip:
			skips = append(skips, res)
		default:
			listed = append(listed, res)
		}
	}
	if len(listed) > 0 {
		writeHTMLTable(&b, listed)
	}
	if len(passes) > 0 {
		b.WriteString(`<details class="fold" id="passes"><summary>` + cases(len(passes)) + " passed</summary>\n")
		writeHTMLTable(&b, passes)
		b.WriteString("</details>\n")
	}
	if len(skips) > 0 {
		b.WriteString(`<details class="fold" id="skips"><summary>` + cases(len(skips)) + " skipped: " +
			esc(skipReasons(skips, 0)) + "</summary>\n")
		writeHTMLTable(&b, skips)
		b.WriteString("</details>\n")
	}
	if r.TargetStderr != "" {
		b.WriteString("<details><summary>target stderr</summary><pre>" + esc(r.TargetStderr) + "</pre></details>")
	}
	b.WriteString(htmlScript)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeHTMLTable writes a table of cases, one row each.
func writeHTMLTable(b *strings.Builder, results []Result) {
	b.WriteString("<table>\n<thead><tr><th>verdict</th><th>case</th><th>section</th><th>level</th><th>title and details</th><th>ms</th></tr></thead>\n<tbody>\n")
	for _, res := range results {
		writeHTMLRow(b, res)
	}
	b.WriteString("</tbody>\n</table>\n")
}

// writeHTMLRow writes one case's table row.
func writeHTMLRow(b *strings.Builder, res Result) {
	v := esc(string(res.Verdict))
	b.WriteString(`<tr class="case" data-verdict="` + v + `" data-section="` + esc(sectionKey(res)) + "\">\n")
	b.WriteString(`<td class="v"><span class="v-` + v + `">` + esc(VerdictLabel(res)) + "</span></td>\n")
	b.WriteString("<td><code>" + esc(res.ID) + "</code></td><td>" + esc(res.Section) + "</td><td>" + esc(string(res.Level)) + "</td>\n")
	b.WriteString("<td><details")
	if res.Verdict == spec.Fail || res.Verdict == spec.Warn {
		b.WriteString(" open")
	}
	b.WriteString("><summary>" + esc(res.Title) + "</summary>\n")
	if res.Requirement != "" {
		b.WriteString("<p>" + esc(res.Requirement) + "</p>")
	}
	b.WriteString("\n")
	writeHTMLGrounds(b, res.Meta)
	if len(res.Outcomes) > 0 {
		b.WriteString("<div>acceptable:<ul>")
		for _, o := range res.Outcomes {
			b.WriteString("<li>" + esc(o) + "</li>")
		}
		b.WriteString("</ul></div>")
	}
	b.WriteString("\n")
	if res.Detail != "" {
		b.WriteString("<div>actual: " + esc(res.Detail) + "</div>")
	}
	for _, a := range res.Attempts {
		b.WriteString(`<div class="attempt">` + esc(AttemptLine(a)) + "</div>")
	}
	b.WriteString("\n")
	if res.Wire != nil {
		b.WriteString(`<details><summary>wire transcript</summary><pre class="sent">sent: ` + esc(res.Wire.Sent) +
			`</pre><pre class="received">received: ` + esc(res.Wire.Received) + "</pre></details>")
	}
	b.WriteString("\n</details></td>\n<td>" + strconv.FormatInt(res.Duration.Milliseconds(), 10) + "</td>\n</tr>\n")
}

// writeHTMLGrounds writes the sentences (or the policy) a case's grade rests on.
func writeHTMLGrounds(b *strings.Builder, m spec.Meta) {
	for _, s := range m.Sentences {
		b.WriteString(`<blockquote class="rfc"><b>` + esc(s.Ref) + " " + esc(string(s.Keyword)) + "</b>: \u201c" + esc(s.Text) + "\u201d</blockquote>\n")
	}
	if m.Policy != "" {
		b.WriteString(`<blockquote class="rfc"><b>policy</b>: ` + esc(m.Policy) + "</blockquote>\n")
	}
}

// esc escapes s for HTML text and for a double- or single-quoted attribute value.
func esc(s string) string { return html.EscapeString(s) }

// sectionKey groups results for the section filter: the RFC section, else the category.
func sectionKey(res Result) string {
	if res.Section != "" {
		return res.Section
	}
	return string(res.Category)
}

const htmlHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
`

const htmlStyle = `<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em;margin:0 0 .3em}
.meta{color:#555;margin-bottom:1em}
.summary span{display:inline-block;padding:.2em .6em;margin-right:.4em;border-radius:4px;color:#fff}
.v-pass{background:#2e7d32}.v-fail{background:#c62828}.v-warn{background:#ef6c00}.v-info{background:#0277bd}.v-skip{background:#757575}
.filters{margin:1em 0;padding:.6em;background:#f4f4f4;border-radius:4px}
.filters label{margin-right:1em}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:.3em .5em;border-bottom:1px solid #ddd;vertical-align:top}
td.v span{color:#fff;padding:.1em .4em;border-radius:3px;font-size:.9em;white-space:nowrap}
code,pre{font-family:ui-monospace,monospace;font-size:.9em}
pre{white-space:pre-wrap;word-break:break-all;background:#fafafa;border:1px solid #eee;padding:.4em;margin:.3em 0}
details summary{cursor:pointer}
tr.hidden{display:none}
blockquote.rfc{margin:.3em 0;padding:.2em .6em;border-left:3px solid #999;background:#f7f7f7}
</style>
</head>
<body>
<h1>forkproof report</h1>
`

// reportStyle is the report's own CSS (the matrix shares htmlStyle, not this).
const reportStyle = `.stopped{margin:.5em 0 1em;padding:.8em 1em;background:#c62828;color:#fff;font-weight:bold;font-size:1.1em;border-radius:4px}
details.fold{margin:1em 0}
details.fold>summary{font-weight:bold;padding:.3em 0}
div.attempt{color:#555;margin-left:1em}
`

const htmlScript = `
<script>
(function(){
  var boxes=document.querySelectorAll('input.fv'), sel=document.getElementById('fs');
  function apply(){
    var on={}, n=0, rows=document.querySelectorAll('tr.case');
    boxes.forEach(function(b){on[b.value]=b.checked;});
    rows.forEach(function(tr){
      var show=on[tr.dataset.verdict] && (!sel.value || tr.dataset.section===sel.value);
      tr.classList.toggle('hidden',!show); if(show)n++;
    });
    document.getElementById('shown').textContent=n+' of '+rows.length+' shown';
  }
  boxes.forEach(function(b){b.addEventListener('change',apply);});
  sel.addEventListener('change',apply);
  apply();
})();
</script>
</body>
</html>
`
