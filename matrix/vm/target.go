// Package vm is the matrix target that boots one Debian kernel under qemu
// with an initramfs of the guest's /init, the suite binary, the modules the
// features need and the kernel's config, and turns what the guest streams
// and prints into a matrix.Outcome. A panic, an oops, a hang or an OOM ends
// that kernel's run, never the matrix.
package vm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/arch"
	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/matrix/guest"
	"github.com/bpfmatrix/bpfmatrix/matrix/parity"
	"github.com/bpfmatrix/bpfmatrix/vmimages"
	"github.com/bpfmatrix/bpfmatrix/vmimages/initramfs"
)

// Modules the features need, loaded in every guest: tc (cls_bpf, act_bpf,
// and sch_ingress, which also provides clsact) and veth pairs for XDP and tc
// specs. All are modules on every Debian kernel (docs/facts.md#debian-configs).
var Modules = []string{"cls_bpf", "act_bpf", "sch_ingress", "veth"}

// OptionalModules are loaded where the kernel has them: netkit (6.7+) and
// dummy devices for networking specs, and nf_conntrack, whose BTF holds the
// conntrack kfuncs (kfunc/*/bpf_*_ct_lookup; docs/kfuncs.md).
var OptionalModules = []string{"netkit", "dummy", "nf_conntrack"}

// Fetcher returns a kernel ready to boot, fetching it if needed; log gets
// progress lines (bytes fetched).
type Fetcher func(ctx context.Context, name string, log io.Writer) (*vmimages.Kernel, error)

// Fetch is the Fetcher of Debian kernels of one flavor ("cloud" or
// "generic") and architecture, verified and cached by vmimages.
func Fetch(flavor string, a arch.Arch) Fetcher {
	return func(ctx context.Context, name string, log io.Writer) (*vmimages.Kernel, error) {
		return vmimages.Fetch(ctx, name, vmimages.Options{Flavor: flavor, Arch: a.Name, Log: log})
	}
}

// Config is shared by every VM target of a matrix run of one
// architecture.
type Config struct {
	// Arch is the guests' architecture; the zero value is the host's.
	Arch arch.Arch
	// Fetch resolves a kernel name to a bootable kernel.
	Fetch Fetcher
	// Init is the guest's /init binary. Empty means the first Run builds it
	// with BuildInit from ModuleDir into the suite binary's directory.
	Init      string
	ModuleDir string
	// MemoryMiB and CPUs size each guest (default 1024 MiB, 2 CPUs: one
	// CPU breaks per-CPU map specs).
	MemoryMiB, CPUs int
	// Timeout bounds each kernel's boot and suite run; 0 means none.
	Timeout time.Duration
	// Idle ends a run whose guest wrote nothing to the console or the
	// record stream for this long: a hung kernel. 0 means DefaultIdle.
	Idle time.Duration
	// Env is extra environment for the suite in the guest, such as
	// BPFMATRIX_ALLOW_CRASH=1 for the crash test.
	Env []string
	// Append is extra kernel command line, such as "lsm=...,bpf".
	Append string
	// Qemu overrides the emulator binary.
	Qemu string
	// Gzip compresses the initramfs (smaller file, slower boot under TCG).
	Gzip bool
	// Snapshots is where booted guests are saved for runs to restore
	// (snapshot.go); empty means every run boots.
	Snapshots string

	initOnce sync.Once
	initErr  error

	fetchMu sync.Mutex
	fetched map[string]*fetched
}

// fetched is one kernel name's Fetch in a Config: its own lock, so that
// two kernels still download at once.
type fetched struct {
	mu sync.Mutex
	k  *vmimages.Kernel
}

