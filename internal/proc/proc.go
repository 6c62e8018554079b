// Package proc reads the few facts forkproof needs about a process from Linux's /proc: its
// state, parent, CPU time, threads and memory (/proc/PID/stat), its children, its open
// descriptors and its threads' states.
//
// It replaces github.com/prometheus/procfs, which the hygiene issue suggested, for one reason:
// start-up cost. `forkproof serve -mode fork` re-executes the binary for every connection, so
// every package initialiser linked into cmd/forkproof runs once per connection. procfs compiles
// about 25 regular expressions when it is initialised; measured with GODEBUG=inittrace=1 on
// the forkproof binary (3 runs, 2-core machine) its init took 0.18-0.28 ms and 96.5 KB in 892
// allocations per start, 10-20% of a child's whole start-up (about 2 ms), while forkproof used
// five of its functions. This package has no package-level state to initialise at all: no
// regexps, no maps. With it, all of the binary's initialisers together went from 1290
// allocations (222 KB) to 399 (126 KB) per start; server's TestChildInitCost now holds them
// to a budget.
//
// Every error names the pid and the file. A process that has vanished (or a thread, or a
// descriptor) gives an error for which errors.Is(err, fs.ErrNotExist) holds, including the
// ESRCH a /proc file returns when its process goes away between open and read.
package proc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"syscall"
)

// userHZ is the unit of utime and stime in /proc/PID/stat (USER_HZ, sysconf(_SC_CLK_TCK)):
// 100 on every architecture Linux runs Go on.
const userHZ = 100

// Stat is what forkproof reads from /proc/PID/stat (or /proc/PID/task/TID/stat).
type Stat struct {
	PID        int
	Comm       string // the command name, as the kernel keeps it (at most 15 bytes)
	State      byte   // R, S, D, Z, T, t, X, I ...
	PPID       int
	UTime      uint64 // user CPU time in clock ticks (1/100 s)
	STime      uint64 // system CPU time in clock ticks
	NumThreads int
	RSS        int64 // resident set size in pages
}

// CPUTime returns the user plus system CPU time in seconds.
func (s Stat) CPUTime() float64 { return float64(s.UTime+s.STime) / userHZ }

// ResidentMemory returns the resident set size in bytes.
func (s Stat) ResidentMemory() int64 { return s.RSS * int64(os.Getpagesize()) }

// ReadStat reads /proc/PID/stat.
func ReadStat(pid int) (Stat, error) {
	return readStat(pid, "/proc/"+strconv.Itoa(pid)+"/stat")
}

// ReadThreadStat reads /proc/PID/task/TID/stat: the same fields for one thread.
func ReadThreadStat(pid, tid int) (Stat, error) {
	return readStat(pid, "/proc/"+strconv.Itoa(pid)+"/task/"+strconv.Itoa(tid)+"/stat")
}

func readStat(pid int, path string) (Stat, error) {
	// A stat line is about 300 bytes; the comm is at most 64 even for kernel workers.
	var buf [1024]byte
	n, _, err := readGrowing(path, buf[:])
	if err != nil {
		return Stat{}, wrap(pid, err)
	}
	st, err := parseStat(buf[:n])
	if err != nil {
		return Stat{}, fmt.Errorf("process %d: %s: %v", pid, path, err)
	}
	return st, nil
}

// parseStat parses a stat line: "pid (comm) state ppid ...". The comm may hold spaces and
// parentheses, so the fields start after the last ')'.
func parseStat(b []byte) (Stat, error) {
	var st Stat
	open := slices.Index(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 1 || end < open {
		return st, errors.New("malformed stat: no (comm)")
	}
	pid, ok := parseInt(bytes.TrimSpace(b[:open]))
	if !ok {
		return st, fmt.Errorf("malformed stat: pid %q", b[:open])
	}
	st.PID = int(pid)
	st.Comm = string(b[open+1 : end])
	// Fields after the comm, numbered as in proc(5) minus 3: 0 state, 1 ppid, 11 utime,
	// 12 stime, 17 num_threads, 21 rss.
	rest := b[end+1:]
	for i := 0; i <= 21; i++ {
		var f []byte
		f, rest = nextField(rest)
		if f == nil {
			return st, fmt.Errorf("malformed stat: %d fields after the comm; want at least 22", i)
		}
		if i == 0 {
			if len(f) != 1 {
				return st, fmt.Errorf("malformed stat: state %q", f)
			}
			st.State = f[0]
			continue
		}
		if i != 1 && i != 11 && i != 12 && i != 17 && i != 21 {
			continue
		}
		v, ok := parseInt(f)
		if !ok {
			return st, fmt.Errorf("malformed stat: field %d is %q", i+3, f)
		}
		switch i {
		case 1:
			st.PPID = int(v)
		case 11:
			st.UTime = uint64(v)
		case 12:
			st.STime = uint64(v)
		case 17:
			st.NumThreads = int(v)
		case 21:
			st.RSS = v
		}
	}
	return st, nil
}

// nextField returns the next space-separated field of b (nil when none) and what follows it.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	j := i
	for j < len(b) && !isSpace(b[j]) {
		j++
	}
	if i == j {
		return nil, nil
	}
	return b[i:j], b[j:]
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' }

// parseInt parses a decimal integer with an optional minus sign, without allocating.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// goneError marks an ESRCH from /proc as the process having vanished, so that
// errors.Is(err, fs.ErrNotExist) holds for it as for ENOENT.
type goneError struct{ err error }

func (e goneError) Error() string   { return e.err.Error() }
func (e goneError) Unwrap() []error { return []error{e.err, fs.ErrNotExist} }

// wrap names the pid in err (the file is in the *PathError) and makes a vanished process
// recognisable.
func wrap(pid int, err error) error {
	if errors.Is(err, syscall.ESRCH) {
		err = goneError{err}
	}
	return fmt.Errorf("process %d: %w", pid, err)
}

// numericNames lists the names in dir that are decimal numbers (pids, tids, fds), as ints.
func numericNames(dir string) ([]int, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(names))
	for _, n := range names {
		if v, ok := parseInt([]byte(n)); ok && v >= 0 {
			out = append(out, int(v))
		}
	}
	slices.Sort(out)
	return out, nil
}

