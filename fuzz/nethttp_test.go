package fuzz

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/forkproof/forkproof/spec/wire"
)

// netHTTPDifferences are the known, explained disagreements between the judge and net/http's
// ReadRequest (which parses the head only and is lenient by design). Each entry says when it
// applies and why; FuzzNetHTTPDifferential reports every other disagreement.
var netHTTPDifferences = []struct {
	name  string
	why   string
	match func(rule string, at []byte) bool // at: the input from the judge's error offset
}{
	{"framing", "ReadRequest reads only the head: Content-Length, Transfer-Encoding and chunk grammar are checked later, by the body reader or the server",
		func(rule string, _ []byte) bool {
			return rule == wire.RuleContentLength || rule == wire.RuleTECL || rule == wire.RuleTEHTTP10 ||
				rule == wire.RuleTENotChunked || rule == wire.RuleTEUnknown || rule == wire.RuleTEChunkedTwice ||
				rule == wire.RuleTransferCoding || rule == wire.RuleChunkSize || rule == wire.RuleChunkExt ||
				rule == wire.RuleChunkData || strings.HasPrefix(rule, "body")
		}},
	{"host", "net/http checks Host in the server (Server.ServeHTTP), not in ReadRequest", func(rule string, _ []byte) bool { return rule == wire.RuleHost }},
	{"bare-lf", "net/http accepts a bare LF line terminator (RFC 9112 §2.2 lets a recipient do so)", func(rule string, _ []byte) bool { return rule == wire.RuleBareLF }},
	{"target", "net/http parses targets with url.ParseRequestURI, more lenient than RFC 9112 §3.2 (e.g. authority-form for any method, raw non-ASCII)", func(rule string, _ []byte) bool { return rule == wire.RuleTarget }},
	{"field-value", "net/http leaves CTLs in values to the server's validity check", func(rule string, _ []byte) bool { return rule == wire.RuleFieldValue }},
	{"obs-fold", "textproto unfolds obs-fold (RFC 9112 §5.2 lets a recipient replace it with SP)", func(rule string, _ []byte) bool {
		return rule == wire.RuleObsFold || rule == wire.RuleStartWS
	}},
	{"version", "net/http accepts versions like HTTP/1.10 and leading zeros via ParseHTTPVersion", func(rule string, _ []byte) bool { return rule == wire.RuleVersion }},
	{"space-in-name", "textproto accepts SP inside a field name and before the colon (a deviation from RFC 9112 §5.1, whose MUST the judge applies)",
		func(rule string, b []byte) bool {
			return rule == wire.RuleSpaceColon || rule == wire.RuleFieldName && len(b) > 0 && (b[0] == ' ' || b[0] == '\t')
		}},
	{"bare-cr", "textproto tolerates a CR inside a line", func(rule string, _ []byte) bool { return rule == wire.RuleBareCR }},
	{"request-line", "net/http splits the request line on the first and last space", func(rule string, _ []byte) bool { return rule == wire.RuleRequestLine }},
}

// netHTTPRejects are inputs the judge accepts and net/http refuses, with the reason.
var netHTTPRejects = []struct {
	name, why string
	match     func(req *wire.Request, err error) bool
}{
	{"leading-crlf", "net/http does not skip empty lines before the request line (RFC 9112 §2.2: SHOULD ignore at least one)",
		func(req *wire.Request, err error) bool { return bytes.HasPrefix(req.Raw, []byte("\r\n")) }},
	{"te-params", "net/http refuses transfer-coding parameters (chunked;q=1), which RFC 9112 §7 grammar allows",
		func(req *wire.Request, err error) bool { return strings.Contains(err.Error(), "transfer encoding") }},
	{"version", "net/http refuses HTTP/0.x and HTTP/2+ in a request line; the judge takes any DIGIT.DIGIT and leaves 505 to the server",
		func(req *wire.Request, err error) bool { return req.Version[5] != '1' }},
	{"connect-target", "net/http requires an authority-form target to parse as a URL host for CONNECT only, and refuses some origin targets (e.g. a path starting with //)",
		func(req *wire.Request, err error) bool {
			return req.Method == "CONNECT" || strings.HasPrefix(req.Target, "//") || strings.Contains(err.Error(), "invalid URI")
		}},
	{"host-value", "net/http refuses a Host value with characters outside its own table (e.g. '%' escapes)",
		func(req *wire.Request, err error) bool { return strings.Contains(err.Error(), "Host") }},
	{"header-limit", "net/http bounds the header section (DefaultMaxHeaderBytes is enforced by the server, but textproto limits line length)",
		func(req *wire.Request, err error) bool { return strings.Contains(err.Error(), "too long") }},
}

// FuzzNetHTTPDifferential compares the judge with net/http's ReadRequest on the same bytes
// and fails on every disagreement not explained in the tables above.
func FuzzNetHTTPDifferential(f *testing.F) {
	for _, s := range seedRequests() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, _, jerr := wire.ParseRequest(data)
		hreq, herr := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		var we *wire.Error
		switch {
		case jerr == nil && herr != nil:
			for _, d := range netHTTPRejects {
				if d.match(req, herr) {
					t.Skipf("known difference %s: %s", d.name, d.why)
				}
			}
			t.Fatalf("For %q, the judge accepts; net/http says %v", data, herr)
		case errors.As(jerr, &we) && herr == nil:
			if end := bytes.Index(data, []byte("\r\n\r\n")); end >= 0 && we.Offset >= end+4 {
				t.Skip("known difference framing: the error is in the body or trailer, which ReadRequest does not read")
			}
			for _, d := range netHTTPDifferences {
				at := data[min(max(we.Offset, 0), len(data)):]
				if d.match(we.Rule, at) {
					t.Skipf("known difference %s: %s", d.name, d.why)
				}
			}
			t.Fatalf("For %q, the judge rejects it (%v); net/http accepts %s %s", data, jerr, hreq.Method, hreq.RequestURI)
		case jerr == nil && herr == nil:
			if hreq.Method != req.Method || hreq.RequestURI != req.Target {
				t.Fatalf("For %q, the judge reads %s %s; net/http reads %s %s", data, req.Method, req.Target, hreq.Method, hreq.RequestURI)
			}
		}
	})
}

// seedRequests are generated valid and invalid requests, a deterministic seed corpus. They are
// generated once: go-118-fuzz-build's libFuzzer build calls the target function, seeding
// included, for every input (its F.Add discards them), and generating 40 requests there cost
// more than the input's own check.
var seedRequests = sync.OnceValue(func() [][]byte {
	var out [][]byte
	s := RandSource(1)
	for range 20 {
		out = append(out, GenRequest(s, ReqOptions{}).Bytes())
		out = append(out, GenInvalid(s, ReqOptions{}).Bytes)
	}
	return out
})
