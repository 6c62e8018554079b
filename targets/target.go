// Package targets is everything about a target, an HTTP/1.1 server under test: how it is
// described (Target), launched and stopped (Launch, LaunchReference, LaunchBinary), checked
// for reachability, and what its opening probe finds it offers (Capabilities).
package targets

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Target is a server under test.
type Target struct {
	Addr string // host:port
	// Path is the resource the cases fetch where the catalogue says "/" (a request-line target
	// of exactly "/"): for a server whose / is not a 2xx resource. Empty means "/".
	Path string
	PID  int    // root process, 0 when unknown
	Cmd  string // the command forkproof launched, if any
	// Stderr returns what a launched target wrote on stderr so far (nil when not launched).
	Stderr func() string
	// Exited says how a launched target's process ended, or "" while it runs (nil when not
	// launched). A launched command may hand the server to a daemon and exit: only a refused
	// connection says the server is gone.
	Exited func() string
}

// RootPath is the resource cases fetch where the catalogue says "/": Path, or "/".
func (t *Target) RootPath() string {
	if t.Path == "" {
		return "/"
	}
	return t.Path
}

// Launch timings. DefaultStartTimeout bounds the wait for a launched target to accept when
// the caller's ctx sets no deadline (a busy CI machine can take seconds to start a process);
// stopGrace is how long a target gets between SIGTERM and SIGKILL.
const (
	DefaultStartTimeout = 30 * time.Second
	stopGrace           = 3 * time.Second
)

