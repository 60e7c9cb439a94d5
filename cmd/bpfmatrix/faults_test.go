package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/vmimages"
)

// The fault tests reproduce, against the real CLI, real kernels under qemu
// and the host, every fault a run must survive: an interrupt, a path
// kernel, a duplicate target, a full disk, a tampered index, a damaged
// cache, bad flags. Each adds a row to the table TestMain prints: fault →
// outcome → cells kept → cause shown. They need root, boot VMs under TCG and
// take minutes, so they run only with BPFMATRIX_FAULTS=1 (`make faults`),
// on a scratch cache and --out: the user's cache is only read.

const faultsEnv = "BPFMATRIX_FAULTS"

// faultRow is one line of the fault table.
type faultRow struct{ fault, outcome, kept, cause string }

var faultTable struct {
	sync.Mutex
	rows []faultRow
}

// row records what a fault did, for the table; outcome is what the user
// saw (exit code, run status), kept how many finished cells survived, cause
// the line that said why.
func row(fault, outcome, kept, cause string) {
	faultTable.Lock()
	defer faultTable.Unlock()
	faultTable.rows = append(faultTable.rows, faultRow{fault, outcome, kept, cause})
}

func TestMain(m *testing.M) {
	code := m.Run()
	if len(faultTable.rows) > 0 {
		fmt.Println("\nfault | outcome | cells kept | cause shown")
		fmt.Println("--- | --- | --- | ---")
		for _, r := range faultTable.rows {
			fmt.Printf("%s | %s | %s | %s\n", r.fault, r.outcome, r.kept, r.cause)
		}
	}
	os.Exit(code)
}

// needFaults skips a fault test unless `make faults` asked for them, and
// returns the bpfmatrix binary.
func needFaults(t *testing.T) string {
	t.Helper()
	if os.Getenv(faultsEnv) != "1" {
		t.Skip("a fault reproduction (root, VMs under TCG, minutes): run it with make faults (" + faultsEnv + "=1)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs the host and VM targets")
	}
	return bpfmatrix(t)
}

// repoRoot is the module the suite binary is built from.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

var scratch struct {
	once sync.Once
	dir  string
	err  error
}

// scratchCache returns XDG_CACHE_HOME for a fresh copy of the user's
// bpfmatrix cache holding 5.10 and 6.1 (fetched from the mirror where the
// user's cache lacks them). Each test copies it again, so a test that
// damages its cache damages only its own copy.
func scratchCache(t *testing.T, bin string) string {
	t.Helper()
	scratch.once.Do(func() {
		scratch.dir, scratch.err = os.MkdirTemp("", "bpfmatrix-faults-cache-")
		if scratch.err != nil {
			return
		}
		if user, err := os.UserCacheDir(); err == nil {
			if _, err := os.Stat(filepath.Join(user, "bpfmatrix")); err == nil {
				if out, err := exec.Command("cp", "-a", filepath.Join(user, "bpfmatrix"), scratch.dir).CombinedOutput(); err != nil {
					scratch.err = fmt.Errorf("copy the cache: %v: %s", err, out)
					return
				}
				// A snapshot is keyed on its kernel file's path, which is
				// the user's cache: no use here, and ~100 MB each to copy.
				if err := os.RemoveAll(filepath.Join(scratch.dir, "bpfmatrix", "snapshots")); err != nil {
					scratch.err = err
					return
				}
			}
		}
		cmd := exec.Command(bin, "kernels", "fetch", "5.10", "6.1")
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+scratch.dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			scratch.err = fmt.Errorf("kernels fetch 5.10 6.1: %v: %s", err, out)
		}
	})
	if scratch.err != nil {
		t.Fatal(scratch.err)
	}
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", filepath.Join(scratch.dir, "bpfmatrix"), dir).CombinedOutput(); err != nil {
		t.Fatalf("copy the scratch cache: %v: %s", err, out)
	}
	return dir
}

