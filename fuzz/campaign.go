package fuzz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/hygiene"
	"github.com/forkproof/forkproof/internal/proc"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
)

// Config sets up a campaign.
type Config struct {
	Target   *targets.Target // Addr required; PID enables death and hygiene checks
	Duration time.Duration   // how long to fuzz; default 10s
	// Seed and an input's index decide the input: input k of a campaign is the same
	// whatever the workers, the shards and the machine.
	Seed uint64
	// Shard and Shards split one campaign into disjoint parts, run anywhere: this part
	// sends the inputs whose index is Shard modulo Shards (default 0 of 1, the whole).
	Shard, Shards int
	// Inputs, when positive, ends the campaign after the inputs with index below it (of the
	// whole campaign: a shard sends its share of them), or at Duration, whichever is first.
	Inputs  int64
	Out     string        // directory for reproducers and findings.json; "" writes none
	Workers int           // concurrent connections; default the number of CPUs
	Timeout time.Duration // per response; default 2s
	// MaxFindings stops the campaign after that many distinct findings; default 20.
	MaxFindings int
	// MinimizeBudget bounds the time spent minimising one finding; default 10s.
	MinimizeBudget time.Duration
	// Progress, when set, is called about five times a second.
	Progress func(Stats)
	// StopWhen, when set, ends the campaign as soon as it returns true for a new finding.
	StopWhen func(*Finding) bool
}

// Stats counts a campaign's work.
type Stats struct {
	Inputs   int64 // inputs sent
	Judged   int64 // responses judged
	Findings int   // distinct findings
	Elapsed  time.Duration
}

// Finding is one distinct bug the campaign found, minimised.
type Finding struct {
	Kind string
	// Grade is Fail when a MUST sentence is broken (or a hygiene failure), Warn for a SHOULD
	// or a policy; Ground says which.
	Grade  spec.Verdict
	Ground string
	// Signature names the root cause (see signature): inputs with the same one are one
	// finding, counted, with the smallest reproducer kept.
	Signature string
	Detail    string
	Repro     *Repro
	File      string // where the reproducer was written ("" when Out is empty)
	Count     int    // how many inputs showed it
	// Variants is how many distinct minimised reproducers showed it.
	Variants int
}

// Report is a campaign's outcome.
type Report struct {
	Stats
	// Echo says the target answered the /echo probe, so /echo bodies were checked.
	Echo     bool
	Findings []*Finding
}

func (c *Config) defaults() {
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = runtime.NumCPU()
	}
	if c.Shards <= 0 {
		c.Shards, c.Shard = 1, 0
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	if c.MaxFindings <= 0 {
		c.MaxFindings = 20
	}
	if c.MinimizeBudget <= 0 {
		c.MinimizeBudget = 10 * time.Second
	}
}

// campaign is the shared state of a running campaign.
type campaign struct {
	cfg    Config
	inputs atomic.Int64
	judged atomic.Int64
	mu     sync.Mutex
	opt    InputOptions
	// root holds what the target's answers to GET / showed (see probeRoot).
	root *target
	// next is how many inputs this shard has drawn: the next one's index in the campaign is
	// next*Shards+Shard.
	next     atomic.Int64
	findings map[string]*Finding // by signature
	// aliases maps the signature of an input before minimising to that of the confirmed
	// finding it minimised to, so later inputs like it are counted there.
	aliases map[string]string
	pending map[string]int // signatures being minimised: how many more inputs showed them
	// closesKnown holds the claim keys ("no-close/<class>") of confirmed no-close findings:
	// the close is no longer watched for (a full timeout each) on inputs of that class.
	closesKnown map[string]bool
	order       []*Finding
	last        *Input   // the most recent input sent, for target-died reports
	before      []*Input // the inputs sent before last, newest first: a death noticed late may be their doing
	stop        context.CancelFunc
	// ctx is the caller's: minimising a finding may outlast Duration, not a cancellation.
	ctx context.Context
}

