package conformance

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/spec"
)

// Splits says where a splits run cuts each catalogue request: at every position (All), or at
// N positions drawn from Seed. A server that reads a request with one recv() answers whatever
// arrived first; cutting every case's request in two, with a pause between the pieces, finds
// it on any case, not only in the scenarios written for it.
type Splits struct {
	All  bool
	N    int
	Seed uint64
}

// On reports whether a splits run was asked for.
func (s Splits) On() bool { return s.All || s.N > 0 }

// ParseSplits reads the -splits flag: "all", or a number of cut points per case.
func ParseSplits(v string) (Splits, error) {
	if v == "" {
		return Splits{}, nil
	}
	if v == "all" {
		return Splits{All: true}, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return Splits{}, fmt.Errorf("-splits %q: want all or a positive number of cut points per case", v)
	}
	return Splits{N: n}, nil
}

// cutsAtOnce is how many cuts of one case run at once.
const cutsAtOnce = 4

// clipList joins at most max items, saying how many more there were.
func clipList(items []string, max int) string {
	if len(items) <= max {
		return strings.Join(items, " ")
	}
	return strings.Join(items[:max], " ") + fmt.Sprintf(" … (%d more)", len(items)-max)
}

// splitBodyCuts is how many positions into a body "all" cuts: the head is cut at every byte,
// a body only near its start (a 64 KiB body cut at every byte would be 65,536 runs).
const splitBodyCuts = 64

// SplitCases builds, for each case of cases that comes from the spec catalogue, a case
// "splits/<ID>" that runs it whole, then once per cut point with its first request cut there
// (and splitPause between the pieces, as robust/partial waits), and expects each cut to be judged as the whole was. It
// passes when every cut was; otherwise it takes the verdict of the first cut judged worse and
// names the cut. A case the whole run did not pass is not cut (there is nothing to compare
// with). Scenarios (robust/, hygiene/) are left out: they cut requests themselves.
func SplitCases(cases []Case, sp Splits) []Case {
	if !sp.On() {
		return nil
	}
	byID := map[string]spec.Case{}
	for _, sc := range spec.Catalogue() {
		byID[sc.ID] = sc
	}
	var out []Case
	for _, c := range cases {
		sc, ok := byID[c.ID]
		if !ok {
			continue
		}
		step := firstSend(sc)
		if step < 0 {
			continue
		}
		cuts := cutPoints(sc.Steps[step].Send, sp, sc.ID)
		if len(cuts) == 0 {
			continue
		}
		m := c.Meta
		m.ID = "splits/" + c.ID
		m.Title = c.Title + " (its request cut at every chosen byte)"
		m.Policy = strings.TrimSpace(m.Policy + fmt.Sprintf(" Splits run: the first request is cut in two at %s, %v between the pieces; each cut must be judged as the whole request was.", describeCuts(sp), splitPause))
		whole := c
		out = append(out, Case{Meta: m, Needs: c.Needs, Schedule: Long,
			Run: func(ctx context.Context, env *Env) Result {
				return runCuts(ctx, env, whole, m, sc, step, cuts)
			}})
	}
	return out
}

func describeCuts(sp Splits) string {
	if sp.All {
		return fmt.Sprintf("every byte of the first %d, every %dth of the rest of the head, and the first %d of the body", splitEvery, splitStride, splitBodyCuts)
	}
	return fmt.Sprintf("%d positions drawn from seed %d", sp.N, sp.Seed)
}

// firstSend is the index of the first step that sends two bytes or more, or -1.
func firstSend(sc spec.Case) int {
	for i, st := range sc.Steps {
		if len(st.Send) >= 2 {
			return i
		}
	}
	return -1
}

// splitEvery is how far into a request "all" cuts at every byte; beyond it, up to the end of
// the head, every splitStride-th byte (the catalogue's size-limit cases send heads of tens of
// kilobytes, each cut of which would be a run of its own).
const (
	splitEvery  = 512
	splitStride = 64
)

// cutPoints lists where to cut b: every position of the first splitEvery bytes, every
// splitStride-th of the rest of the head, and the first splitBodyCuts of the body (All), or N
// distinct positions drawn from those with the seed and the case ID (the same on every run),
// in order.
func cutPoints(b []byte, sp Splits, id string) []int {
	head := len(b)
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		head = i + 4
	}
	var all []int
	for k := 1; k < min(head, splitEvery); k++ {
		all = append(all, k)
	}
	for k := splitEvery; k < head; k += splitStride {
		all = append(all, k)
	}
	for k := max(head, 1); k < min(len(b), head+splitBodyCuts); k++ {
		all = append(all, k)
	}
	if sp.All || sp.N >= len(all) {
		return all
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	r := rand.New(rand.NewPCG(sp.Seed, h.Sum64()))
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	picked := all[:sp.N]
	slices.Sort(picked)
	return picked
}

// cutWorse reports whether a cut was judged worse than the whole request: warn or fail where
// the whole had less (a cut taking another legal branch, info, is not worse).
func cutWorse(cut, whole spec.Verdict) bool {
	rank := func(v spec.Verdict) int {
		switch v {
		case spec.Fail:
			return 2
		case spec.Warn:
			return 1
		}
		return 0
	}
	return rank(cut) > rank(whole)
}

func runCuts(ctx context.Context, env *Env, whole Case, m spec.Meta, sc spec.Case, step int, cuts []int) Result {
	first := whole.Run(ctx, env)
	if first.Verdict != spec.Pass && first.Verdict != spec.Info {
		return Result{Verdict: spec.Skip, Timed: first.Timed, Silence: first.Silence,
			Detail: fmt.Sprintf("not cut: the whole request was judged %s (%s)", first.Verdict, first.Detail)}
	}
	// The cuts of one case run a few at a time: most of each is the wait that judges how the
	// connection ends.
	found := make([]*Result, len(cuts))
	clients.ForEach(ctx, len(cuts), cutsAtOnce, func(i int) {
		k := cuts[i]
		cut := sc
		cut.Steps = slices.Clone(sc.Steps)
		st := &cut.Steps[step]
		st.SplitAt = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(st.SplitAt), k))))
		st.Pause = max(st.Pause, splitPause)
		res := interpret(ctx, env, &cut, m)
		if cutWorse(res.Verdict, first.Verdict) {
			res.Detail = fmt.Sprintf("cut at byte %d (after %s): %s; the whole request was judged %s",
				k, clients.Escape(st.Send[:k]), res.Detail, first.Verdict)
			found[i] = &res
		}
	})
	if ctx.Err() != nil {
		return Result{Verdict: spec.Skip, Detail: "interrupted: " + context.Cause(ctx).Error()}
	}
	var bad []string
	var firstBad *Result
	for i, r := range found {
		if r != nil {
			if firstBad == nil {
				firstBad = r
			}
			bad = append(bad, strconv.Itoa(cuts[i]))
		}
	}
	if firstBad != nil {
		if len(bad) > 1 {
			firstBad.Detail += fmt.Sprintf(" (%d of %d cuts judged worse, at bytes %s)", len(bad), len(cuts), clipList(bad, 20))
		}
		return *firstBad
	}
	return Result{Verdict: spec.Pass, Detail: fmt.Sprintf("%d cuts, each judged as the whole request (%s)", len(cuts), first.Verdict)}
}
