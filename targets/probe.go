package targets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/spec/wire"
)

// Capabilities is what the opening probe found a target to offer. Cases declare what they
// need (spec.Need); a case whose need the target lacks is skipped with the probe's reason,
// never failed. Each capability is probed on its own, once, the first time a case or the
// report header asks for it.
type Capabilities struct {
	target  *Target
	timeout time.Duration

	mu     sync.Mutex
	probes map[spec.Need]*capProbe

	rootOnce sync.Once
	rootResp *wire.Response
	rootErr  error
}

// root fetches the root path once; the header and NeedHTTP11 share the answer.
func (c *Capabilities) root(ctx context.Context) (*wire.Response, error) {
	// Not sent again when it times out: a target that accepts and never answers must cost
	// one timeout, not several.
	c.rootOnce.Do(func() { c.rootResp, c.rootErr = c.get(ctx, c.target.RootPath(), false, c.timeout) })
	return c.rootResp, c.rootErr
}

type capProbe struct {
	once sync.Once
	err  error // nil: the target has it
}

// Probed is the capability probe's findings as the reports show them.
type Probed struct {
	// Root is what GET / HTTP/1.1 got: "200 HTTP/1.1", or why nothing usable came back.
	Root string `json:"root"`
	// Version is the HTTP version of the response to an HTTP/1.1 request ("" if none).
	Version string `json:"version,omitempty"`
	// Persistence: "keep-alive", "announced close" or "closes without announcing".
	Persistence string `json:"persistence,omitempty"`
	// Needs maps each capability a case can need to "yes" or the reason it is missing.
	Needs map[spec.Need]string `json:"needs"`
	// RootStatus is the status GET of the root path got (0: no response).
	RootStatus int `json:"root_status,omitempty"`
}

// DefaultTimeout is how long a probe waits for a response when NewCapabilities is given no
// timeout; it is also the runner's default (conformance.DefaultTimeout).
const DefaultTimeout = 5 * time.Second

// NewCapabilities prepares the probes of target; nothing is sent until a need is asked.
func NewCapabilities(target *Target, timeout time.Duration) *Capabilities {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Capabilities{target: target, timeout: timeout, probes: map[spec.Need]*capProbe{}}
}

// probed is every capability the probe knows how to find.
var probed = []spec.Need{spec.NeedHTTP11, spec.NeedPersist, spec.NeedEcho, spec.NeedReflect,
	spec.NeedStatus, spec.NeedBytes, spec.NeedSleep, spec.NeedPostRoot}

// Has probes need (once) and returns nil when the target offers it, else why not. NeedPID is
// a property of the target description, not probed.
func (c *Capabilities) Has(ctx context.Context, need spec.Need) error {
	if need == spec.NeedPID {
		if c.target.PID <= 0 {
			return fmt.Errorf("the target's PID is unknown (give -pid, or launch the target with -target-cmd)")
		}
		return nil
	}
	c.mu.Lock()
	p := c.probes[need]
	if p == nil {
		p = &capProbe{}
		c.probes[need] = p
	}
	c.mu.Unlock()
	p.once.Do(func() {
		p.err = c.patiently(ctx, func(timeout time.Duration) error { return c.probe(ctx, need, timeout) })
	})
	return p.err
}

// probeTries is how many times a probe that got no response in time is sent, its timeout
// doubled each time: a busy machine (a loaded CI runner) delays a response past the timeout,
// and a need wrongly found missing would skip every case that needs it. (The root path is
// probed first, once; a need is probed once it answered.)
const probeTries = 2

// patiently runs probe with the timeout, then, while it got no response in time, again with
// the timeout doubled, probeTries times in all.
func (c *Capabilities) patiently(ctx context.Context, probe func(timeout time.Duration) error) error {
	timeout := c.timeout
	for try := 1; ; try++ {
		err := probe(timeout)
		if err == nil || try == probeTries || ctx.Err() != nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		timeout *= 2
	}
}

