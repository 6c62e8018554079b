package clients

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forkproof/forkproof/internal/fakenet"

	"golang.org/x/sys/unix"

	"github.com/forkproof/forkproof/spec/wire"
)

// testServer runs handle for every connection accepted on 127.0.0.1; done is closed when the
// test ends, so handlers that hold a connection open can return.
func testServer(t *testing.T, handle func(c *net.TCPConn, done <-chan struct{})) string {
	t.Helper()
	srv := fakenet.New(t)
	srv.Serve(func(c net.Conn) { handle(c.(*net.TCPConn), srv.Done()) })
	return srv.Addr()
}

func dial(t *testing.T, addr string, opts ...Option) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readFull reads exactly n bytes with a deadline.
func readFull(c net.Conn, n int) ([]byte, error) {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, n)
	_, err := io.ReadFull(c, b)
	return b, err
}

func resetConn(c *net.TCPConn) {
	c.SetLinger(0)
	c.Close()
}

const okResp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"

func TestWaitEnd(t *testing.T) {
	tests := []struct {
		name   string
		handle func(c *net.TCPConn, done <-chan struct{})
		want   Ending
		data   string
		marker string
	}{
		{"fin", func(c *net.TCPConn, _ <-chan struct{}) {
			// Read the client's byte first: closing with unread data sends RST, not FIN.
			readFull(c, 1)
		}, Closed, "", "⟨close⟩"},
		{"rst", func(c *net.TCPConn, _ <-chan struct{}) {
			// After the client's first byte: a reset during the handshake fails the dial.
			readFull(c, 1)
			resetConn(c)
		}, Reset, "", "⟨reset⟩"},
		{"timeout", func(c *net.TCPConn, done <-chan struct{}) { <-done }, Silent, "", "⟨timeout 30ms⟩"},
		{"data", func(c *net.TCPConn, done <-chan struct{}) { c.Write([]byte("garbage\x00")); <-done }, Data, "garbage\x00", "garbage\\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := testServer(t, tt.handle)
			c := dial(t, addr)
			if err := c.Send([]byte("x")); err != nil {
				t.Fatal(err)
			}
			// The timeout case needs a short window; the others end on the server's action,
			// whenever it comes.
			window := 5 * time.Second
			if tt.want == Silent {
				window = 30 * time.Millisecond
			}
			got, data := c.WaitEnd(window)
			if got != tt.want || string(data) != tt.data {
				t.Fatalf("WaitEnd = %v, %q; want %v, %q", got, data, tt.want, tt.data)
			}
			if _, recv := c.Transcript(); !strings.HasSuffix(recv, tt.marker) {
				t.Errorf("received transcript %q; want suffix %q", recv, tt.marker)
			}
		})
	}
}