// proc is a running bpfmatrix whose stderr lines are collected.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
	seen  []string
	done  chan struct{}
}

func start(t *testing.T, bin, dir string, env []string, args ...string) *proc {
	t.Helper()
	if len(args) > 0 && args[0] == "run" {
		// A fault is reproduced in a run that runs, never in one reused
		// from the run cache (docs/caching.md).
		args = append(args, "--no-cache")
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 1000), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return p
}

// waitLine returns the first stderr line containing s, failing if the
// process ends first.
func (p *proc) waitLine(t *testing.T, s string) string {
	t.Helper()
	for line := range p.lines {
		p.seen = append(p.seen, line)
		if strings.Contains(line, s) {
			return line
		}
	}
	t.Fatalf("no stderr line with %q; got:\n%s", s, strings.Join(p.seen, "\n"))
	return ""
}

// wait returns the exit code and every stderr line.
func (p *proc) wait(t *testing.T) (int, []string) {
	t.Helper()
	for line := range p.lines {
		p.seen = append(p.seen, line)
	}
	<-p.done
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), p.seen
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, p.seen
}

// readReport parses dir/report.json.
func readReport(t *testing.T, dir string) *reports.Report {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := reports.Parse("report.json", data)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// kept counts the cells of run that finished: every cell the suite wrote,
// not the ones the runner filled in for a run that ended early.
func kept(run reports.Run) int {
	n := 0
	for _, c := range run.Cells {
		if !strings.Contains(c.Evidence, "before this cell ended") && !strings.Contains(c.Evidence, "wrote no cell") {
			n++
		}
	}
	return n
}

// hashTree maps every regular file under dir whose name matches pattern to
// its SHA-256.
func hashTree(t *testing.T, dir string, pattern *regexp.Regexp) map[string]string {
	t.Helper()
	sums := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !pattern.MatchString(d.Name()) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		sums[path] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

// summaryLine is the summary line of a run labelled label ("host", "vm
// 5.10"): how it ended, in how long, and its counts.
func summaryLine(lines []string, label string) string {
	re := regexp.MustCompile(`^\[` + regexp.QuoteMeta(label) + `\] (ok|error|panic|timeout|interrupted) in `)
	for i := len(lines) - 1; i >= 0; i-- {
		if re.MatchString(lines[i]) {
			return lines[i]
		}
	}
	return ""
}

// lastLine is the last line of lines that starts with prefix.
func lastLine(lines []string, prefix string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], prefix) {
			return lines[i]
		}
	}
	return ""
}

