package fakenet

import (
	"io"
	"net"
	"testing"
	"time"
)

// Cleanup ends handlers blocked on a connection the client never closes, and a connection
// Admit refuses is never served.
func TestCleanupEndsBlockedHandlers(t *testing.T) {
	ended := make(chan struct{}, 1)
	running := make(chan struct{})
	served := 0
	var refused int
	t.Run("fake", func(t *testing.T) {
		first := true
		s := Start(t, func(c net.Conn) {
			served++
			close(running)
			io.Copy(io.Discard, c) // blocks until cleanup closes c
			ended <- struct{}{}
		}, Options{Iterative: true, Admit: func(c net.Conn) bool {
			if first {
				first = false
				return true
			}
			refused++
			c.Close()
			return false
		}})
		for i := 0; i < 2; i++ {
			c, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
		}
		// The refused connection is closed by Admit: the client sees EOF.
		// Cleanup must find the handler running: the first connection may still wait in the
		// listener's queue (a cleanup then would close the listener before it is accepted).
		select {
		case <-running:
		case <-time.After(10 * time.Second):
			t.Fatal("the first connection was not served within 10s")
		}
	})
	select {
	case <-ended:
	default:
		t.Fatal("the handler did not return by the end of cleanup")
	}
	if served != 1 {
		t.Errorf("served %d connections; want 1", served)
	}
}
