package conformance

import (
	"fmt"
	"io"
	"net"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
)

// A matrix shows several reports side by side — one column per server, one row per case,
// rows grouped by RFC section — the way Autobahn|Testsuite lets users compare WebSocket
// implementations. Like the HTML report it is written by hand (see report_html.go).

// Column is one server's report in a matrix.
type Column struct {
	Name   string
	Report *Report
}

// Matrix is reports laid side by side.
type Matrix struct {
	Columns []Column
	Groups  []MatrixGroup
}

// MatrixGroup is the rows of one RFC section (or robustness scenario, or hygiene).
type MatrixGroup struct {
	Name string
	Rows []MatrixRow
}

// MatrixRow is one case: its description (from the first report that ran it) and, per column,
// the result, nil where that report lacks the case.
type MatrixRow struct {
	Meta  spec.Meta
	Cells []*Result
}

// NewMatrix lays the columns' results side by side. Cases appear in the order the reports list
// them (the catalogue's), a case only some reports ran in the place its first report gives it.
func NewMatrix(cols []Column) *Matrix {
	m := &Matrix{Columns: cols}
	groupIndex := map[string]int{}
	type at struct{ g, r int }
	rowIndex := map[string]at{}
	for c, col := range cols {
		for i := range col.Report.Results {
			res := &col.Report.Results[i]
			pos, ok := rowIndex[res.ID]
			if !ok {
				name := groupName(res.Meta)
				g, ok := groupIndex[name]
				if !ok {
					g = len(m.Groups)
					groupIndex[name] = g
					m.Groups = append(m.Groups, MatrixGroup{Name: name})
				}
				pos = at{g, len(m.Groups[g].Rows)}
				rowIndex[res.ID] = pos
				m.Groups[g].Rows = append(m.Groups[g].Rows, MatrixRow{Meta: res.Meta, Cells: make([]*Result, len(cols))})
			}
			m.Groups[pos.g].Rows[pos.r].Cells[c] = res
		}
	}
	return m
}

// groupName is the RFC section of a case; a robustness scenario without one is grouped by its
// scenario ("robust/large"), and hygiene checks together.
func groupName(meta spec.Meta) string {
	switch {
	case meta.Section != "":
		return meta.Section
	case meta.Category == spec.Hygiene:
		return "hygiene"
	}
	if i := strings.Index(meta.ID, "/"); i >= 0 {
		if j := strings.Index(meta.ID[i+1:], "/"); j >= 0 {
			return meta.ID[:i+1+j]
		}
	}
	return string(meta.Category)
}

// counts tallies verdicts: indexed by verdictOrder's position.
type counts [5]int

// verdictOrder is the order verdicts are counted and listed in: what needs attention first.
var verdictOrder = [...]spec.Verdict{spec.Fail, spec.Warn, spec.Skip, spec.Info, spec.Pass}

func verdictIndex(v spec.Verdict) int {
	for i, o := range verdictOrder {
		if o == v {
			return i
		}
	}
	return -1
}

func (c *counts) add(v spec.Verdict) {
	if i := verdictIndex(v); i >= 0 {
		c[i]++
	}
}

func (c counts) total() int { return c[0] + c[1] + c[2] + c[3] + c[4] }

// groupCounts tallies the verdicts of group g in column c.
func (m *Matrix) groupCounts(g, c int) counts {
	var n counts
	for _, row := range m.Groups[g].Rows {
		if res := row.Cells[c]; res != nil {
			n.add(res.Verdict)
		}
	}
	return n
}

// portless is the target's command with the port forkproof chose shown as {port} (a page
// regenerated on another run then differs only where verdicts do), else its address.
func portless(t targets.Target) string {
	_, port, err := net.SplitHostPort(t.Addr)
	if t.Cmd == "" || err != nil || port == "" {
		return t.Addr
	}
	words := strings.Fields(t.Cmd)
	for i, w := range words {
		if w == port {
			words[i] = "{port}"
		} else {
			words[i] = strings.ReplaceAll(w, ":"+port, ":{port}")
		}
	}
	return strings.Join(words, " ")
}

// ColumnName is the name a report's column gets when the user gives none: the word of the
// target's command that names the server ("nginx" in "serve.sh nginx 8080", "prefork" in
// "forkproof serve -addr 127.0.0.1:8080 -mode prefork"), else the target's address.
func ColumnName(t targets.Target) string {
	_, port, _ := net.SplitHostPort(t.Addr)
	name, program := "", false
	for _, word := range strings.Fields(t.Cmd) {
		switch {
		case port != "" && strings.Contains(word, port), strings.HasPrefix(word, "-"), strings.Contains(word, "="):
			continue // the port, a flag, an environment assignment
		case !program:
			// The program: its base name, unless an interpreter or wrapper runs the real one.
			program = true
			switch base := path.Base(word); base {
			case "bash", "sh", "env", "exec", "python", "python3", "node", "go", "sudo", "setsid", "timeout":
			default:
				name = base
			}
			continue
		case strings.Contains(word, "/"), strings.ContainsAny(word, "{}$'\""), net.ParseIP(word) != nil:
			continue
		}
		if _, err := strconv.Atoi(word); err == nil {
			continue
		}
		name = word
	}
	if name == "" {
		return t.Addr
	}
	return name
}

