package fuzz

import (
	"bytes"
	"slices"
	"strconv"
)

// structuralCuts returns the inputs one structural edit away from b, each smaller than b:
// drop a whole request, a header field line, a chunk (size line, data and CRLF together), a
// chunk extension, a trailer field; shrink a chunk to its first byte; empty a Content-Length
// body and set the length to 0. These are the edits a byte-range pass almost never finds,
// because removing any byte range inside a chunked body breaks its framing.
//
// The scan is lenient on purpose (inputs are often mutated): it takes CRLF or LF as a line
// end and stops describing a request at the first thing it cannot follow; the rest is left
// to the line and byte passes.
func structuralCuts(b []byte) [][]byte {
	var cands [][]byte
	cut := func(from, to int, repl string) {
		if from < 0 || to > len(b) || from >= to {
			return
		}
		c := make([]byte, 0, len(b)-(to-from)+len(repl))
		c = append(append(append(c, b[:from]...), repl...), b[to:]...)
		if len(c) < len(b) {
			cands = append(cands, c)
		}
	}
	var reqs [][2]int
	for off := 0; off < len(b); {
		end, ok := scanRequest(b, off, cut)
		reqs = append(reqs, [2]int{off, end})
		if !ok || end <= off {
			break
		}
		off = end
	}
	if len(reqs) > 1 {
		// Whole requests first: the biggest cuts.
		n := len(cands)
		for _, r := range reqs {
			cut(r[0], r[1], "")
		}
		cands = slices.Concat(cands[n:], cands[:n])
	}
	return cands
}

// lineAt returns the end of the line starting at off (the offset of its CR or LF) and the
// offset of the next line; ok is false when no line end follows.
func lineAt(b []byte, off int) (end, next int, ok bool) {
	i := bytes.IndexByte(b[off:], '\n')
	if i < 0 {
		return len(b), len(b), false
	}
	end = off + i
	if end > off && b[end-1] == '\r' {
		end--
	}
	return end, off + i + 1, true
}

// scanRequest describes the request starting at off through cut and returns where it ends;
// ok is false when the scan could not follow it to its end.
func scanRequest(b []byte, off int, cut func(from, to int, repl string)) (end int, ok bool) {
	// Leading empty lines, then the request line.
	for {
		e, n, ok := lineAt(b, off)
		if !ok {
			return len(b), false
		}
		if e > off {
			off = n
			break
		}
		off = n
	}
	chunked, length := false, -1
	var clLine, teLine [2]int
	for {
		e, n, ok := lineAt(b, off)
		if !ok {
			cut(off, len(b), "") // a header section that never ends: its last piece
			return len(b), false
		}
		if e == off {
			off = n
			break
		}
		cut(off, n, "")
		name, value, _ := bytes.Cut(b[off:e], []byte(":"))
		switch string(bytes.ToLower(bytes.TrimSpace(name))) {
		case "transfer-encoding":
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
			teLine = [2]int{off, n}
		case "content-length":
			if v, err := strconv.Atoi(string(bytes.TrimSpace(value))); err == nil && v >= 0 {
				length, clLine = v, [2]int{off, e}
			}
		}
		off = n
	}
	switch {
	case chunked:
		end, ok := scanChunks(b, off, cut)
		if ok {
			// The framing as a whole: the Transfer-Encoding line and the chunked body go in
			// one edit (a finding that does not need a body then has none).
			c := slices.Concat(b[:teLine[0]], b[teLine[1]:off], b[end:])
			cut(0, len(b), string(c))
		}
		return end, ok
	case length > 0:
		if off+length > len(b) {
			return len(b), false
		}
		// One edit in two places: the body goes and the length says 0. The length line is
		// before the body, so the body's offsets are taken before the line changes.
		body := [2]int{off, off + length}
		c := make([]byte, 0, len(b))
		c = append(c, b[:clLine[0]]...)
		c = append(c, "Content-Length: 0"...)
		c = append(c, b[clLine[1]:body[0]]...)
		c = append(c, b[body[1]:]...)
		if len(c) < len(b) {
			cut(0, len(b), string(c)) // replace everything: the cut helper keeps it if smaller
		}
		return off + length, true
	}
	return off, true
}

// scanChunks describes a chunked body starting at off.
func scanChunks(b []byte, off int, cut func(from, to int, repl string)) (int, bool) {
	for {
		e, n, ok := lineAt(b, off)
		if !ok {
			return len(b), false
		}
		size, _, hasExt := bytes.Cut(b[off:e], []byte(";"))
		if hasExt {
			cut(off+len(size), e, "")
		}
		v, err := strconv.ParseUint(string(bytes.TrimSpace(size)), 16, 32)
		if err != nil {
			return len(b), false
		}
		if v == 0 {
			off = n
			break
		}
		dataEnd := n + int(v)
		if dataEnd > len(b) {
			return len(b), false
		}
		_, after, ok := lineAt(b, dataEnd)
		if !ok {
			return len(b), false
		}
		cut(off, after, "")
		if v > 1 {
			cut(off, after, "1\r\n"+string(b[n:n+1])+"\r\n")
		}
		off = after
	}
	// Trailer fields up to the empty line.
	for {
		e, n, ok := lineAt(b, off)
		if !ok {
			return len(b), false
		}
		if e == off {
			return n, true
		}
		cut(off, n, "")
		off = n
	}
}
