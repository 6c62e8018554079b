package fuzz

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/internal/fakenet"
)

// readUntil reads from c until enough says the bytes read are enough (or a read fails).
func readUntil(c net.Conn, enough func([]byte) bool) []byte {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []byte
	buf := make([]byte, 4096)
	for !enough(got) {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	return got
}

// readHead reads from c until the end of a request head.
func readHead(c net.Conn) []byte {
	return readUntil(c, func(b []byte) bool { return bytes.Contains(b, []byte("\r\n\r\n")) })
}

// TestDeliverRecords runs deliver against fakes that do one thing each and checks what it
// recorded, not what it means (TestJudge does that). Nothing here waits for a window to
// pass: each fake acts, and deliver sees it, whenever it comes.
func TestDeliverRecords(t *testing.T) {
	n := len(getKA)
	tests := []struct {
		name   string
		in     Input
		handle func(c net.Conn, done <-chan struct{})
		check  func(t *testing.T, o *observation)
	}{
		{"answer to a withheld last byte", Input{Send: []byte(getKA), Hold: 10 * time.Second},
			func(c net.Conn, done <-chan struct{}) {
				readUntil(c, func(b []byte) bool { return len(b) >= n-1 })
				c.Write([]byte(ok200)) // before the last byte: the bug
				<-done
			},
			func(t *testing.T, o *observation) {
				if o.sent != n-1 || len(o.reads) != 1 {
					t.Fatalf("sent %d, reads %+v; want %d sent and one read", o.sent, o.reads, n-1)
				}
				if rd := o.reads[0]; !rd.window || rd.sent != n-1 || rd.err != nil || rd.resp.StatusCode != 200 {
					t.Errorf("read %+v; want a 200 read in the hold, after %d bytes", rd, n-1)
				}
			}},
		{"bytes after a response that ends the connection", Input{Send: []byte(getClose)},
			func(c net.Conn, done <-chan struct{}) {
				readHead(c)
				c.Write([]byte(ok200 + "extra"))
				<-done
			},
			func(t *testing.T, o *observation) {
				if len(o.reads) != 1 || o.reads[0].err != nil || o.reads[0].window || o.reads[0].sent != len(getClose) {
					t.Fatalf("reads %+v; want one response after the whole input", o.reads)
				}
				if !o.watched || o.end != clients.EndData || string(o.endData) != "extra" {
					t.Errorf("end watched %v: %v %q; want data %q", o.watched, o.end, o.endData, "extra")
				}
			}},
		{"close after a response that ends the connection", Input{Send: []byte(getClose)},
			func(c net.Conn, _ <-chan struct{}) {
				readHead(c)
				c.Write([]byte(ok200))
			},
			func(t *testing.T, o *observation) {
				if len(o.reads) != 1 || o.reads[0].err != nil {
					t.Fatalf("reads %+v; want one response", o.reads)
				}
				if !o.watched || o.end != clients.EndFIN {
					t.Errorf("end watched %v: %v; want close", o.watched, o.end)
				}
			}},
		{"reset, then a fresh connection served", Input{Send: []byte(getKA), ResetAt: 5},
			func(c net.Conn, done <-chan struct{}) {
				if h := readHead(c); bytes.HasPrefix(h, []byte(servingProbe)) {
					c.Write([]byte(ok200))
				}
			},
			func(t *testing.T, o *observation) {
				if o.sent != 5 || !o.reset || o.serveErr != nil || len(o.reads) != 0 {
					t.Errorf("sent %d, reset %v, serving check %v, reads %+v; want 5 bytes, a reset, an answer, no reads", o.sent, o.reset, o.serveErr, o.reads)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakenet.New(t)
			srv.Serve(func(c net.Conn) { tt.handle(c, srv.Done()) })
			tg := &target{addr: srv.Addr(), timeout: 10 * time.Second}
			c, err := tg.dial()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			tt.check(t, tg.deliver(c, &tt.in, analyze(tt.in.Send)))
		})
	}
}
