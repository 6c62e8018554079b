package conformance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forkproof/forkproof/internal/fakenet"
	"github.com/forkproof/forkproof/targets"
)

// Fake servers for the proof: tiny raw TCP servers on 127.0.0.1 with canned, wrong behaviour,
// each a kind of server the catalogue must catch. Every read has a deadline; Close of the
// fake ends every connection and waits for every goroutine.

// proofFakeIdle bounds how long a fake keeps a silent connection: the runner's longest wait in the
// proof is well below it.
const proofFakeIdle = 10 * time.Second

func startProofFake(t *testing.T, serve func(c net.Conn)) *targets.Target {
	t.Helper()
	return &targets.Target{Addr: fakenet.Start(t, serve).Addr()}
}

// proofRead reads what is there, with the idle deadline; false when the connection ended.
func proofRead(c net.Conn, buf []byte) (int, bool) {
	c.SetReadDeadline(time.Now().Add(proofFakeIdle))
	n, err := c.Read(buf)
	if err != nil && (n == 0 || !errors.Is(err, io.EOF)) {
		return n, false
	}
	return n, true
}

const proofOK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// proofNaive answers 200 keep-alive to every header section it sees (counting CRLF CRLF),
// ignoring bodies, syntax, Host, close, versions and HEAD.
func proofNaive(c net.Conn) { proofEachHead(c, func([]byte) bool { return true }) }

// proofConnCloses persists by default but closes, unannounced, after answering any request
// carrying a Connection field: the learner server that treats "Connection:" as "close".
func proofConnCloses(c net.Conn) {
	proofEachHead(c, func(head []byte) bool {
		return !bytes.Contains(bytes.ToLower(head), []byte("\nconnection:"))
	})
}

// proofEachHead answers 200 to every header section it sees (counting CRLF CRLF), ignoring
// bodies and syntax, and goes on while keep(head) says so.
func proofEachHead(c net.Conn, keep func(head []byte) bool) {
	var pending []byte
	buf := make([]byte, 64<<10)
	for {
		n, ok := proofRead(c, buf)
		pending = append(pending, buf[:n]...)
		for {
			i := bytes.Index(pending, []byte("\r\n\r\n"))
			if i < 0 {
				break
			}
			head := pending[:i]
			pending = pending[i+4:]
			if _, err := c.Write([]byte(proofOK)); err != nil || !keep(head) {
				return
			}
		}
		if !ok {
			return
		}
	}
}

// proofPerRead answers one 200 per read, whatever arrived: the classic one-recv() server, but
// persistent.
func proofPerRead(c net.Conn) {
	buf := make([]byte, 1024)
	for {
		n, ok := proofRead(c, buf)
		if n > 0 {
			if _, err := c.Write([]byte(proofOK)); err != nil {
				return
			}
		}
		if !ok {
			return
		}
	}
}

// proofRejectAll answers 400 and closes, to anything.
func proofRejectAll(c net.Conn) {
	buf := make([]byte, 4096)
	if n, _ := proofRead(c, buf); n > 0 {
		c.Write([]byte("HTTP/1.1 400 Bad Request\r\nDate: " + time.Now().UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT") + "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
	}
	proofLingerClose(c)
}

// proofSilent reads everything and never answers.
func proofSilent(c net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		if _, ok := proofRead(c, buf); !ok {
			return
		}
	}
}

// proofSlam closes every connection at once.
func proofSlam(c net.Conn) {}

// proofGarbage answers with bytes that are no HTTP response, then closes.
func proofGarbage(c net.Conn) {
	buf := make([]byte, 4096)
	if n, _ := proofRead(c, buf); n > 0 {
		c.Write([]byte("HELLO THERE\r\n\r\n"))
	}
	proofLingerClose(c)
}

// proofHTTP10 answers every request with an HTTP/1.0 close-delimited 200, then closes.
func proofHTTP10(c net.Conn) {
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(got, []byte("\r\n\r\n")) {
		n, ok := proofRead(c, buf)
		got = append(got, buf[:n]...)
		if !ok {
			return
		}
	}
	c.Write([]byte("HTTP/1.0 200 OK\r\n\r\nok"))
	proofLingerClose(c)
}

// proofReset resets the connection on the first bytes.
func proofReset(c net.Conn) {
	buf := make([]byte, 4096)
	proofRead(c, buf)
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
}

// proofLingerClose half-closes and drains briefly, so the client reads what was written rather
// than a reset.
func proofLingerClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	io.Copy(io.Discard, io.LimitReader(c, 1<<20))
}

