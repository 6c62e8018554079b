package targets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forkproof/forkproof/internal/fakenet"
	"github.com/forkproof/forkproof/spec"
)

// fakeIdle bounds how long a fake keeps a silent connection: every probe timeout here is well
// below it.
const fakeIdle = 10 * time.Second

// startFake starts a fake target (internal/fakenet) serving each connection with serve.
func startFake(t *testing.T, serve func(c net.Conn)) *Target {
	t.Helper()
	return &Target{Addr: fakenet.Start(t, serve).Addr()}
}

// readIdle reads what is there, with the idle deadline; false when the connection ended.
func readIdle(c net.Conn, buf []byte) (int, bool) {
	c.SetReadDeadline(time.Now().Add(fakeIdle))
	n, err := c.Read(buf)
	if err != nil && (n == 0 || !errors.Is(err, io.EOF)) {
		return n, false
	}
	return n, true
}

// silent reads everything and never answers.
func silent(c net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		if _, ok := readIdle(c, buf); !ok {
			return
		}
	}
}

// A probe that got no response in time is sent again with a longer timeout before a need is
// believed missing: on a busy machine the first one may only have been slow. A silent first
// connection stands in for that slowness, without timing anything.
func TestProbeTimeoutIsTriedAgain(t *testing.T) {
	var conns atomic.Int32
	tg := startFake(t, func(c net.Conn) {
		if conns.Add(1) == 1 {
			silent(c) // the first probe: no answer until the client gives up
			return
		}
		buf := make([]byte, 4096)
		var got []byte
		for !bytes.Contains(got, []byte(probeBody)) {
			n, ok := readIdle(c, buf)
			if !ok {
				return
			}
			got = append(got, buf[:n]...)
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(probeBody), probeBody)
	})
	caps := NewCapabilities(tg, 100*time.Millisecond)
	require.NoError(t, caps.Has(t.Context(), spec.NeedEcho), "the second echo probe was answered")
	assert.Equal(t, int32(2), conns.Load(), "connections made by the probe")

	// A need that is missing for good is still found missing, after probeTries attempts.
	silent := startFake(t, silent)
	err := NewCapabilities(silent, 50*time.Millisecond).Has(t.Context(), spec.NeedEcho)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
}
