package proc

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// childEnv makes the re-executed test binary a child that renames itself and waits for stdin
// to close.
const childEnv = "FORKPROOF_PROC_TEST_CHILD"

// oddComm is a command name that breaks a naive stat parser: spaces and parentheses.
const oddComm = "a) (b) c"

// init, not TestMain: package initialisation runs on the main thread, whose name is the
// process's comm in /proc/PID/stat; PR_SET_NAME names only the calling thread.
func init() {
	if os.Getenv(childEnv) == "" {
		return
	}
	name, _ := unix.BytePtrFromString(oddComm)
	if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(name)), 0, 0, 0); err != nil {
		os.Exit(3)
	}
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

const waitFor = 10 * time.Second

// poll calls f until it returns true or waitFor passes.
func poll(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, waitFor)
		}
		time.Sleep(5 * time.Millisecond) // polling for state, not synchronising
	}
}

// startSleep starts a sleeping child and kills and reaps it at cleanup.
func startSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting sleep: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

func TestParseStat(t *testing.T) {
	tail := " 4 5 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 9 0 1234 5678 42 18446744073709551615\n"
	for _, tc := range []struct {
		line  string
		want  Stat
		wrong string // part of the error; "" when it parses
	}{
		{"12 (sleep) S 1" + tail, Stat{PID: 12, Comm: "sleep", State: 'S', PPID: 1, UTime: 7, STime: 3, NumThreads: 9, RSS: 42}, ""},
		{"12 (a) (b) c) Z 99" + tail, Stat{PID: 12, Comm: "a) (b) c", State: 'Z', PPID: 99, UTime: 7, STime: 3, NumThreads: 9, RSS: 42}, ""},
		{"7 () R 0" + tail, Stat{PID: 7, Comm: "", State: 'R', PPID: 0, UTime: 7, STime: 3, NumThreads: 9, RSS: 42}, ""},
		{"7 (x y) S 1 4 5", Stat{}, "fields after the comm"},
		{"7 x) S 1" + tail, Stat{}, "no (comm)"},
		{"(x) S 1" + tail, Stat{}, "no (comm)"},
		{"7 (x S 1" + tail, Stat{}, "no (comm)"},
		{"q (x) S 1" + tail, Stat{}, "pid"},
		{"7 (x) SS 1" + tail, Stat{}, "state"},
		{"7 (x) S one" + tail, Stat{}, "field 4"},
		{"", Stat{}, "no (comm)"},
	} {
		got, err := parseStat([]byte(tc.line))
		if tc.wrong != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wrong) {
				t.Errorf("For %q, err = %v; want one mentioning %q", tc.line, err, tc.wrong)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("For %q, parseStat = %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
	}
}

func TestReadStatSelf(t *testing.T) {
	st, err := ReadStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != os.Getpid() || st.PPID != os.Getppid() {
		t.Errorf("pid, ppid = %d, %d; want %d, %d", st.PID, st.PPID, os.Getpid(), os.Getppid())
	}
	// The thread reading its own stat is running (the process's state is its main thread's).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := ReadThreadStat(os.Getpid(), unix.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	if self.State != 'R' || self.PID != unix.Gettid() || self.PPID != os.Getppid() {
		t.Errorf("own thread: state %q, tid %d, ppid %d; want R, %d, %d", self.State, self.PID, self.PPID, unix.Gettid(), os.Getppid())
	}
	if want := filepath.Base(os.Args[0]); !strings.HasPrefix(want, st.Comm) || st.Comm == "" {
		t.Errorf("comm = %q; want a prefix of %q", st.Comm, want)
	}
	if st.NumThreads < 1 {
		t.Errorf("num_threads = %d; want at least 1", st.NumThreads)
	}
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	if rss, peak := st.ResidentMemory(), ru.Maxrss*1024; rss <= 0 || rss > peak {
		t.Errorf("resident memory = %d bytes; want above 0 and at most the peak %d", rss, peak)
	}
	cpu := float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	if d := st.CPUTime() - cpu; d > 0.1 || d < -0.1 {
		t.Errorf("CPU time = %.3fs; getrusage says %.3fs", st.CPUTime(), cpu)
	}
}

