// Package objects proves users' own eBPF objects, one cell per program:
// every map of the object created, the program through the verifier (CO-RE
// relocations and kfuncs resolved against the running kernel's BTF) with
// the verifier's figures kept, attached where its section (or the
// manifest) says, and, with bpf_stats on, its own run count risen after a
// trigger. The runner stages the objects and their plan (package objects)
// and names the directory in contract.ObjectsEnv; without it the package
// registers nothing.
package objects

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/objects"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

var _ = register(os.Getenv(contract.ObjectsEnv))

// register makes one spec per program of the plan staged in dir. A plan
// that cannot be read (the runner wrote and checked it) is one error cell.
func register(dir string) bool {
	if dir == "" {
		return false
	}
	plan, specs, err := objects.Staged(dir)
	if err != nil {
		f := &catalog.Feature{ID: "object/plan", Area: catalog.Objects}
		return harness.SpecFor(f, "reads the staged objects", func(c *harness.Cell) {
			c.Setup("read "+dir, errors.New(strings.ReplaceAll(err.Error(), "\n", "; ")))
		})
	}
	for _, e := range plan.Entries {
		spec := specs[e.File]
		ps := spec.Programs[e.Program]
		harness.SpecFor(row(e, ps), "loads, attaches and runs", func(c *harness.Cell) { prove(c, e, spec) })
	}
	return true
}

// row is the catalog row of a user's program: its program and attach type
// for the privileges it needs, and what predicts its cell besides them.
func row(e objects.Entry, ps *ebpf.ProgramSpec) *catalog.Feature {
	f := &catalog.Feature{ID: e.ID(), Area: catalog.Objects, Prog: ps.Type, Attach: ps.AttachType, At: reports.StageLoad,
		Doc: fmt.Sprintf("%s program %s of %s, section %s", ps.Type, e.Program, e.File, ps.SectionName)}
	h := hookOf(ps, e)
	// A program whose target is missing is never loaded: the gate on
	// trampolines cannot refuse it.
	if trampoline(ps) && !h.early {
		f.Needs = append(f.Needs, orMissingTarget{catalog.Trampolines()})
	}
	if config := probeConfig[strings.SplitN(ps.SectionName, "/", 2)[0]]; ps.Type == ebpf.Kprobe && config != "" {
		// The program loads without them; attaching needs them.
		f.At = reports.StageAttach
		f.Needs = append(f.Needs, catalog.Config(config))
	}
	if ps.Type == ebpf.LSM {
		f.Needs = append(f.Needs, catalog.ActiveLSM("bpf"))
	}
	if h.netns {
		f.Needs = append(f.Needs, catalog.OwnNetNS())
	}
	f.Needs = append(f.Needs, claim(e.Kernels))
	return f
}

// trampoline reports whether ps loads as a BPF trampoline program, which
// some kernels refuse to all but init (catalog.Trampolines).
func trampoline(ps *ebpf.ProgramSpec) bool {
	switch {
	case ps.Type == ebpf.LSM || ps.Type == ebpf.Extension:
		return true
	case ps.Type == ebpf.Tracing:
		return slices.Contains([]ebpf.AttachType{ebpf.AttachTraceFEntry, ebpf.AttachTraceFExit, ebpf.AttachModifyReturn}, ps.AttachType)
	}
	return false
}

// probeConfig is the CONFIG option a kprobe-type section's attachment
// needs, by the section's kind.
var probeConfig = map[string]string{
	"kprobe": "CONFIG_KPROBES", "kretprobe": "CONFIG_KPROBES", "ksyscall": "CONFIG_KPROBES", "kretsyscall": "CONFIG_KPROBES",
	"kprobe.multi": "CONFIG_FPROBE", "kretprobe.multi": "CONFIG_FPROBE",
	"uprobe": "CONFIG_UPROBE_EVENTS", "uretprobe": "CONFIG_UPROBE_EVENTS",
}

// orMissingTarget is a requirement that refuses at load (the trampoline
// gate) where a user's program may also fail first for a target its
// kernel's BTF lacks (ENOENT): both end the load.
type orMissingTarget struct{ catalog.Requirement }

func (r orMissingTarget) Unmet(k *catalog.Kernel) *catalog.Miss {
	m := r.Requirement.Unmet(k)
	if m != nil && m.Stage == reports.StageLoad {
		m.Errnos = append(slices.Clip(m.Errnos), "ENOENT")
	}
	return m
}

// claim is the manifest's claim on the running kernel: a program on a
// kernel the product does not claim is shown, never counted (Unknown).
type claim []string

func (cl claim) Unmet(k *catalog.Kernel) *catalog.Miss {
	if objects.Claims(cl, k.Version) {
		return nil
	}
	why := "no manifest claims a kernel for it"
	if len(cl) > 0 {
		why = fmt.Sprintf("the manifest claims %s for it, not %d.%d", strings.Join(cl, ", "), k.Version.Major, k.Version.Minor)
	}
	return &catalog.Miss{Reason: why, Status: reports.Unknown}
}
