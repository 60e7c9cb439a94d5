// Package detect reads the facts of the running kernel and of the suite's
// process that the catalog predicts from: version, config, BTF, tracefs,
// the LSM list, lockdown, privileges, and what the kernel answers a few probe
// calls. It reads and probes, and predicts nothing: the catalog's rules stay
// pure functions of a catalog.Kernel, tested with literals. A fact that
// cannot be read stays empty, and the catalog then says unknown.
package detect

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
	"github.com/bpfmatrix/bpfmatrix/suites/internal/rawbpf"
)

// Kernel reads the running kernel's facts. Missing sources are not
// errors: a fact that cannot be read stays empty and says so in the report.
func Kernel() (*catalog.Kernel, error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return nil, fmt.Errorf("uname: %w", err)
	}
	// The suite is built for the architecture it runs on: in a VM, the
	// guest's.
	k := &catalog.Kernel{Release: unix.ByteSliceToString(uts.Release[:]), Arch: runtime.GOARCH}
	k.Version = kversion.Running(k.Release, unix.ByteSliceToString(uts.Version[:]))

	k.Config, k.ConfigSource = readConfig(k.Release)
	_, err := os.Stat("/sys/kernel/btf/vmlinux")
	k.BTF = err == nil
	k.BTFModules = btfModules()
	k.Trampolines = probeTrampolines()
	if b, err := os.ReadFile("/proc/sys/kernel/init_private"); err == nil {
		k.InitPrivate = strings.TrimSpace(string(b))
	}
	Mounted(k)
	k.Privileges = privileges()
	k.Token = token()
	return k, nil
}

func readConfig(release string) (map[string]string, string) {
	candidates := []string{os.Getenv(contract.ConfigEnv), "/proc/config.gz", "/boot/config-" + release}
	for _, path := range candidates {
		if path == "" {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		cfg, err := ParseConfig(f)
		f.Close()
		if err == nil {
			return cfg, path
		}
	}
	return nil, ""
}

// ParseConfig reads a kernel .config, plain or gzip-compressed.
func ParseConfig(r io.Reader) (map[string]string, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	cfg := map[string]string{}
	sc := bufio.NewScanner(br)
	for sc.Scan() {
		line := sc.Text()
		name, value, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(name, "CONFIG_") {
			continue
		}
		cfg[name] = strings.Trim(value, `"`)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(cfg) == 0 {
		return nil, fmt.Errorf("no CONFIG_ lines")
	}
	return cfg, nil
}

// Mounted reads into k the facts that come from the kernel filesystems, and
// so can change while the suite runs if something mounts or unmounts them:
// where tracefs is, whether ftrace's function list opens, the active LSM
// list, the lockdown mode. It is cheap: the suite reads them again at its end.
func Mounted(k *catalog.Kernel) {
	k.Tracefs = findTracefs()
	k.FunctionTracer = probeFunctionTracer(k.Tracefs)
	k.LSMs, k.Lockdown = nil, ""
	if b, err := os.ReadFile("/sys/kernel/security/lsm"); err == nil {
		k.LSMs = strings.Split(strings.TrimSpace(string(b)), ",")
	}
	if b, err := os.ReadFile("/sys/kernel/security/lockdown"); err == nil {
		k.Lockdown = bracketed(string(b))
	}
}

func findTracefs() string {
	for _, dir := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if _, err := os.Stat(dir + "/events"); err == nil {
			return dir
		}
	}
	return ""
}

// probeFunctionTracer opens ftrace's list of traceable functions, the way a
// trampoline's registration reaches ftrace, and returns the refusal if any.
func probeFunctionTracer(tracefs string) string {
	if tracefs == "" {
		return "no tracefs"
	}
	f, err := os.Open(tracefs + "/available_filter_functions")
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if _, err := f.Read(make([]byte, 1)); err != nil {
		return err.Error()
	}
	return ""
}

// probeTrampolines loads an fentry program without a target, which every
// kernel with trampolines refuses in the verifier with EINVAL and a log
// asking for the target. EPERM with an empty log instead is a check in
// front of the verifier. A tracing/raw_tp control load tells such a check
// apart from an environment that refuses every bpf(2) call (then it says
// nothing: the privilege requirements decide) or a kernel without the type.
// Measured on the project's 6.18 hosts: the control reaches the verifier,
// fentry gets EPERM (docs/facts.md#host-trampolines).
func probeTrampolines() string {
	if log, err := rawbpf.ProbeLoad(ebpf.Tracing, ebpf.AttachTraceRawTp); !errors.Is(err, unix.EINVAL) || !strings.Contains(log, "btf_id") {
		return ""
	}
	if log, err := rawbpf.ProbeLoad(ebpf.Tracing, ebpf.AttachTraceFEntry); errors.Is(err, unix.EPERM) && log == "" {
		return "an fentry program without a target gets EPERM with an empty verifier log, where a tp_btf one reaches the verifier"
	}
	return ""
}

// btfModules lists the modules of /sys/kernel/btf, nil where it cannot
// be read.
func btfModules() []string {
	entries, err := os.ReadDir("/sys/kernel/btf")
	if err != nil {
		return nil
	}
	mods := []string{}
	for _, e := range entries {
		if e.Name() != "vmlinux" {
			mods = append(mods, e.Name())
		}
	}
	return mods
}

// bracketed returns the selected word of a sysfs choice list
// ("none [integrity] confidentiality").
func bracketed(s string) string {
	if i := strings.Index(s, "["); i >= 0 {
		if j := strings.Index(s[i:], "]"); j > 0 {
			return s[i+1 : i+j]
		}
	}
	return strings.TrimSpace(s)
}

func procStatus() (seccomp, capEff string) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "", ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		key, value, _ := strings.Cut(line, ":")
		switch key {
		case "Seccomp":
			seccomp = strings.TrimSpace(value)
		case "CapEff":
			capEff = strings.TrimSpace(value)
		}
	}
	return seccomp, capEff
}

// privileges probes the process's privileges.
func privileges() catalog.Privileges {
	var p catalog.Privileges
	p.Seccomp, p.CapEff = procStatus()
	p.UserNS = userNS()
	_, _, p.BPFGate = unix.Syscall(unix.SYS_BPF, 0 /* BPF_MAP_CREATE */, 0, 8)
	_, _, p.PerfGate = unix.Syscall6(unix.SYS_PERF_EVENT_OPEN, 0, 0, ^uintptr(0), ^uintptr(0), 0, 0)
	if b, err := os.ReadFile("/proc/sys/kernel/unprivileged_bpf_disabled"); err == nil {
		p.UnprivilegedBPF = strings.TrimSpace(string(b))
	}
	return p
}

// userNS returns the uid_map unless it is the initial namespace's identity map.
func userNS() string {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return ""
	}
	m := strings.Join(strings.Fields(string(b)), " ")
	if m == "0 0 4294967295" {
		return ""
	}
	return m
}