// kernel is Fetch, once per kernel name and Config: a target fetches its
// kernel for its run-cache inputs and again for its run, and a fetch
// re-hashes the cached kernel's vmlinux, image and config (6.1's: 68 MB,
// ~60 ms). What a fetch verified stays verified for the rest of the
// process; a failed fetch is tried again.
func (c *Config) kernel(ctx context.Context, name string, log io.Writer) (*vmimages.Kernel, error) {
	c.fetchMu.Lock()
	if c.fetched == nil {
		c.fetched = map[string]*fetched{}
	}
	f := c.fetched[name]
	if f == nil {
		f = &fetched{}
		c.fetched[name] = f
	}
	c.fetchMu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.k == nil {
		k, err := c.Fetch(ctx, name, log)
		if err != nil {
			return nil, err
		}
		f.k = k
	}
	return f.k, nil
}

// arch is the guests' architecture.
func (c *Config) arch() arch.Arch { return c.Arch.OrRunning() }

// guestInit returns the /init binary, building it once per Config.
func (c *Config) guestInit(ctx context.Context, dir string) (string, error) {
	c.initOnce.Do(func() {
		if c.Init == "" {
			c.Init, c.initErr = BuildInit(ctx, c.ModuleDir, dir, c.arch())
		}
	})
	return c.Init, c.initErr
}

// Target boots one kernel. Name is "vm", Kernel the catalog name.
type Target struct {
	name string
	cfg  *Config
}

// New returns the target that boots kernel name with cfg.
func New(name string, cfg *Config) *Target { return &Target{name: name, cfg: cfg} }

func (t *Target) Name() string   { return "vm" }
func (t *Target) Kernel() string { return t.name }

// Arch is the guest's architecture: its runs are columns of their own.
func (t *Target) Arch() string { return t.cfg.arch().Name }

// Prepare builds what every run of the target's guest architecture needs,
// the guest's /init and the suite binary, each once per lane and
// concurrently (matrix.Preparer).
func (t *Target) Prepare(ctx context.Context, s *matrix.Suite) {
	var wg sync.WaitGroup
	wg.Go(func() { t.cfg.guestInit(ctx, filepath.Dir(s.Binary)) })
	wg.Go(func() { s.BinaryFor(ctx, t.cfg.arch().Name) })
	wg.Wait()
}

// Run fetches the kernel, assembles the initramfs and boots it; the guest's
// second serial port writes straight into RecordsFile(dir), so every cell
// the suite finishes is on the host's disk even if the kernel dies next.
func (t *Target) Run(ctx context.Context, s *matrix.Suite, dir string, p *matrix.Progress) matrix.Outcome {
	init, err := t.cfg.guestInit(ctx, filepath.Dir(s.Binary))
	if err != nil {
		return matrix.Outcome{Status: matrix.RunError, Detail: err.Error()}
	}
	p.Printf("fetching kernel %s", t.name)
	k, err := t.cfg.kernel(ctx, t.name, p)
	if err != nil {
		return matrix.Outcome{Status: matrix.RunError, Detail: fmt.Sprintf("fetch kernel %s: %v", t.name, err)}
	}
	plan, probeErr, noProbe := t.cfg.runPlan(s)
	suite, err := s.BinaryFor(ctx, t.cfg.arch().Name)
	if err != nil {
		return matrix.Outcome{Status: matrix.RunError, Detail: err.Error(), Package: k.Package}
	}
	out, _, _ := t.cfg.launch(ctx, init, k, suite, s, plan, dir, p)
	out.Package, out.BTF = k.Package, k.Vmlinux
	if probeErr != "" {
		out.BpftoolErr = probeErr
	}
	out.NoBpftool = noProbe
	return out
}

// guestGOGC lets a guest's suite grow its heap to 5 times what is live
// before it collects, not 2 (Go's GOGC=100): under TCG the collector's
// marking was ~10 % of a suite's CPU. 7.2 suites, three runs each,
// alternated: amd64 7.39–7.54 s → 6.55–7.04 s, arm64 9.28–10.77 s →
// 9.12–9.59 s; GOGC=200 gave half of that, 800 and off no more. The heap
// stays small (the suite on the host peaked at 36 MB resident, 28 MB
// with GOGC=100). A Config.Env entry overrides it.
const guestGOGC = "GOGC=400"

