// Package tools is bpfmatrix's one table of what it needs from the system
// (each program or file, the Debian package that ships it, how to tell it
// is installed) and its one installer: Missing only looks; Ensure installs
// what is missing, as root on Debian or Ubuntu, with a single apt-get
// command, and anywhere else says in one line what to install.
//
// Everything that needs a tool goes through here: scripts/deps.sh for the
// make targets (through ./internal/tools/cmd/deps), the kernel fetcher for
// gpgv and the decompressors, the container target for podman and runc.
package tools

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/bpfmatrix/bpfmatrix/internal/arch"
	"github.com/bpfmatrix/bpfmatrix/internal/flock"
)

// DebianArchiveKeyring is the keyring apt trusts Debian's archive with,
// shipped by package debian-archive-keyring.
const DebianArchiveKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

// row is one Debian package of the table.
type row struct {
	pkg string
	// The package counts as installed when one of commands is in PATH (or
	// in /usr/sbin or /sbin, which a non-login root shell may lack), or one
	// of files exists.
	commands []string
	files    []string
	// manual says how to install a package apt cannot provide: Debian's
	// Go is older than go.mod's.
	manual string
}

// table lists every package bpfmatrix or its make targets need.
var table = []row{
	{pkg: "go", commands: []string{"go"}, manual: "install Go 1.24 or newer from https://go.dev/dl/ (it fetches the toolchain go.mod names)"},
	{pkg: "clang", commands: []string{"clang"}},
	{pkg: "llvm", commands: []string{"llvm-strip"}},
	{pkg: "libbpf-dev", files: []string{"/usr/include/bpf/bpf_helpers.h"}},
	{pkg: "systemtap-sdt-dev", files: []string{"/usr/include/x86_64-linux-gnu/sys/sdt.h", "/usr/include/sys/sdt.h"}},
	{pkg: "libc6-dev", files: []string{"/usr/lib/x86_64-linux-gnu/libc.a"}},
	// arm64's cross compiler and static C library, for the uprobe/USDT
	// target; the amd64 host's own gcc builds the amd64 one.
	{pkg: arch.ARM64.CCPackage, commands: []string{arch.ARM64.CC}},
	{pkg: "qemu-system-x86", commands: []string{"qemu-system-x86_64"}},
	{pkg: "qemu-system-arm", commands: []string{"qemu-system-aarch64"}},
	{pkg: "xz-utils", commands: []string{"xz"}},
	{pkg: "zstd", commands: []string{"zstd"}},
	{pkg: "lz4", commands: []string{"lz4"}},
	// Only a custom kernel compressed with LZO needs it: in no group.
	{pkg: "lzop", commands: []string{"lzop"}},
	{pkg: "gpgv", commands: []string{"gpgv"}},
	{pkg: "debian-archive-keyring", files: []string{DebianArchiveKeyring}},
	{pkg: "bpftool", commands: []string{"bpftool"}},
	{pkg: "chromium", commands: []string{"chromium"}},
	{pkg: "podman", commands: []string{"podman"}},
	{pkg: "runc", commands: []string{"runc"}},
	{pkg: "gnupg", commands: []string{"gpg"}},
}

// Groups name what a make target or a part of bpfmatrix needs.
const (
	Build      = "build"      // go, to build anything
	Generate   = "generate"   // the eBPF objects and the static uprobe target
	VM         = "vm"         // qemu, and what fetching Debian kernels takes
	VMArm64    = "vm-arm64"   // the same for the arm64 lane
	Parity     = "parity"     // the parity test against bpftool feature probe
	Browser    = "browser"    // the HTML report's browser test
	Containers = "containers" // the container target
	Signing    = "signing"    // gpg: the fetcher's tests sign a local mirror
)

// fetchKernels is what fetching and verifying Debian kernels takes, for
// either lane.
var fetchKernels = []string{"xz-utils", "zstd", "lz4", "gpgv", "debian-archive-keyring"}

