package wire

import (
	"bufio"
	"bytes"
	"testing"
)

var benchRequest = []byte("POST /echo?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: forkproof\r\n" +
	"Accept: */*\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n6\r\n world\r\n0\r\nT: v\r\n\r\n")

func BenchmarkParseRequest(b *testing.B) {
	b.SetBytes(int64(len(benchRequest)))
	for b.Loop() {
		if _, _, err := ParseRequest(benchRequest); err != nil {
			b.Fatal(err)
		}
	}
}

var benchResponse = []byte("HTTP/1.1 200 OK\r\nDate: Sun, 22 Nov 2026 01:00:00 GMT\r\nContent-Type: text/plain\r\n" +
	"Content-Length: 13\r\n\r\nhello, world\n")

func BenchmarkReadResponse(b *testing.B) {
	b.SetBytes(int64(len(benchResponse)))
	rd := bytes.NewReader(benchResponse)
	br := bufio.NewReader(rd)
	for b.Loop() {
		rd.Reset(benchResponse)
		br.Reset(rd)
		if _, err := ReadResponse(br, "GET"); err != nil {
			b.Fatal(err)
		}
	}
}

// A 256 KiB body, framed by Content-Length and by the close: the body bytes are read once
// into Raw, and Body is the part of Raw they occupy.
func BenchmarkReadResponseLargeBody(b *testing.B) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 16<<10)
	for _, tt := range []struct{ name, head string }{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 262144\r\n\r\n"},
		{"close-delimited", "HTTP/1.1 200 OK\r\n\r\n"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			in := append([]byte(tt.head), body...)
			b.SetBytes(int64(len(in)))
			rd := bytes.NewReader(in)
			br := bufio.NewReader(rd)
			for b.Loop() {
				rd.Reset(in)
				br.Reset(rd)
				resp, err := ReadResponse(br, "GET")
				if err != nil || len(resp.Body) != len(body) {
					b.Fatalf("%v, %d body bytes; want %d", err, len(resp.Body), len(body))
				}
			}
		})
	}
}