// Probe runs every probe (concurrently) and summarises them for a report header.
func (c *Capabilities) Probe(ctx context.Context) *Probed {
	var wg sync.WaitGroup
	for _, n := range probed {
		wg.Go(func() { _ = c.Has(ctx, n) })
	}
	wg.Wait()
	root, rootErr := c.root(ctx)
	p := &Probed{Needs: map[spec.Need]string{}}
	for _, n := range probed {
		if err := c.Has(ctx, n); err != nil {
			p.Needs[n] = err.Error()
		} else {
			p.Needs[n] = "yes"
		}
	}
	switch {
	case rootErr != nil:
		p.Root = "GET " + c.target.RootPath() + " got no response: " + rootErr.Error()
	default:
		p.Root = fmt.Sprintf("GET %s → %d %s", c.target.RootPath(), root.StatusCode, root.Version)
		if root.StatusCode/100 != 2 {
			p.Root += fmt.Sprintf(" (no 2xx resource at %s: cases that fetch it cannot pass; name one with -path)", c.target.RootPath())
		}
		p.Version = root.Version
		p.RootStatus = root.StatusCode
	}
	switch err := c.Has(ctx, spec.NeedPersist); {
	case err == nil:
		p.Persistence = "keep-alive"
	case rootErr == nil:
		p.Persistence = err.Error()
	}
	return p
}

// Answers reports whether the target answered the opening GET / with any HTTP response.
func (p *Probed) Answers() bool { return p.Version != "" }

// Serves reports whether the opening GET of the root path got a 2xx: nearly every case
// fetches it and wants one.
func (p *Probed) Serves() bool { return p.RootStatus/100 == 2 }