// startContext bounds a start by ctx's deadline, or DefaultStartTimeout when it has none, and
// says how long that is.
func startContext(ctx context.Context) (context.Context, context.CancelFunc, time.Duration) {
	if d, ok := ctx.Deadline(); ok {
		ctx, cancel := context.WithCancel(ctx)
		return ctx, cancel, time.Until(d).Round(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultStartTimeout)
	return ctx, cancel, DefaultStartTimeout
}

// stderrKeep bounds how much of a launched target's stderr is kept (the tail).
const stderrKeep = 64 << 10

// Launch starts a target from a command line containing "{port}": forkproof picks a free
// loopback port, substitutes it, starts the command in a process group of its own and waits
// until 127.0.0.1:port accepts. The command is split into words like a shell would (quotes,
// backslashes) and run directly; a command that needs a shell (pipes, redirections, variables)
// runs as `sh -c 'exec CMD'`, so in both cases the PID forkproof knows is the server's own.
// ctx bounds the start only (DefaultStartTimeout when it sets no deadline); stop ends the
// target (SIGTERM, then SIGKILL to the whole group after 3s) and reaps it. On error nothing is left running.
func Launch(ctx context.Context, cmdline string) (*Target, func() error, error) {
	if !strings.Contains(cmdline, "{port}") {
		return nil, nil, fmt.Errorf("target command %q has no {port} placeholder", cmdline)
	}
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	line := strings.ReplaceAll(cmdline, "{port}", strconv.Itoa(port))
	argv, err := SplitCommand(line)
	if errors.Is(err, errNeedsShell) {
		argv, err = []string{"/bin/sh", "-c", "exec " + line}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("target command %q: %v", cmdline, err)
	}
	env, argv := splitAssignments(argv)
	if len(argv) == 0 {
		return nil, nil, fmt.Errorf("target command %q: only variable assignments, no command", cmdline)
	}
	p, err := start(argv, env)
	if err != nil {
		return nil, nil, fmt.Errorf("target command %q: %v", cmdline, err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := p.waitAccepting(ctx, addr); err != nil {
		p.stop()
		return nil, nil, fmt.Errorf("target command %q: %v%s", line, err, p.stderrSuffix())
	}
	return p.target(addr, line), p.stop, nil
}

// LaunchReference starts the embedded reference server: our own binary (os.Executable) as
// `serve -addr 127.0.0.1:0 -mode fork` with ReferenceArgs, followed by args (later flags win).
func LaunchReference(ctx context.Context, args ...string) (*Target, func() error, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("locating the forkproof binary: %v", err)
	}
	return LaunchBinary(ctx, exe, append(append([]string(nil), ReferenceArgs...), args...)...)
}

// ReferenceArgs are the flags the embedded reference server runs with, chosen so that a
// whole check of it is short. Its header and body timeouts are shortened from the serve
// defaults (4s) to 2s, so that the slow-client scenarios, which wait until the server cuts a
// slow client off (up to -slow-bound, default 6s), end sooner. Its listen backlog is 64
// instead of 511, so that robust/backlog/1 overflows it with about a hundred connections
// instead of five hundred, each of which costs the fork mode a process once it resumes. No
// verdict depends on either: a server that cuts slow clients off within the bound passes
// whatever its timeout, and the backlog scenario fills whatever backlog the server has.
var ReferenceArgs = []string{"-header-timeout", "2s", "-body-timeout", "2s", "-backlog", "64"}

// LaunchBinary is LaunchReference with an explicit forkproof binary (tests run the binary
// built by internal/testbin, not the test binary). The address is read from the server's
// "listening on HOST:PORT" line on stderr.
func LaunchBinary(ctx context.Context, path string, args ...string) (*Target, func() error, error) {
	argv := append([]string{path, "serve", "-addr", "127.0.0.1:0", "-mode", "fork"}, args...)
	line := strings.Join(argv, " ")
	p, err := start(argv, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("reference server: %v", err)
	}
	addr, err := p.waitListening(ctx)
	if err != nil {
		p.stop()
		return nil, nil, fmt.Errorf("reference server %q: %v%s", line, err, p.stderrSuffix())
	}
	return p.target(addr, line), p.stop, nil
}

// Reachable checks that addr accepts a TCP connection within timeout: the check for a target
// given with -addr, so an unreachable one fails fast with a clear error.
func Reachable(ctx context.Context, addr string, timeout time.Duration) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("target address %q: %v", addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("target %s is unreachable: %v", addr, err)
	}
	return c.Close()
}

// process is a launched target: the command, its exit, and its stderr.
type process struct {
	cmd     *exec.Cmd
	stderr  *ringBuffer
	pipe    *os.File      // read end of the stderr pipe
	readEnd chan struct{} // closed when the stderr reader is done
	exited  chan struct{} // closed when Wait returned
	waitErr error
	// listening receives the first stderr line saying "listening on", once (buffered: the
	// reader never blocks on it and never drops it, however much the target said before).
	listening chan string
	once      sync.Once
	stopErr   error
}

// splitAssignments peels the leading NAME=value words off argv, as sh does for a simple command.
func splitAssignments(argv []string) (env, rest []string) {
	for len(argv) > 0 {
		name, _, ok := strings.Cut(argv[0], "=")
		if !ok || name == "" || strings.IndexFunc(name, func(r rune) bool {
			return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		}) >= 0 || name[0] >= '0' && name[0] <= '9' {
			break
		}
		env, argv = append(env, argv[0]), argv[1:]
	}
	return env, argv
}

// start runs argv (with extra environment variables env) in a new process group, its stdout
// and stderr going to one pipe read into a bounded buffer.
func start(argv, env []string) (*process, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = w // a target's stdout is kept with its stderr: both explain a failure
	cmd.Stderr = w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	w.Close()
	p := &process{
		cmd:       cmd,
		stderr:    newRingBuffer(stderrKeep),
		pipe:      r,
		readEnd:   make(chan struct{}),
		exited:    make(chan struct{}),
		listening: make(chan string, 1),
	}
	go p.readStderr()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *process) readStderr() {
	defer close(p.readEnd)
	sc := bufio.NewScanner(p.pipe)
	sc.Buffer(make([]byte, 4096), 1<<20)
	seen := false
	for sc.Scan() {
		line := sc.Text()
		p.stderr.Write([]byte(line + "\n"))
		if !seen && strings.Contains(line, "listening on ") {
			seen = true
			p.listening <- line // the only send on a channel of one: never blocks
		}
	}
	// A line longer than the scanner's limit: keep draining so the target never blocks.
	var buf [4096]byte
	for {
		n, err := p.pipe.Read(buf[:])
		p.stderr.Write(buf[:n])
		if err != nil {
			return
		}
	}
}

func (p *process) target(addr, cmd string) *Target {
	return &Target{Addr: addr, PID: p.cmd.Process.Pid, Cmd: cmd, Stderr: p.stderr.String, Exited: p.exitedHow}
}

func (p *process) stderrSuffix() string {
	s := strings.TrimSpace(p.stderr.String())
	if s == "" {
		return " (no output on stderr)"
	}
	return "; its stderr:\n" + s
}

// exitedHow is exitStatus once the process has exited, "" before.
func (p *process) exitedHow() string {
	select {
	case <-p.exited:
		return p.exitStatus()
	default:
		return ""
	}
}

func (p *process) exitStatus() string {
	if p.waitErr == nil {
		return "exited with status 0"
	}
	return p.waitErr.Error()
}

// waitAccepting polls addr until it accepts, the process exits, or the start deadline passes.
func (p *process) waitAccepting(ctx context.Context, addr string) error {
	ctx, cancel, bound := startContext(ctx)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		if c, err := d.DialContext(ctx, "tcp", addr); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.exited:
			p.drainStderr()
			return fmt.Errorf("exited before accepting on %s: %s", addr, p.exitStatus())
		case <-ctx.Done():
			return fmt.Errorf("did not accept on %s within %v", addr, bound)
		case <-tick.C:
		}
	}
}