// ErrUnreachable is returned when the target does not accept connections at the start.
var ErrUnreachable = errors.New("target unreachable")

// Run fuzzes cfg.Target until cfg.Duration passes, ctx ends or MaxFindings distinct findings
// are in. An error means the campaign could not run (bad config, unreachable target).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	if cfg.Target == nil || cfg.Target.Addr == "" {
		return nil, errors.New("fuzz: no target address")
	}
	if cfg.Shard < 0 || cfg.Shard >= cfg.Shards {
		return nil, fmt.Errorf("fuzz: shard %d of %d: want 0 <= shard < shards", cfg.Shard, cfg.Shards)
	}
	if cfg.Out != "" {
		if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
			return nil, fmt.Errorf("fuzz: -out: %v", err)
		}
	}
	if err := targets.Reachable(ctx, cfg.Target.Addr, cfg.Timeout); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	probe := &target{addr: cfg.Target.Addr, timeout: cfg.Timeout}
	opt := InputOptions{Echo: probe.hasEcho()}
	probe.probeRoot()
	var base hygiene.Snapshot
	if cfg.Target.PID > 0 {
		var err error
		base, err = hygiene.Baseline(ctx, cfg.Target, hygiene.Options{})
		if err != nil {
			return nil, fmt.Errorf("fuzz: baseline of pid %d: %v", cfg.Target.PID, err)
		}
	}
	start := time.Now()
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	cp := &campaign{cfg: cfg, opt: opt, root: probe, findings: map[string]*Finding{}, aliases: map[string]string{}, pending: map[string]int{}, closesKnown: map[string]bool{}, stop: cancel, ctx: ctx}
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cp.worker(runCtx)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
loop:
	for {
		select {
		case <-done:
			break loop
		case <-tick.C:
			if cfg.Progress != nil {
				cfg.Progress(cp.stats(start))
			}
			if pid := cfg.Target.PID; pid > 0 && !alive(pid) {
				cp.died("died", fmt.Sprintf("process %d died during the campaign", pid))
				cancel()
			}
		}
	}
	if pid := cfg.Target.PID; pid > 0 && alive(pid) && ctx.Err() == nil {
		for _, r := range hygiene.CheckHygiene(ctx, cfg.Target, base, hygiene.Options{}) {
			if r.Verdict != spec.Fail {
				continue
			}
			kind := KindFDLeak
			if r.ID == hygiene.ZombiesMeta.ID {
				kind = KindZombie
			}
			g, why := grade(kind, result{}, analysis{})
			cp.record(&Finding{Kind: kind, Grade: g, Ground: why, Signature: kind, Detail: r.Detail,
				Repro: &Repro{Kind: kind, Detail: r.Detail, Seed: cfg.Seed, Index: -1}})
		}
	}
	rep := &Report{Stats: cp.stats(start), Echo: opt.Echo}
	cp.mu.Lock()
	rep.Findings = append(rep.Findings, cp.order...)
	cp.mu.Unlock()
	if cfg.Out != "" {
		// Again, with the final counts and the smallest reproducers.
		if err := writeFindings(cfg.Out, summaryOf(rep, &cfg), rep.Findings); err != nil {
			return rep, fmt.Errorf("fuzz: -out: %v", err)
		}
	}
	if cfg.Progress != nil {
		cfg.Progress(rep.Stats)
	}
	return rep, nil
}

func (cp *campaign) stats(start time.Time) Stats {
	cp.mu.Lock()
	n := len(cp.order)
	cp.mu.Unlock()
	return Stats{Inputs: cp.inputs.Load(), Judged: cp.judged.Load(), Findings: n, Elapsed: time.Since(start)}
}

// alive reports whether pid exists and is neither a zombie nor dead.
func alive(pid int) bool {
	st, err := proc.ReadStat(pid)
	return err == nil && st.State != 'Z' && st.State != 'X'
}

// suspects is how many inputs sent before a dead target's reproducer a finding names.
const suspects = 8