// proofSloppy is a plausible hand-written server that passes the echo and reflect probes but
// carries the bugs of a first attempt: header lines split on every ':' and merged by name
// without trimming, routing on the raw target (absolute-form misses), /echo for any method,
// the echoed body cut at the first NUL (C strings), "Content-Length: 0" taken as "read to
// EOF" (atoi == 0), responses always chunked (even to HTTP/1.0), and 100 Continue sent to
// every Expect, HTTP/1.0 included.
func proofSloppy(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		c.SetReadDeadline(time.Now().Add(proofFakeIdle))
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		parts := strings.Fields(line)
		if len(parts) != 3 {
			return
		}
		method, target, version := parts[0], parts[1], parts[2]
		var names []string
		fields := map[string]string{}
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			l = strings.TrimRight(l, "\r\n")
			if l == "" {
				break
			}
			kv := strings.Split(l, ":")
			if len(kv) < 2 {
				continue
			}
			name, value := strings.ToLower(kv[0]), strings.TrimPrefix(kv[1], " ")
			if old, ok := fields[name]; ok {
				fields[name] = old + ", " + value
			} else {
				names = append(names, kv[0])
				fields[name] = value
			}
		}
		if fields["expect"] != "" {
			c.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n"))
		}
		var body []byte
		if v, ok := fields["content-length"]; ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			switch {
			case n < 0 || n > 1<<24:
				return
			case n == 0:
				body, _ = io.ReadAll(br) // the atoi bug: 0 means "until EOF"
			default:
				body = make([]byte, n)
				if _, err := io.ReadFull(br, body); err != nil {
					return
				}
			}
		}
		var out []byte
		switch {
		case target == "/echo":
			if i := bytes.IndexByte(body, 0); i >= 0 {
				body = body[:i]
			}
			out = body
		case target == "/reflect":
			var hs [][2]string
			for _, n := range names {
				hs = append(hs, [2]string{n, fields[strings.ToLower(n)]})
			}
			out, _ = json.Marshal(map[string]any{"method": method, "target": target, "version": version, "headers": hs, "body": body})
		case strings.HasPrefix(target, "/bytes/"):
			n, _ := strconv.Atoi(strings.TrimPrefix(target, "/bytes/"))
			out = bytes.Repeat([]byte("b"), min(n, 1<<20))
		case target == "/":
			out = []byte("ok")
		default:
			out = []byte("not found")
		}
		var w bytes.Buffer
		w.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
		if len(out) > 0 {
			fmt.Fprintf(&w, "%x\r\n%s\r\n", len(out), out)
		}
		w.WriteString("0\r\n\r\n")
		if _, err := c.Write(w.Bytes()); err != nil {
			return
		}
		if version == "HTTP/1.0" || strings.Contains(strings.ToLower(fields["connection"]), "close") {
			proofLingerClose(c)
			return
		}
	}
}

// proofShortRead frames requests by Content-Length but takes as the body only the bytes that
// came with the header section (one read for the body, as if it always arrived whole), so the
// rest of a body sent in pieces is parsed as the next request, and refused with 400 and a close.
func proofShortRead(c net.Conn) { proofByLength(c, false) }

// proofBodyFirst frames requests by Content-Length and reads each whole body before answering,
// knowing nothing of Expect: a client waiting for 100 (Continue) waits for ever.
func proofBodyFirst(c net.Conn) { proofByLength(c, true) }

// proofByLength answers 200 keep-alive to each request framed by Content-Length (chunked is
// unknown to it), and 400 and a close to a request-line whose method is not upper-case letters.
// With whole, it waits for each body; without, it takes what has arrived.
func proofByLength(c net.Conn, whole bool) {
	var pending []byte
	buf := make([]byte, 64<<10)
	for {
		n, ok := proofRead(c, buf)
		pending = append(pending, buf[:n]...)
		for {
			i := bytes.Index(pending, []byte("\r\n\r\n"))
			if i < 0 {
				break
			}
			lines := strings.Split(string(pending[:i]), "\r\n")
			method, _, _ := strings.Cut(lines[0], " ")
			if method == "" || strings.Trim(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
				c.Write([]byte("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
				proofLingerClose(c)
				return
			}
			length := 0
			for _, l := range lines[1:] {
				if name, v, _ := strings.Cut(l, ":"); strings.EqualFold(name, "Content-Length") {
					length, _ = strconv.Atoi(strings.TrimSpace(v))
				}
			}
			length = max(0, length)
			if whole && len(pending)-(i+4) < length {
				break
			}
			pending = pending[i+4:]
			pending = pending[min(length, len(pending)):]
			if _, err := c.Write([]byte(proofOK)); err != nil {
				return
			}
		}
		if !ok {
			return
		}
	}
}