// TestFaultInterruptKeepsVerifiedDataAndResumeRedoesIt: SIGINT while 5.10 runs
// and 6.1 waits its turn (--jobs 1). The run exits 130 saying so, 5.10's
// finished cells stay and its others say they were interrupted, 6.1 never
// starts, no cached InRelease or index is touched, and a later offline
// resolve still picks the newest kernels. --resume then redoes both.
func TestFaultInterruptKeepsVerifiedDataAndResumeRedoesIt(t *testing.T) {
	bin := needFaults(t)
	cache := scratchCache(t, bin)
	env := []string{"XDG_CACHE_HOME=" + cache}
	out := t.TempDir()
	verified := regexp.MustCompile(`InRelease$|Packages|^linux-.*\.json$`)
	before := hashTree(t, cache, verified)
	list := exec.Command(bin, "kernels", "list")
	list.Env = append(os.Environ(), env...)
	listBefore, err := list.Output()
	if err != nil {
		t.Fatalf("kernels list: %v", err)
	}

	args := []string{"run", "--kernel", "5.10,6.1", "--jobs", "1", "--label-filter", "tracing", "--out", out, "--module", repoRoot(t)}
	p := start(t, bin, out, env, args...)
	p.waitLine(t, "[vm 5.10] guest up")
	// The interrupt must land while 5.10 still has cells to run: a fixed
	// sleep after "guest up" raced a guest that finished its 20 cells in
	// under 3 s. The first record on disk is a moment with cells done and
	// cells left, whatever the machine's speed.
	waitForCell(t, matrix.RecordsFile(filepath.Join(out, "runs", "vm-5.10")))
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code, lines := p.wait(t)
	all := strings.Join(lines, "\n")
	if code != 130 || lastLine(lines, "bpfmatrix:") != "bpfmatrix: interrupted by SIGINT" {
		t.Errorf("exit %d; want 130 and 'bpfmatrix: interrupted by SIGINT' last:\n%s", code, all)
	}
	if i := strings.Index(all, "[vm 6.1] "); i >= 0 && i < strings.Index(all, "[vm 5.10] ") {
		t.Errorf("--jobs 1 started 6.1 before 5.10, the order given:\n%s", all)
	}
	rep := readReport(t, out)
	var k510 reports.Run
	for _, r := range rep.Runs {
		if r.Kernel.Name == "5.10" {
			k510 = r
		}
	}
	interrupted := 0
	for _, c := range k510.Cells {
		if strings.Contains(c.Evidence, "interrupted by SIGINT") {
			interrupted++
		}
	}
	if k510.Status != "interrupted" || interrupted == 0 || kept(k510) == 0 {
		t.Errorf("5.10 run %s with %d cells saying 'interrupted by SIGINT' and %d finished ones kept", k510.Status, interrupted, kept(k510))
	}
	if _, err := os.Stat(filepath.Join(out, "runs", "vm-6.1")); err == nil {
		t.Errorf("6.1 never started, yet it has a run directory")
	}
	after := hashTree(t, cache, verified)
	for path, sum := range before {
		if after[path] != sum {
			t.Errorf("the interrupt changed or removed verified %s", path)
		}
	}
	// Offline (in a network namespace of its own, where the mirror is out of
	// reach), the cached verified indexes still resolve the newest kernels.
	cmd := exec.Command(bin, "kernels", "list")
	cmd.Env = append(os.Environ(), append(env, "BPFMATRIX_INDEX_TTL=0")...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNET}
	listAfter, err := cmd.Output()
	if err != nil || !sameKernels(string(listAfter), string(listBefore)) {
		t.Errorf("offline after the interrupt, kernels list says (%v):\n%s\nbefore it said:\n%s", err, listAfter, listBefore)
	}
	row("SIGINT while 5.10 runs, 6.1 queued (--jobs 1)", fmt.Sprintf("exit %d; 5.10 %s, 6.1 not started", code, k510.Status),
		fmt.Sprintf("%d of %d (5.10)", kept(k510), len(k510.Cells)), lastLine(lines, "bpfmatrix:")+"; cached indexes unchanged")

	p = start(t, bin, out, env, append(args, "--resume")...)
	line := p.waitLine(t, "[vm 5.10] ")
	code, lines = p.wait(t)
	rep = readReport(t, out)
	ok := 0
	for _, r := range rep.Runs {
		if r.Status == "ok" {
			ok++
		}
	}
	if !strings.Contains(line, "ended interrupted last time") || ok != 2 || code != 0 {
		t.Errorf("--resume: first line %q, %d of 2 runs ok, exit %d:\n%s", line, ok, code, strings.Join(lines, "\n"))
	}
	row("--resume after that interrupt", fmt.Sprintf("exit %d; %d of 2 runs ok", code, ok), "all, both kernels redone", line)
}

// waitForCell waits until the record stream at path holds a whole cell
// record (the kernel's facts come first).
func waitForCell(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(path)
		if i := bytes.Index(data, []byte(`{"cell":`)); i >= 0 && bytes.IndexByte(data[i:], '\n') >= 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no cell record reached %s within 2 minutes", path)
}

