package h1

// addSeeds seeds both differential targets with a few hand-picked inputs; the catalogue's
// requests are committed under testdata/fuzz/<Target>/ (written by fuzz.WriteSeedCorpus).
//
// It takes what it needs of a *testing.F, so that the libFuzzer build (go-118-fuzz-build's
// testing shim has its own F) can seed with it too.
func addSeeds(f interface{ Add(args ...any) }) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nFoo : bar\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET /reflect HTTP/1.1\r\nHost: a\r\nX: \x80\xff\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n obs\r\n\r\n",
		"\r\nGET / HTTP/1.0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
}
