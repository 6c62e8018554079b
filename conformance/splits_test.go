package conformance

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
)

func TestParseSplits(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Splits
		err  bool
	}{
		{"", Splits{}, false}, {"all", Splits{All: true}, false}, {"12", Splits{N: 12}, false},
		{"0", Splits{}, true}, {"-3", Splits{}, true}, {"most", Splits{}, true},
	} {
		got, err := ParseSplits(tt.in)
		if tt.err {
			assert.Error(t, err, "ParseSplits(%q)", tt.in)
			continue
		}
		require.NoError(t, err, "ParseSplits(%q)", tt.in)
		assert.Equal(t, tt.want, got, "ParseSplits(%q)", tt.in)
	}
}

func TestCutPoints(t *testing.T) {
	req := []byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("b", 100))
	head := strings.Index(string(req), "\r\n\r\n") + 4
	all := cutPoints(req, Splits{All: true}, "x")
	require.Len(t, all, head+splitBodyCuts-1, "every byte of the head and the first bytes of the body")
	assert.Equal(t, 1, all[0])
	// A head of 2 KiB is cut at every byte of its first splitEvery, then every splitStride-th.
	big := []byte("GET / HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 2000) + "\r\n\r\n")
	cuts := cutPoints(big, Splits{All: true}, "x")
	assert.Len(t, cuts, splitEvery-1+(len(big)-splitEvery+splitStride-1)/splitStride)
	assert.Equal(t, splitEvery+splitStride, cuts[splitEvery], "past splitEvery the cuts stride")
	some := cutPoints(req, Splits{N: 5, Seed: 7}, "rfc9112/6.2/1")
	assert.Len(t, some, 5)
	assert.IsIncreasing(t, some)
	assert.Equal(t, some, cutPoints(req, Splits{N: 5, Seed: 7}, "rfc9112/6.2/1"), "the same seed and case cut at the same bytes")
	assert.NotEqual(t, some, cutPoints(req, Splits{N: 5, Seed: 8}, "rfc9112/6.2/1"), "another seed cuts elsewhere")
}

// checkSplits runs the cases run selects, with splits, against tg and returns the splits
// results by ID.
func checkSplits(t *testing.T, tg *targets.Target, run string, sp Splits) map[string]Result {
	t.Helper()
	rep, err := Check(t.Context(), tg, CheckOptions{Options: Options{Timeout: 2 * time.Second}, Run: run, Splits: sp})
	require.NoError(t, err)
	got := map[string]Result{}
	for _, r := range rep.Results {
		if strings.HasPrefix(r.ID, "splits/") {
			got[r.ID] = r
		}
	}
	require.NotEmpty(t, got, "no splits case ran for %q", run)
	return got
}

// A server that answers the first read of a request fails the splits run of a case it passes
// whole, and the result names the cut.
func TestSplitsFindOneRecv(t *testing.T) {
	tg := proofReference(t, "-mode", "goroutine", "-fault", "one-recv")
	r := checkSplits(t, tg, "^rfc9110/9.3.2/2$", Splits{N: 3, Seed: 1})["splits/rfc9110/9.3.2/2"]
	assert.Equal(t, spec.Fail, r.Verdict, r.Detail)
	assert.Contains(t, r.Detail, "cut at byte ")
	assert.Contains(t, r.Detail, "the whole request was judged pass")
}

// The reference server reads what it needs whatever the pieces: every cut of every request is
// judged as the whole was.
func TestSplitsReferencePasses(t *testing.T) {
	tg := proofReference(t, "-mode", "prefork")
	for id, r := range checkSplits(t, tg, `^rfc9112/2\.1/(1|2|3)$|^rfc9110/9\.3\.2/2$|^rfc9112/6\.2/1$`, Splits{All: true}) {
		assert.Equal(t, spec.Pass, r.Verdict, "%s: %s", id, r.Detail)
	}
}
