// Package fakenet runs tiny TCP servers on 127.0.0.1 for tests: fake targets with one
// behaviour planted on purpose. It owns the part every such fake shares — the accept loop,
// a goroutine per connection, and a cleanup that closes the listener and every open
// connection and waits for every goroutine — so a test leaves nothing behind.
package fakenet

import (
	"net"
	"sync"
	"testing"
)

// Server is one fake.
type Server struct {
	ln    net.Listener
	done  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]bool
}

// Options change how connections are taken.
type Options struct {
	// Iterative serves one connection at a time, in the accept loop: a server with no
	// concurrency at all.
	Iterative bool
	// Admit, when set, sees each accepted connection first; false means it has dealt with
	// the connection itself (closed or reset it) and it is not served.
	Admit func(c net.Conn) bool
}

// New listens on a free loopback port; Serve starts taking connections. Cleanup is
// registered with tb.
func New(tb testing.TB) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("fakenet: listen: %v", err)
	}
	s := &Server{ln: ln, done: make(chan struct{}), conns: map[net.Conn]bool{}}
	tb.Cleanup(s.close)
	return s
}

// Start is New followed by Serve.
func Start(tb testing.TB, handle func(c net.Conn), opts ...Options) *Server {
	s := New(tb)
	s.Serve(handle, opts...)
	return s
}

// Serve runs handle for every accepted connection and closes the connection when handle
// returns.
func (s *Server) Serve(handle func(c net.Conn), opts ...Options) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s.wg.Go(func() {
		for {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			if o.Admit != nil && !o.Admit(c) {
				continue
			}
			s.mu.Lock()
			select {
			case <-s.done: // accepted while cleanup ran: it has closed the others already
				s.mu.Unlock()
				c.Close()
				return
			default:
			}
			s.conns[c] = true
			s.mu.Unlock()
			serve := func() {
				defer func() {
					c.Close()
					s.mu.Lock()
					delete(s.conns, c)
					s.mu.Unlock()
				}()
				handle(c)
			}
			if o.Iterative {
				serve()
			} else {
				s.wg.Go(serve)
			}
		}
	})
}

// Addr is the host:port the fake listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// StopAccepting closes the listener: the fake "dies" for new clients while the connections it
// holds go on.
func (s *Server) StopAccepting() { s.ln.Close() }

// Done is closed when the test ends, before the connections are closed, so a handler that
// holds a connection open on purpose can return.
func (s *Server) Done() <-chan struct{} { return s.done }

func (s *Server) close() {
	s.mu.Lock()
	close(s.done)
	s.mu.Unlock()
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