// died records that the target died (cause "died": its process is gone) or stopped accepting
// connections ("stopped-accepting").
func (cp *campaign) died(cause, detail string) {
	cp.mu.Lock()
	last, before := cp.last, slices.Clone(cp.before)
	cp.mu.Unlock()
	if len(before) > 0 {
		// A target that dies a moment after the input that killed it (its own handling of
		// that input runs late on a busy machine) is noticed some inputs later: name those
		// sent just before the reproducer's as suspects too.
		var ss []string
		for i, in := range before {
			p := newRepro(&Finding{Kind: KindTargetDied}, cp.cfg.Seed, in)
			ss = append(ss, fmt.Sprintf("%d) %s (%s)", i+1, clients.Escape(p.Send[:min(len(p.Send), 40)]), p.Plan()))
		}
		detail += "; the inputs sent before the reproducer's, newest first, any of which may have killed it: " + strings.Join(ss, "; ")
	}
	res := result{kind: KindTargetDied, cause: cause, req: -1}
	g, why := grade(KindTargetDied, res, analysis{})
	f := &Finding{Kind: KindTargetDied, Grade: g, Ground: why, Signature: signature(res, analysis{}), Detail: detail}
	f.Repro = newRepro(f, cp.cfg.Seed, last)
	cp.record(f)
}

// record keeps f, or counts it into the finding with its signature (keeping the smaller
// reproducer of the two); it reports whether f is new.
func (cp *campaign) record(f *Finding) bool {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.recordLocked(f, 1)
}

// recordLocked is record for n inputs that showed f, with cp.mu held.
func (cp *campaign) recordLocked(f *Finding, n int) bool {
	if old, ok := cp.findings[f.Signature]; ok {
		old.Count += n
		if f.Repro != nil && old.Repro != nil && !bytes.Equal(f.Repro.Send, old.Repro.Send) {
			old.Variants++
			if smaller(f.Repro, old.Repro) {
				old.Repro, old.Detail = f.Repro, f.Detail
				cp.write(old)
			}
		}
		return false
	}
	if len(cp.order) >= cp.cfg.MaxFindings {
		return false
	}
	f.Count, f.Variants = n, 1
	cp.findings[f.Signature] = f
	cp.order = append(cp.order, f)
	if cp.cfg.Out != "" && f.Repro != nil {
		f.File = filepath.Join(cp.cfg.Out, fmt.Sprintf("%02d-%s.json", len(cp.order), sanitize(f.Signature)))
		cp.write(f)
	}
	if len(cp.order) >= cp.cfg.MaxFindings || cp.cfg.StopWhen != nil && cp.cfg.StopWhen(f) {
		cp.stop()
	}
	return true
}

// write saves f's reproducer in its file, as it stands.
func (cp *campaign) write(f *Finding) {
	if f.File == "" {
		return
	}
	f.Repro.Count, f.Repro.Variants = f.Count, f.Variants
	if err := f.Repro.Write(f.File); err != nil {
		f.Detail += fmt.Sprintf(" (writing the reproducer failed: %v)", err)
		f.File = ""
	}
}

// smaller reports whether reproducer a is simpler than b: fewer bytes, then a plainer plan.
func smaller(a, b *Repro) bool {
	if len(a.Send) != len(b.Send) {
		return len(a.Send) < len(b.Send)
	}
	return len(a.Plan()) < len(b.Plan())
}

// claim takes an input whose (unminimised) signature is sig. It reports whether the input
// is new: then the caller minimises it and records it with settle. An input like one being
// minimised, or like a confirmed finding's, is only counted.
func (cp *campaign) claim(sig string) bool {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if f := cp.findings[sig]; f != nil {
		f.Count++
		return false
	}
	if f := cp.findings[cp.aliases[sig]]; f != nil {
		f.Count++
		return false
	}
	if _, ok := cp.pending[sig]; ok {
		cp.pending[sig]++
		return false
	}
	cp.pending[sig] = 0
	return true
}

// found reports whether a confirmed no-close finding has the claim key key.
func (cp *campaign) found(key string) bool {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.closesKnown[key]
}