// waitListening waits for the reference server's "listening on HOST:PORT" line.
func (p *process) waitListening(ctx context.Context) (string, error) {
	ctx, cancel, bound := startContext(ctx)
	defer cancel()
	parse := func(line string) (string, error) {
		i := strings.Index(line, "listening on ")
		addr := strings.TrimSpace(line[i+len("listening on "):])
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return "", fmt.Errorf("unreadable address in %q: %v", line, err)
		}
		return addr, nil
	}
	select {
	case line := <-p.listening:
		return parse(line)
	case <-p.exited:
		p.drainStderr()
		return "", fmt.Errorf("exited before listening: %s", p.exitStatus())
	case <-ctx.Done():
		select { // the line and the deadline may have come together
		case line := <-p.listening:
			return parse(line)
		default:
		}
		return "", fmt.Errorf(`no "listening on HOST:PORT" line within %v`, bound)
	}
}

// drainStderr waits briefly for the stderr reader to see EOF after the process exited, so an
// error message carries everything the target said.
func (p *process) drainStderr() {
	select {
	case <-p.readEnd:
	case <-time.After(time.Second):
	}
}

// stop ends the target once: SIGTERM to the group, SIGKILL to the group after stopGrace (and
// in any case once the root is gone, for children it left behind), then reaps.
func (p *process) stop() error {
	p.once.Do(func() {
		pgid := p.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		grace := time.NewTimer(stopGrace)
		defer grace.Stop()
		select {
		case <-p.exited:
		case <-grace.C:
			p.stopErr = fmt.Errorf("target pid %d did not exit within %v of SIGTERM; killed", pgid, stopGrace)
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.exited
		// Descendants that left the group may still hold the pipe: don't wait for them forever.
		select {
		case <-p.readEnd:
		case <-time.After(time.Second):
			_ = p.pipe.SetReadDeadline(time.Now())
			<-p.readEnd
		}
		p.pipe.Close()
	})
	return p.stopErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// errNeedsShell marks a command line that uses shell syntax beyond words and quotes.
var errNeedsShell = errors.New("command needs a shell")

// SplitCommand splits a command line into words the way sh does for simple commands: blanks
// separate words, '…' quotes literally, "…" quotes with \ escaping \ " $ `, and a bare \
// escapes the next character. Shell syntax it does not interpret (| & ; < > ( ) $ ` * ? [ ~ #)
// returns an error wrapping errNeedsShell. Leading NAME=value words are left to the caller.
func SplitCommand(s string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quoteCh byte
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoteCh == '\'':
			if c == '\'' {
				quoteCh = 0
			} else {
				cur.WriteByte(c)
			}
		case quoteCh == '"':
			switch c {
			case '"':
				quoteCh = 0
			case '\\':
				if i+1 < len(s) && strings.IndexByte("\\\"$`\n", s[i+1]) >= 0 {
					i++
					cur.WriteByte(s[i])
				} else {
					cur.WriteByte(c)
				}
			case '$', '`':
				return nil, fmt.Errorf("%w: %q inside double quotes", errNeedsShell, c)
			default:
				cur.WriteByte(c)
			}
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'' || c == '"':
			quoteCh, inWord = c, true
		case c == '\\':
			if i+1 == len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case strings.IndexByte("|&;<>()$`*?[~#", c) >= 0 && !(c == '#' && inWord):
			return nil, fmt.Errorf("%w: %q", errNeedsShell, c)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoteCh != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quoteCh)
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, errors.New("empty command")
	}
	return words, nil
}

// ringBuffer keeps the last max bytes written to it.
type ringBuffer struct {
	mu      sync.Mutex
	buf     []byte
	max     int
	dropped int
}

func newRingBuffer(max int) *ringBuffer { return &ringBuffer{max: max} }

func (b *ringBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.dropped += over
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

// String returns the kept tail, saying how much was dropped before it.
func (b *ringBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return fmt.Sprintf("[… %d earlier bytes dropped]\n%s", b.dropped, b.buf)
	}
	return string(b.buf)
}
