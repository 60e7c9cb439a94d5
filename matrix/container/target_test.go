package container

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/internal/tools"
	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

// fakeEngine stands in for podman where only the command line is tested.
type fakeEngine struct{}

func (fakeEngine) Image(context.Context, string) (string, error)          { return "img", nil }
func (fakeEngine) Run(context.Context, string, []string, io.Writer) error { return nil }
func (fakeEngine) SeccompBPF() string                                     { return "/state/seccomp-bpf.json" }

func TestRunArgs(t *testing.T) {
	s := &matrix.Suite{LabelFilter: "tracing"}
	mounts := []Mount{{Path: "/sys/fs/bpf", FS: "bpffs"}, {Path: "/sys/kernel/security", FS: "securityfs", ReadOnly: true}}
	p, _ := LookupProfile("bpf-caps-seccomp")
	args := (&Target{Profile: p, Engine: fakeEngine{}}).runArgs("img", "/out/run", mounts, s)
	for _, want := range []string{
		"--pid=host", "--network=none", "--tmpfs=/tmp",
		"--cap-add=CAP_BPF,CAP_PERFMON,CAP_NET_ADMIN",
		"--security-opt=seccomp=/state/seccomp-bpf.json",
		"--volume=/sys/fs/bpf:/sys/fs/bpf:rw", "--volume=/sys/kernel/security:/sys/kernel/security:ro",
		"--volume=/out/run:/bpfmatrix:rw",
		"--env=" + contract.CellsEnv + "=/bpfmatrix/cells.jsonl",
		"-ginkgo.json-report=/bpfmatrix/ginkgo.json", "-ginkgo.label-filter=tracing",
	} {
		if !slices.Contains(args, want) {
			t.Errorf("podman run args lack %q: %q", want, args)
		}
	}
	// Options go before the image, the suite's arguments after it.
	if i := slices.Index(args, "img"); i < 0 || i > slices.Index(args, "-test.v") || i < slices.Index(args, "--pid=host") {
		t.Errorf("image misplaced in %q", args)
	}
	d, _ := LookupProfile("default")
	if args := (&Target{Profile: d, Engine: fakeEngine{}}).runArgs("img", "/o", nil, s); slices.ContainsFunc(args, func(a string) bool {
		return strings.HasPrefix(a, "--cap-add") || strings.HasPrefix(a, "--security-opt") || a == "--privileged"
	}) {
		t.Errorf("default profile adds privileges: %q", args)
	}
}

// TestProfilesWithPodman runs two profiles for real: the suite in a scratch
// image under podman on this machine's kernel, tracing specs only.
func TestProfilesWithPodman(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs podman")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: the container target loads eBPF through podman as root")
	}
	if missing, _ := tools.Missing(tools.Containers); len(missing) > 0 {
		t.Skipf("needs %s: apt-get install %s", strings.Join(missing, " and "), strings.Join(missing, " "))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out := t.TempDir()
	_, file, _, _ := runtime.Caller(0)
	suite, err := matrix.BuildSuite(ctx, filepath.Join(filepath.Dir(file), "..", ".."), out, "attach.tracepoint || attach.raw_tracepoint")
	if err != nil {
		t.Fatal(err)
	}
	podman, err := Setup(ctx, filepath.Join(out, "podman"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var profiles []Profile
	for _, name := range []string{"bpf-caps", "bpf-caps-seccomp"} {
		p, _ := LookupProfile(name)
		profiles = append(profiles, p)
	}
	rep, err := matrix.Run(ctx, suite, Targets(podman, profiles, 2*time.Minute), matrix.Options{Out: out, Jobs: 1, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}

	for _, run := range rep.Runs {
		if run.Status != matrix.RunOK || len(run.Cells) != 2 {
			t.Fatalf("%s: status %s, %d cells (%s)", run.Target, run.Status, len(run.Cells), run.Detail)
		}
		if run.Kernel.Seccomp != "2" {
			t.Errorf("%s: Seccomp=%q, want a filter (2)", run.Target, run.Kernel.Seccomp)
		}
		for _, c := range run.Cells {
			if c.Unexpected {
				t.Errorf("%s %s: unexpected %s: %s", run.Target, c.Feature, c.Status, c.Evidence)
			}
			switch run.Target {
			case "container/bpf-caps":
				// The default profile refuses bpf(2) without CAP_SYS_ADMIN:
				// the environment refused, not the kernel.
				if c.Status != reports.Blocked || c.Layer != "seccomp" || c.Errno != "EPERM" || !strings.Contains(c.Evidence, "the seccomp profile refused") {
					t.Errorf("bpf-caps %s: %s (layer %q) %s %q, want blocked by seccomp with EPERM", c.Feature, c.Status, c.Layer, c.Errno, c.Evidence)
				}
			case "container/bpf-caps-seccomp":
				if c.Status != reports.Supported || c.Events == 0 {
					t.Errorf("bpf-caps-seccomp %s: %s (%d events) %q, want it to attach and fire", c.Feature, c.Status, c.Events, c.Evidence)
				}
			}
		}
	}
	left, err := exec.Command(podman.Path, "ps", "--all", "--quiet", "--filter", "name=bpfmatrix-").Output()
	if err != nil || len(strings.TrimSpace(string(left))) > 0 {
		t.Errorf("containers left behind: %q (%v)", left, err)
	}
}