// runPlan is the guest's plan for a run of s: the suite's arguments and
// environment, and bpftool's feature probe before it. Without a bpftool on
// the host there is no probe, and probeErr says why; with no cell the probe
// answers for there is none either, and noProbe says so.
func (c *Config) runPlan(s *matrix.Suite) (plan guest.Plan, probeErr, noProbe string) {
	// Ginkgo's report only when a spec failed: /init sends it only then.
	env := append([]string{contract.FailureReportEnv + "=" + guest.GinkgoReport, guestGOGC}, c.Env...)
	plan = guest.Plan{Args: s.Args(""), Env: append(env, s.Env(guest.ObjectsDir)...)}
	if c.arch().VirtioPorts {
		plan.Channels = guest.VirtioChannels
	}
	if c.arch().Name != arch.Running().Name {
		// The host's bpftool, with its libraries, is the host's
		// architecture's.
		return plan, "", fmt.Sprintf("no bpftool runs in %s guests: the host's is %s", c.arch().Name, arch.Running().Name)
	}
	if !slices.ContainsFunc(s.Features, parity.Asks) {
		return plan, "", "the run has no cell bpftool's probe answers for"
	}
	bin, err := parity.Find()
	if err != nil {
		return plan, err.Error(), ""
	}
	plan.Bpftool = append([]string{bin}, parity.Args...)
	return plan, "", ""
}

// RunFiles are the serial port files of a run in dir: console, records,
// Ginkgo report, bpftool's answer.
func RunFiles(dir string) []string {
	return []string{filepath.Join(dir, "console.log"), matrix.RecordsFile(dir), matrix.GinkgoReportFile(dir), matrix.BpftoolFile(dir)}
}

// launch runs s on kernel k in dir: restored from the kernel's snapshot
// when c keeps snapshots, else (or when saving one failed) booted with an
// initramfs of everything. prep is the host's part before qemu starts,
// took qemu's run.
func (c *Config) launch(ctx context.Context, init string, k *vmimages.Kernel, binary string, s *matrix.Suite, plan guest.Plan, dir string, p *matrix.Progress) (out matrix.Outcome, prep, took time.Duration) {
	if c.Snapshots != "" {
		start := time.Now()
		snap, created, err := c.snapshot(ctx, init, k, plan, p)
		saving := time.Since(start)
		if err == nil {
			out, prep, took = c.restore(ctx, snap, k, binary, s, plan, dir, p)
			if created {
				out.Setup = saving
			}
			// A guest that never said it has its payload did not resume
			// (qemu refused the state, or it hung): the run is the
			// snapshot's failure, not the kernel's.
			if out.Status == matrix.RunOK || ctx.Err() != nil || consoleHas(RunFiles(dir)[0], guest.RestoredMarker) {
				return out, prep, took
			}
			err = fmt.Errorf("the snapshot %s did not resume (%s: %s); removed", snap.dir, out.Status, strings.ReplaceAll(strings.TrimSpace(out.Detail), "\n", "; "))
			_ = os.RemoveAll(snap.dir)
		}
		if ctx.Err() != nil {
			return matrix.Outcome{Status: matrix.RunError, Detail: err.Error()}, 0, 0
		}
		p.Printf("%v; booting without one", err)
	}
	start := time.Now()
	initrd := filepath.Join(dir, "initrd.cpio")
	mods, err := WriteInitramfs(initrd, init, binary, s, k, &plan, c.Gzip)
	if err != nil {
		return matrix.Outcome{Status: matrix.RunError, Detail: err.Error()}, time.Since(start), 0
	}
	defer removeQuietly(initrd) // as big as the suite binary; rebuilt each run
	prep = time.Since(start)
	p.Printf("booting %s (%s, modules: %s)", k.Release, AccelFor(c.arch()), strings.Join(mods, " "))
	out, took = c.boot(ctx, c.machine(k.Vmlinux, initrd, RunFiles(dir)), dir, p)
	return out, prep, took
}