// NeedNames lists the probed needs in a stable order, for reports.
func (p *Probed) NeedNames() []spec.Need {
	ns := make([]spec.Need, 0, len(p.Needs))
	for n := range p.Needs {
		ns = append(ns, n)
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
	return ns
}

func (c *Capabilities) probe(ctx context.Context, need spec.Need, timeout time.Duration) error {
	switch need {
	case spec.NeedHTTP11:
		r, err := c.root(ctx)
		if err != nil {
			return fmt.Errorf("GET %s HTTP/1.1: %w", c.target.RootPath(), err)
		}
		if r.Version != "HTTP/1.1" {
			return fmt.Errorf("GET %s HTTP/1.1 was answered with %s: the server speaks an earlier version", c.target.RootPath(), r.Version)
		}
		return nil
	case spec.NeedPersist:
		return c.probePersist(ctx, timeout)
	case spec.NeedEcho:
		return probeEcho(ctx, c.target.Addr, timeout)
	case spec.NeedReflect:
		return probeReflect(ctx, c.target.Addr, timeout)
	case spec.NeedStatus:
		r, err := c.get(ctx, "/status/203", true, timeout)
		if err != nil || r.StatusCode != 203 {
			return probeMiss("GET /status/203", "203", r, err)
		}
		return nil
	case spec.NeedBytes:
		r, err := c.get(ctx, "/bytes/37", true, timeout)
		if err != nil || r.StatusCode/100 != 2 || len(r.Body) != 37 {
			return probeMiss("GET /bytes/37", "2xx with 37 body bytes", r, err)
		}
		return nil
	case spec.NeedSleep:
		r, err := c.get(ctx, "/sleep/1", true, timeout)
		if err != nil || r.StatusCode/100 != 2 {
			return probeMiss("GET /sleep/1", "2xx", r, err)
		}
		return nil
	case spec.NeedPostRoot:
		req := fmt.Sprintf("POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", c.target.Addr)
		if _, err := clients.RoundTrip(ctx, c.target.Addr, req, "POST", timeout); err != nil {
			return fmt.Errorf("POST / with a 5-byte body: %w", err)
		}
		return nil
	}
	return fmt.Errorf("needs %q, which this runner does not know", need)
}

// probeMiss says why an endpoint probe did not find the endpoint.
func probeMiss(what, want string, r *wire.Response, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: got %d with %d body bytes; want %s", what, r.StatusCode, len(r.Body), want)
}

// get sends GET path on a fresh connection (with "Connection: close" when closing) and reads
// the response.
func (c *Capabilities) get(ctx context.Context, path string, closing bool, timeout time.Duration) (*wire.Response, error) {
	req := "GET " + path + " HTTP/1.1\r\nHost: " + c.target.Addr + "\r\n"
	if closing {
		req += "Connection: close\r\n"
	}
	return clients.RoundTrip(ctx, c.target.Addr, req+"\r\n", "GET", timeout)
}

// probePersist asks GET / twice on one connection: a server that persists answers both.
func (c *Capabilities) probePersist(ctx context.Context, timeout time.Duration) error {
	conn, err := clients.Dial(ctx, c.target.Addr)
	if err != nil {
		return fmt.Errorf("cannot connect to %s: %w", c.target.Addr, err)
	}
	defer conn.Close()
	req := []byte("GET " + c.target.RootPath() + " HTTP/1.1\r\nHost: " + c.target.Addr + "\r\n\r\n")
	if err := conn.Send(req); err != nil {
		return fmt.Errorf("sending GET %s: %w", c.target.RootPath(), err)
	}
	r, err := conn.ReadResponse("GET", timeout)
	if err != nil {
		return fmt.Errorf("GET %s: %w", c.target.RootPath(), err)
	}
	if AnnouncesClose(r) {
		return fmt.Errorf("announced close (%s): the server does not keep connections open", CloseAnnouncement(r))
	}
	if err := conn.Send(req); err != nil {
		return fmt.Errorf("closes without announcing: a second request on the connection could not be sent (%w)", err)
	}
	if _, err := conn.ReadResponse("GET", timeout); err != nil {
		return fmt.Errorf("closes without announcing: a second request on the connection got no response (%w)", err)
	}
	return nil
}

const probeBody = "forkproof-echo-probe"

func probeEcho(ctx context.Context, addr string, timeout time.Duration) error {
	req := fmt.Sprintf("POST /echo HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		addr, len(probeBody), probeBody)
	resp, err := clients.RoundTrip(ctx, addr, req, "POST", timeout)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 || string(resp.Body) != probeBody {
		return fmt.Errorf("POST /echo: got %d with %d body bytes; want 2xx with the %d bytes sent",
			resp.StatusCode, len(resp.Body), len(probeBody))
	}
	return nil
}

func probeReflect(ctx context.Context, addr string, timeout time.Duration) error {
	req := fmt.Sprintf("GET /reflect HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", addr)
	resp, err := clients.RoundTrip(ctx, addr, req, "GET", timeout)
	if err != nil {
		return err
	}
	var got map[string]any
	if resp.StatusCode/100 != 2 || json.Unmarshal(resp.Body, &got) != nil || got["method"] != "GET" {
		return fmt.Errorf("GET /reflect: got %d with %d body bytes; want 2xx with a JSON object whose method is GET",
			resp.StatusCode, len(resp.Body))
	}
	return nil
}

// NeedWords names a need for a skip reason.
func NeedWords(n spec.Need) string {
	switch n {
	case spec.NeedEcho:
		return "an echo endpoint (POST /echo returns the body)"
	case spec.NeedReflect:
		return "a reflect endpoint (ANY /reflect returns the request as JSON)"
	case spec.NeedStatus:
		return "a status endpoint (GET /status/N answers N)"
	case spec.NeedBytes:
		return "a bytes endpoint (GET /bytes/N answers N bytes)"
	case spec.NeedSleep:
		return "a sleep endpoint (GET /sleep/MS answers after MS ms)"
	case spec.NeedPersist:
		return "persistent connections (a second request answered on one connection)"
	case spec.NeedHTTP11:
		return "an HTTP/1.1 server (HTTP/1.1 responses)"
	case spec.NeedPostRoot:
		return "POST / answered (any status)"
	case spec.NeedPID:
		return "the target's PID"
	}
	return strings.TrimSpace(string(n))
}

// Header is the probe's findings as the text report's first lines.
func (p *Probed) Header() string {
	var b strings.Builder
	fmt.Fprintf(&b, "probe: %s", p.Root)
	if p.Persistence != "" {
		fmt.Fprintf(&b, "; persistence: %s", p.Persistence)
	}
	b.WriteString("\n")
	var have, lack []string
	for _, n := range p.NeedNames() {
		if n == spec.NeedPersist {
			continue
		}
		if p.Needs[n] == "yes" {
			have = append(have, string(n))
		} else {
			lack = append(lack, string(n))
		}
	}
	fmt.Fprintf(&b, "probe: has [%s]; lacks [%s] (cases needing what it lacks are skipped)\n\n",
		strings.Join(have, " "), strings.Join(lack, " "))
	return b.String()
}

// AnnouncesClose reports whether a response tells the client that the connection ends after
// it: a "close" connection option, or an HTTP/1.0 response without "keep-alive" (RFC 9112
// §9.3).
func AnnouncesClose(r *wire.Response) bool {
	if r == nil {
		return false
	}
	if hasConnToken(r, "close") {
		return true
	}
	return r.Version == "HTTP/1.0" && !hasConnToken(r, "keep-alive")
}

// CloseAnnouncement says how r announced close (see AnnouncesClose).
func CloseAnnouncement(r *wire.Response) string {
	if hasConnToken(r, "close") {
		return "Connection: close"
	}
	return r.Version + " without keep-alive"
}

func hasConnToken(r *wire.Response, token string) bool {
	for _, v := range r.Get("Connection") {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