func TestChildStateAndChildren(t *testing.T) {
	cmd := startSleep(t)
	pid := cmd.Process.Pid
	var st Stat
	poll(t, "sleep child in state S", func() bool {
		var err error
		st, err = ReadStat(pid)
		if err != nil {
			t.Fatal(err)
		}
		return st.State == 'S' && st.Comm == "sleep"
	})
	if st.PPID != os.Getpid() {
		t.Errorf("child's ppid = %d; want %d", st.PPID, os.Getpid())
	}
	kids, err := Children(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(kids, pid) {
		t.Errorf("Children = %v; want it to hold %d", kids, pid)
	}
	scanned, err := childrenByScan(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(scanned, pid) {
		t.Errorf("children by scan = %v; want it to hold %d", scanned, pid)
	}
	none, err := Children(pid)
	if err != nil || len(none) != 0 {
		t.Errorf("Children(sleep) = %v, %v; want none", none, err)
	}
	threads, err := Threads(pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(threads) != 1 || threads[0].TID != pid || threads[0].State != 'S' {
		t.Errorf("Threads(sleep) = %+v; want one thread %d in state S", threads, pid)
	}
	pids, err := PIDs()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, pid) || !slices.Contains(pids, os.Getpid()) {
		t.Errorf("PIDs() lacks %d or %d", pid, os.Getpid())
	}
}

func TestThreadsSelf(t *testing.T) {
	// Locked, so the thread that reads is the same one all along and sees itself running.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	threads, err := Threads(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	leader, running := false, false
	for _, th := range threads {
		leader = leader || th.TID == os.Getpid()
		running = running || th.TID == unix.Gettid() && th.State == 'R'
	}
	// A Go test binary has several threads, and the one reading is running.
	if len(threads) < 2 || !leader || !running {
		t.Errorf("Threads(self) = %+v; want several, the leader %d among them, %d running", threads, os.Getpid(), unix.Gettid())
	}
}

func TestZombieThenGone(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting true: %v", err)
	}
	pid := cmd.Process.Pid
	reaped := false
	t.Cleanup(func() {
		if !reaped {
			cmd.Wait()
		}
	})
	poll(t, "exited child in state Z", func() bool {
		st, err := ReadStat(pid)
		if err != nil {
			t.Fatal(err)
		}
		return st.State == 'Z'
	})
	kids, err := Children(os.Getpid())
	if err != nil || !slices.Contains(kids, pid) {
		t.Errorf("Children = %v, %v; want the zombie %d among them", kids, err, pid)
	}
	cmd.Wait()
	reaped = true
	// Reaped: every reader says the process does not exist, and names it.
	for name, read := range map[string]func() error{
		"ReadStat": func() error { _, err := ReadStat(pid); return err },
		"FDs":      func() error { _, err := FDs(pid); return err },
		"Children": func() error { _, err := Children(pid); return err },
		"Threads":  func() error { _, err := Threads(pid); return err },
	} {
		err := read()
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s(%d) after reaping: err = %v; want fs.ErrNotExist", name, pid, err)
			continue
		}
		if p := strconv.Itoa(pid); !strings.Contains(err.Error(), "process "+p) || !strings.Contains(err.Error(), "/proc/"+p) {
			t.Errorf("%s(%d): error %q does not name the pid and the file", name, pid, err)
		}
	}
}

func TestGoneOnESRCH(t *testing.T) {
	err := wrap(42, &fs.PathError{Op: "read", Path: "/proc/42/stat", Err: syscall.ESRCH})
	if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, syscall.ESRCH) {
		t.Errorf("wrap(ESRCH) = %v; want fs.ErrNotExist and ESRCH", err)
	}
	if got, want := err.Error(), "process 42: read /proc/42/stat: no such process"; got != want {
		t.Errorf("wrap(ESRCH).Error() = %q; want %q", got, want)
	}
	if err := wrap(42, syscall.EACCES); errors.Is(err, fs.ErrNotExist) {
		t.Errorf("wrap(EACCES) = %v; want not fs.ErrNotExist", err)
	}
}

func TestOddComm(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := false
	t.Cleanup(func() {
		if !done {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	pid := cmd.Process.Pid
	var st Stat
	poll(t, "child renamed to "+oddComm, func() bool {
		st, err = ReadStat(pid)
		if err != nil {
			t.Fatal(err)
		}
		return st.Comm == oddComm
	})
	if st.PID != pid || st.PPID != os.Getpid() || st.NumThreads < 1 || st.RSS <= 0 {
		t.Errorf("stat of %q = %+v; want pid %d, ppid %d, threads and rss", oddComm, st, pid, os.Getpid())
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("child: %v", err)
	}
	done = true
}

func TestFDs(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.CreateTemp(t.TempDir(), "fd")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	lf, err := l.(*net.TCPListener).File() // a dup, with a known number
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()

	fds, err := FDs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	byNum := map[int]string{}
	for _, fd := range fds {
		byNum[fd.Num] = fd.Target
	}
	for _, tc := range []struct {
		fd   uintptr
		want string // prefix of the link target
	}{
		{r.Fd(), "pipe:["},
		{w.Fd(), "pipe:["},
		{f.Fd(), f.Name()},
		{lf.Fd(), "socket:["},
	} {
		if got, ok := byNum[int(tc.fd)]; !ok || !strings.HasPrefix(got, tc.want) {
			t.Errorf("For fd %d, target = %q (listed %v); want %q...", tc.fd, got, ok, tc.want)
		}
	}
	// The pipe's two ends are one pipe.
	if byNum[int(r.Fd())] != byNum[int(w.Fd())] {
		t.Errorf("pipe ends: %q and %q; want the same pipe", byNum[int(r.Fd())], byNum[int(w.Fd())])
	}
	// Closed descriptors leave the list.
	closed, target := int(w.Fd()), byNum[int(w.Fd())]
	w.Close()
	fds, err = FDs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if fd.Num == closed && fd.Target == target {
			t.Errorf("closed fd %d still listed as %q", closed, fd.Target)
		}
	}
}