// boot runs the machine m of a run in dir and judges the run by the
// console; took is qemu's run.
func (c *Config) boot(ctx context.Context, m *Machine, dir string, p *matrix.Progress) (out matrix.Outcome, took time.Duration) {
	if err := os.WriteFile(filepath.Join(dir, "qemu.cmdline"), []byte(shellQuote(append([]string{cmp.Or(m.Qemu, m.arch().Qemu)}, m.Args()...))+"\n"), 0o644); err != nil {
		return matrix.Outcome{Status: matrix.RunError, Detail: err.Error()}, 0
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	idle := cmp.Or(c.Idle, DefaultIdle)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopIdle := watchIdle(m.Serial[:2], idle, cancel)
	stopWatch := watchConsole(m.Serial[0], p)
	stop := p.Watch(matrix.RecordsFile(dir))
	took, runErr := m.Run(ctx)
	stop()
	stopWatch()
	stopIdle()
	return judge(m.Serial[0], took, runErr), took
}

// machine is the qemu boot of the kernel file vmlinux with initrd and the
// serial files.
func (c *Config) machine(vmlinux, initrd string, serial []string) *Machine {
	return &Machine{Arch: c.arch(), Qemu: c.Qemu, Vmlinux: vmlinux, Initrd: initrd, Append: cmdline(c.Append),
		MemoryMiB: c.MemoryMiB, CPUs: c.CPUs, Serial: serial}
}

// judge turns a finished boot into an Outcome.
func judge(consolePath string, took time.Duration, runErr error) matrix.Outcome {
	c, err := readConsole(consolePath)
	if err != nil {
		if runErr != nil {
			return matrix.Outcome{Status: matrix.RunError, Detail: runErr.Error()}
		}
		return matrix.Outcome{Status: matrix.RunError, Detail: fmt.Sprintf("read console: %v", err)}
	}
	const tailLines = 30
	switch {
	case errors.Is(runErr, ErrNoQemu):
		return matrix.Outcome{Status: matrix.RunError, Detail: runErr.Error()}
	case c.crash != "":
		return matrix.Outcome{Status: matrix.RunPanic, Detail: fmt.Sprintf("the kernel died after %s; console from the first sign:\n%s", took.Round(time.Millisecond), c.tail(tailLines))}
	case runErr != nil && (errors.Is(runErr, context.DeadlineExceeded) || errors.Is(runErr, context.Canceled) || errors.Is(runErr, errIdle)):
		return matrix.Outcome{Status: matrix.RunTimeout, Detail: fmt.Sprintf("no exit after %s (%v)\n%s", took.Round(time.Millisecond), runErr, c.tail(tailLines))}
	case runErr != nil:
		return matrix.Outcome{Status: matrix.RunError, Detail: runErr.Error()}
	case !c.exited:
		// qemu exited, so the guest reset or powered off, without the
		// marker and without a known crash line: a triple fault, or /init
		// itself died.
		return matrix.Outcome{Status: matrix.RunPanic, Detail: fmt.Sprintf("the guest ended after %s without %s\n%s", took.Round(time.Millisecond), guest.ExitMarker, c.tail(tailLines))}
	case len(c.initErr) > 0 && c.code == 125:
		return matrix.Outcome{Status: matrix.RunError, Detail: strings.Join(c.initErr, "\n")}
	}
	out := matrix.SuiteExit(c.code, "console:\n"+c.tail(tailLines))
	out.Sent = c.records
	out.BpftoolErr = c.bpftoolErr
	return out
}

// DefaultIdle is how long a guest may stay silent before it counts as hung.
// Every spec writes a cell within seconds even under TCG.
const DefaultIdle = 3 * time.Minute

// errIdle is the cause of a run stopped by watchIdle.
var errIdle = errors.New("the guest wrote nothing to its console or record stream")

// watchIdle cancels the run when none of files grew for idle.
func watchIdle(files []string, idle time.Duration, cancel context.CancelCauseFunc) (stop func()) {
	var last int64 = -1
	since := time.Now()
	return matrix.Poll(time.Second, func() bool {
		var size int64
		for _, f := range files {
			if st, err := os.Stat(f); err == nil {
				size += st.Size()
			}
		}
		if size != last {
			last, since = size, time.Now()
			return false
		}
		if time.Since(since) < idle {
			return false
		}
		cancel(fmt.Errorf("%w for %s", errIdle, idle))
		return true
	})
}

// cmdline is the guest's extra command line: the guest flag, then the user's.
func cmdline(extra string) string {
	return strings.TrimSpace(contract.GuestCmdlineFlag + " " + extra)
}

// watchConsole prints a progress line when the suite starts.
func watchConsole(path string, p *matrix.Progress) (stop func()) {
	return matrix.Poll(250*time.Millisecond, func() bool {
		data, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		i := bytes.Index(data, []byte(guest.ReadyMarker))
		if i < 0 {
			return false
		}
		line, _, _ := bytes.Cut(data[i:], []byte("\n"))
		p.Printf("guest up, suite running (%s)", strings.TrimSpace(strings.TrimPrefix(string(line), guest.ReadyMarker)))
		return true
	})
}

// WriteInitramfs assembles the guest's initramfs at path: /init, the suite
// binary of the guest's architecture (absent for a bare boot: suite nil),
// the users' staged objects,
// the modules resolved from the kernel's own tree, the kernel's config as
// /boot/config-<release>, the host's bpftool of plan.Bpftool with the
// libraries it loads (and its /bin/sh, for the objects' trigger commands),
// and the plan. It returns the modules in load order.
func WriteInitramfs(path, init, binary string, suite *matrix.Suite, k *vmimages.Kernel, plan *guest.Plan, gz bool) ([]string, error) {
	a := initramfs.New()
	if err := a.AddFile("init", init); err != nil {
		return nil, err
	}
	if suite == nil {
		plan.NoSuite = true
	} else {
		if err := addKernelWork(a, k, plan, nil); err != nil {
			return nil, err
		}
		if err := addSuite(a, binary, suite, k, plan); err != nil {
			return nil, err
		}
	}
	if err := addPlan(a, plan); err != nil {
		return nil, err
	}
	if err := a.WriteFile(path, gz); err != nil {
		return nil, err
	}
	return plan.Modules, nil
}

// addKernelWork adds what the guest does before the suite, the same for
// every run on kernel k: the modules (first, where the kernel has them,
// then resolveModules'), resolved from the kernel's own tree and added to
// plan's, and bpftool of plan.Bpftool with its libraries.
func addKernelWork(a *initramfs.Archive, k *vmimages.Kernel, plan *guest.Plan, first []string) error {
	if len(plan.Bpftool) > 0 {
		if err := addDynamic(a, plan.Bpftool[0]); err != nil {
			return err
		}
	}
	if k.ModulesDir == "" {
		return nil
	}
	lane, err := arch.Lookup(k.Arch)
	if err != nil {
		return fmt.Errorf("kernel %s: %w", k.Release, err)
	}
	mods, err := resolveModules(k.ModulesDir, append(slices.Clone(lane.GuestModules), first...))
	if err != nil {
		return fmt.Errorf("kernel %s: %w", k.Release, err)
	}
	for _, m := range mods {
		if err := a.AddData(filepath.Join(guest.ModuleDir, m.Name+".ko"), 0o644, m.Data); err != nil {
			return err
		}
		plan.Modules = append(plan.Modules, m.Name)
	}
	return nil
}

// addSuite adds what is a run's own: the suite binary, the users' objects
// and the kernel's config, which the suite's environment in plan names.
func addSuite(a *initramfs.Archive, binary string, suite *matrix.Suite, k *vmimages.Kernel, plan *guest.Plan) error {
	if err := a.AddFile(guest.SuitePath, binary); err != nil {
		return err
	}
	if err := addObjects(a, suite, plan); err != nil {
		return err
	}
	if k.Config != "" {
		conf := "/boot/config-" + k.Release
		if err := a.AddFile(conf, k.Config); err != nil {
			return err
		}
		plan.Env = append(plan.Env, contract.ConfigEnv+"="+conf)
	}
	return nil
}

// addPlan adds the kernel filesystems' mount points and the plan.
func addPlan(a *initramfs.Archive, plan *guest.Plan) error {
	for _, d := range []string{"proc", "sys", "dev", "tmp"} {
		if err := a.AddDir(d); err != nil {
			return err
		}
	}
	data, err := json.Marshal(plan)
	if err != nil {
		return err
	}
	return a.AddData(guest.PlanPath, 0o644, data)
}

// addObjects adds the suite's staged objects at guest.ObjectsDir, and the
// shell their trigger commands run with.
func addObjects(a *initramfs.Archive, s *matrix.Suite, plan *guest.Plan) error {
	if s.Objects == "" {
		return nil
	}
	for _, f := range s.ObjectFiles {
		if err := a.AddFile(filepath.Join(guest.ObjectsDir, f), filepath.Join(s.Objects, f)); err != nil {
			return err
		}
	}
	if s.ObjectTriggers {
		return addDynamic(a, guest.ShellPath)
	}
	return nil
}

// addDynamic adds the host binary bin at its own path with the shared
// libraries and the dynamic loader it needs, each at the path ldd resolves
// on the host. The guest has no other userland and no ld.so.cache; the
// loader finds the libraries in its default directories, where they are.
// The guest must be of the host's architecture.
func addDynamic(a *initramfs.Archive, bin string) error {
	out, err := exec.Command("ldd", bin).Output()
	libs, perr := parseLdd(string(out))
	if perr != nil {
		return fmt.Errorf("pack %s into the initramfs: ldd %s: %w (%v)", bin, bin, perr, err)
	}
	for _, f := range append([]string{bin}, libs...) {
		if a.Has(f) {
			continue // a library another binary loads too
		}
		if err := a.AddFile(f, f); err != nil {
			return err
		}
	}
	return nil
}

// parseLdd returns the files of ldd's output: each library's resolved path
// and the loader's. A static binary has none ("not a dynamic executable",
// which ldd says with exit status 1); a library ldd cannot find is an error.
func parseLdd(out string) ([]string, error) {
	files := []string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case strings.Contains(line, "not a dynamic executable"):
			return nil, nil
		case len(f) >= 3 && f[1] == "=>" && f[2] == "not":
			return nil, fmt.Errorf("%s not found", f[0])
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			files = append(files, f[2])
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			files = append(files, f[0]) // the loader
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no library in its output %q", out)
	}
	return files, nil
}

// resolveModules resolves first (the architecture's guest modules, loaded
// before anything else, where the kernel has them), Modules (all required)
// and OptionalModules (those the kernel has), with their dependencies.
func resolveModules(dir string, first []string) ([]initramfs.Module, error) {
	idx, err := initramfs.OpenModules(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, name := range first {
		if idx.Has(name) {
			names = append(names, name)
		}
	}
	names = append(names, Modules...)
	for _, name := range OptionalModules {
		if idx.Has(name) {
			names = append(names, name)
		}
	}
	return idx.Resolve(names...)
}

// BuildInit compiles the guest's /init (static, CGO_ENABLED=0) for a from
// the bpfmatrix module in moduleDir ("" = the current directory) into dir.
func BuildInit(ctx context.Context, moduleDir, dir string, a arch.Arch) (string, error) {
	bin := filepath.Join(dir, "guest-init-"+a.Name)
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + a.Name}
	if err := matrix.GoBuild(ctx, moduleDir, dir, env, "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "github.com/bpfmatrix/bpfmatrix/matrix/guest/init"); err != nil {
		return "", fmt.Errorf("build guest init: %w", err)
	}
	return bin, nil
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " '\"=,") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
