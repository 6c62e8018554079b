package conformance

import (
	"html/template"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/forkproof/forkproof/spec"
)

// WriteHTML writes the report as one self-contained page (inline CSS and JS, no external
// resources): the summary, filters by verdict and by section, one row per case with its
// requirement, outcomes and wire transcript folded in <details>.
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
	data := struct {
		R        *Report
		Summary  Summary
		Started  string
		Duration string
		Sections []string
		Verdicts []spec.Verdict
	}{r, r.Summary(), r.Started.Format(time.RFC3339), r.Duration.Round(time.Millisecond).String(), secs,
		[]spec.Verdict{spec.Fail, spec.Warn, spec.Info, spec.Skip, spec.Pass}}
	return htmlReport().Execute(w, data)
}

// sectionKey groups results for the section filter: the RFC section, else the category.
func sectionKey(res Result) string {
	if res.Section != "" {
		return res.Section
	}
	return string(res.Category)
}

// htmlReport is parsed on first use: every forked child of the reference server runs this
// binary's package initialisers, and none of them writes a report.
var htmlReport = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"section": sectionKey,
		"label":   VerdictLabel,
		"ms":      func(d time.Duration) int64 { return d.Milliseconds() },
		"open":    func(v spec.Verdict) bool { return v == spec.Fail || v == spec.Warn },
	}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>forkproof report: {{.R.Target.Addr}}</title>
<style>
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
</style>
</head>
<body>
<h1>forkproof report</h1>
<div class="meta">target <code>{{.R.Target.Addr}}</code>{{if .R.Target.PID}} pid {{.R.Target.PID}}{{end}}{{if .R.Target.Cmd}} — <code>{{.R.Target.Cmd}}</code>{{end}}<br>
started {{.Started}}, {{.Duration}}, forkproof {{.R.Version}}</div>
<div class="summary" id="summary">
<span class="v-pass">{{.Summary.Pass}} pass</span><span class="v-fail">{{.Summary.Fail}} fail{{if .Summary.Quirk}} ({{.Summary.Quirk}} quirk){{end}}</span><span class="v-warn">{{.Summary.Warn}} warn</span><span class="v-info">{{.Summary.Info}} info</span><span class="v-skip">{{.Summary.Skip}} skip</span>
</div>
<div class="filters">
{{range .Verdicts}}<label><input type="checkbox" class="fv" value="{{.}}" checked> {{.}}</label>
{{end}}<label>section <select id="fs"><option value="">all</option>
{{range .Sections}}<option value="{{.}}">{{.}}</option>
{{end}}</select></label>
<span id="shown"></span>
</div>
<table>
<thead><tr><th>verdict</th><th>case</th><th>section</th><th>level</th><th>title and details</th><th>ms</th></tr></thead>
<tbody>
{{range .R.Results}}<tr class="case" data-verdict="{{.Verdict}}" data-section="{{section .}}">
<td class="v"><span class="v-{{.Verdict}}">{{label .}}</span></td>
<td><code>{{.ID}}</code></td><td>{{.Section}}</td><td>{{.Level}}</td>
<td><details{{if open .Verdict}} open{{end}}><summary>{{.Title}}</summary>
{{if .Requirement}}<p>{{.Requirement}}</p>{{end}}
{{if .Outcomes}}<div>acceptable:<ul>{{range .Outcomes}}<li>{{.}}</li>{{end}}</ul></div>{{end}}
{{if .Detail}}<div>actual: {{.Detail}}</div>{{end}}
{{if .Wire}}<details><summary>wire transcript</summary><pre class="sent">sent: {{.Wire.Sent}}</pre><pre class="received">received: {{.Wire.Received}}</pre></details>{{end}}
</details></td>
<td>{{ms .Duration}}</td>
</tr>
{{end}}</tbody>
</table>
{{if .R.TargetStderr}}<details><summary>target stderr</summary><pre>{{.R.TargetStderr}}</pre></details>{{end}}
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
`))
})
