package server

import (
	"bufio"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadUntil runs n goroutines, each calling once in a loop until the returned stop is called
// (which waits for them).
func loadUntil(n int, once func(stop <-chan struct{})) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				select {
				case <-quit:
					return
				default:
				}
				once(quit)
			}
		})
	}
	return func() { close(quit); wg.Wait() }
}

// waitCount polls a counter until it reaches n, failing the test after 30s.
func waitCount(t *testing.T, c *atomic.Int64, n int64, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for c.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d %s within 30s; want %d", c.Load(), what, n)
		}
		time.Sleep(5 * time.Millisecond) // polling a counter, with the deadline above
	}
}

// hammer is one kept-alive connection sending requests back to back until stop, or until the
// server ends it; it counts the responses.
func hammer(s *testServer, stop <-chan struct{}, served *atomic.Int64) {
	c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	for {
		select {
		case <-stop:
			return
		default:
		}
		if _, err := c.Write([]byte(get("/", false))); err != nil {
			return
		}
		r, err := readResponse(br)
		if err != nil {
			return
		}
		served.Add(1)
		if r.header["connection"] == "close" {
			return
		}
	}
}

// A prefork server whose workers are all held by kept-alive clients sending back to back
// still lets a new client in: a worker ends a kept-alive connection older than fairAge (after
// the response in progress, with Connection: close) once a connection has waited in the
// listen queue. Without that the new client waited for as long as the others kept sending.
func TestPreforkLetsWaitingClientsIn(t *testing.T) {
	s := startServer(t, "prefork", "-workers", "2")
	var served atomic.Int64
	stop := loadUntil(2, func(quit <-chan struct{}) { hammer(s, quit, &served) })
	defer stop()
	waitCount(t, &served, 20, "responses to the hammering clients") // both workers busy
	took := servedOnce(t, s, "a new client while two kept-alive clients hold both workers")
	t.Logf("new client served after %v while the others got %d responses", took, served.Load())
}

// Fork mode does not start a process for a connection that is already gone when it is
// accepted (reset or closed before sending a byte): a flood of them leaves real clients served.
func TestForkSkipsDeadConnections(t *testing.T) {
	s := startServer(t, "fork")
	var resets atomic.Int64
	stop := loadUntil(4, func(<-chan struct{}) {
		c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
		if err != nil {
			return
		}
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
		resets.Add(1)
	})
	defer stop()
	waitCount(t, &resets, 200, "connect-and-reset connections")
	took := servedOnce(t, s, "a client during a connect-and-reset flood")
	t.Logf("client served after %v during a flood of %d resets", took, resets.Load())
}

// servedOnce sends GET / on a new connection, fails the test unless it gets 200 (within the
// connection's deadline), and says how long that took.
func servedOnce(t *testing.T, s *testServer, who string) time.Duration {
	t.Helper()
	start := time.Now()
	c := s.dial()
	c.Write([]byte(get("/", true)))
	r, err := readResponse(bufio.NewReader(c))
	if err != nil || r.status != 200 {
		t.Fatalf("%s: %v, %+v; want 200", who, err, r)
	}
	return time.Since(start).Round(time.Millisecond)
}
