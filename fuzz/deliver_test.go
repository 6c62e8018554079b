package fuzz

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/internal/fakenet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// summary says what o holds, in a line: bytes sent; each read as request@bytes sent, "w"
// when in a window, and its status or "err"; a reset and its serving check; the end watched.
func summary(o *observation) string {
	list := func(rds []read) []string {
		out := []string{}
		for _, rd := range rds {
			s := fmt.Sprintf("%d@%d", rd.req, rd.sent)
			if rd.window {
				s += "w"
			}
			if rd.err != nil {
				s += " err"
			} else {
				s += fmt.Sprintf(" %d", rd.resp.StatusCode)
			}
			out = append(out, s)
		}
		return out
	}
	out := fmt.Sprintf("sent %d; reads %v", o.sent, list(o.reads))
	if o.probed || len(o.after) > 0 {
		out += fmt.Sprintf("; probed %v, after %v", o.probed, list(o.after))
	}
	if o.reset {
		out += fmt.Sprintf("; reset, serving check %v", o.serveErr)
	}
	if o.end.End != clients.NoEnding {
		out += fmt.Sprintf("; end %s %q", o.end.End, o.end.Extra)
	}
	return out
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
		want   string // the observation's summary
	}{
		{"answer to a withheld last byte, then to the rest probe", Input{Send: []byte(getKA), Hold: 10 * time.Second},
			func(c net.Conn, done <-chan struct{}) {
				readUntil(c, func(b []byte) bool { return len(b) >= n-1 })
				c.Write([]byte(ok200)) // before the last byte: legal, the rest is what counts
				readUntil(c, func(b []byte) bool { return bytes.HasSuffix(b, []byte(servingProbe)) })
				c.Write([]byte(bad400End)) // the bug: the rest read with the probe
			},
			"sent 27; reads [0@26w 200]; probed true, after [1@27 400 1@27 err]"},
		{"bytes after a response that ends the connection", Input{Send: []byte(getClose)},
			func(c net.Conn, done <-chan struct{}) {
				readHead(c)
				c.Write([]byte(ok200 + "extra"))
				<-done
			},
			`sent 46; reads [0@46 200]; end data "extra"`},
		{"close after a response that ends the connection", Input{Send: []byte(getClose)},
			func(c net.Conn, _ <-chan struct{}) {
				readHead(c)
				c.Write([]byte(ok200))
			},
			`sent 46; reads [0@46 200]; end close ""`},
		{"reset, then a fresh connection served", Input{Send: []byte(getKA), ResetAt: 5},
			func(c net.Conn, _ <-chan struct{}) {
				if h := readHead(c); bytes.HasPrefix(h, []byte(servingProbe)) {
					c.Write([]byte(ok200))
				}
			},
			"sent 5; reads []; reset, serving check <nil>"},
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
			if got := summary(tg.deliver(c, &tt.in, analyze(tt.in.Send))); got != tt.want {
				t.Errorf("deliver recorded %s; want %s", got, tt.want)
			}
		})
	}
}

// A target that closes a connection after each answer, without saying so: an input on the
// connection after the answer finds it closed. On a connection that served an earlier input
// that is sent again on a fresh one (the target may close idle connections, RFC 9112 §9.6);
// on a fresh connection it is the finding.
func TestStaleConnectionSentAgain(t *testing.T) {
	t.Parallel()
	srv := fakenet.New(t)
	srv.Serve(func(c net.Conn) {
		readHead(c)
		c.Write([]byte(ok200))
	})
	tg := &target{addr: srv.Addr(), timeout: 10 * time.Second}
	in := &Input{Send: []byte(getKA)}
	a := analyze(in.Send)
	c, err := tg.dial()
	require.NoError(t, err)
	res, c, fresh := tg.exchangeOnce(c, false, in, a)
	require.NotNil(t, c)
	require.True(t, fresh)
	require.True(t, res.reusable, "the first answer leaves the connection open as far as the client knows")
	// The target has closed it by now, or will before it reads the next input.
	res, c, fresh = tg.exchangeOnce(c, true, in, a)
	require.NotNil(t, c)
	require.True(t, fresh, "sent again on a fresh connection")
	defer c.Close()
	assert.Empty(t, res.kind, res.detail)
	assert.Equal(t, 1, res.responses)

	c2, err := tg.dial()
	require.NoError(t, err)
	defer c2.Close()
	tg.exchange(c2, in, a)
	res = tg.exchange(c2, &Input{Send: []byte(getKA)}, a) // the same, not sent again
	assert.Equal(t, KindNoResponse, res.kind, res.detail)
}
