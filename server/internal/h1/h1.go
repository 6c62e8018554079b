// Package h1 is the reference server's HTTP/1.1 engine: a strict RFC 9112 parser and the
// endpoints of PRODUCT.md, serving one connection at a time over any byte stream (a raw fd in
// a forked child, or a net.Conn). It shares no code with the judge in spec/.
//
// Choices where the RFCs allow several behaviours:
//   - Content-Length: exactly one field with a plain decimal value; a second Content-Length
//     field or the list form "5, 5" is rejected with 400 (RFC 9112 §6.3 allows rejecting).
//   - Bare LF as a line terminator is rejected with 400 (RFC 9112 §2.2 allows accepting it).
//   - Up to 8 empty lines before the request line are ignored (RFC 9112 §2.2); more is a 400.
//   - An empty Host value is accepted (RFC 9112 §3.2 allows it); a missing, duplicate or
//     malformed Host in an HTTP/1.1 request is a 400. In an absolute-form target the target's
//     authority wins, but Host must still be present.
//   - Transfer-Encoding: only "chunked" alone is implemented. An unknown coding (or a known
//     one we do not decode, like gzip) gives 501; chunked not last or repeated gives 400;
//     Transfer-Encoding in an HTTP/1.0 request or together with Content-Length gives 400.
//     All of these close the connection.
//   - /bytes/N beyond MaxBytes and /sleep/MS beyond MaxSleep answer 400.
//   - /bytes/N sends byte i as 'a' + i%26.
//   - /reflect encodes header and trailer bytes as ISO-8859-1 in its JSON (lossless).
//   - Expect: 100-continue is answered with "100 Continue" only when a body is expected and
//     none of it has arrived yet; it is ignored in HTTP/1.0 requests (RFC 9110 §10.1.1).
//     Other expectations are ignored.
//   - Waiting for the first byte of a request (also the first on a connection) uses
//     IdleTimeout and ends with a silent close; once a byte of the head has arrived the whole
//     head must arrive within HeaderTimeout (else 408 and close).
package h1

import (
	"log/slog"
	"time"
)

// Conn is one accepted connection. The server side implements it over a raw fd (reads and
// writes that wait in poll(2) with the timeout) and over net.Conn. Read returns io.EOF on FIN and an error
// satisfying errors.Is(err, os.ErrDeadlineExceeded) on timeout.
type Conn interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	SetReadTimeout(d time.Duration) error // for subsequent reads; 0 = none
	SetWriteTimeout(d time.Duration) error
	CloseRead() error  // shutdown(SHUT_RD): makes a pending Read return
	CloseWrite() error // shutdown(SHUT_WR)
	Close() error
}

// Pender is optionally implemented by a Conn. Pending reports, without blocking, whether
// bytes are waiting to be read (a zero-timeout poll for POLLIN, or MSG_PEEK|MSG_DONTWAIT).
// The drain logic uses it so that a request already in the socket buffer when a graceful
// shutdown begins is still answered. A Conn without it is treated as having nothing pending.
type Pender interface {
	Pending() bool
}

// Config holds the limits, timeouts and faults of the server. Zero or negative values take
// the defaults of DefaultConfig.
type Config struct {
	MaxRequestLine  int           // default 8 KiB  -> 414 beyond
	MaxHeaderBytes  int           // default 16 KiB -> 431 beyond
	MaxHeaderFields int           // default 100    -> 431 beyond
	MaxBody         int64         // default 8 MiB  -> 413 beyond
	HeaderTimeout   time.Duration // default 4s: the whole request head must arrive within it -> 408 + close
	IdleTimeout     time.Duration // default 5s: keep-alive wait for the next request -> close silently
	BodyTimeout     time.Duration // default 4s: per read, and for the whole body plus 1s per 64 KiB received -> 408 + close
	WriteTimeout    time.Duration // default 10s
	MaxBytes        int64         // bound of /bytes/N, default 64 MiB
	MaxSleep        time.Duration // bound of /sleep/MS, default 10s
	Faults          Faults
	Log             *slog.Logger // nil: discard
	Verbose         bool         // one log line per connection
}

// DefaultConfig returns the safe defaults.
func DefaultConfig() Config {
	return Config{
		MaxRequestLine:  8 << 10,
		MaxHeaderBytes:  16 << 10,
		MaxHeaderFields: 100,
		MaxBody:         8 << 20,
		// Header and body timeouts: under forkproof check's default slow bound (6s), so that
		// our own server, run with its defaults, passes the slow-client scenarios.
		HeaderTimeout: 4 * time.Second,
		IdleTimeout:   5 * time.Second,
		BodyTimeout:   4 * time.Second,
		WriteTimeout:  10 * time.Second,
		MaxBytes:      64 << 20,
		MaxSleep:      10 * time.Second,
	}
}

// normalized returns cfg with every unset limit replaced by its default.
func (cfg *Config) normalized() Config {
	c := *cfg
	d := DefaultConfig()
	if c.MaxRequestLine <= 0 {
		c.MaxRequestLine = d.MaxRequestLine
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if c.MaxHeaderFields <= 0 {
		c.MaxHeaderFields = d.MaxHeaderFields
	}
	if c.MaxBody <= 0 {
		c.MaxBody = d.MaxBody
	}
	if c.HeaderTimeout <= 0 {
		c.HeaderTimeout = d.HeaderTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = d.BodyTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = d.MaxBytes
	}
	if c.MaxSleep <= 0 {
		c.MaxSleep = d.MaxSleep
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}
