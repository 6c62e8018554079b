package h1

import (
	"io"
	"strings"
	"testing"
	"time"
)

// benchConn serves the same input for n reads, then EOF; writes are counted and dropped.
type benchConn struct {
	in     []byte
	n      int
	writes int
}

func (c *benchConn) Read(p []byte) (int, error) {
	if c.n == 0 {
		return 0, io.EOF
	}
	c.n--
	return copy(p, c.in), nil
}
func (c *benchConn) Write(p []byte) (int, error)         { c.writes++; return len(p), nil }
func (c *benchConn) SetReadTimeout(time.Duration) error  { return nil }
func (c *benchConn) SetWriteTimeout(time.Duration) error { return nil }
func (c *benchConn) CloseRead() error                    { return nil }
func (c *benchConn) CloseWrite() error                   { return nil }
func (c *benchConn) Close() error                        { return nil }

const benchGET = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n"

// BenchmarkServeGET serves b.N keep-alive GETs, one per read, on one connection.
func BenchmarkServeGET(b *testing.B) {
	cfg := DefaultConfig()
	c := &benchConn{in: []byte(benchGET), n: b.N}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchGET)))
	b.ResetTimer()
	ServeConn(c, &cfg, nil)
	if c.writes != b.N {
		b.Fatalf("%d writes for %d requests", c.writes, b.N)
	}
}

// BenchmarkServePipelined16 serves 16 pipelined GETs per read; b.N counts requests.
func BenchmarkServePipelined16(b *testing.B) {
	cfg := DefaultConfig()
	c := &benchConn{in: []byte(strings.Repeat(benchGET, 16)), n: (b.N + 15) / 16}
	b.ReportAllocs()
	b.ResetTimer()
	ServeConn(c, &cfg, nil)
}

// BenchmarkServeEcho serves keep-alive POSTs of 1 KiB to /echo.
func BenchmarkServeEcho(b *testing.B) {
	cfg := DefaultConfig()
	req := "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1024\r\n\r\n" + strings.Repeat("x", 1024)
	c := &benchConn{in: []byte(req), n: b.N}
	b.ReportAllocs()
	b.ResetTimer()
	ServeConn(c, &cfg, nil)
}

// BenchmarkServeConnFresh is one request on a new connection (fork and goroutine modes).
func BenchmarkServeConnFresh(b *testing.B) {
	cfg := DefaultConfig()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c := &benchConn{in: []byte(benchGET), n: 1}
		ServeConn(c, &cfg, nil)
	}
}