// sameKernels reports whether two `kernels list` outputs name the same
// packages, whatever their cached column says.
func sameKernels(a, b string) bool {
	pkgs := func(s string) string {
		var names []string
		for _, f := range strings.Fields(s) {
			if strings.HasPrefix(f, "linux-image-") {
				names = append(names, f)
			}
		}
		sort.Strings(names)
		return strings.Join(names, " ")
	}
	return pkgs(a) != "" && pkgs(a) == pkgs(b)
}

// TestFaultKernelPathWithDotsRemovesNothingOutsideOut is the reproduction
// that once deleted T/victim: cd T/a/b/c/d && bpfmatrix run --kernel
// ../../../../victim --out T/out, where victim is no kernel.
func TestFaultKernelPathWithDotsRemovesNothingOutsideOut(t *testing.T) {
	bin := needFaults(t)
	root := t.TempDir()
	victim := filepath.Join(root, "victim", "data.txt")
	cwd := filepath.Join(root, "a", "b", "c", "d")
	for _, dir := range []string{filepath.Dir(victim), cwd} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, bin, cwd, nil, "run", "--kernel", "../../../../victim", "--out", filepath.Join(root, "out"), "--module", repoRoot(t))
	code, lines := p.wait(t)
	if data, err := os.ReadFile(victim); err != nil || string(data) != "keep me" {
		t.Fatalf("%s after the run: %q, %v", victim, data, err)
	}
	if _, err := os.Stat(filepath.Join(root, "out")); code != 2 || len(lines) != 1 || err == nil {
		t.Errorf("exit %d with %d lines (out exists: %v); want exit 2, one line and nothing written:\n%s", code, len(lines), err == nil, strings.Join(lines, "\n"))
	}
	row("--kernel ../../../../victim (not a kernel)", fmt.Sprintf("exit %d before anything ran", code), "n/a; victim untouched", strings.Join(lines, " "))
}

// TestFaultDuplicateKernelIsRefused: --kernel 5.10,5.10 once made two VMs
// write one run directory.
func TestFaultDuplicateKernelIsRefused(t *testing.T) {
	bin := needFaults(t)
	out := filepath.Join(t.TempDir(), "out")
	_, stderr, code := run(t, bin, "run", "--kernel", "5.10,5.10", "--out", out)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if _, err := os.Stat(out); code != 2 || len(lines) != 1 || err == nil {
		t.Errorf("exit %d, %d lines, out created %v; want 2, one line, nothing written:\n%s", code, len(lines), err == nil, stderr)
	}
	row("--kernel 5.10,5.10", fmt.Sprintf("exit %d before anything ran", code), "n/a", lines[0])
}

// TestFaultTornLineKeepsTheOtherCells: a record torn in the middle of a
// real run's stream costs that record only, and the run says so.
func TestFaultTornLineKeepsTheOtherCells(t *testing.T) {
	needFaults(t)
	out, err := exec.Command("go", "test", "-count=1", "-run", "^(TestRunKeepsCellsAroundATornLine|TestReadStreamKeepsEveryRecord)$", "-v", "../../matrix", "../../reports").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	row("a torn line mid-stream (matrix and reports unit tests)", "run error naming the line", "every other cell", "records …: line N: …")
}

