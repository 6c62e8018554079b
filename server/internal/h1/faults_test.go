package h1

import (
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestParseFaults(t *testing.T) {
	f, err := ParseFaults(" smuggle-cl,no-date,,one-recv ")
	if err != nil {
		t.Fatal(err)
	}
	if !f.SmuggleCL || !f.NoDate || !f.OneRecv || f.HeadBody {
		t.Errorf("ParseFaults = %+v", f)
	}
	if got := f.String(); got != "no-date,one-recv,smuggle-cl" {
		t.Errorf("String() = %q", got)
	}
	_, err = ParseFaults("no-date,bogus")
	if err == nil || !strings.Contains(err.Error(), `"bogus"`) || !strings.Contains(err.Error(), "head-body") {
		t.Errorf("unknown fault: err = %v; want it to name the fault and list the known ones", err)
	}
	if len(FaultNames()) < 14 || FaultHelp()["wrong-length"] == "" {
		t.Errorf("FaultNames = %q", FaultNames())
	}
}

func faultConfig(t *testing.T, list string) *Config {
	t.Helper()
	cfg := testConfig(t)
	f, err := ParseFaults(list)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Faults = f
	return cfg
}

// withAndWithout sends raw to a server without the fault and to one with it; it returns the
// responses of both and the faulty server's whole output.
func withAndWithout(t *testing.T, fault, raw string, head bool) (clean, faulty []*response, out string) {
	t.Helper()
	clean, _ = exchange(t, nil, raw, head)
	faulty, out = exchange(t, faultConfig(t, fault), raw, head)
	return clean, faulty, out
}

func status(rs []*response) int {
	if len(rs) == 0 {
		return 0
	}
	return rs[0].status
}

// Each fault switch must change behaviour in the way its name says.
func TestFaultStatus(t *testing.T) {
	tests := []struct {
		fault      string
		raw        string
		clean, bad int
	}{
		{"smuggle-cl", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc", 400, 200},
		{"no-host-check", "GET / HTTP/1.1\r\n\r\n", 400, 200},
		{"no-host-check", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 200},
		{"no-host-check", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, 200},
		{"lenient-ws", "GET / HTTP/1.1\r\nHost: a\r\nFoo : bar\r\n\r\n", 400, 200},
		{"lenient-ws", "GET / HTTP/1.1\r\nHost: a\r\nFoo: bar\r\n baz\r\n\r\n", 400, 200},
		{"bare-lf", "GET / HTTP/1.1\nHost: a\n\n", 400, 200},
		{"bare-lf", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\n0\n\n", 400, 200},
		{"bad-chunked", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3x\r\nabc\r\n0\r\n\r\n", 400, 200},
		{"bad-chunked", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 3 \r\nabc\r\n0\r\n\r\n", 400, 200},
		{"one-recv", "GET / HTTP/1.1\r\nHost: a\r\nX-Incomplete: ", 0, 200},
	}
	for _, tt := range tests {
		clean, faulty, out := withAndWithout(t, tt.fault, tt.raw, false)
		if status(clean) != tt.clean || status(faulty) != tt.bad {
			t.Errorf("fault %s, for %q: clean %d, faulty %d; want %d, %d (faulty sent %q)",
				tt.fault, tt.raw, status(clean), status(faulty), tt.clean, tt.bad, out)
		}
	}
}

func TestFaultLenientWSFolds(t *testing.T) {
	rs, _ := exchange(t, faultConfig(t, "lenient-ws"), "GET /reflect HTTP/1.1\r\nHost: a\r\nFoo: bar\r\n \tbaz\r\n\r\n", false)
	if !strings.Contains(rs[0].body, `["Foo","bar    baz"]`) {
		t.Errorf("folded value not joined: %s", rs[0].body)
	}
}

func TestFaultSmuggleFramesByCL(t *testing.T) {
	// The smuggled request after the CL body is served as a second request.
	raw := "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabcGET /nope HTTP/1.1\r\nHost: a\r\n\r\n"
	rs, out := exchange(t, faultConfig(t, "smuggle-cl"), raw, false)
	if len(rs) != 2 || rs[0].body != "abc" || rs[1].status != 404 {
		t.Errorf("got %q; want the echo of abc then a 404 for the smuggled request", out)
	}
}

func TestFaultHeadBody(t *testing.T) {
	raw := "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"
	clean := exchangeRaw(t, nil, raw)
	faulty := exchangeRaw(t, faultConfig(t, "head-body"), raw)
	if strings.Contains(clean, rootBody) || !strings.HasSuffix(faulty, rootBody) {
		t.Errorf("clean %q, faulty %q; want the body only from the faulty server", clean, faulty)
	}
}

func TestFaultNoDate(t *testing.T) {
	raw := "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	clean, faulty, _ := withAndWithout(t, "no-date", raw, false)
	if clean[0].get("date") == "" || faulty[0].get("date") != "" {
		t.Errorf("Date clean %q faulty %q", clean[0].get("date"), faulty[0].get("date"))
	}
	if _, err := time.Parse("Mon, 02 Jan 2006 15:04:05 GMT", clean[0].get("date")); err != nil {
		t.Errorf("Date %q: %v", clean[0].get("date"), err)
	}
}

func TestFaultWrongLength(t *testing.T) {
	raw := "GET /bytes/10 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	clean := exchangeRaw(t, nil, raw)
	faulty := exchangeRaw(t, faultConfig(t, "wrong-length"), raw)
	if !strings.Contains(clean, "Content-Length: 10\r\n") || !strings.Contains(faulty, "Content-Length: 11\r\n") {
		t.Errorf("clean %q faulty %q", clean, faulty)
	}
}

func TestFaultOneRecv(t *testing.T) {
	// Pipelined requests: the one-recv server answers only the first.
	raw := "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"
	clean, faulty, _ := withAndWithout(t, "one-recv", raw, false)
	if len(clean) != 2 || len(faulty) != 1 {
		t.Errorf("responses clean %d faulty %d; want 2 and 1", len(clean), len(faulty))
	}
	// A body split from its head is lost.
	c := startServer(t, faultConfig(t, "one-recv"), nil)
	c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n")
	r := c.readResponse(false)
	if r.status != 200 || r.body != "" {
		t.Errorf("got %q; want a 200 with the body missing", r.raw)
	}
}

func TestFaultDropPipelined(t *testing.T) {
	raw := "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /bytes/1 HTTP/1.1\r\nHost: a\r\n\r\n"
	clean, faulty, _ := withAndWithout(t, "drop-pipelined", raw, false)
	if len(clean) != 2 || len(faulty) != 1 {
		t.Errorf("responses clean %d faulty %d; want 2 and 1", len(clean), len(faulty))
	}
}

func TestFaultIgnoreClose(t *testing.T) {
	c := startServer(t, faultConfig(t, "ignore-close"), nil)
	c.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if r := c.readResponse(false); r.get("connection") == "close" {
		t.Fatalf("got %q", r.raw)
	}
	// Still open: a second request is served.
	c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	if r := c.readResponse(false); r.status != 200 {
		t.Fatalf("second request got %q", r.raw)
	}
}

func TestFaultNo100(t *testing.T) {
	raw := "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
	// The client gives up waiting (half-close): the clean server had sent 100 first.
	clean, faulty, out := withAndWithout(t, "no-100", raw, false)
	if status(clean) != 100 || len(faulty) != 0 {
		t.Errorf("clean %d, faulty sent %q; want 100 from the clean server only", status(clean), out)
	}
}

func TestFaultNoTimeout(t *testing.T) {
	cfg := faultConfig(t, "no-timeout")
	cfg.HeaderTimeout = 10 * time.Millisecond
	cfg.IdleTimeout = 10 * time.Millisecond
	c := startServer(t, cfg, nil)
	c.send("GET / HTTP/1.1\r\nHo")
	// The clean server answers 408 after 10ms (TestHeaderTimeout); give the faulty one 30×.
	if r, err := c.readResponseErr(false, 300*time.Millisecond); err == nil {
		t.Fatalf("expected no response within 300ms but got %q", r.raw)
	}
	c.send("st: a\r\n\r\n")
	if r := c.readResponse(false); r.status != 200 {
		t.Fatalf("got %q", r.raw)
	}
}

// resetConn fails every read with ECONNRESET.
type resetConn struct{ memConn }

func (c *resetConn) Read([]byte) (int, error) { return 0, syscall.ECONNRESET }

func TestFaultSpinAfterReset(t *testing.T) {
	old := spinFor
	spinFor = 20 * time.Millisecond
	t.Cleanup(func() { spinFor = old })
	var spins atomic.Int32
	spinHook = func() { spins.Add(1) }
	t.Cleanup(func() { spinHook = nil })
	for _, fault := range []string{"", "spin-after-reset"} {
		spins.Store(0)
		c := &resetConn{memConn{in: newPipe(), out: newPipe()}}
		ServeConn(c, faultConfig(t, fault), nil)
		if want := fault != ""; (spins.Load() > 0) != want {
			t.Errorf("fault %q: spun %d times; want spinning %v", fault, spins.Load(), want)
		}
	}
}

func TestFaultsString(t *testing.T) {
	for _, n := range FaultNames() {
		f, err := ParseFaults(n)
		if err != nil || f.String() != n || !f.Has(n) {
			t.Errorf("fault %s: %v %q", n, err, f.String())
		}
	}
}