// settle records f, minimised from an input with signature sig and claim key key, with the
// inputs like it that came meanwhile; a finding with f's signature already in takes them.
// Unless f is unconfirmed, later inputs like it are counted into it.
func (cp *campaign) settle(f *Finding, sig, key string, confirmed bool) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	n := 1 + cp.pending[sig]
	delete(cp.pending, sig)
	if confirmed {
		cp.aliases[sig] = f.Signature
		if f.Kind == KindNoClose {
			cp.closesKnown[key] = true
		}
	}
	cp.recordLocked(f, n)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, strings.ToLower(s))
}

// nextIndex returns the index in the campaign of this shard's next input, or false when the
// campaign's Inputs are all drawn.
func (cp *campaign) nextIndex() (int64, bool) {
	k := cp.next.Add(1)*int64(cp.cfg.Shards) - int64(cp.cfg.Shards) + int64(cp.cfg.Shard)
	return k, cp.cfg.Inputs <= 0 || k < cp.cfg.Inputs
}

// InputSeed is the seed of the random source input k of a campaign with seed draws from:
// inputs do not depend on one another, so any worker or shard can draw any of them.
func InputSeed(seed uint64, k int64) uint64 {
	z := seed ^ uint64(k)*0x9e3779b97f4a7c15 // splitmix64 of the pair
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (cp *campaign) worker(ctx context.Context) {
	t := &target{addr: cp.cfg.Target.Addr, timeout: cp.cfg.Timeout, facts: cp.root.facts, found: cp.found}
	var c *clients.Conn
	var prev *Input // the last input sent on c
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for ctx.Err() == nil {
		k, ok := cp.nextIndex()
		if !ok {
			return
		}
		in, a := genInput(RandSource(InputSeed(cp.cfg.Seed, k)), cp.opt)
		in.Index = k
		reused := c != nil
		if c == nil {
			prev = nil
			var err error
			if c, err = t.dial(); err != nil {
				if ctx.Err() == nil {
					cp.died("stopped-accepting", fmt.Sprintf("the target stopped accepting connections: %v", err))
					cp.stop()
				}
				return
			}
		}
		cp.mu.Lock()
		if cp.last != nil {
			cp.before = append([]*Input{cp.last}, cp.before[:min(len(cp.before), suspects-1)]...)
		}
		cp.last = in
		cp.mu.Unlock()
		var res result
		var fresh bool // the exchange judged was the first on its connection
		if res, c, fresh = t.exchangeOnce(c, reused, in, a); c == nil {
			continue
		}
		cp.inputs.Add(1)
		cp.judged.Add(int64(res.responses))
		before := prev
		prev = in
		if !res.reusable {
			c.Close()
			c, prev = nil, nil
		}
		if res.kind == "" || ctx.Err() != nil {
			continue
		}
		if reused && before != nil && res.kind == KindIllFramed && res.req == 0 {
			// The first answer on a connection that served an earlier input did not parse:
			// that input's last response may have been longer than it said. Judge the two
			// inputs sent together on a fresh connection, which then reproduces it alone.
			joint := &Input{Send: append(slices.Clone(before.Send), in.Send...), Index: in.Index,
				HalfClose: in.HalfClose, Echo: in.Echo, Mutation: in.Mutation, Must: in.Must}
			ja := analyze(joint.Send)
			if jr, err := t.probe(joint, ja); err == nil && jr.kind == KindIllFramed {
				in, a, res, fresh = joint, ja, jr, true
			}
		}
		sig := signature(res, a)
		if !cp.claim(sig) {
			continue // counted: a finding with this cause is in, or being minimised
		}
		key := findingKey(res, in, a)
		min, minRes := cp.minimize(cp.ctx, in, a, res, key)
		switch {
		case minRes.kind != "":
			cp.settle(cp.finding(min, minRes, minRes.detail, true), sig, key, true)
		case fresh:
			// Seen on a connection of its own, so no earlier input did it; the target
			// behaved otherwise when asked again (under the campaign's load: a server may
			// close idle connections when others wait), which leaves what was seen.
			cp.settle(cp.finding(in, res, res.detail+" (seen on a fresh connection; not shown again when asked to reproduce, so not minimised)", true), sig, key, true)
		default:
			// Not shown again on a fresh connection: what the earlier inputs on the
			// connection or the timing did is not known.
			cp.settle(cp.finding(in, res, res.detail+" (did not reproduce on a fresh connection: it may depend on earlier inputs or timing)", false), sig, key, false)
		}
	}
}

// finding makes the finding the result res of input in shows, graded and signed from in's
// bytes (minimised, when they could be). One not confirmed is never a fail, and its
// signature is marked, so a confirmed finding of the same cause stays apart.
func (cp *campaign) finding(in *Input, res result, detail string, confirmed bool) *Finding {
	a := analyze(in.Send)
	g, why := grade(res.kind, res, a)
	sig := signature(res, a)
	if !confirmed {
		g, why, sig = spec.Warn, "unconfirmed (not shown again on a fresh connection); were it confirmed: "+why, sig+"/unconfirmed"
	}
	f := &Finding{Kind: res.kind, Grade: g, Ground: why, Signature: sig, Detail: detail}
	f.Repro = newRepro(f, cp.cfg.Seed, in)
	f.Repro.Shard = fmt.Sprintf("%d/%d", cp.cfg.Shard, cp.cfg.Shards)
	return f
}

// findingKey names the bug a result shows: its kind and class.
func findingKey(res result, in *Input, a analysis) string {
	class := res.class
	if class == "" {
		class = findingClass(res.kind, in, a)
	}
	return res.kind + "/" + class
}

// findingClass groups the inputs that show a kind of finding so that one bug gives one
// finding, not thousands (nor twenty copies of one that fill the -max-findings budget).
func findingClass(kind string, in *Input, a analysis) string {
	switch kind {
	case KindEchoMismatch, KindResetKills:
		return "any"
	case KindEarlyResponse:
		return "partial" // an answer before the last bytes of a request arrived
	case KindServedIncomplete:
		return "head" // an answer to a head that never ended
	case KindAcceptInvalid:
		return "rule-" + a.rule // the mutations that break one rule (no-host, dup-host...) show one bug
	}
	switch {
	case in.Mutation != "":
		return in.Mutation
	case a.tail == tailInvalid:
		return "rule-" + a.rule
	case in.ResetAt > 0:
		return "reset"
	case in.Echo:
		return "echo"
	case in.Pause > 0:
		return "paused"
	case in.Hold > 0:
		return "held"
	}
	return "valid"
}

// minimize shrinks in (analysed as a) while a fresh connection still shows the same finding (its key: kind
// and class, so that cutting cannot drift to another bug, such as a 2xx to a request broken in
// a way servers may accept instead of the one every server must reject).
func (cp *campaign) minimize(ctx context.Context, in *Input, a analysis, first result, key string) (*Input, result) {
	deadline := time.Now().Add(cp.cfg.MinimizeBudget)
	// Without the campaign's findings: each candidate is judged whole, closes waited for.
	t := &target{addr: cp.cfg.Target.Addr, timeout: cp.cfg.Timeout, facts: cp.root.facts}
	cur := *in
	res, err := t.probe(&cur, a)
	if err != nil || res.kind != first.kind {
		return in, result{}
	}
	firstGrade := gradeOf(first, a)
	over := func() bool { return ctx.Err() != nil || time.Now().After(deadline) }
	try := func(cand Input) bool {
		if over() {
			return false
		}
		cand.SplitAt = clipSplits(cand.SplitAt, len(cand.Send))
		if cand.ResetAt >= len(cand.Send) {
			cand.ResetAt = len(cand.Send) - 1
			if cand.ResetAt < 1 {
				return false
			}
		}
		a := analyze(cand.Send)
		r, err := t.probe(&cand, a)
		// The same bug, graded the same: a cut never trades a fail for a warn.
		if err != nil || r.kind != first.kind || findingKey(r, &cand, a) != key || gradeOf(r, a) != firstGrade {
			return false
		}
		cur, res = cand, r
		return true
	}
	// Delivery first: the simplest plan that still shows it.
	if first.kind != KindEarlyResponse {
		c := cur
		c.SplitAt, c.Pause = nil, 0
		try(c)
	}
	if cur.HalfClose {
		c := cur
		c.HalfClose = false
		try(c)
	}
	if cur.Hold > 0 && first.kind != KindEarlyResponse {
		c := cur
		c.Hold = 0
		try(c)
	}
	// Whole requests, then the parts of requests a byte range cannot remove without breaking
	// the framing (chunks, extensions, trailers, header lines, a Content-Length body), then
	// lines, then ever smaller byte ranges.
	for _, pass := range []func([]byte) [][]byte{structuralCuts, dropLines} {
		for i := 0; ; i++ {
			cands := pass(cur.Send)
			if i >= len(cands) || over() {
				break
			}
			if len(cands[i]) >= len(cur.Send) {
				continue // only strictly smaller candidates, so the pass ends
			}
			c := cur
			c.Send = cands[i]
			if try(c) {
				i-- // the candidates after this one moved down by one
			}
		}
	}
	for size := len(cur.Send) / 2; size >= 1; size /= 2 {
		for at := 0; at+size <= len(cur.Send); {
			c := cur
			c.Send = append(append([]byte{}, cur.Send[:at]...), cur.Send[at+size:]...)
			if !try(c) {
				at += size
			}
			if over() {
				return &cur, res
			}
		}
	}
	return &cur, res
}

func clipSplits(at []int, n int) []int {
	var out []int
	for _, o := range at {
		if o > 0 && o < n {
			out = append(out, o)
		}
	}
	return out
}

// dropLines returns b without each of its lines in turn (a line ends after an LF).
func dropLines(b []byte) [][]byte {
	var parts [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			parts = append(parts, b)
			break
		}
		parts = append(parts, b[:i+1])
		b = b[i+1:]
	}
	if len(parts) < 2 {
		return nil
	}
	cands := make([][]byte, len(parts))
	for i := range parts {
		cands[i] = joinWithout(parts, i)
	}
	return cands
}

