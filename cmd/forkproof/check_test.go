package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/forkproof/forkproof/internal/fakenet"
	"github.com/forkproof/forkproof/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// forkproof runs the built binary with args and returns its stdout, stderr and exit code.
func forkproof(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testbin.Path(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("forkproof %q: %v\nstderr:\n%s", args, err, errb.String())
	}
	return out.String(), errb.String(), code
}

// report is the part of the JSON report the tests read.
type report struct {
	Tool   string `json:"tool"`
	Target struct {
		Addr string `json:"addr"`
		Cmd  string `json:"cmd"`
		PID  int    `json:"pid"`
	} `json:"target"`
	Summary map[string]int `json:"summary"`
	Results []struct {
		ID      string `json:"id"`
		Verdict string `json:"verdict"`
		Level   string `json:"level"`
		Detail  string `json:"detail"`
		Quirk   string `json:"quirk"`
		Wire    *struct {
			Sent     string `json:"sent"`
			Received string `json:"received"`
		} `json:"wire"`
	} `json:"results"`
}

func readReport(t *testing.T, path string) report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("JSON report %s does not parse: %v", path, err)
	}
	return r
}

// targetGone checks that the target forkproof launched is no longer running.
func targetGone(t *testing.T, pid int) {
	t.Helper()
	if pid <= 0 {
		t.Fatalf("report names no target PID")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(b), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(-pid, syscall.SIGKILL)
			t.Fatalf("target %d still running after forkproof exited", pid)
		}
		time.Sleep(10 * time.Millisecond) // polling a state with a deadline
	}
}