// UniqueNames makes column names distinct by numbering repeats ("nginx", "nginx#2").
func UniqueNames(names []string) []string {
	seen := map[string]int{}
	out := make([]string, len(names))
	for i, n := range names {
		seen[n]++
		out[i] = n
		if seen[n] > 1 {
			out[i] = n + "#" + strconv.Itoa(seen[n])
		}
	}
	return out
}

// anchor is the id of column c's result for a case, linked to from the matrix cells.
func anchor(c int, id string) string {
	var b strings.Builder
	b.WriteString("c" + strconv.Itoa(c) + "-")
	for _, r := range id {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// ---- Markdown ----

// mdTableHead writes a Markdown table's head: the leading columns, then one per server.
func (m *Matrix) mdTableHead(ew *errWriter, lead ...string) {
	ew.printf("|")
	for _, l := range lead {
		ew.printf(" %s |", l)
	}
	for _, col := range m.Columns {
		ew.printf(" %s |", mdText(col.Name))
	}
	ew.printf("\n|%s\n", strings.Repeat("---|", len(lead)+len(m.Columns)))
}

// mdSymbol marks a verdict with a colour in Markdown, where no styling is possible.
func mdSymbol(v spec.Verdict) string {
	switch v {
	case spec.Pass:
		return "🟢"
	case spec.Fail:
		return "🔴"
	case spec.Warn:
		return "🟠"
	case spec.Info:
		return "🔵"
	case spec.Skip:
		return "⚪"
	}
	return "?"
}

// mdText escapes s for a Markdown paragraph or table cell: no markup, one line.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '#', '~', '!', '&':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		default:
			if r < 0x20 || r == 0x7f {
				b.WriteRune('\uFFFD')
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdID shows a case ID as code when it is a plain ID, else as escaped text.
func mdID(id string) string {
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-", r)) {
			return mdText(id)
		}
	}
	return "`" + id + "`"
}

// mdDetailLimit bounds what happened, in Markdown (long lists of acceptable outcomes).
const mdDetailLimit = 400

// mdShortLimit bounds the one line of a skip or info in Markdown.
const mdShortLimit = 120

// cut shortens s to n bytes (at a rune boundary), saying how much was left out.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + fmt.Sprintf("… [%d more bytes]", len(s)-i)
}