func joinWithout(parts [][]byte, skip int) []byte {
	var b []byte
	for i, p := range parts {
		if i != skip {
			b = append(b, p...)
		}
	}
	return b
}

// Repro is a saved reproducer: the bytes and the delivery plan of one finding.
type Repro struct {
	Tool   string `json:"tool"`
	Kind   string `json:"kind"`
	Grade  string `json:"grade,omitempty"`  // fail or warn
	Ground string `json:"ground,omitempty"` // the sentence or policy behind the grade
	// Signature names the root cause; Count is how many inputs showed it and Variants how
	// many distinct minimised reproducers (this is the smallest).
	Signature string `json:"signature,omitempty"`
	Count     int    `json:"count,omitempty"`
	Variants  int    `json:"variants,omitempty"`
	Detail    string `json:"detail"`
	Seed      uint64 `json:"seed"`
	// Index is the input's index in the campaign (-1 for none), Shard the part that sent it.
	Index     int64  `json:"index"`
	Shard     string `json:"shard,omitempty"`
	Mutation  string `json:"mutation,omitempty"`
	Must      bool   `json:"must,omitempty"`
	Send      []byte `json:"send"`      // base64
	SendText  string `json:"send_text"` // the same bytes, escaped for people
	SplitAt   []int  `json:"split_at,omitempty"`
	PauseMS   int    `json:"pause_ms,omitempty"`
	HalfClose bool   `json:"half_close,omitempty"`
	HoldUS    int    `json:"hold_us,omitempty"`  // withhold the last byte this long (µs)
	ResetAt   int    `json:"reset_at,omitempty"` // reset the connection after this many bytes
	Echo      bool   `json:"echo,omitempty"`     // /echo bodies must come back byte for byte
}

