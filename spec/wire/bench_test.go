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
