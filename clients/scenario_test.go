package clients

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/forkproof/forkproof/internal/fakenet"
)

// Unit tests of the scenario functions against tiny servers on 127.0.0.1, each doing one
// thing right or wrong on purpose. Every server read has a deadline; cleanup closes the
// listener and every connection and waits for every goroutine.

// scenarioServer runs serve for each connection accepted on 127.0.0.1 and returns the address.
func scenarioServer(t *testing.T, serve func(c *net.TCPConn)) string {
	t.Helper()
	return fakenet.Start(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		serve(c.(*net.TCPConn))
	}).Addr()
}

// readHeadLine reads one request head and returns its request line ("" at EOF or error).
func readHeadLine(br *bufio.Reader) string {
	first := ""
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return ""
		}
		if first == "" {
			first = strings.TrimSpace(line)
		} else if line == "\r\n" {
			return first
		}
	}
}

func respWith(body string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

func get(path string) Request {
	return Request{Method: "GET", Bytes: []byte("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")}
}

// echoTargets answers every request on the connection with its target as the body.
func echoTargets(c *net.TCPConn) {
	br := bufio.NewReader(c)
	for {
		line := readHeadLine(br)
		if line == "" {
			return
		}
		if _, err := io.WriteString(c, respWith(strings.Fields(line)[1])); err != nil {
			return
		}
	}
}

func bg(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPeerUnread(t *testing.T) {
	release := make(chan struct{})
	read := make(chan error, 1)
	addr := scenarioServer(t, func(c *net.TCPConn) {
		<-release
		_, err := io.ReadFull(c, make([]byte, 100))
		read <- err
	})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // runs before the server's cleanup, so a failed test does not hang it
	c, err := Dial(bg(t), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n, known := PeerUnread(c); !known || n != 0 {
		t.Fatalf("PeerUnread before sending = %d, %v; want 0, true", n, known)
	}
	if err := c.Send(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for n, _ := PeerUnread(c); n != 100; n, _ = PeerUnread(c) {
		if time.Now().After(deadline) {
			t.Fatalf("PeerUnread with 100 bytes sent and not read = %d; want 100", n)
		}
		time.Sleep(time.Millisecond) // polling the kernel's state, with a deadline
	}
	if WaitPeerRead(c, 20*time.Millisecond) {
		t.Errorf("WaitPeerRead = true while the server has read nothing")
	}
	free()
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	if !WaitPeerRead(c, 5*time.Second) {
		n, known := PeerUnread(c)
		t.Errorf("WaitPeerRead = false after the server read everything (unread %d, known %v)", n, known)
	}
}

// A server that answers after its first read is caught by PartialSend even when it starts
// reading late (a forking server's child on a loaded machine): PartialSend waits until the
// first piece has been read before sending the rest.
func TestPartialSendCatchesAnswerBeforeTheEnd(t *testing.T) {
	addr := scenarioServer(t, func(c *net.TCPConn) {
		time.Sleep(100 * time.Millisecond) // a late start is the behaviour under test
		if n, _ := c.Read(make([]byte, 1024)); n > 0 {
			io.WriteString(c, respWith("early"))
		}
	})
	req := get("/x")
	e := PartialSend(bg(t), addr, req, []int{5}, 10*time.Millisecond, 5*time.Second)
	if e.Premature != Data || e.PrematureAt != 5 || !strings.Contains(string(e.PrematureData), "early") {
		t.Fatalf("PartialSend to a one-read server: Premature %v at %d (%q); want data at 5", e.Premature, e.PrematureAt, e.PrematureData)
	}
	if e.OK() {
		t.Errorf("OK() = true for an exchange answered before the request was complete")
	}
	if !strings.Contains(e.Sent, "GET /") || strings.Contains(e.Sent, "Host") {
		t.Errorf("transcript sent %q; want only the first piece", e.Sent)
	}
}

func TestPartialSendWaitsForTheWhole(t *testing.T) {
	addr := scenarioServer(t, echoTargets)
	req := get("/whole")
	e := PartialSend(bg(t), addr, req, []int{1, 7, 20, len(req.Bytes) - 1}, 5*time.Millisecond, 5*time.Second)
	if !e.OK() || len(e.Responses) != 1 || string(e.Responses[0].Body) != "/whole" {
		t.Fatalf("PartialSend in 5 pieces: OK %v, %d responses, err %v; want one response /whole", e.OK(), len(e.Responses), e.Err)
	}
	// Offsets out of order or outside the request are skipped, not a panic.
	e = PartialSend(bg(t), addr, req, []int{0, 9, 3, 9, 1000}, 0, 5*time.Second)
	if !e.OK() || string(e.Responses[0].Body) != "/whole" {
		t.Errorf("PartialSend with odd offsets: OK %v, err %v", e.OK(), e.Err)
	}
}

func TestPartialSendSeesCloseAndDialError(t *testing.T) {
	addr := scenarioServer(t, func(c *net.TCPConn) {
		c.Read(make([]byte, 1024))
		c.CloseWrite() // FIN after the first piece
	})
	e := PartialSend(bg(t), addr, get("/"), []int{3}, 10*time.Millisecond, 5*time.Second)
	if e.Premature != Closed || e.PrematureAt != 3 {
		t.Errorf("server closing after the first piece: Premature %v at %d; want close at 3", e.Premature, e.PrematureAt)
	}
	e = PartialSend(bg(t), closedAddr(t), get("/"), nil, 0, time.Second)
	if e.DialErr == nil || e.OK() {
		t.Errorf("PartialSend to a closed port: DialErr %v, OK %v; want a dial error", e.DialErr, e.OK())
	}
}

// closedAddr returns a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestPipelineReadsInOrder(t *testing.T) {
	addr := scenarioServer(t, echoTargets)
	var reqs []Request
	for i := range 20 {
		reqs = append(reqs, get(fmt.Sprintf("/%d", i)))
	}
	e := Pipeline(bg(t), addr, reqs, 5*time.Second)
	if !e.OK() || len(e.Responses) != 20 {
		t.Fatalf("Pipeline of 20: OK %v, %d responses, err %v", e.OK(), len(e.Responses), e.Err)
	}
	for i, r := range e.Responses {
		if want := fmt.Sprintf("/%d", i); string(r.Body) != want {
			t.Errorf("response %d body %q; want %q", i, r.Body, want)
		}
	}
}

func TestPipelineShortAnswer(t *testing.T) {
	// Answers only the first request of a pipeline, then closes.
	addr := scenarioServer(t, func(c *net.TCPConn) {
		if readHeadLine(bufio.NewReader(c)) != "" {
			io.WriteString(c, respWith("one"))
		}
		c.CloseWrite()
		io.Copy(io.Discard, c)
	})
	e := Pipeline(bg(t), addr, []Request{get("/a"), get("/b"), get("/c")}, 5*time.Second)
	if e.OK() || len(e.Responses) != 1 || e.End != Closed {
		t.Errorf("Pipeline of 3 answered once: OK %v, %d responses, end %v; want 1 response then close", e.OK(), len(e.Responses), e.End)
	}
}

func TestHalfCloseSendsFIN(t *testing.T) {
	// Answers only once it has read EOF: proof that the client half-closed.
	addr := scenarioServer(t, func(c *net.TCPConn) {
		if _, err := io.ReadAll(c); err == nil {
			io.WriteString(c, respWith("after-eof"))
		}
	})
	e := HalfClose(bg(t), addr, get("/"), 5*time.Second)
	if !e.OK() || string(e.Responses[0].Body) != "after-eof" {
		t.Fatalf("HalfClose: OK %v, err %v; want the response sent after EOF", e.OK(), e.Err)
	}
	if !strings.Contains(e.Sent, "⟨shutdown wr⟩") {
		t.Errorf("transcript %q does not mark the half-close", e.Sent)
	}
}

func TestKeepAlive(t *testing.T) {
	// Numbers the requests on each connection and closes after the second.
	addr := scenarioServer(t, func(c *net.TCPConn) {
		br := bufio.NewReader(c)
		for i := 1; i <= 2 && readHeadLine(br) != ""; i++ {
			io.WriteString(c, respWith(fmt.Sprint(i)))
		}
	})
	e := KeepAlive(bg(t), addr, []Request{get("/"), get("/")}, 5*time.Second)
	if !e.OK() || len(e.Responses) != 2 || string(e.Responses[1].Body) != "2" {
		t.Fatalf("KeepAlive of 2: OK %v, %d responses, err %v; want the second on the same connection", e.OK(), len(e.Responses), e.Err)
	}
	e = KeepAlive(bg(t), addr, []Request{get("/"), get("/"), get("/")}, 5*time.Second)
	if e.OK() || len(e.Responses) != 2 {
		t.Errorf("KeepAlive of 3 against a server closing after 2: OK %v, %d responses; want 2 and an error", e.OK(), len(e.Responses))
	}
}

func TestSendWatchSeesExtraResponse(t *testing.T) {
	addr := scenarioServer(t, func(c *net.TCPConn) {
		if readHeadLine(bufio.NewReader(c)) != "" {
			io.WriteString(c, respWith("one"))
			io.WriteString(c, respWith("unasked"))
		}
		c.Read(make([]byte, 1)) // until the client goes
	})
	e := SendWatch(bg(t), addr, get("/"), 5*time.Second, time.Second)
	if !e.OK() || e.End != Data || !strings.Contains(string(e.Extra), "unasked") {
		t.Errorf("SendWatch: OK %v, end %v %q; want the unasked-for response as data", e.OK(), e.End, e.Extra)
	}
	quiet := scenarioServer(t, func(c *net.TCPConn) {
		if readHeadLine(bufio.NewReader(c)) != "" {
			io.WriteString(c, respWith("one"))
		}
		c.Read(make([]byte, 1))
	})
	e = SendWatch(bg(t), quiet, get("/"), 5*time.Second, 50*time.Millisecond)
	if !e.OK() || e.End != Silent {
		t.Errorf("SendWatch on a quiet server: OK %v, end %v; want timeout", e.OK(), e.End)
	}
}

func TestForEachBoundsParallelism(t *testing.T) {
	var running, peak, calls atomic.Int32
	seen := make([]atomic.Bool, 50)
	ForEach(context.Background(), 50, 4, func(i int) {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(time.Millisecond) // holds the slot so calls overlap; not synchronisation
		seen[i].Store(true)
		calls.Add(1)
		running.Add(-1)
	})
	if calls.Load() != 50 || peak.Load() > 4 {
		t.Errorf("ForEach(50, par 4): %d calls, peak %d running; want 50, at most 4", calls.Load(), peak.Load())
	}
	for i := range seen {
		if !seen[i].Load() {
			t.Errorf("ForEach never called f(%d)", i)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	ForEach(ctx, 10, 1, func(int) { n++ })
	if n != 0 {
		t.Errorf("ForEach with a cancelled context made %d calls; want 0", n)
	}
}

func TestResetAtEachPhase(t *testing.T) {
	ended := make(chan error, 3)
	addr := scenarioServer(t, func(c *net.TCPConn) {
		br := bufio.NewReader(c)
		if start, _ := br.Peek(6); string(start) == "GET /b" {
			big := make([]byte, 1<<20)
			for {
				if _, err := c.Write(big); err != nil {
					ended <- err
					return
				}
			}
		}
		_, err := io.Copy(io.Discard, br) // nil at a clean EOF
		ended <- err
	})
	for _, p := range []Phase{PhaseMidRequest, PhaseAfterRequest, PhaseMidResponse} {
		req := get("/")
		if p == PhaseMidResponse {
			req = get("/big")
		}
		if err := ResetAt(bg(t), addr, req, p, 5*time.Second); err != nil {
			t.Fatalf("ResetAt %v: %v", p, err)
		}
		select {
		case err := <-ended:
			if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
				t.Errorf("ResetAt %v: the server's connection ended with %v; want a reset", p, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("ResetAt %v: the server saw nothing within 5s", p)
		}
	}
	// Mid-response needs a response byte: a silent server makes it an error.
	silent := scenarioServer(t, func(c *net.TCPConn) { c.Read(make([]byte, 1024)); c.Read(make([]byte, 1)) })
	if err := ResetAt(bg(t), silent, get("/big"), PhaseMidResponse, 50*time.Millisecond); err == nil {
		t.Errorf("ResetAt mid-response against a silent server: nil error; want one")
	}
	if got := PhaseMidResponse.String(); got != "mid-response" {
		t.Errorf("PhaseMidResponse.String() = %q", got)
	}
}

func TestDialEachSendEachReadEach(t *testing.T) {
	addr := scenarioServer(t, echoTargets)
	conns, errs := DialEach(bg(t), addr, 10, 5*time.Second)
	for i, err := range errs {
		if err != nil || conns[i] == nil {
			t.Fatalf("DialEach conn %d: %v", i, err)
		}
	}
	conns[3].Close()
	conns[3] = nil // a slot that never connected is skipped
	for i, err := range SendEach(conns, get("/each")) {
		if err != nil {
			t.Errorf("SendEach conn %d: %v", i, err)
		}
	}
	ex := ReadEach(bg(t), conns, "GET", 5*time.Second)
	for i, e := range ex {
		if i == 3 {
			continue
		}
		if e.Err != nil || len(e.Responses) != 1 || string(e.Responses[0].Body) != "/each" {
			t.Errorf("ReadEach conn %d: %v, %d responses", i, e.Err, len(e.Responses))
		}
	}
	_, errs = DialEach(bg(t), closedAddr(t), 3, time.Second)
	for i, err := range errs {
		if err == nil {
			t.Errorf("DialEach to a closed port: conn %d has no error", i)
		}
	}
}

func TestSlowlorisCutAndNotCut(t *testing.T) {
	// Closes 200ms after the first byte.
	cutter := scenarioServer(t, func(c *net.TCPConn) {
		c.Read(make([]byte, 1))
		time.Sleep(200 * time.Millisecond) // the server's timeout is the behaviour under test
	})
	hung := make(chan struct{})
	o := Slowloris(bg(t), cutter, "x", 20*time.Millisecond, 5*time.Second, func() { close(hung) })
	select {
	case <-hung:
	default:
		t.Errorf("Slowloris never called hanging")
	}
	if !o.Cut || o.End == Silent || o.Dripped == 0 || o.After >= 5*time.Second {
		t.Errorf("Slowloris against a 200ms timeout: cut %v by %v after %v, %d dripped; want cut early with bytes dripped", o.Cut, o.End, o.After, o.Dripped)
	}
	// Never cuts: the limit ends it.
	patient := scenarioServer(t, func(c *net.TCPConn) { io.Copy(io.Discard, c) })
	o = Slowloris(bg(t), patient, "x", 10*time.Millisecond, 150*time.Millisecond, nil)
	if o.Cut || o.End != Silent || o.Dripped == 0 {
		t.Errorf("Slowloris against a patient server: cut %v by %v, %d dripped; want still open at the limit", o.Cut, o.End, o.Dripped)
	}
	if !strings.Contains(o.Sent, "X-Slow") {
		t.Errorf("transcript %q lacks the dripped header", o.Sent)
	}
}

func TestSlowBodyAnswered408(t *testing.T) {
	addr := scenarioServer(t, func(c *net.TCPConn) {
		br := bufio.NewReader(c)
		if !strings.HasPrefix(readHeadLine(br), "POST /echo") {
			return
		}
		br.ReadByte()
		io.WriteString(c, "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		c.CloseWrite()
		c.Read(make([]byte, 1024))
	})
	o := SlowBody(bg(t), addr, "x", "/echo", 20*time.Millisecond, 5*time.Second, nil)
	if !o.Cut || o.End != Data || o.Response == nil || o.Response.StatusCode != 408 {
		t.Errorf("SlowBody against a 408: cut %v by %v, response %v; want 408", o.Cut, o.End, o.Response)
	}
	if o := SlowBody(bg(t), closedAddr(t), "x", "/echo", time.Millisecond, time.Second, nil); o.Err == nil {
		t.Errorf("SlowBody to a closed port: no error")
	}
}

func TestSlowReadGetsEverything(t *testing.T) {
	const n = 256 << 10
	addr := scenarioServer(t, func(c *net.TCPConn) {
		readHeadLine(bufio.NewReader(c))
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", n)
		c.Write([]byte(strings.Repeat("z", n)))
	})
	e := SlowRead(bg(t), addr, get("/"), 4096, 8192, 0, 5*time.Second)
	if !e.OK() || len(e.Responses[0].Body) != n {
		t.Fatalf("SlowRead: OK %v, err %v", e.OK(), e.Err)
	}
	// Cut short: the body ends early, which is an error, not a response.
	short := scenarioServer(t, func(c *net.TCPConn) {
		readHeadLine(bufio.NewReader(c))
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\nonly this", n)
	})
	if e := SlowRead(bg(t), short, get("/"), 4096, 4096, 0, 5*time.Second); e.OK() {
		t.Errorf("SlowRead of a truncated body: OK; want an error")
	}
}

// ListenQueue sees the connections waiting in a listener's accept queue, and its backlog.
func TestListenQueue(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 3 {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	q, b, ok := ListenQueue(l.Addr().String())
	if !ok {
		t.Skip("sock_diag unavailable")
	}
	if q != 3 || b < 3 {
		t.Errorf("ListenQueue = %d queued of backlog %d; want 3 queued of at least 3", q, b)
	}
}
