package h1

// Differential targets: the reference server's parser (through ServeConn, end to end over a
// real socket pair) against the judge's strict grammar in spec/wire. The judge and the judged
// share no parser; where they disagree one of them has a bug, unless the difference is in
// knownDifferences with its reason. This test file may import spec/wire because it is test
// code: the server itself never does.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/forkproof/forkproof/spec/wire"
)

// fatalT is what the helpers of the targets need of a test: *testing.T and *testing.B, and
// the *testing.T of go-118-fuzz-build's shim in the libFuzzer build (which has no testing.TB).
type fatalT interface {
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// sockConn is a Conn over one end of a unix socket pair.
type sockConn struct {
	*net.UnixConn
	rt, wt time.Duration
}

func (c *sockConn) Read(p []byte) (int, error) {
	if c.rt > 0 {
		c.SetReadDeadline(time.Now().Add(c.rt))
	}
	return c.UnixConn.Read(p)
}

func (c *sockConn) Write(p []byte) (int, error) {
	if c.wt > 0 {
		c.SetWriteDeadline(time.Now().Add(c.wt))
	}
	return c.UnixConn.Write(p)
}

func (c *sockConn) SetReadTimeout(d time.Duration) error  { c.rt = d; return nil }
func (c *sockConn) SetWriteTimeout(d time.Duration) error { c.wt = d; return nil }

func socketPair(t fatalT) (server *sockConn, client *net.UnixConn) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conv := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		return c.(*net.UnixConn)
	}
	return &sockConn{UnixConn: conv(fds[0])}, conv(fds[1])
}

// FaultsEnv names the environment variable that plants faults (ParseFaults' list) in the
// server the native fuzz targets drive, under go test -fuzz and as libFuzzer binaries alike:
// FORKPROOF_FUZZ_FAULTS=no-host-check shows how soon a target finds that planted bug.
const FaultsEnv = "FORKPROOF_FUZZ_FAULTS"

func fuzzConfig() *Config {
	cfg := DefaultConfig()
	cfg.MaxBytes = 4096
	cfg.MaxSleep = time.Millisecond
	cfg.MaxBody = 1 << 16
	cfg.HeaderTimeout = time.Second
	cfg.IdleTimeout = time.Second
	cfg.BodyTimeout = time.Second
	f, err := ParseFaults(os.Getenv(FaultsEnv))
	if err != nil {
		panic(FaultsEnv + ": " + err.Error())
	}
	cfg.Faults = f
	return &cfg
}

// serve sends data then FIN to a fresh ServeConn over a socket pair and returns everything
// the server wrote before closing.
func serve(t fatalT, data []byte) []byte {
	srv, cli := socketPair(t)
	defer cli.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ServeConn(srv, fuzzConfig(), nil)
	}()
	go func() {
		cli.SetWriteDeadline(time.Now().Add(5 * time.Second))
		cli.Write(data)
		cli.CloseWrite()
	}()
	cli.SetReadDeadline(time.Now().Add(5 * time.Second))
	out, err := io.ReadAll(cli)
	if err != nil && !errors.Is(err, unix.ECONNRESET) {
		t.Fatalf("for %q: reading the server's output: %v (the server hangs?)", data, err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("for %q: ServeConn did not return after the connection ended", data)
	}
	return out
}

// judgeFirst is the judge's verdict on the first request in data.
func judgeFirst(data []byte) (req *wire.Request, rule string, incomplete bool) {
	req, _, err := wire.ParseRequest(data)
	var we *wire.Error
	switch {
	case err == nil:
		return req, "", false
	case errors.As(err, &we):
		return nil, we.Rule, false
	}
	return nil, "", true
}

// knownDifferences are the judge rules on which the reference server legitimately gives an
// answer other than 4xx/5xx-or-close, with the reason. Empty today: the reference server is
// at least as strict as the judge everywhere the fuzzer has looked.
var knownDifferences = map[string]string{}

// knownAccepts are cases where the judge accepts the first request and the server answers
// 400 anyway, with the reason. Keyed by the condition's name.
var knownAccepts = map[string]func(req *wire.Request) bool{
	// RFC 9110 §7.4: a server may refuse a target it does not serve (400 or 421). The
	// reference server serves only http and https absolute-form targets; the judge accepts
	// any scheme the URI grammar allows ("A:" is a valid absolute-URI).
	"absolute-form-other-scheme": func(req *wire.Request) bool {
		t := strings.ToLower(req.Target)
		return !strings.HasPrefix(t, "/") && t != "*" && req.Method != "CONNECT" &&
			!strings.HasPrefix(t, "http://") && !strings.HasPrefix(t, "https://")
	},
	// Not a parser verdict: /bytes/N and /sleep/MS beyond the bounds of fuzzConfig, and
	// /status/N outside what the endpoint serves, are answered 400 by the handler, in origin
	// or absolute form ("HTTP://a/status/", found by libFuzzer).
	"endpoint-argument": func(req *wire.Request) bool {
		path := req.Target
		if _, rest, ok := strings.Cut(path, "://"); ok {
			path = "/"
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				path = rest[i:]
			}
		}
		for _, p := range []string{"/bytes/", "/sleep/", "/status/"} {
			if strings.HasPrefix(path, p) {
				return true
			}
		}
		return false
	},
}

