//go:build ignore

// seeds converts native Go fuzz corpus files ("go test fuzz v1" then one Go literal per
// argument) into raw libFuzzer inputs in the encoding go-118-fuzz-build's testing shim
// decodes with go-fuzz-headers: a []byte or string is a 4-byte big-endian length and the
// bytes, a byte/uint8/int8/bool one byte. Files with other argument types are skipped.
//
//	go run seeds.go OUTDIR FILE...
package main

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	out := os.Args[1]
	n := 0
	for _, name := range os.Args[2:] {
		b, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		raw, ok := convert(string(b))
		if !ok {
			continue
		}
		sum := sha1.Sum(raw)
		if err := os.WriteFile(filepath.Join(out, fmt.Sprintf("%x", sum)), raw, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		n++
	}
	fmt.Printf("%d seeds\n", n)
}

func convert(s string) ([]byte, bool) {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) < 2 || lines[0] != "go test fuzz v1" {
		return nil, false
	}
	var buf bytes.Buffer
	for _, l := range lines[1:] {
		open := strings.IndexByte(l, '(')
		if open < 0 || !strings.HasSuffix(l, ")") {
			return nil, false
		}
		typ, lit := l[:open], l[open+1:len(l)-1]
		switch typ {
		case "[]byte", "string":
			v, err := strconv.Unquote(lit)
			if err != nil {
				return nil, false
			}
			binary.Write(&buf, binary.BigEndian, uint32(len(v)))
			buf.WriteString(v)
		case "byte", "uint8", "int8":
			var v uint64
			if r, _, tail, err := strconv.UnquoteChar(strings.Trim(lit, "'"), '\''); err == nil && tail == "" && strings.HasPrefix(lit, "'") {
				v = uint64(r)
			} else if i, err := strconv.ParseInt(lit, 0, 64); err == nil {
				v = uint64(i)
			} else {
				return nil, false
			}
			buf.WriteByte(byte(v))
		case "bool":
			if lit == "true" {
				buf.WriteByte(1)
			} else {
				buf.WriteByte(0)
			}
		default:
			return nil, false
		}
	}
	return buf.Bytes(), true
}