func TestCheckEmbeddedServerPasses(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "r.json")
	out, errs, code := forkproof(t, "check", "-json", js)
	if code != 0 {
		t.Fatalf("check against the embedded server: exit %d; want 0\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	r := readReport(t, js)
	targetGone(t, r.Target.PID)
	if r.Summary["fail"] != 0 || len(r.Results) < 2 {
		t.Errorf("summary %v with %d results; want no fail", r.Summary, len(r.Results))
	}
	verdicts := map[string]string{}
	for _, res := range r.Results {
		verdicts[res.ID] = res.Verdict
		if res.ID == "hygiene/zombies" || res.ID == "hygiene/fd-leak" {
			if res.Verdict != "pass" {
				t.Errorf("%s = %s (%s); want pass on the reference server", res.ID, res.Verdict, res.Detail)
			}
		}
	}
	if verdicts["hygiene/zombies"] == "" || verdicts["hygiene/fd-leak"] == "" {
		t.Errorf("end-of-run hygiene checks missing from the report")
	}
	if !strings.Contains(r.Target.Cmd, "serve") {
		t.Errorf("target cmd = %q; want the embedded serve", r.Target.Cmd)
	}
}

func TestCheckPlantedFaultFails(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "r.json")
	target := fmt.Sprintf("'%s' serve -fault no-host-check -addr 127.0.0.1:{port}", testbin.Path(t))
	// The Host section: quick, and every case in it is meant to catch this fault.
	out, errs, code := forkproof(t, "check", "-run", "rfc9112/3.2", "-target-cmd", target, "-json", js)
	if code != 1 {
		t.Fatalf("check against no-host-check: exit %d; want 1\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	r := readReport(t, js)
	targetGone(t, r.Target.PID)
	var failed []string
	for _, res := range r.Results {
		if res.Verdict == "fail" {
			failed = append(failed, res.ID)
			if !strings.Contains(out, "FAIL   "+res.ID) || !strings.Contains(out, "--- fail "+res.ID) {
				t.Errorf("text report does not name failing case %s", res.ID)
			}
			if res.Wire == nil || res.Wire.Sent == "" {
				t.Errorf("failing case %s has no wire transcript", res.ID)
			}
		}
	}
	if len(failed) == 0 {
		t.Fatal("exit 1 but no failing result in the JSON report")
	}
	if !strings.Contains(out, "FAIL   rfc9112/3.2/1 ") {
		t.Errorf("HTTP/1.1 request without Host (rfc9112/3.2/1) not failed; failed: %v\n%s", failed, out)
	}

	// The same failures listed as quirks: exit 0, reported as quirks; a quirk on a passing
	// case is reported stale.
	var q strings.Builder
	q.WriteString("# known deviations of the no-host-check build\n")
	for _, id := range failed {
		fmt.Fprintf(&q, "%s  host checking is switched off\n", id)
	}
	q.WriteString("hygiene/zombies  pretend we leak\n")
	qf := filepath.Join(dir, "quirks.txt")
	if err := os.WriteFile(qf, []byte(q.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code = forkproof(t, "check", "-run", "rfc9112/3.2", "-target-cmd", target, "-quirks", qf, "-json", js)
	if code != 0 {
		t.Fatalf("check with every failure quirked: exit %d; want 0\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(out, "fail (quirk: host checking is switched off)") || !strings.Contains(out, "INFO   quirk/hygiene/zombies") {
		t.Errorf("quirked run does not report the quirks and the stale one:\n%s", out)
	}
}

func TestCheckReportsParseBack(t *testing.T) {
	dir := t.TempDir()
	js, ju, ht := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.html")
	target := fmt.Sprintf("'%s' serve -fault no-host-check -addr 127.0.0.1:{port}", testbin.Path(t))
	out, errs, code := forkproof(t, "check", "-run", "rfc9112/3.2", "-target-cmd", target, "-json", js, "-junit", ju, "-html", ht)
	if code != 1 {
		t.Fatalf("exit %d; want 1\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	r := readReport(t, js)
	if r.Tool != "forkproof" || r.Target.PID <= 0 || !strings.HasPrefix(r.Target.Addr, "127.0.0.1:") {
		t.Errorf("JSON header = %+v", r)
	}
	b, err := os.ReadFile(ju)
	if err != nil {
		t.Fatal(err)
	}
	var junit struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(b, &junit); err != nil {
		t.Fatalf("JUnit does not parse: %v", err)
	}
	if junit.Tests != len(r.Results) || junit.Failures != r.Summary["fail"] || junit.Failures == 0 {
		t.Errorf("JUnit tests/failures = %d/%d; JSON has %d results, %d fail", junit.Tests, junit.Failures, len(r.Results), r.Summary["fail"])
	}
	h, err := os.ReadFile(ht)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(h), `<tr class="case"`); n != len(r.Results) || !strings.HasSuffix(strings.TrimSpace(string(h)), "</html>") {
		t.Errorf("HTML has %d case rows for %d results, or is cut short", n, len(r.Results))
	}
}

func TestCheckBadUsage(t *testing.T) {
	dir := t.TempDir()
	badQuirks := filepath.Join(dir, "bad.txt")
	os.WriteFile(badQuirks, []byte("# ok\nrfc9112/3/1\n"), 0o644)
	tests := []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"-nope"}, "flag provided but not defined"},
		{[]string{"-pid", "5"}, "-pid needs -addr"},
		{[]string{"-addr", "127.0.0.1:1", "-target-cmd", "x {port}"}, "exclude each other"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-run", "rfc(("}, "bad case pattern"},
		{[]string{"-run", "no/such/case"}, "selects no case"},
		{[]string{"-parallel", "0"}, "must be positive"},
		{[]string{"-path", "index.html"}, "want an origin-form path"},
		{[]string{"-quirks", filepath.Join(dir, "missing.txt")}, "quirks file"},
		{[]string{"-quirks", badQuirks}, "bad.txt:2: quirk \"rfc9112/3/1\" has no reason"},
		{[]string{"-target-cmd", "srv --port 80"}, "no {port} placeholder"},
		{[]string{"-target-cmd", "'unterminated {port}"}, "unterminated"},
	}
	for _, tt := range tests {
		_, errs, code := forkproof(t, append([]string{"check"}, tt.args...)...)
		if code != 2 || !strings.Contains(errs, tt.want) {
			t.Errorf("For %q, exit %d, stderr %q; want 2 and %q", tt.args, code, errs, tt.want)
		}
	}
}

func TestCheckUnreachableAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, errs, code := forkproof(t, "check", "-addr", addr)
	if code != 2 || !strings.Contains(errs, "unreachable") {
		t.Errorf("check -addr %s (closed): exit %d, stderr %q; want 2 naming it unreachable", addr, code, errs)
	}
}

// A target that accepts connections but answers nothing, or answers but has no 2xx resource
// to fetch, is not judged case by case (hundreds of made-up failures): check stops with
// exit 2 and says why.
func TestCheckTargetWithoutHTTP(t *testing.T) {
	for _, tt := range []struct {
		name   string
		handle func(c net.Conn)
		args   []string
		want   string
	}{
		{"silent", func(c net.Conn) { c.Read(make([]byte, 4096)); c.Read(make([]byte, 1)) },
			[]string{"-timeout", "300ms"}, "does not answer HTTP"},
		{"404 at /", func(c net.Conn) {
			c.Read(make([]byte, 4096))
			c.Write([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		}, nil, "name one with -path"},
	} {
		srv := fakenet.Start(t, tt.handle)
		_, errs, code := forkproof(t, append([]string{"check", "-addr", srv.Addr(), "-run", "rfc9112/2.1/1"}, tt.args...)...)
		if code != 2 || !strings.Contains(errs, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tt.name, code, errs, tt.want)
		}
	}
}

// A target that stops accepting connections midway stops the run within seconds: exit 2, a
// partial report that says so, and the cases not run listed as skips, not as failures.
func TestCheckTargetDiesMidRun(t *testing.T) {
	var srv *fakenet.Server
	var served atomic.Int32
	srv = fakenet.Start(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Read(make([]byte, 4096))
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
		if served.Add(1) == 30 {
			srv.StopAccepting()
		}
	})
	js := filepath.Join(t.TempDir(), "r.json")
	out, errs, code := forkproof(t, "check", "-addr", srv.Addr(), "-run", "rfc9112/", "-timeout", "1s", "-json", js)
	if code != 2 || !strings.Contains(errs, "stopped early") || !strings.Contains(errs, "stopped accepting connections") {
		t.Fatalf("exit %d, stderr %q; want 2, stopped early because the target stopped accepting connections", code, errs)
	}
	if !strings.HasPrefix(out, "STOPPED EARLY: ") {
		t.Errorf("the text report does not open with the stop: %.200q", out)
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Stopped string `json:"stopped"`
		Results []struct {
			Verdict, Detail string
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	notRun := 0
	for _, res := range r.Results {
		if strings.HasPrefix(res.Detail, "not run") {
			notRun++
			if res.Verdict != "skip" {
				t.Errorf("a case not run is %s: %q", res.Verdict, res.Detail)
			}
		}
	}
	if r.Stopped == "" || notRun < len(r.Results)/2 {
		t.Errorf("JSON stopped %q, %d of %d results not run; want the stop recorded and most cases not run", r.Stopped, notRun, len(r.Results))
	}
}

// Report paths are checked before the run: a bad one costs nothing and names its flag.
func TestCheckBadReportPath(t *testing.T) {
	good := filepath.Join(t.TempDir(), "r.html")
	_, errs, code := forkproof(t, "check", "-html", good, "-json", "/no/such/dir/r.json")
	if code != 2 || !strings.Contains(errs, "-json") || strings.Contains(errs, "listening") {
		t.Errorf("exit %d, stderr %q; want 2 naming -json, before any target is launched", code, errs)
	}
	// A run that ends early (here: an unreachable target) leaves an earlier report alone and
	// no temporary file behind.
	dir := t.TempDir()
	old := filepath.Join(dir, "r.json")
	if err := os.WriteFile(old, []byte("earlier report"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, _, code := forkproof(t, "check", "-addr", addr, "-json", old); code != 2 {
		t.Errorf("unreachable target: exit %d; want 2", code)
	}
	if b, _ := os.ReadFile(old); string(b) != "earlier report" {
		t.Errorf("the earlier report became %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left in the report directory: %v", entries)
	}
}

// -short leaves out the scenarios whose cost is a fixed wait or a flood, and shows progress on
// stderr (a plain line, stderr not being a terminal); -q shows none.
func TestCheckShortAndProgress(t *testing.T) {
	js := filepath.Join(t.TempDir(), "r.json")
	out, errs, code := forkproof(t, "check", "-short", "-json", js)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "forkproof: 0/") {
		t.Errorf("stderr %q shows no progress line", errs)
	}
	r := readReport(t, js)
	for _, res := range r.Results {
		for _, long := range []string{"robust/slowloris/", "robust/partial/", "robust/backlog/", "robust/reset/", "hygiene/lingering-children"} {
			if strings.HasPrefix(res.ID, long) {
				t.Errorf("-short ran %s", res.ID)
			}
		}
	}
	if len(r.Results) < 400 {
		t.Errorf("-short ran %d cases; want the catalogue (400+)", len(r.Results))
	}
	_, errs, code = forkproof(t, "check", "-q", "-run", "rfc9112/2.1/1")
	if code != 0 || strings.Contains(errs, "forkproof: ") {
		t.Errorf("-q: exit %d, stderr %q; want 0 and no progress", code, errs)
	}
}

func TestCheckTargetExitsAtOnce(t *testing.T) {
	_, errs, code := forkproof(t, "check", "-target-cmd", `/bin/sh -c "echo target-broke-{port} >&2; exit 3"`)
	if code != 2 || !strings.Contains(errs, "target-broke-") || !strings.Contains(errs, "exit status 3") {
		t.Errorf("exit %d, stderr %q; want 2 with the target's stderr and status", code, errs)
	}
}

func TestCheckAddrWithPID(t *testing.T) {
	// A target started outside forkproof, given by -addr and -pid: hygiene runs too.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := exec.CommandContext(ctx, testbin.Path(t), "serve", "-addr", "127.0.0.1:0", "-mode", "prefork")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	srv.Stderr = pw
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
		pr.Close()
	}()
	pr.SetReadDeadline(time.Now().Add(10 * time.Second))
	var addr string
	buf := make([]byte, 4096)
	var seen string
	for addr == "" {
		n, err := pr.Read(buf)
		seen += string(buf[:n])
		if i := strings.Index(seen, "listening on "); i >= 0 && strings.Contains(seen[i:], "\n") {
			addr = strings.TrimSpace(strings.SplitN(seen[i+len("listening on "):], "\n", 2)[0])
		}
		if err != nil && addr == "" {
			t.Fatalf("no listening line: %v; stderr %q", err, seen)
		}
	}
	dir := t.TempDir()
	js := filepath.Join(dir, "r.json")
	// -run names only the end-of-run checks, which run whatever the selection.
	out, errs, code := forkproof(t, "check", "-addr", addr, "-pid", fmt.Sprint(srv.Process.Pid), "-run", "hygiene/zombies", "-json", js)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	r := readReport(t, js)
	if len(r.Results) != 2 || r.Results[0].ID != "hygiene/zombies" || r.Results[0].Verdict != "pass" || r.Results[1].Verdict != "pass" {
		t.Errorf("results = %+v; want both end-of-run hygiene checks passing on prefork", r.Results)
	}
	// Without -pid, hygiene skips (-v lists the skips; without it they are counted).
	out, _, code = forkproof(t, "check", "-v", "-addr", addr, "-run", "hygiene/zombies")
	if code != 0 || !strings.Contains(out, "SKIP   hygiene/zombies") {
		t.Errorf("without -pid: exit %d, stdout %q; want 0 with hygiene skipped", code, out)
	}
	out, _, code = forkproof(t, "check", "-addr", addr, "-run", "hygiene/zombies")
	if code != 0 || !strings.Contains(out, "SKIP   2 cases: ") || strings.Contains(out, "SKIP   hygiene/") {
		t.Errorf("without -pid or -v: exit %d, stdout %q; want 0 with the skips counted on one line", code, out)
	}
}

func TestSpec(t *testing.T) {
	out, errs, code := forkproof(t, "spec")
	if code != 0 || !strings.HasPrefix(out, "ID") || !strings.Contains(out, "hygiene/zombies") || !strings.Contains(out, "hygiene/fd-leak") {
		t.Fatalf("spec: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	out, _, code = forkproof(t, "spec", "-json")
	var metas []struct {
		ID          string   `json:"id"`
		Category    string   `json:"category"`
		Level       string   `json:"level"`
		Title       string   `json:"title"`
		Requirement string   `json:"requirement"`
		Outcomes    []string `json:"outcomes"`
	}
	if err := json.Unmarshal([]byte(out), &metas); err != nil || code != 0 {
		t.Fatalf("spec -json: exit %d, %v", code, err)
	}
	ids := map[string]bool{}
	for _, m := range metas {
		if m.ID == "" || m.Title == "" || m.Level == "" || m.Category == "" {
			t.Errorf("incomplete catalogue entry %+v", m)
		}
		if ids[m.ID] {
			t.Errorf("duplicate ID %s", m.ID)
		}
		ids[m.ID] = true
	}
	if !ids["hygiene/zombies"] {
		t.Error("spec -json lacks hygiene/zombies")
	}
	out, _, code = forkproof(t, "spec", "-json", "-run", "hygiene/fd-leak")
	if code != 0 || strings.Count(out, `"id"`) != 1 || !strings.Contains(out, "baseline + 4") {
		t.Errorf("spec -run hygiene/fd-leak: exit %d, %s", code, out)
	}
	if _, _, code := forkproof(t, "spec", "stray"); code != 2 {
		t.Errorf("spec stray: exit %d; want 2", code)
	}
}

func TestCheckHygieneFaults(t *testing.T) {
	tests := []struct{ fault, id, detail string }{
		{"no-reap", "hygiene/zombies", "zombie children"},
		{"leak-fd", "hygiene/fd-leak", "new: socket +"},
	}
	for _, tt := range tests {
		js := filepath.Join(t.TempDir(), "r.json")
		target := fmt.Sprintf("'%s' serve -fault %s -addr 127.0.0.1:{port}", testbin.Path(t), tt.fault)
		out, errs, code := forkproof(t, "check", "-run", "rfc9112/3.2", "-settle", "500ms", "-target-cmd", target, "-json", js)
		if code != 1 {
			t.Errorf("-fault %s: exit %d; want 1\nstdout:\n%s\nstderr:\n%s", tt.fault, code, out, errs)
			continue
		}
		r := readReport(t, js)
		targetGone(t, r.Target.PID)
		for _, res := range r.Results {
			if res.ID == tt.id && (res.Verdict != "fail" || !strings.Contains(res.Detail, tt.detail)) {
				t.Errorf("-fault %s: %s = %s (%s); want fail naming %q", tt.fault, res.ID, res.Verdict, res.Detail, tt.detail)
			}
		}
		if !strings.Contains(out, "FAIL   "+tt.id) {
			t.Errorf("-fault %s: text report does not name %s:\n%s", tt.fault, tt.id, out)
		}
	}
}