func newRepro(f *Finding, seed uint64, in *Input) *Repro {
	r := &Repro{Tool: "forkproof", Kind: f.Kind, Grade: string(f.Grade), Ground: f.Ground, Signature: f.Signature,
		Detail: f.Detail, Seed: seed, Index: -1}
	if in != nil {
		r.Index = in.Index
		r.Mutation, r.Must, r.Send, r.SplitAt, r.HalfClose = in.Mutation, in.Must, in.Send, in.SplitAt, in.HalfClose
		r.SendText = clients.Escape(in.Send)
		r.PauseMS = int(in.Pause / time.Millisecond)
		r.HoldUS = int(in.Hold / time.Microsecond)
		r.ResetAt, r.Echo = in.ResetAt, in.Echo
	}
	return r
}

// Plan describes the delivery plan in words, for people reading a finding.
func (r *Repro) Plan() string {
	var parts []string
	if len(r.SplitAt) > 0 {
		parts = append(parts, fmt.Sprintf("writes cut at bytes %v", r.SplitAt))
	}
	if r.PauseMS > 0 {
		parts = append(parts, fmt.Sprintf("%dms pause after each piece", r.PauseMS))
	}
	if r.HoldUS > 0 {
		parts = append(parts, fmt.Sprintf("last byte withheld for %s", time.Duration(r.HoldUS)*time.Microsecond))
	}
	if r.ResetAt > 0 {
		parts = append(parts, fmt.Sprintf("connection reset (RST) after %d of %d bytes, then a fresh GET /", r.ResetAt, len(r.Send)))
	}
	if r.HalfClose {
		parts = append(parts, "half-close (SHUT_WR) after the last byte")
	}
	if r.Echo {
		parts = append(parts, "/echo bodies checked byte for byte")
	}
	if len(parts) == 0 {
		return "all bytes in one write"
	}
	return strings.Join(parts, "; ")
}