var groups = map[string][]string{
	Build:      {"go"},
	Generate:   {"clang", "llvm", "libbpf-dev", "systemtap-sdt-dev", "libc6-dev", arch.ARM64.CCPackage},
	VM:         append([]string{arch.AMD64.QemuPackage}, fetchKernels...),
	VMArm64:    append([]string{arch.ARM64.QemuPackage}, fetchKernels...),
	Parity:     {"bpftool"},
	Browser:    {"chromium"},
	Containers: {"podman", "runc"},
	Signing:    {"gnupg"},
}

// Groups lists the group names, sorted.
func Groups() []string {
	var names []string
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	return names
}

// UnknownError is a name that is neither a group nor a package of the
// table.
type UnknownError struct{ Name string }

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown tool group or package %q: known groups are %s", e.Name, strings.Join(Groups(), ", "))
}

// MissingError names the packages that are not installed and could not be
// installed here, and says in one line what to do.
type MissingError struct {
	Packages []string
	msg      string
}

func (e *MissingError) Error() string { return e.msg }

// lookup returns the row of package pkg.
func lookup(pkg string) (row, bool) {
	i := slices.IndexFunc(table, func(r row) bool { return r.pkg == pkg })
	if i < 0 {
		return row{}, false
	}
	return table[i], true
}

// rows returns the rows that names stand for, each once, in table order.
func rows(names []string) ([]row, error) {
	want := map[string]bool{}
	for _, n := range names {
		if pkgs, ok := groups[n]; ok {
			for _, p := range pkgs {
				want[p] = true
			}
			continue
		}
		if _, ok := lookup(n); !ok {
			return nil, &UnknownError{Name: n}
		}
		want[n] = true
	}
	var out []row
	for _, r := range table {
		if want[r.pkg] {
			out = append(out, r)
		}
	}
	return out, nil
}

// sbin are where root's programs live when PATH lacks them.
var sbin = []string{"/usr/sbin", "/sbin"}

