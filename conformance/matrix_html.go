package conformance

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/forkproof/forkproof/spec"
)

// WriteHTML writes the matrix as one self-contained page (inline CSS and JS): the summary of
// sections × servers, the cases × servers with verdict colours, every cell linking to that
// server's entry for the case — details, sentences, acceptable outcomes and the whole wire
// transcript — listed per server, fails, warns and skips first.
func (m *Matrix) WriteHTML(w io.Writer) error {
	var b strings.Builder
	b.WriteString(htmlHead)
	b.WriteString("<title>forkproof interop matrix</title>\n")
	style := strings.Replace(htmlStyle, "</style>", matrixStyle+"</style>", 1)
	b.WriteString(strings.Replace(style, "<h1>forkproof report</h1>", "<h1>forkproof interop matrix</h1>", 1))
	b.WriteString(`<div class="meta">`)
	for _, col := range m.Columns {
		r := col.Report
		s := r.Summary()
		b.WriteString("<b>" + esc(col.Name) + "</b>: <code>" + esc(r.Target.Addr))
		if r.Target.Cmd != "" {
			b.WriteString(" — " + esc(r.Target.Cmd))
		}
		b.WriteString("</code> " + strconv.Itoa(s.Pass) + " pass, " + strconv.Itoa(s.Fail) + " fail, " +
			strconv.Itoa(s.Warn) + " warn, " + strconv.Itoa(s.Info) + " info, " + strconv.Itoa(s.Skip) +
			" skip; started " + esc(r.Started.Format(time.RFC3339)) + ", forkproof " + esc(r.Version) + "<br>\n")
	}
	b.WriteString("</div>\n")

	b.WriteString("<h2>Sections × servers</h2>\n<table class=\"m\">\n<thead><tr><th>section</th>")
	matrixHeads(&b, m.Columns)
	b.WriteString("</tr></thead>\n<tbody>\n")
	for g, grp := range m.Groups {
		b.WriteString(`<tr><td><a href="#g` + strconv.Itoa(g) + `">` + esc(grp.Name) + "</a></td>")
		for c := range m.Columns {
			n := m.groupCounts(g, c)
			b.WriteString(`<td class="n">`)
			if n.total() == 0 {
				b.WriteString("–")
			}
			for i, v := range verdictOrder {
				if n[i] > 0 {
					b.WriteString(`<span class="v-` + string(v) + `" title="` + string(v) + `">` + strconv.Itoa(n[i]) + "</span>")
				}
			}
			b.WriteString("</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")

	b.WriteString("<h2>Cases × servers</h2>\n<table class=\"m\">\n<thead><tr><th>case</th><th>level</th><th>title</th>")
	matrixHeads(&b, m.Columns)
	b.WriteString("</tr></thead>\n<tbody>\n")
	for g, grp := range m.Groups {
		b.WriteString(`<tr class="g" id="g` + strconv.Itoa(g) + `"><th colspan="` + strconv.Itoa(3+len(m.Columns)) + `">` + esc(grp.Name) + "</th></tr>\n")
		for _, row := range grp.Rows {
			b.WriteString("<tr><td><code>" + esc(row.Meta.ID) + "</code></td><td>" + esc(string(row.Meta.Level)) + "</td><td>" + esc(row.Meta.Title) + "</td>")
			for c, res := range row.Cells {
				if res == nil {
					b.WriteString(`<td class="c">–</td>`)
					continue
				}
				b.WriteString(`<td class="c"><a class="v-` + esc(string(res.Verdict)) + `" href="#` + anchor(c, res.ID) + `">` + esc(string(res.Verdict)) + "</a></td>")
			}
			b.WriteString("</tr>\n")
		}
	}
	b.WriteString("</tbody>\n</table>\n")

	b.WriteString("<h2>Per server</h2>\n")
	for c, col := range m.Columns {
		b.WriteString("<h3>" + esc(col.Name) + "</h3>\n")
		for _, v := range verdictOrder {
			for i := range col.Report.Results {
				res := &col.Report.Results[i]
				if res.Verdict != v {
					continue
				}
				b.WriteString(`<details class="r" id="` + anchor(c, res.ID) + `"`)
				if v == spec.Fail || v == spec.Warn {
					b.WriteString(" open")
				}
				b.WriteString(`><summary><span class="v-` + esc(string(v)) + `">` + esc(VerdictLabel(*res)) + "</span> <code>" +
					esc(res.ID) + "</code> " + esc(res.Title) + "</summary>\n")
				writeHTMLGrounds(&b, res.Meta)
				if len(res.Outcomes) > 0 {
					b.WriteString("<div>acceptable:<ul>")
					for _, o := range res.Outcomes {
						b.WriteString("<li>" + esc(o) + "</li>")
					}
					b.WriteString("</ul></div>\n")
				}
				if res.Detail != "" {
					b.WriteString("<div>actual: " + esc(res.Detail) + "</div>\n")
				}
				if res.Wire != nil {
					b.WriteString(`<pre class="sent">sent: ` + esc(res.Wire.Sent) + `</pre><pre class="received">received: ` + esc(res.Wire.Received) + "</pre>\n")
				}
				b.WriteString("</details>\n")
			}
		}
	}
	b.WriteString(matrixScript)
	_, err := io.WriteString(w, b.String())
	return err
}

func matrixHeads(b *strings.Builder, cols []Column) {
	for _, col := range cols {
		b.WriteString("<th>" + esc(col.Name) + "</th>")
	}
}

const matrixStyle = `table.m{width:auto}
table.m td.c,table.m td.n{text-align:center}
table.m a[class^="v-"],table.m td.n span{color:#fff;padding:.1em .4em;border-radius:3px;text-decoration:none;font-size:.9em;margin:0 .1em}
tr.g th{background:#eee}
details.r{margin:.3em 0;padding:.2em .5em;border-left:3px solid #ddd}
details.r summary span{color:#fff;padding:.1em .4em;border-radius:3px}
details.r:target{border-left-color:#333;background:#fffbe6}
`

// matrixScript opens the entry a cell links to (a closed <details> would hide it).
const matrixScript = `
<script>
(function(){
  function open(){var d=location.hash&&document.getElementById(location.hash.slice(1));if(d&&d.tagName==='DETAILS')d.open=true;}
  window.addEventListener('hashchange',open);open();
})();
</script>
</body>
</html>
`