// Input returns the input the reproducer re-sends.
func (r *Repro) Input() *Input {
	return &Input{Send: r.Send, SplitAt: r.SplitAt, Pause: time.Duration(r.PauseMS) * time.Millisecond,
		HalfClose: r.HalfClose, Mutation: r.Mutation, Must: r.Must,
		Hold: time.Duration(r.HoldUS) * time.Microsecond, ResetAt: r.ResetAt, Echo: r.Echo, Index: r.Index}
}

// Write saves r as JSON.
func (r *Repro) Write(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadRepro loads a reproducer file.
func ReadRepro(path string) (*Repro, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Repro
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a forkproof reproducer: %v", path, err)
	}
	if r.Tool != "forkproof" || r.Kind == "" {
		return nil, fmt.Errorf("%s: not a forkproof reproducer (tool %q, kind %q)", path, r.Tool, r.Kind)
	}
	return &r, nil
}

// Replayed is what a reproducer showed when re-sent: a finding's kind ("" when none), its
// detail and its grade.
type Replayed struct {
	Kind, Detail string
	Grade        spec.Verdict
}

// Replay re-sends r to addr on a fresh connection and judges the answer the way the campaign
// did. Findings without bytes (zombies, fd leaks) cannot be replayed this way.
func Replay(addr string, r *Repro, timeout time.Duration) (Replayed, error) {
	if len(r.Send) == 0 {
		return Replayed{}, fmt.Errorf("a %s finding has no bytes to re-send; re-run the campaign with -seed %d", r.Kind, r.Seed)
	}
	in := r.Input()
	t := &target{addr: addr, timeout: timeout}
	t.probeRoot()
	a := analyze(in.Send)
	res, err := t.probe(in, a)
	if err != nil {
		return Replayed{}, fmt.Errorf("%w: %s: %v", ErrUnreachable, addr, err)
	}
	if res.kind == "" {
		return Replayed{}, nil
	}
	g, _ := grade(res.kind, res, a)
	return Replayed{Kind: res.kind, Detail: res.detail, Grade: g}, nil
}
