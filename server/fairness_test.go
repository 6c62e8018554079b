package server

import (
	"bufio"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hammer keeps a kept-alive connection busy with back-to-back requests until stop, redialling
// whenever the server ends the connection, and counts the responses.
func hammer(t *testing.T, s *testServer, stop <-chan struct{}, served *atomic.Int64) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
		if err != nil {
			continue
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		br := bufio.NewReader(c)
		for {
			select {
			case <-stop:
				c.Close()
				return
			default:
			}
			if _, err := c.Write([]byte(get("/", false))); err != nil {
				break
			}
			r, err := readResponse(br)
			if err != nil {
				break
			}
			served.Add(1)
			if r.header["connection"] == "close" {
				break
			}
		}
		c.Close()
	}
}

// A prefork server whose workers are all held by kept-alive clients sending back to back
// still lets a new client in: a worker ends a kept-alive connection older than fairAge (after
// the response in progress, with Connection: close) once a connection has waited in the
// listen queue. Without that the new client waited for as long as the others kept sending.
func TestPreforkLetsWaitingClientsIn(t *testing.T) {
	s := startServer(t, "prefork", "-workers", "2")
	stop := make(chan struct{})
	var served atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { hammer(t, s, stop, &served) })
	}
	defer func() { close(stop); wg.Wait() }()
	for served.Load() < 20 { // both workers busy with the hammering clients
		time.Sleep(5 * time.Millisecond) // polling a counter, with the test's deadline
	}
	took := servedOnce(t, s, "a new client while two kept-alive clients hold both workers")
	t.Logf("new client served after %v while the others got %d responses", took, served.Load())
}

// Fork mode does not start a process for a connection that is already gone when it is
// accepted (reset or closed before sending a byte): a flood of them leaves real clients served.
func TestForkSkipsDeadConnections(t *testing.T) {
	s := startServer(t, "fork")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var resets atomic.Int64
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
				if err != nil {
					continue
				}
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
				resets.Add(1)
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()
	for resets.Load() < 200 {
		time.Sleep(5 * time.Millisecond) // polling a counter, with the test's deadline
	}
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