// TestFaultFullDiskAfterTheGuestIsUp fills the tmpfs that is --out once the
// 5.10 guest is up: qemu then drops serial writes. The run is an error
// whose cause, the full disk, is on its summary line, and --resume redoes it.
func TestFaultFullDiskAfterTheGuestIsUp(t *testing.T) {
	bin := needFaults(t)
	env := []string{"XDG_CACHE_HOME=" + scratchCache(t, bin)}
	out := t.TempDir()
	if err := syscall.Mount("tmpfs", out, "tmpfs", 0, "size=512m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(out, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", out, err)
		}
	})
	args := []string{"run", "--kernel", "5.10", "--label-filter", "tracing", "--out", out, "--module", repoRoot(t)}
	p := start(t, bin, out, env, args...)
	p.waitLine(t, "[vm 5.10] guest up")
	filler := filepath.Join(out, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := f.Write(make([]byte, 1<<20)); err != nil {
			break
		}
	}
	f.Close()
	code, lines := p.wait(t)
	summary := lastLine(lines, "[vm 5.10] error in")
	if code != 1 || !strings.Contains(summary, "no space left") {
		t.Errorf("exit %d, summary %q; want 1 and the full disk on the summary line:\n%s", code, summary, strings.Join(lines, "\n"))
	}
	row("disk full after the 5.10 guest is up", fmt.Sprintf("exit %d; run error", code), "what reached the disk", summary[strings.Index(summary, ";")+1:])

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	p = start(t, bin, out, env, append(args, "--resume")...)
	line := p.waitLine(t, "[vm 5.10] ")
	code, _ = p.wait(t)
	if !strings.Contains(line, "ended error last time") || code != 0 {
		t.Errorf("--resume: first line %q, exit %d; want the broken run redone", line, code)
	}
	row("--resume after the full disk", fmt.Sprintf("exit %d", code), "all", line)
}

