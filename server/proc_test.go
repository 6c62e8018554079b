package server

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Small /proc readers for the hygiene assertions. They are written here, not borrowed from
// the judge's packages, so the server's tests stand on their own.

// childrenOf lists the PIDs of pid's children, live and zombie.
func childrenOf(pid int) []int {
	var kids []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if k, err := strconv.Atoi(f); err == nil {
				kids = append(kids, k)
			}
		}
	}
	slices.Sort(kids)
	return kids
}

// procStat returns the state letter and utime+stime clock ticks of pid.
func procStat(pid int) (state byte, ticks int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0, 0, fmt.Errorf("/proc/%d/stat: malformed %q", pid, s)
	}
	f := strings.Fields(s[i+2:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	return f[0][0], ut + st, nil
}

// zombiesOf lists pid's children in state Z.
func zombiesOf(pid int) []int {
	var z []int
	for _, k := range childrenOf(pid) {
		if st, _, err := procStat(k); err == nil && st == 'Z' {
			z = append(z, k)
		}
	}
	return z
}

// fdsOf maps each open fd of pid to what it points at ("socket:[123]", "/dev/null", ...).
func fdsOf(pid int) (map[int]string, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fds := map[int]string{}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed while we looked
		}
		fds[n] = target
	}
	return fds, nil
}

func fdCount(t *testing.T, pid int) int {
	t.Helper()
	fds, err := fdsOf(pid)
	if err != nil {
		t.Fatalf("reading fds of %d: %v", pid, err)
	}
	return len(fds)
}

// waitFor polls cond until it holds or the deadline passes; it returns the last description
// of the state for the failure message.
func waitFor(d time.Duration, cond func() (bool, string)) (bool, string) {
	deadline := time.Now().Add(d)
	wait := time.Millisecond
	for {
		ok, desc := cond()
		if ok || time.Now().After(deadline) {
			return ok, desc
		}
		time.Sleep(wait) // polling a state with a deadline, not synchronising
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// acceptQueue returns how many finished connections wait in the accept queue of the
// listening socket on port (the rx_queue column of a LISTEN row of /proc/net/tcp{,6}).
func acceptQueue(port int) (int, error) {
	hexPort := fmt.Sprintf(":%04X", port)
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fl := strings.Fields(line)
			if len(fl) < 5 || !strings.HasSuffix(fl[1], hexPort) || fl[3] != "0A" { // 0A: LISTEN
				continue
			}
			q := strings.SplitN(fl[4], ":", 2) // tx_queue:rx_queue
			if len(q) != 2 {
				continue
			}
			n, err := strconv.ParseInt(q[1], 16, 64)
			return int(n), err
		}
	}
	return 0, fmt.Errorf("no listening socket on port %d", port)
}