// mdPlain replaces what would break a line of code (control bytes, CR, LF) with U+FFFD.
// Inside code Markdown shows markup as text, so nothing else needs escaping.
func mdPlain(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// WriteMarkdown writes the matrix as Markdown: a summary of sections × servers with counts,
// the cases × servers (every non-passing cell linking to its entry) with the sentences of the
// cases that do not pass everywhere, then per server the fails, warns, skips and infos with
// their details and (fails) transcripts, cut short: the HTML page has them all, whole.
func (m *Matrix) WriteMarkdown(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("# forkproof interop matrix\n\n")
	for _, col := range m.Columns {
		r := col.Report
		target := portless(r.Target)
		s := r.Summary()
		ew.printf("- **%s**: `%s` — %d pass, %d fail, %d warn, %d info, %d skip (forkproof %s, %s)\n",
			mdText(col.Name), strings.ReplaceAll(mdPlain(target), "`", "'"), s.Pass, s.Fail, s.Warn, s.Info, s.Skip,
			mdText(r.Version), r.Started.Format("2006-01-02"))
	}
	ew.printf("\n%s pass · %s fail (a MUST broken, or a hygiene failure) · %s warn (a SHOULD broken, or a policy missed) · %s info · %s skip (the server lacks what the case needs)\n\n",
		mdSymbol(spec.Pass), mdSymbol(spec.Fail), mdSymbol(spec.Warn), mdSymbol(spec.Info), mdSymbol(spec.Skip))

	ew.printf("## Summary: sections × servers\n\n")
	ew.printf("Each cell: passing cases of all, then the fail, warn, skip and info counts.\n\n")
	m.mdTableHead(ew, "section")
	for g, grp := range m.Groups {
		ew.printf("| [%s](#%s) |", mdText(grp.Name), mdSlug(grp.Name))
		for c := range m.Columns {
			ew.printf(" %s |", mdCounts(m.groupCounts(g, c)))
		}
		ew.printf("\n")
	}

	ew.printf("\n## Cases × servers\n")
	for _, grp := range m.Groups {
		ew.printf("\n### %s\n\n", mdText(grp.Name))
		m.mdTableHead(ew, "case", "level", "title")
		for _, row := range grp.Rows {
			ew.printf("| %s | %s | %s |", mdID(row.Meta.ID), mdText(string(row.Meta.Level)), mdText(row.Meta.Title))
			for c, res := range row.Cells {
				switch {
				case res == nil:
					ew.printf(" – |")
				case res.Verdict == spec.Pass:
					ew.printf(" %s |", mdSymbol(res.Verdict))
				default:
					ew.printf(" [%s %s](#%s) |", mdSymbol(res.Verdict), mdText(VerdictLabel(*res)), anchor(c, res.ID))
				}
			}
			ew.printf("\n")
		}
		// What the grades rest on, once per case that does not pass everywhere (the per-server
		// entries name the sentence; its words are here).
		first := true
		for _, row := range grp.Rows {
			if !row.deviates() {
				continue
			}
			for _, g := range Grounds(row.Meta) {
				if first {
					ew.printf("\n")
					first = false
				}
				ew.printf("- %s %s\n", mdID(row.Meta.ID), mdText(g))
			}
		}
	}

	ew.printf("\n## Per server\n")
	for c, col := range m.Columns {
		ew.printf("\n### %s\n", mdText(col.Name))
		for _, v := range verdictOrder[:4] { // fail, warn, skip, info: all a cell links to
			var list []*Result
			for i := range col.Report.Results {
				if res := &col.Report.Results[i]; res.Verdict == v {
					list = append(list, res)
				}
			}
			if len(list) == 0 {
				continue
			}
			ew.printf("\n#### %s %s (%d)\n\n", mdSymbol(v), v, len(list))
			if v == spec.Skip || v == spec.Info {
				// Many, and alike: grouped by reason, one line a reason, so the page stays
				// readable (and under the size code hosts render); the HTML page has each.
				writeGrouped(ew, c, list)
				continue
			}
			for _, res := range list {
				ew.printf("- <a id=\"%s\"></a>%s %s — %s\n", anchor(c, res.ID), mdID(res.ID), mdText(res.Title), mdText(VerdictLabel(*res)))
				if res.Detail != "" {
					ew.printf("  - actual: %s\n", mdText(cut(res.Detail, mdDetailLimit)))
				}
				if refs := groundRefs(res.Meta); refs != "" {
					ew.printf("  - rests on: %s ([quoted](#%s))\n", mdText(refs), mdSlug(groupName(res.Meta)))
				}
			}
		}
	}
	return ew.err
}

// writeGrouped lists results that share a reason (the start of their detail, up to "; probe:"
// or mdShortLimit) on one line each, every ID keeping its anchor.
func writeGrouped(ew *errWriter, c int, list []*Result) {
	var reasons []string
	byReason := map[string][]*Result{}
	for _, res := range list {
		r, _, _ := strings.Cut(res.Detail, "; probe:")
		if strings.HasPrefix(r, "not judged: got ") {
			// "not judged: got 200 then close; the server announced close …": the reason is
			// what follows what was got.
			if _, rest, ok := strings.Cut(r, "; "); ok {
				r = "not judged: " + rest
			}
		}
		r = cut(r, mdShortLimit)
		if _, seen := byReason[r]; !seen {
			reasons = append(reasons, r)
		}
		byReason[r] = append(byReason[r], res)
	}
	for _, r := range reasons {
		var ids []string
		for _, res := range byReason[r] {
			ids = append(ids, fmt.Sprintf("<a id=\"%s\"></a>%s", anchor(c, res.ID), mdID(res.ID)))
		}
		ew.printf("- %s (%d): %s\n", mdText(r), len(ids), strings.Join(ids, " "))
	}
}

// deviates reports whether any server's result for the row is not a pass.
func (row MatrixRow) deviates() bool {
	for _, res := range row.Cells {
		if res != nil && res.Verdict != spec.Pass {
			return true
		}
	}
	return false
}

// groundRefs names what a grade rests on, briefly: "RFC 9112 §6.1 MUST; RFC 9110 §8.6 MAY", or
// "policy".
func groundRefs(m spec.Meta) string {
	var refs []string
	for _, s := range m.Sentences {
		refs = append(refs, s.Ref+" "+string(s.Keyword))
	}
	if m.Policy != "" {
		refs = append(refs, "policy")
	}
	return strings.Join(refs, "; ")
}

// mdCounts is one summary cell: "12/15 🔴2 🟠1".
func mdCounts(n counts) string {
	if n.total() == 0 {
		return "–"
	}
	s := fmt.Sprintf("%d/%d", n[verdictIndex(spec.Pass)], n.total())
	for i, v := range verdictOrder[:4] {
		if n[i] > 0 {
			s += fmt.Sprintf(" %s%d", mdSymbol(v), n[i])
		}
	}
	return s
}

// mdSlug is the anchor GitHub gives a heading: lower case, spaces to '-', punctuation dropped.
func mdSlug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f && r != '§':
			b.WriteRune(r)
		}
	}
	return b.String()
}