// lookPath finds command in PATH or sbin.
func lookPath(command string) (string, error) {
	p, err := exec.LookPath(command)
	if err == nil {
		return p, nil
	}
	for _, dir := range sbin {
		p := filepath.Join(dir, command)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", err
}

func (r row) installed() bool {
	for _, c := range r.commands {
		if _, err := lookPath(c); err == nil {
			return true
		}
	}
	for _, f := range r.files {
		if _, err := os.Stat(f); err == nil {
			return true
		}
	}
	return false
}

// Missing returns the Debian packages of names (groups, such as VM, or
// packages of the table) that are not installed, in table order. It only
// looks: it never installs anything.
func Missing(names ...string) ([]string, error) {
	rs, err := rows(names)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, r := range rs {
		if !r.installed() {
			missing = append(missing, r.pkg)
		}
	}
	return missing, nil
}

// Seams for the tests, which run a fake apt-get.
var (
	isRoot        = func() bool { return os.Geteuid() == 0 }
	debianVersion = "/etc/debian_version"
	// lockPath serialises installs across bpfmatrix processes; /run is
	// root's own, unlike the world-writable /tmp and /run/lock.
	lockPath = "/run/bpfmatrix-apt.lock"
)

// installMu serialises installs within the process; lockPath across
// processes.
var installMu sync.Mutex

// Ensure makes sure the packages of names (groups or packages) are
// installed. As root on Debian or Ubuntu it installs the missing ones with
// one apt-get command, recommends included (podman needs netavark and
// catatonit from them); when apt's package lists lack one (a fresh
// machine has none), it runs apt-get update and installs again. Installs
// are serialised within the process and across processes. Anywhere else,
// or for a package apt cannot provide, it returns a *MissingError saying
// what to install. Progress goes to log (nil discards it).
func Ensure(ctx context.Context, log io.Writer, names ...string) error {
	missing, err := Missing(names...)
	if err != nil || len(missing) == 0 {
		return err
	}
	if log == nil {
		log = io.Discard
	}
	installMu.Lock()
	defer installMu.Unlock()
	apt, err := exec.LookPath("apt-get")
	if _, debErr := os.Stat(debianVersion); err != nil || debErr != nil || !isRoot() || slices.ContainsFunc(missing, manual) {
		return missingError(missing, err == nil && debErr == nil)
	}
	unlock, err := flock.Lock(ctx, lockPath, "tools", log)
	if err != nil {
		return err
	}
	defer unlock()
	// Another goroutine or process may have installed them meanwhile.
	if missing, err = Missing(missing...); err != nil || len(missing) == 0 {
		return err
	}
	if err := aptInstall(ctx, apt, missing, log); err != nil {
		return err
	}
	if still, _ := Missing(missing...); len(still) > 0 {
		return fmt.Errorf("apt-get install %s succeeded, yet %s still missing: install it by hand", strings.Join(missing, " "), strings.Join(still, " "))
	}
	return nil
}

func manual(pkg string) bool {
	r, _ := lookup(pkg)
	return r.manual != ""
}

// missingError says in one line what to install, and how: with apt-get,
// as root, where there is one.
func missingError(missing []string, hasApt bool) error {
	var apt, todo []string
	for _, p := range missing {
		if r, _ := lookup(p); r.manual != "" {
			todo = append(todo, r.manual)
		} else {
			apt = append(apt, p)
		}
	}
	switch {
	case len(apt) > 0 && hasApt:
		todo = append(todo, "run as root: apt-get install "+strings.Join(apt, " "))
	case len(apt) > 0:
		todo = append(todo, "install the Debian packages "+strings.Join(apt, " ")+" or your system's equivalents (there is no apt-get here)")
	}
	return &MissingError{Packages: missing, msg: fmt.Sprintf("missing %s: %s", strings.Join(missing, " "), strings.Join(todo, "; "))}
}

// notFound are apt-get's words for a package its lists lack, or lists so
// stale that the archive no longer has what they name.
var notFound = []string{"Unable to locate package", "has no installation candidate", "maybe run apt-get update"}

// aptInstall installs pkgs with one apt-get install, after apt-get update
// when the package lists lack one of them (a fresh machine has none).
func aptInstall(ctx context.Context, apt string, pkgs []string, log io.Writer) error {
	fmt.Fprintf(log, "tools: installing %s with apt-get\n", strings.Join(pkgs, " "))
	install := append([]string{"install", "-y", "-q"}, pkgs...)
	out, err := runApt(ctx, apt, log, install...)
	if err != nil && ctx.Err() == nil && slices.ContainsFunc(notFound, func(s string) bool { return bytes.Contains(out, []byte(s)) }) {
		fmt.Fprintf(log, "tools: apt's package lists lack %s: running apt-get update\n", strings.Join(pkgs, " "))
		if out, err := runApt(ctx, apt, log, "update", "-q"); err != nil {
			return aptError("apt-get update", out, err)
		}
		out, err = runApt(ctx, apt, log, install...)
	}
	if err != nil {
		return aptError("apt-get install "+strings.Join(pkgs, " "), out, err)
	}
	return nil
}

// aptError is a failed apt-get run, with apt's last line: its reason.
func aptError(run string, out []byte, err error) error {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		return fmt.Errorf("%s: %w: %s", run, err, last)
	}
	return fmt.Errorf("%s: %w", run, err)
}

// runApt runs apt-get with args, its output going to log; it returns that
// output too, for the error.
func runApt(ctx context.Context, apt string, log io.Writer, args ...string) ([]byte, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, apt, args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	cmd.Stdout = io.MultiWriter(log, &out)
	cmd.Stderr = cmd.Stdout
	err := cmd.Run()
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	return out.Bytes(), err
}

// Need returns the path of command, a program of the table, installing its
// package first (see Ensure) when it is missing.
func Need(ctx context.Context, log io.Writer, command string) (string, error) {
	i := slices.IndexFunc(table, func(r row) bool { return slices.Contains(r.commands, command) })
	if i < 0 {
		return "", fmt.Errorf("program %s is not in the tool table (internal/tools)", command)
	}
	if p, err := lookPath(command); err == nil {
		return p, nil
	}
	if err := Ensure(ctx, log, table[i].pkg); err != nil {
		return "", err
	}
	return lookPath(command)
}
