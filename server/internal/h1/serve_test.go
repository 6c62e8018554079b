package h1

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestKeepAlive(t *testing.T) {
	c := startServer(t, nil, nil)
	for i := 0; i < 3; i++ {
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		r := c.readResponse(false)
		if r.status != 200 || r.body != rootBody || r.get("connection") != "" {
			t.Fatalf("request %d: got %q", i, r.raw)
		}
	}
}

func TestPipelining(t *testing.T) {
	c := startServer(t, nil, nil)
	c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" +
		"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n" +
		"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n")
	want := []struct {
		status int
		body   string
		head   bool
	}{{200, rootBody, false}, {200, "hello", false}, {200, "", true}, {404, "404 Not Found\n", false}, {200, "hi", false}}
	for i, w := range want {
		r := c.readResponse(w.head)
		if r.status != w.status || r.body != w.body {
			t.Fatalf("response %d = %d %q; want %d %q", i, r.status, r.body, w.status, w.body)
		}
	}
	// The whole batch went out in one write.
	if n := c.conn.writeCount(); n != 1 {
		t.Errorf("%d writes for 5 pipelined requests; want 1", n)
	}
}

func TestPipelinedInvalidAfterValid(t *testing.T) {
	rs, all := exchange(t, nil, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nFoo : bar\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", false)
	if len(rs) != 2 || rs[0].status != 200 || rs[1].status != 400 {
		t.Fatalf("got %q; want 200 then 400 and close", all)
	}
}

func TestHTTP10(t *testing.T) {
	rs, all := exchange(t, nil, "GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n", false)
	if len(rs) != 1 || rs[0].get("connection") != "close" {
		t.Fatalf("HTTP/1.0 without keep-alive: got %q; want one response with Connection: close", all)
	}
	c := startServer(t, nil, nil)
	c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	r := c.readResponse(false)
	if r.status != 200 || r.get("connection") != "keep-alive" {
		t.Fatalf("HTTP/1.0 keep-alive: got %q", r.raw)
	}
	c.send("GET / HTTP/1.0\r\n\r\n")
	if r := c.readResponse(false); r.status != 200 || r.get("connection") != "close" {
		t.Fatalf("second HTTP/1.0 request: got %q", r.raw)
	}
	c.waitClosed()
}

func TestConnectionClose(t *testing.T) {
	c := startServer(t, nil, nil)
	c.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	r := c.readResponse(false)
	if r.get("connection") != "close" {
		t.Fatalf("got %q; want Connection: close", r.raw)
	}
	c.waitClosed()
}

func TestExpectContinue(t *testing.T) {
	c := startServer(t, nil, nil)
	c.send("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
	r := c.readResponse(false)
	if r.status != 100 {
		t.Fatalf("got %q; want 100 Continue before the body", r.raw)
	}
	c.send("hello")
	if r = c.readResponse(false); r.status != 200 || r.body != "hello" {
		t.Fatalf("got %q; want the echo", r.raw)
	}
	// Body sent with the head: no 100.
	rs, all := exchange(t, nil, "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", false)
	if len(rs) != 1 || rs[0].status != 200 {
		t.Fatalf("body already sent: got %q; want only the 200", all)
	}
	// Too large: 413 without 100.
	rs, all = exchange(t, nil, "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 999999999\r\n\r\n", false)
	if len(rs) != 1 || rs[0].status != 413 {
		t.Fatalf("too large: got %q; want only 413", all)
	}
}

func TestChunkedReflect(t *testing.T) {
	raw := "POST /reflect HTTP/1.1\r\nHost: a\r\nX-One: 1\r\nx-two:  2 \r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5;ext=\"v\"\r\nhello\r\n1;e\r\n!\r\n0\r\nT1: a\r\nT2: b\r\n\r\n"
	rs, all := exchange(t, nil, raw, false)
	if len(rs) != 1 || rs[0].status != 200 {
		t.Fatalf("got %q", all)
	}
	var got struct {
		Method, Target, Version string
		Headers, Trailers       [][]string
		Body                    string
	}
	if err := json.Unmarshal([]byte(rs[0].body), &got); err != nil {
		t.Fatalf("reflect JSON %q: %v", rs[0].body, err)
	}
	body, _ := base64.StdEncoding.DecodeString(got.Body)
	if got.Method != "POST" || got.Target != "/reflect" || got.Version != "HTTP/1.1" || string(body) != "hello!" {
		t.Errorf("reflect = %+v body %q", got, body)
	}
	wantH := [][]string{{"Host", "a"}, {"X-One", "1"}, {"x-two", "2"}, {"Transfer-Encoding", "chunked"}}
	if !equalFields(got.Headers, wantH) {
		t.Errorf("headers = %q; want %q", got.Headers, wantH)
	}
	if wantT := [][]string{{"T1", "a"}, {"T2", "b"}}; !equalFields(got.Trailers, wantT) {
		t.Errorf("trailers = %q; want %q", got.Trailers, wantT)
	}
}

func equalFields(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != 2 || a[i][0] != b[i][0] || a[i][1] != b[i][1] {
			return false
		}
	}
	return true
}

func TestReflectObsText(t *testing.T) {
	rs, _ := exchange(t, nil, "GET /reflect HTTP/1.1\r\nHost: a\r\nX: \xe9\"\\\r\n\r\n", false)
	var got struct{ Headers [][]string }
	if err := json.Unmarshal([]byte(rs[0].body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Headers[1][1] != "\u00e9\"\\" {
		t.Errorf("value = %q; want Latin-1 decoding", got.Headers[1][1])
	}
}

func TestHead(t *testing.T) {
	c := startServer(t, nil, nil)
	for _, p := range []string{"/", "/bytes/100", "/reflect", "/status/404"} {
		c.send("GET " + p + " HTTP/1.1\r\nHost: a\r\n\r\n")
		g := c.readResponse(false)
		c.send("HEAD " + p + " HTTP/1.1\r\nHost: a\r\n\r\n")
		h := c.readResponse(true)
		if h.status != g.status {
			t.Errorf("HEAD %s status %d; GET %d", p, h.status, g.status)
		}
		if p != "/reflect" && h.get("content-length") != g.get("content-length") {
			t.Errorf("HEAD %s Content-Length %q; GET %q", p, h.get("content-length"), g.get("content-length"))
		}
	}
	// No stray body bytes: the next response starts right away.
	c.send("GET /status/201 HTTP/1.1\r\nHost: a\r\n\r\n")
	if r := c.readResponse(false); r.status != 201 {
		t.Fatalf("after HEADs got %q", r.raw)
	}
}

func TestEndpoints(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxBytes = 1 << 20
	tests := []struct {
		req    string
		status int
		check  func(r *response) bool
	}{
		{"GET / HTTP/1.1", 200, func(r *response) bool { return r.body == rootBody }},
		{"GET /bytes/0 HTTP/1.1", 200, func(r *response) bool { return r.body == "" }},
		{"GET /bytes/30 HTTP/1.1", 200, func(r *response) bool { return r.body == "abcdefghijklmnopqrstuvwxyzabcd" }},
		{"GET /bytes/1048576 HTTP/1.1", 200, func(r *response) bool {
			return len(r.body) == 1<<20 && r.body[1<<20-1] == 'a'+byte((1<<20-1)%26) && r.body[53248] == 'a'+byte(53248%26)
		}},
		{"GET /bytes/1048577 HTTP/1.1", 400, nil},
		{"GET /status/204 HTTP/1.1", 204, func(r *response) bool { return r.get("content-length") == "" }},
		{"GET /status/304 HTTP/1.1", 304, func(r *response) bool { return r.get("content-length") == "" }},
		{"GET /status/503 HTTP/1.1", 503, nil},
		{"GET /status/299 HTTP/1.1", 299, nil},
		{"GET /sleep/5 HTTP/1.1", 200, nil},
		{"GET /echo HTTP/1.1", 405, func(r *response) bool { return r.get("allow") == allowEcho }},
		{"DELETE / HTTP/1.1", 405, func(r *response) bool { return r.get("allow") == allowRoot }},
		{"OPTIONS * HTTP/1.1", 200, func(r *response) bool { return r.get("allow") == allowAll }},
		{"OPTIONS /echo HTTP/1.1", 200, func(r *response) bool { return r.get("allow") == allowEcho }},
		{"PUT /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nxy", 200, func(r *response) bool { return r.body == "xy" }},
	}
	c := startServer(t, cfg, nil)
	for _, tt := range tests {
		req := tt.req
		if !strings.Contains(req, "\r\n\r\n") {
			req += "\r\n\r\n"
		}
		req = strings.Replace(req, "\r\n", "\r\nHost: a\r\n", 1)
		c.send(req)
		r := c.readResponse(false)
		if r.status != tt.status || tt.check != nil && !tt.check(r) {
			t.Errorf("For %q, got %d %.200q; want %d", tt.req, r.status, r.raw, tt.status)
		}
	}
}

func TestLimits(t *testing.T) {
	long := strings.Repeat("a", 9000)
	tests := []struct {
		raw    string
		status int
	}{
		{"GET /" + long + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
		{"GET /" + long, 414}, // refused before the line ends
		{strings.Repeat("M", 9000) + " / HTTP/1.1\r\nHost: a\r\n\r\n", 501}, // a method longer than any implemented (RFC 9112 §3)
		{strings.Repeat("M", 9000), 501},                                    // refused before the line ends
		{"GET / HTTP/1.1\r\nHost: a\r\nX: " + long + long + "\r\n\r\n", 431},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: " + long + long, 431},
		{"GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: y\r\n", 100) + "\r\n", 431},
		{"GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: y\r\n", 98) + "\r\n", 200},
		{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + long + long + "\r\n\r\n", 431},
	}
	for _, tt := range tests {
		rs, all := exchange(t, nil, tt.raw, false)
		if len(rs) == 0 || rs[0].status != tt.status {
			t.Errorf("For %.60q..., got %.100q; want %d", tt.raw, all, tt.status)
		}
	}
}

func TestHeaderTimeout(t *testing.T) {
	cfg := testConfig(t)
	cfg.HeaderTimeout = 20 * time.Millisecond
	c := startServer(t, cfg, nil)
	c.send("GET / HTTP/1.1\r\nHo")
	if r := c.readResponse(false); r.status != 408 || r.get("connection") != "close" {
		t.Fatalf("got %q; want 408 and close", r.raw)
	}
	c.closeWrite() // ends the lingering close
	c.waitClosed()
}

func TestBodyTimeout(t *testing.T) {
	cfg := testConfig(t)
	cfg.BodyTimeout = 20 * time.Millisecond
	c := startServer(t, cfg, nil)
	c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab")
	if r := c.readResponse(false); r.status != 408 {
		t.Fatalf("got %q; want 408", r.raw)
	}
	c.closeWrite()
	c.waitClosed()
}

// A body dripped a byte at a time, each byte well within the per-read timeout, is still cut
// off: the body has a deadline of its own, so a slow client costs at most that.
func TestBodyDeadlineCutsDrip(t *testing.T) {
	cfg := testConfig(t)
	cfg.BodyTimeout = 100 * time.Millisecond
	c := startServer(t, cfg, nil)
	c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n")
	answered := func() bool {
		c.conn.out.mu.Lock()
		defer c.conn.out.mu.Unlock()
		return len(c.conn.out.buf) > 0 || c.conn.out.fin
	}
	sent := 0
	for ; sent < 5000 && !answered(); sent++ {
		c.send("b")
		time.Sleep(5 * time.Millisecond) // the drip's pace: the behaviour under test
	}
	if sent == 5000 {
		t.Fatalf("a body dripped for %d bytes (every 5ms, BodyTimeout 100ms) was never cut off", sent)
	}
	if r := c.readResponse(false); r.status != 408 || r.get("connection") != "close" {
		t.Fatalf("after %d dripped bytes got %q; want 408 and close", sent, r.raw)
	}
}

func TestIdleTimeout(t *testing.T) {
	cfg := testConfig(t)
	cfg.IdleTimeout = 20 * time.Millisecond
	c := startServer(t, cfg, nil)
	c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	c.readResponse(false)
	if rest := c.readAll(); rest != "" {
		t.Fatalf("idle close sent %q; want a silent close", rest)
	}
}

// After a framing error the server half-closes and keeps reading what the client still
// sends, so the client can read the error instead of a reset.
func TestLingeringClose(t *testing.T) {
	c := startServer(t, nil, nil)
	junk := strings.Repeat("x", 100<<10)
	c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n" + junk)
	r := c.readResponse(false)
	if r.status != 400 || r.get("connection") != "close" {
		t.Fatalf("got %q; want 400 with Connection: close", r.raw)
	}
	// The server shut its write side, but still consumes the input.
	if rest := c.readAll(); rest != "" {
		t.Fatalf("after the error got %q", rest)
	}
	c.send(junk) // still accepted: the read side is open while lingering
	c.closeWrite()
	c.waitClosed()
	c.conn.in.mu.Lock()
	left, read := len(c.conn.in.buf), c.conn.in.nread
	c.conn.in.mu.Unlock()
	if left != 0 || read < 2*len(junk) {
		t.Errorf("lingering close left %d bytes unread (read %d)", left, read)
	}
}

func TestDrainIdle(t *testing.T) {
	drain := make(chan struct{})
	c := startServer(t, nil, drain)
	c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	if r := c.readResponse(false); r.status != 200 {
		t.Fatalf("got %q", r.raw)
	}
	close(drain)
	c.waitClosed() // the idle connection closes without the client doing anything
}

func TestDrainInProgress(t *testing.T) {
	drain := make(chan struct{})
	c := startServer(t, nil, drain)
	c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel")
	// Wait until the server has consumed what was sent: it is now inside the request.
	deadline := time.Now().Add(readWait)
	for !c.drained() {
		if time.Now().After(deadline) {
			t.Fatal("server never read the partial request")
		}
		time.Sleep(time.Millisecond) // polling for state, bounded by the deadline
	}
	close(drain)
	c.send("lo")
	r := c.readResponse(false)
	if r.status != 200 || r.body != "hello" || r.get("connection") != "close" {
		t.Fatalf("got %q; want the full echo with Connection: close", r.raw)
	}
	c.waitClosed()
}

func (c *client) drained() bool {
	c.conn.in.mu.Lock()
	defer c.conn.in.mu.Unlock()
	return len(c.conn.in.buf) == 0
}

// Requests already waiting when the drain begins are all answered, the last with close.
func TestDrainPending(t *testing.T) {
	drain := make(chan struct{})
	close(drain)
	c := startServerWith(t, nil, drain, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /bytes/3 HTTP/1.1\r\nHost: a\r\n\r\n")
	r1 := c.readResponse(false)
	r2 := c.readResponse(false)
	if r1.status != 200 || r2.body != "abc" || r2.get("connection") != "close" {
		t.Fatalf("got %q then %q; want both, the last with Connection: close", r1.raw, r2.raw)
	}
	c.waitClosed()
}

func TestNoDrainLeak(t *testing.T) {
	// ServeConn's drain watcher must end with the connection even if drain never fires.
	drain := make(chan struct{})
	c := startServer(t, nil, drain)
	c.closeWrite()
	c.waitClosed()
}