// TestFaultTamperedSecurityIndexFailsClosed serves bookworm-security's
// InRelease with one byte changed: resolving 6.1, whose newest build lives
// there, fails naming the suite, instead of falling back to bookworm's older
// build; with BPFMATRIX_ALLOW_FALLBACK=1 it resolves the older one and says
// which suite served.
func TestFaultTamperedSecurityIndexFailsClosed(t *testing.T) {
	bin := needFaults(t)
	cache := scratchCache(t, bin)
	// A fresh index state for the security suite: the cached one must not
	// answer for the tampered mirror.
	sec, _ := filepath.Glob(filepath.Join(cache, "bpfmatrix", "indexes", "*debian-security*"))
	for _, dir := range sec {
		os.RemoveAll(dir)
	}
	real := securityMirror(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(real + strings.TrimPrefix(r.URL.Path, "/debian-security"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		data := body.Bytes()
		if strings.HasSuffix(r.URL.Path, "/InRelease") && resp.StatusCode == http.StatusOK {
			// Change one digit of the signed text: the signature no longer holds.
			if i := bytes.Index(data, []byte("Date: ")); i >= 0 {
				data[i+len("Date: ")+5] ^= 1
			}
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(data)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	env := []string{"XDG_CACHE_HOME=" + cache, "BPFMATRIX_DEBIAN_SECURITY_MIRROR=http://" + ln.Addr().String() + "/debian-security"}
	p := start(t, bin, t.TempDir(), env, "kernels", "fetch", "6.1")
	code, lines := p.wait(t)
	all := strings.Join(lines, "\n")
	if code == 0 || !strings.Contains(all, "bookworm-security") || !strings.Contains(strings.ToLower(all), "signature") {
		t.Errorf("exit %d; want a failure naming bookworm-security and its bad signature:\n%s", code, all)
	}
	row("tampered bookworm-security InRelease, kernels fetch 6.1", fmt.Sprintf("exit %d, nothing resolved", code), "n/a", lastLine(lines, "bpfmatrix:"))

	p = start(t, bin, t.TempDir(), append(env, "BPFMATRIX_ALLOW_FALLBACK=1"), "kernels", "fetch", "6.1")
	code, lines = p.wait(t)
	all = strings.Join(lines, "\n")
	if code != 0 || !strings.Contains(all, "bookworm-security") {
		t.Errorf("with the fallback: exit %d; want 0 and the skipped suite named:\n%s", code, all)
	}
	said := lines[len(lines)-1]
	for _, l := range lines {
		if strings.Contains(l, "bookworm-security") {
			said = l
			break
		}
	}
	row("the same with BPFMATRIX_ALLOW_FALLBACK=1", fmt.Sprintf("exit %d, an older 6.1 from bookworm", code), "n/a", said)
}

// securityMirror is the security mirror bpfmatrix would use.
func securityMirror(t *testing.T) string {
	t.Helper()
	_, security, err := vmimages.Mirrors()
	if err != nil || security == "" {
		t.Skipf("no debian-security mirror in the apt configuration (%v)", err)
	}
	return strings.TrimRight(security, "/")
}

// TestFaultTruncatedVmlinuxIsExtractedAgain: a cached vmlinux cut short
// once made every run fail while `kernels list` said cached.
func TestFaultTruncatedVmlinuxIsExtractedAgain(t *testing.T) {
	bin := needFaults(t)
	cache := scratchCache(t, bin)
	env := []string{"XDG_CACHE_HOME=" + cache}
	vmlinux, _ := filepath.Glob(filepath.Join(cache, "bpfmatrix", "kernels", "linux-image-5.10*", "vmlinux"))
	if len(vmlinux) != 1 {
		t.Fatalf("no cached 5.10 vmlinux: %v", vmlinux)
	}
	if err := os.Truncate(vmlinux[0], 1<<20); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "kernels", "list")
	cmd.Env = append(os.Environ(), env...)
	list, _ := cmd.Output()
	var line510 string
	for _, l := range strings.Split(string(list), "\n") {
		if strings.HasPrefix(l, "5.10") {
			line510 = l
		}
	}
	if !strings.Contains(line510, " no") {
		t.Errorf("kernels list calls the truncated 5.10 cached: %q", line510)
	}
	p := start(t, bin, t.TempDir(), env, "kernels", "fetch", "5.10")
	code, lines := p.wait(t)
	fi, err := os.Stat(vmlinux[0])
	if code != 0 || err != nil || fi.Size() <= 1<<20 {
		t.Errorf("fetch after truncation: exit %d, vmlinux %v %v:\n%s", code, fi, err, strings.Join(lines, "\n"))
	}
	cause := ""
	for _, l := range lines {
		if strings.Contains(l, "corrupt") {
			cause = l
		}
	}
	row("cached 5.10 vmlinux truncated to 1 MiB", "kernels list: not cached; fetch re-extracts, exit "+fmt.Sprint(code), "n/a", cause)
}

// TestFaultBadFlagsAreOneLine: every bad value is refused in one line with
// exit 2 before anything slow starts.
func TestFaultBadFlagsAreOneLine(t *testing.T) {
	bin := needFaults(t)
	text := filepath.Join(t.TempDir(), "bzImage")
	if err := os.WriteFile(text, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--jobs", "0"}, {"--jobs", "-3"}, {"--timeout", "0"}, {"--timeout", "-1s"}, {"--target", "vms"},
		{"--label-filter", "tracing && (kprobe"}, {"--seed", "0"}, {"--kernel", text},
	} {
		all := append([]string{"run", "--kernel", "5.10", "--check"}, args...)
		_, stderr, code := run(t, bin, all...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 2 || len(lines) != 1 {
			t.Errorf("run %s: exit %d with %d lines; want 2 and one line:\n%s", strings.Join(args, " "), code, len(lines), stderr)
		}
		row("run --check "+strings.Join(args, " "), fmt.Sprintf("exit %d", code), "n/a", lines[0])
	}
}

// TestFaultHostHonoursTimeout: the host target once ignored --timeout. The
// limit is a tenth of what the host suite takes (2.7 s on 2026-12-02: it
// got faster, and an earlier 2 s limit stopped holding it).
func TestFaultHostHonoursTimeout(t *testing.T) {
	bin := needFaults(t)
	out := t.TempDir()
	p := start(t, bin, out, nil, "run", "--kernel", "host", "--timeout", "300ms", "--no-cache", "--out", out, "--module", repoRoot(t))
	code, lines := p.wait(t)
	summary := summaryLine(lines, "host")
	rep := readReport(t, out)
	if code != 1 || len(rep.Runs) != 1 || rep.Runs[0].Status != "timeout" {
		t.Errorf("exit %d, summary %q; want exit 1 and a timeout run", code, summary)
	}
	row("host target with --timeout 300ms", fmt.Sprintf("exit %d; run %s", code, rep.Runs[0].Status), fmt.Sprintf("%d of %d", kept(rep.Runs[0]), len(rep.Runs[0].Cells)), summary)
}

// TestFaultInterruptDuringTheBuild sends SIGINT while the suite's compilers
// run (a cold build cache keeps them busy): the run exits 130 saying so,
// and leaves no compiler and no temporary build directory.
func TestFaultInterruptDuringTheBuild(t *testing.T) {
	bin := needFaults(t)
	root := t.TempDir()
	out := filepath.Join(root, "out")
	p := start(t, bin, root, []string{"GOCACHE=" + filepath.Join(root, "gocache")}, "run", "--kernel", "host", "--out", out, "--module", repoRoot(t))
	p.waitLine(t, "building the suite binary")
	for len(builders(t, out)) == 0 {
		time.Sleep(20 * time.Millisecond) // until the go command has started a compiler
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code, lines := p.wait(t)
	last := lines[len(lines)-1]
	if code != 130 || last != "bpfmatrix: interrupted by SIGINT" {
		t.Errorf("exit %d, last line %q; want 130 and 'bpfmatrix: interrupted by SIGINT'", code, last)
	}
	left := builders(t, out)
	if len(left) > 0 {
		t.Errorf("build processes left: %v", left)
	}
	tmp, _ := filepath.Glob(filepath.Join(out, "build", "gotmp-*"))
	if len(tmp) > 0 {
		t.Errorf("temporary build directories left: %v", tmp)
	}
	row("SIGINT during the suite build", fmt.Sprintf("exit %d; %d compilers, %d temp dirs left", code, len(left), len(tmp)), "n/a", last)
}

// builders lists the processes whose environment names a GOTMPDIR under
// out: the go command and the compilers of the run's build.
func builders(t *testing.T, out string) []string {
	t.Helper()
	environs, _ := filepath.Glob("/proc/[0-9]*/environ")
	var found []string
	for _, path := range environs {
		env, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(env, []byte("GOTMPDIR="+filepath.Join(out, "build"))) {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join(filepath.Dir(path), "comm"))
		found = append(found, strings.TrimSpace(string(comm))+" ("+filepath.Base(filepath.Dir(path))+")")
	}
	return found
}

// TestFaultSeedsOrderTheHostSuite: the host suite passes whatever the spec
// order, and --seed reaches Ginkgo, the summary line and the report.
func TestFaultSeedsOrderTheHostSuite(t *testing.T) {
	bin := needFaults(t)
	for _, seed := range []string{"1796173505", "1", "424242", "2718281828", "31337"} {
		out := t.TempDir()
		p := start(t, bin, out, nil, "run", "--kernel", "host", "--seed", seed, "--out", out, "--module", repoRoot(t))
		code, lines := p.wait(t)
		summary := summaryLine(lines, "host")
		if code != 0 || !strings.Contains(summary, ", seed "+seed+": ") || !strings.Contains(summary, " 0 unexpected") {
			t.Errorf("seed %s: exit %d, summary %q; want 0, the seed named and 0 unexpected", seed, code, summary)
		}
		log, err := os.ReadFile(filepath.Join(out, "runs", "host-host", "suite.log"))
		if err != nil || !strings.Contains(string(log), "Random Seed: "+seed) {
			t.Errorf("seed %s: Ginkgo did not run with it (%v)", seed, err)
		}
		rep := readReport(t, out)
		if len(rep.Runs) != 1 || fmt.Sprint(rep.Runs[0].Seed) != seed {
			t.Errorf("seed %s: report says %+v", seed, rep.Runs)
		}
		row("host suite, --seed "+seed, fmt.Sprintf("exit %d", code), fmt.Sprint(len(rep.Runs[0].Cells)), summary[strings.Index(summary, "]")+2:])
	}
}