// FuzzDifferentialVerdict: the server's verdict on the first request agrees with the judge's.
// Judge valid -> the server does not answer 400; judge invalid -> the server answers 4xx/5xx
// or closes without a response, never 1xx-3xx; judge incomplete -> never a 2xx.
func FuzzDifferentialVerdict(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		out := serve(t, data)
		req, rule, incomplete := judgeFirst(data)
		method := "GET"
		if req != nil {
			method = req.Method
		} else if bytes.HasPrefix(bytes.TrimLeft(data, "\r\n"), []byte("HEAD ")) {
			method = "HEAD"
		}
		var resp *wire.Response
		if len(out) > 0 {
			r, err := wire.ReadResponse(bufio.NewReader(bytes.NewReader(out)), method)
			if err != nil {
				t.Fatalf("for %q: the server's first response is ill-framed: %v\n%q", data, err, out)
			}
			resp = r
		}
		switch {
		case req != nil:
			if resp == nil {
				t.Fatalf("For %q, the judge accepts the request but the server closed without a response", data)
			}
			if resp.StatusCode == 400 {
				for name, known := range knownAccepts {
					if known(req) {
						t.Skipf("known difference %s", name)
					}
				}
				t.Fatalf("For %q, the judge accepts the request; the server says %d %s", data, resp.StatusCode, resp.Body)
			}
		case rule != "":
			if resp != nil && resp.StatusCode < 400 {
				if why, ok := knownDifferences[rule]; ok {
					t.Skipf("known difference on rule %s: %s", rule, why)
				}
				t.Fatalf("For %q, the judge rejects it (rule %s); the server says %d", data, rule, resp.StatusCode)
			}
		case incomplete:
			if resp != nil && resp.StatusCode/100 == 2 {
				t.Fatalf("For %q, the judge says the request is incomplete; the server says %d", data, resp.StatusCode)
			}
		}
	})
}

// FuzzSocketPair: end to end over a real socket pair, whatever the input, the server neither
// panics nor hangs, and every byte it sends is well-framed responses by the strict reader.
func FuzzSocketPair(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		out := serve(t, data)
		// Read the responses with the methods of the requests the judge can parse, in order.
		var methods []string
		for rest := data; len(rest) > 0; {
			req, n, err := wire.ParseRequest(rest)
			if err != nil {
				m := "GET"
				if bytes.HasPrefix(bytes.TrimLeft(rest, "\r\n"), []byte("HEAD ")) {
					m = "HEAD"
				}
				methods = append(methods, m)
				break
			}
			methods = append(methods, req.Method)
			rest = rest[n:]
		}
		// Every byte up to the end, not only what the reader has buffered: a response longer
		// than the buffer leaves the rest of the output unbuffered.
		br := bufio.NewReader(bytes.NewReader(out))
		for i := 0; ; i++ {
			if _, err := br.Peek(1); err != nil {
				break
			}
			m := "GET"
			if i < len(methods) {
				m = methods[i]
			} else {
				break // more responses than requests the judge could parse: framing unknown
			}
			r, err := wire.ReadResponse(br, m)
			if err != nil {
				t.Fatalf("For %q, response %d is ill-framed: %v\nall output: %q", data, i+1, err, out)
			}
			if r.StatusCode < 100 {
				t.Fatalf("For %q, response %d has status %d", data, i+1, r.StatusCode)
			}
			if r.StatusCode < 200 {
				i--
			}
		}
	})
}

// The fuzz targets' server takes its planted faults from FaultsEnv, so a fuzzer run shows how
// soon a target finds one; a wrong name stops the target at once.
func TestFuzzConfigFaultsFromEnv(t *testing.T) {
	t.Setenv(FaultsEnv, "no-host-check, head-body")
	if f := fuzzConfig().Faults; !f.NoHostCheck || !f.HeadBody || f.LenientWS {
		t.Fatalf("faults %+v; want no-host-check and head-body", f)
	}
	t.Setenv(FaultsEnv, "")
	if f := fuzzConfig().Faults; f != (Faults{}) {
		t.Fatalf("faults %+v without %s; want none", f, FaultsEnv)
	}
	t.Setenv(FaultsEnv, "no-such-fault")
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "no-such-fault") {
			t.Fatalf("recovered %v; want a panic naming the unknown fault", r)
		}
	}()
	fuzzConfig()
}