// PIDs lists every process in /proc, in ascending order.
func PIDs() ([]int, error) {
	pids, err := numericNames("/proc")
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	return pids, nil
}

// TIDs lists the threads of pid (/proc/PID/task), in ascending order.
func TIDs(pid int) ([]int, error) {
	tids, err := numericNames("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return nil, wrap(pid, err)
	}
	return tids, nil
}

// Thread is one thread of a process and its state.
type Thread struct {
	TID   int
	State byte
}

// Threads lists the threads of pid with their states, read from /proc/PID/task/*/stat.
// Threads that end while they are read are left out.
func Threads(pid int) ([]Thread, error) {
	tids, err := TIDs(pid)
	if err != nil {
		return nil, err
	}
	out := make([]Thread, 0, len(tids))
	for _, tid := range tids {
		st, err := ReadThreadStat(pid, tid)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // the thread ended
			}
			return nil, err
		}
		out = append(out, Thread{TID: tid, State: st.State})
	}
	return out, nil
}

// Children lists the direct children of pid, live or zombie, in ascending order, read from
// /proc/PID/task/*/children; on a kernel without those files (CONFIG_PROC_CHILDREN unset) it
// scans every process's parent instead.
func Children(pid int) ([]int, error) {
	tids, err := TIDs(pid)
	if err != nil {
		return nil, err
	}
	var kids []int
	found := false
	buf := make([]byte, 512)
	for _, tid := range tids {
		path := "/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(tid) + "/children"
		var n int
		n, buf, err = readGrowing(path, buf)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
				continue // the thread ended, or the kernel lacks the file
			}
			return nil, wrap(pid, err)
		}
		found = true
		for rest := buf[:n]; ; {
			var f []byte
			if f, rest = nextField(rest); f == nil {
				break
			}
			if k, ok := parseInt(f); ok {
				kids = append(kids, int(k))
			}
		}
	}
	if !found {
		return childrenByScan(pid)
	}
	slices.Sort(kids)
	return slices.Compact(kids), nil
}

// readGrowing reads a whole file into buf, growing it as needed, and returns the length read
// and the (possibly new) buffer.
func readGrowing(path string, buf []byte) (int, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, buf, err
	}
	defer f.Close()
	n := 0
	for {
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
		m, err := f.Read(buf[n:])
		n += m
		if err == io.EOF {
			return n, buf, nil
		}
		if err != nil {
			return n, buf, &fs.PathError{Op: "read", Path: path, Err: err}
		}
	}
}

func childrenByScan(pid int) ([]int, error) {
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
		return nil, wrap(pid, err)
	}
	pids, err := PIDs()
	if err != nil {
		return nil, err
	}
	var kids []int
	for _, p := range pids {
		if st, err := ReadStat(p); err == nil && st.PPID == pid {
			kids = append(kids, p)
		}
	}
	return kids, nil
}

// FD is one open descriptor and what it refers to: "socket:[123]", "pipe:[456]",
// "anon_inode:[eventpoll]", "/path/to/file", "/dev/null" ...
type FD struct {
	Num    int
	Target string
}

// FDs lists the open descriptors of pid (/proc/PID/fd/*) with their link targets, in
// ascending order. A descriptor closed while it is read is left out.
func FDs(pid int) ([]FD, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	nums, err := numericNames(dir)
	if err != nil {
		return nil, wrap(pid, err)
	}
	out := make([]FD, 0, len(nums))
	for _, fd := range nums {
		t, err := os.Readlink(dir + "/" + strconv.Itoa(fd))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // closed while we looked
			}
			return nil, wrap(pid, err)
		}
		out = append(out, FD{Num: fd, Target: t})
	}
	return out, nil
}
