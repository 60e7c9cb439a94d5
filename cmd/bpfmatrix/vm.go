package main

import (
	"cmp"
	"flag"
	"path/filepath"
	"strings"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/arch"
	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/matrix/vm"
	"github.com/bpfmatrix/bpfmatrix/vmimages"
)

// vmFlags are the run command's VM options, shared by every VM target.
type vmFlags struct {
	fs        *flag.FlagSet
	crashTest *bool
	memory    *int
	cpus      *int
	append    *string
	flavor    *string
	arches    *string
	noSnap    *bool
	cfgs      map[string]*vm.Config
}

// addVMFlags registers the VM options on the run command's flags.
func addVMFlags(fs *flag.FlagSet) *vmFlags {
	f := &vmFlags{
		fs:        fs,
		crashTest: fs.Bool("crash-test", false, "also run the specs labelled crash, which crash each VM's kernel on purpose (VM targets only)"),
		memory:    fs.Int("memory", 1024, "memory of each VM, in MiB"),
		cpus:      fs.Int("cpus", 2, "CPUs of each VM (2 at least: per-CPU map specs need them)"),
		append:    fs.String("append", "", "extra kernel command line for each VM, e.g. lsm=lockdown,capability,bpf"),
		flavor:    fs.String("flavor", "cloud", "Debian kernel flavor: cloud (small, boots fast) or generic"),
		arches:    fs.String("arch", arch.Running().Name, "architectures of the VM kernels, comma-separated: "+strings.Join(arch.Names(), ", ")+" (each a lane of its own columns; another than the host's runs under TCG)"),
		noSnap:    fs.Bool("no-snapshot", false, "boot every VM instead of restoring the kernel's booted guest from its snapshot (kept in the cache, saved by the first run)"),
		cfgs:      map[string]*vm.Config{},
	}
	return f
}

// archList is the --arch lanes, checked.
func (f *vmFlags) archList() ([]arch.Arch, error) {
	var lanes []arch.Arch
	for _, name := range splitList(*f.arches) {
		a, err := arch.Lookup(name)
		if err != nil {
			return nil, badInput("--arch: %v", err)
		}
		lanes = append(lanes, a)
	}
	if len(lanes) == 0 {
		return nil, badInput("--arch %q: want one or more of %s", *f.arches, strings.Join(arch.Names(), ", "))
	}
	return lanes, nil
}

// labelFilter is the suite's label filter: the user's, minus the crash
// specs unless --crash-test asked for them, so by default they are neither
// planned nor run anywhere.
func (f *vmFlags) labelFilter(user string) string {
	if f != nil && *f.crashTest {
		return user
	}
	if user == "" {
		return "!" + contract.CrashLabel
	}
	return "(" + user + ") && !" + contract.CrashLabel
}

// config returns the VM configuration of this run's lane a, made once.
func (f *vmFlags) config(timeout time.Duration, a arch.Arch) *vm.Config {
	if cfg := f.cfgs[a.Name]; cfg != nil {
		return cfg
	}
	cfg := &vm.Config{
		Arch:      a,
		MemoryMiB: *f.memory,
		CPUs:      *f.cpus,
		Timeout:   timeout,
		Append:    *f.append,
		Fetch:     vm.Fetch(*f.flavor, a),
	}
	if !*f.noSnap {
		cfg.Snapshots = filepath.Join(vmimages.DefaultCacheDir(), "snapshots")
	}
	if m := f.fs.Lookup("module"); m != nil {
		cfg.ModuleDir = m.Value.String()
	}
	if *f.crashTest {
		cfg.Env = append(cfg.Env, contract.AllowCrashEnv+"=1")
	}
	f.cfgs[a.Name] = cfg
	return cfg
}

// targets returns a target per --arch lane that boots kernel name under
// qemu with these options.
func (f *vmFlags) targets(name string, timeout time.Duration) ([]matrix.Target, error) {
	all, err := f.archList()
	if err != nil {
		return nil, err
	}
	// A catalog kernel runs in every lane; a kernel file is one
	// architecture's, and runs in that lane alone.
	var lanes []arch.Arch
	var refused error
	for _, a := range all {
		if err := vmimages.CheckKernel(name, vmimages.Options{Arch: a.Name}); err != nil {
			refused = cmp.Or(refused, err)
			continue
		}
		lanes = append(lanes, a)
	}
	if len(lanes) == 0 {
		return nil, badInput("%s", refused)
	}
	if *f.flavor != "cloud" && *f.flavor != "generic" {
		return nil, badInput("--flavor %q: want cloud or generic", *f.flavor)
	}
	if *f.cpus < 1 || *f.memory < 256 {
		return nil, badInput("--cpus %d --memory %d: want at least 1 CPU and 256 MiB", *f.cpus, *f.memory)
	}
	var targets []matrix.Target
	for _, a := range lanes {
		targets = append(targets, vm.New(name, f.config(timeout, a)))
	}
	return targets, nil
}