func TestRepeatedTimeoutsCollapse(t *testing.T) {
	addr := testServer(t, func(c *net.TCPConn, done <-chan struct{}) {
		readFull(c, 1)
		c.Write([]byte("ab"))
		<-done
	})
	c := dial(t, addr)
	if err := c.Send([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, data := c.WaitEnd(5 * time.Second); string(data) != "ab" {
		t.Fatalf("WaitEnd data = %q; want %q", data, "ab")
	}
	for i := 0; i < 3; i++ {
		c.WaitEnd(10 * time.Millisecond)
	}
	c.WaitEnd(20 * time.Millisecond)
	want := "ab⟨timeout 10ms ×3⟩⟨timeout 20ms⟩"
	if _, recv := c.Transcript(); recv != want {
		t.Errorf("received transcript %q; want %q", recv, want)
	}
}

func TestReadResponseEndings(t *testing.T) {
	tests := []struct {
		name   string
		server string // what the server writes before acting
		then   string // "close", "reset", "hold"
		want   Ending
	}{
		{"response", okResp, "hold", NoEnding},
		{"fin-before-response", "", "close", Closed},
		{"rst-before-response", "", "reset", Reset},
		{"timeout", "", "hold", Silent},
		{"truncated-body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhi", "close", Truncated},
		{"truncated-head", "HTTP/1.1 200 OK\r\nContent-Len", "close", Truncated},
		{"ill-framed-te-cl", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", "hold", IllFramed},
		{"ill-framed-garbage", "hello\r\n", "hold", IllFramed},
		{"rst-mid-response", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhi", "reset", Reset},
		{"slow-body-timeout", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhi", "hold", Silent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := testServer(t, func(c *net.TCPConn, done <-chan struct{}) {
				// Wait for the request so a reset cannot overtake it.
				if _, err := readFull(c, 4); err != nil {
					return
				}
				c.Write([]byte(tt.server))
				switch tt.then {
				case "reset":
					resetConn(c)
				case "hold":
					<-done
				}
			})
			c := dial(t, addr)
			if err := c.Send([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			timeout := 5 * time.Second
			if tt.then == "hold" && tt.want != NoEnding && tt.want != IllFramed {
				timeout = 50 * time.Millisecond
			}
			r, err := c.ReadResponse("GET", timeout)
			if got := Classify(err); got != tt.want {
				t.Fatalf("Classify(%v) = %v; want %v", err, got, tt.want)
			}
			if tt.want == NoEnding && string(r.Body) != "hi" {
				t.Errorf("body %q; want %q", r.Body, "hi")
			}
			_, recv := c.Transcript()
			if !strings.HasPrefix(recv, Escape([]byte(tt.server))) {
				t.Errorf("received transcript %q does not start with %q", recv, Escape([]byte(tt.server)))
			}
		})
	}
}

func TestBytesKeptForNextResponse(t *testing.T) {
	two := okResp + "HTTP/1.1 204 No Content\r\n\r\n" + "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
	addr := testServer(t, func(c *net.TCPConn, done <-chan struct{}) {
		c.Write([]byte(two)) // all three in one write
		<-done
	})
	c := dial(t, addr)
	rs, err := c.ReadResponses([]string{"GET", "GET", "GET"}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	for _, r := range rs {
		codes = append(codes, r.StatusCode)
	}
	if len(rs) != 3 || codes[0] != 200 || codes[1] != 204 || codes[2] != 200 || string(rs[2].Body) != "abc" {
		t.Fatalf("codes %v, last body %q; want [200 204 200], \"abc\"", codes, rs[len(rs)-1].Body)
	}
	if end, data := c.WaitEnd(20 * time.Millisecond); end != Silent {
		t.Errorf("WaitEnd after the responses = %v %q; want timeout", end, data)
	}
}

func TestWaitEndReturnsBufferedBytes(t *testing.T) {
	addr := testServer(t, func(c *net.TCPConn, done <-chan struct{}) {
		c.Write([]byte(okResp + "extra"))
		<-done
	})
	c := dial(t, addr)
	if _, err := c.ReadResponse("GET", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// "extra" may have arrived with the response or after it; either way it is data.
	if got := waitData(t, c, len("extra")); got != "extra" {
		t.Errorf("data %q; want %q", got, "extra")
	}
}

// waitData collects n bytes through WaitEnd, which must see data each time.
func waitData(t *testing.T, c *Conn, n int) string {
	t.Helper()
	var got []byte
	for len(got) < n {
		end, data := c.WaitEnd(5 * time.Second)
		if end != Data {
			t.Fatalf("WaitEnd = %v; want data", end)
		}
		got = append(got, data...)
	}
	return string(got)
}

// TestSplitArrivesInPieces observes the segments on the server: after each piece the client
// waits until the server has read exactly that piece, so each server read holds one piece.
func TestSplitArrivesInPieces(t *testing.T) {
	msg := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	at := []int{1, 5, 14, 16}
	pieces, err := cut(msg, at)
	if err != nil {
		t.Fatal(err)
	}
	reads := make(chan []byte, len(pieces))
	addr := testServer(t, func(c *net.TCPConn, done <-chan struct{}) {
		buf := make([]byte, 1024)
		total := 0
		for total < len(msg) {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			reads <- bytes.Clone(buf[:n])
			total += n
		}
	})
	c := dial(t, addr)
	var got [][]byte
	err = c.sendPieces(pieces, func(i int) error {
		select {
		case b := <-reads:
			got = append(got, b)
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("server read nothing")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-reads:
		got = append(got, b)
	case <-time.After(5 * time.Second):
		t.Fatal("server never read the last piece")
	}
	if len(got) != len(pieces) {
		t.Fatalf("server read %d pieces; want %d", len(got), len(pieces))
	}
	for i := range pieces {
		if !bytes.Equal(got[i], pieces[i]) {
			t.Errorf("read %d = %q; want %q", i, got[i], pieces[i])
		}
	}
}

func TestSendSplitTranscript(t *testing.T) {
	msg := []byte("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
	received := make(chan []byte, 1)
	addr := testServer(t, func(c *net.TCPConn, done <-chan struct{}) {
		b, _ := readFull(c, len(msg))
		received <- b
	})
	c := dial(t, addr)
	if err := c.SendSplit(msg, []int{3, 10}, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.SendSplit([]byte("x"), nil, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := c.SendSplit(msg, []int{3, 3}, 0); err == nil {
		t.Error("SendSplit with repeated offset: no error")
	}
	if got := <-received; !bytes.Equal(got, msg) {
		t.Fatalf("server got %q; want %q", got, msg)
	}
	c2 := dial(t, addr)
	if err := c2.SendSplit(msg, []int{3}, 2*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	<-received
	sent, _ := c2.Transcript()
	want := `POS⟨pause 2ms⟩T /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc`
	if sent != want {
		t.Errorf("sent transcript %q; want %q", sent, want)
	}
	sent, _ = c.Transcript()
	if !strings.HasPrefix(sent, "POS⟨split⟩T /echo⟨split⟩ HTTP") {
		t.Errorf("sent transcript %q; want split markers at 3 and 10", sent)
	}
	back, err := unescape(sent)
	if err != nil || !bytes.Equal(back, append(bytes.Clone(msg), 'x')) {
		t.Errorf("unescape(transcript) = %q, %v; want the bytes sent", back, err)
	}
}

func TestHalfCloseStillGetsResponse(t *testing.T) {
	addr := testServer(t, func(c *net.TCPConn, done <-chan struct{}) {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(c); err != nil { // to EOF: the client's shutdown
			return
		}
		c.Write([]byte(okResp))
	})
	c := dial(t, addr)
	if err := c.Send([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadResponse("GET", 5*time.Second); err != nil {
		t.Fatalf("ReadResponse after half-close: %v", err)
	}
	if end, _ := c.WaitEnd(5 * time.Second); end != Closed {
		t.Errorf("end %v; want close", end)
	}
	sent, recv := c.Transcript()
	if !strings.HasSuffix(sent, `\r\n\r\n⟨shutdown wr⟩`) || !strings.HasSuffix(recv, "hi⟨close⟩") {
		t.Errorf("transcript sent %q received %q; want shutdown and close markers", sent, recv)
	}
}

func TestResetIsSeenByServer(t *testing.T) {
	serverErr := make(chan error, 1)
	addr := testServer(t, func(c *net.TCPConn, done <-chan struct{}) {
		if _, err := readFull(c, 3); err != nil {
			serverErr <- err
			return
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := c.Read(make([]byte, 10))
		serverErr <- err
	})
	c := dial(t, addr)
	if err := c.Send([]byte("GET")); err != nil {
		t.Fatal(err)
	}
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := <-serverErr; !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("server read error %v; want ECONNRESET", err)
	}
	if sent, _ := c.Transcript(); sent != "GET⟨reset⟩" {
		t.Errorf("sent transcript %q; want %q", sent, "GET⟨reset⟩")
	}
}

func TestSlowReaderGetsEverything(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 16<<10) // 256 KiB
	addr := testServer(t, func(c *net.TCPConn, done <-chan struct{}) {
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		c.Write(body)
	})
	c := dial(t, addr, WithRecvBuffer(4096))
	rcv, err := unix.GetsockoptInt(fdOf(t, c), unix.SOL_SOCKET, unix.SO_RCVBUF)
	if err != nil {
		t.Fatal(err)
	}
	if rcv > 16384 { // the kernel doubles the value asked for, and clamps to a minimum
		t.Errorf("SO_RCVBUF = %d; want a small buffer", rcv)
	}
	got, err := c.ReadSlowly(8192, 0, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("slow read got %d bytes; want the %d sent, intact", len(got), len(body))
	}
}

func fdOf(t *testing.T, c *Conn) int {
	rc, err := c.NetConn().SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	rc.Control(func(f uintptr) { fd = int(f) })
	return fd
}

func TestDrip(t *testing.T) {
	msg := []byte("GET / HTTP/1.1\r\nHost: x\r\n")
	got := make(chan []byte, 1)
	addr := testServer(t, func(c *net.TCPConn, done <-chan struct{}) {
		b, _ := readFull(c, len(msg))
		got <- b
	})
	c := dial(t, addr)
	if err := c.Drip(msg, 7, time.Millisecond, nil); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, msg) {
		t.Fatalf("server got %q; want %q", b, msg)
	}
	sent, _ := c.Transcript()
	if n := strings.Count(sent, "⟨pause 1ms⟩"); n != 3 {
		t.Errorf("sent transcript %q has %d pause markers; want 3", sent, n)
	}

	// Stopping: the server reads the first piece, then the test closes stop.
	first := make(chan struct{})
	addr2 := testServer(t, func(c *net.TCPConn, done <-chan struct{}) {
		if _, err := readFull(c, 2); err == nil {
			close(first)
		}
		<-done
	})
	c2 := dial(t, addr2)
	stop := make(chan struct{})
	res := make(chan error, 1)
	go func() { res <- c2.Drip(bytes.Repeat([]byte("ab"), 1000), 2, 5*time.Millisecond, stop) }()
	<-first
	close(stop)
	select {
	case err := <-res:
		if err != nil {
			t.Fatalf("Drip after stop: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Drip did not stop")
	}
	if err := c2.Drip(msg, 0, time.Millisecond, nil); err == nil {
		t.Error("Drip with size 0: no error")
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want Ending
	}{
		{nil, NoEnding},
		{io.EOF, Closed},
		{io.ErrUnexpectedEOF, Truncated},
		{&wire.Error{Rule: "te-cl"}, IllFramed},
		{syscall.ECONNRESET, Reset},
		{&net.OpError{Op: "read", Err: syscall.EPIPE}, Reset},
		{context.DeadlineExceeded, Silent},
		{&net.OpError{Op: "read", Err: timeoutErr{}}, Silent},
		{net.ErrClosed, Failed},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %v; want %v", tt.err, got, tt.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "i/o timeout" }
func (timeoutErr) Timeout() bool { return true }

func TestSplitEvery(t *testing.T) {
	tests := []struct {
		n, k int
		want []int
	}{
		{10, 3, []int{3, 6, 9}},
		{9, 3, []int{3, 6}},
		{3, 3, nil},
		{2, 3, nil},
		{5, 1, []int{1, 2, 3, 4}},
		{5, 0, nil},
		{0, 1, nil},
	}
	for _, tt := range tests {
		got := SplitEvery(make([]byte, tt.n), tt.k)
		if len(got) != len(tt.want) {
			t.Errorf("SplitEvery(%d bytes, %d) = %v; want %v", tt.n, tt.k, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("SplitEvery(%d bytes, %d) = %v; want %v", tt.n, tt.k, got, tt.want)
			}
		}
		if tt.n > 0 {
			if _, err := cut(make([]byte, tt.n), got); err != nil {
				t.Errorf("cut with SplitEvery offsets: %v", err)
			}
		}
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GET / HTTP/1.1\r\n", `GET / HTTP/1.1\r\n`},
		{"a\tb\\c", `a\tb\\c`},
		{"\x00\x7f\xff", `\x00\x7f\xff`},
		{"⟨", `\xe2\x9f\xa8`}, // data can never look like a marker
		{"", ""},
	}
	for _, tt := range tests {
		if got := Escape([]byte(tt.in)); got != tt.want {
			t.Errorf("Escape(%q) = %q; want %q", tt.in, got, tt.want)
		}
		back, err := unescape(tt.want)
		if err != nil || string(back) != tt.in {
			t.Errorf("unescape(%q) = %q, %v; want %q", tt.want, back, err, tt.in)
		}
	}
	for _, bad := range []string{`\`, `\q`, `\x1`, `\xzz`, "⟨split"} {
		if _, err := unescape(bad); err == nil {
			t.Errorf("unescape(%q): no error", bad)
		}
	}
}

// unescape reverses Escape, dropping the "⟨…⟩" markers of a transcript: the tests use it to
// show that Escape loses nothing.
func unescape(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.HasPrefix(s[i:], "⟨"):
			end := strings.Index(s[i:], "⟩")
			if end < 0 {
				return nil, fmt.Errorf("clients: unterminated marker at %d", i)
			}
			i += end + len("⟩") - 1
		case c == '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("clients: trailing backslash")
			}
			i++
			switch s[i] {
			case 'r':
				out = append(out, '\r')
			case 'n':
				out = append(out, '\n')
			case 't':
				out = append(out, '\t')
			case '\\':
				out = append(out, '\\')
			case 'x':
				if i+2 >= len(s) {
					return nil, fmt.Errorf("clients: short \\x escape at %d", i-1)
				}
				v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
				if err != nil {
					return nil, fmt.Errorf("clients: bad \\x escape at %d", i-1)
				}
				out = append(out, byte(v))
				i += 2
			default:
				return nil, fmt.Errorf("clients: unknown escape \\%c at %d", s[i], i-1)
			}
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

func TestReadable(t *testing.T) {
	tests := []struct {
		name   string
		handle func(c *net.TCPConn, done <-chan struct{})
		want   bool
	}{
		{"data", func(c *net.TCPConn, done <-chan struct{}) { readFull(c, 1); c.Write([]byte("ab")); <-done }, true},
		{"fin", func(c *net.TCPConn, _ <-chan struct{}) { readFull(c, 1) }, false},
		{"rst", func(c *net.TCPConn, _ <-chan struct{}) { readFull(c, 1); resetConn(c) }, false},
		{"silent", func(c *net.TCPConn, done <-chan struct{}) { <-done }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := testServer(t, tt.handle)
			c := dial(t, addr)
			if err := c.Send([]byte("x")); err != nil {
				t.Fatal(err)
			}
			// Only the silent case needs a short window; the others end on the server's action.
			window := 5 * time.Second
			if tt.name == "silent" {
				window = 30 * time.Millisecond
			}
			if got := c.Readable(window); got != tt.want {
				t.Fatalf("Readable = %v; want %v", got, tt.want)
			}
			if !tt.want {
				return
			}
			// The bytes are left for the next read, and Readable says so at once.
			if !c.Readable(0) {
				t.Error("Readable(0) with bytes buffered = false; want true")
			}
			if got := waitData(t, c, 2); got != "ab" {
				t.Errorf("bytes after Readable %q; want %q", got, "ab")
			}
		})
	}
}

func TestWithWriteTimeout(t *testing.T) {
	addr := testServer(t, func(c *net.TCPConn, done <-chan struct{}) { <-done }) // never reads
	c := dial(t, addr, WithWriteTimeout(50*time.Millisecond))
	// More than the socket buffers of both ends hold: the write blocks until its deadline.
	err := c.Send(bytes.Repeat([]byte("a"), 64<<20))
	if k := Classify(err); k != Silent {
		t.Fatalf("Send to a server that does not read: %v (%v); want a timeout", err, k)
	}
}
