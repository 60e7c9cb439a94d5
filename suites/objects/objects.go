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
// for the privileges it needs, what the kernel must have for it to reach
// the stage it is asked to, and the manifest's claim, which judges the
// prediction (judge).
func row(e objects.Entry, ps *ebpf.ProgramSpec) *catalog.Feature {
	f := &catalog.Feature{ID: e.ID(), Area: catalog.Objects, Prog: ps.Type, Attach: ps.AttachType, At: reports.StageLoad,
		Doc: fmt.Sprintf("%s program %s of %s, section %s", ps.Type, e.Program, e.File, ps.SectionName)}
	h := hookOf(ps, e)
	asked := askedStage(e)
	// Only what the cell gets to: a program whose target is missing is
	// never loaded, one that needs a target never attached.
	if trampoline(ps) && !h.early {
		f.Needs = append(f.Needs, catalog.Trampolines())
	}
	attaches := h.needs == "" && asked.Rank() >= reports.ObjectAttached.Rank()
	if config := probeConfig[strings.SplitN(ps.SectionName, "/", 2)[0]]; ps.Type == ebpf.Kprobe && config != "" && attaches {
		// The program loads without them; attaching needs them.
		f.At = reports.StageAttach
		f.Needs = append(f.Needs, catalog.Config(config))
	}
	if ps.Type == ebpf.LSM && attaches && asked == reports.ObjectFired {
		f.Needs = append(f.Needs, catalog.ActiveLSM("bpf"))
	}
	if h.netns && attaches {
		f.Needs = append(f.Needs, catalog.OwnNetNS())
	}
	f.Judge = judge(e.Kernels)
	return f
}

// askedStage is the stage the cell must reach: the plan's, else fired.
func askedStage(e objects.Entry) reports.ObjectStage {
	if e.Stage == "" {
		return reports.ObjectFired
	}
	return e.Stage
}

// judge is the manifest's claim on the running kernel. On a kernel it does
// not claim, the cell is shown and never counted (Unknown). On one it
// claims, the program must reach its stage whatever the catalog predicts
// of the kernel (a missing CONFIG option, a gate on trampolines): that is
// the finding the claim is for, and the prediction stays as the reason.
// Only the environment's refusal (Blocked) stands: it is no kernel's answer.
func judge(claims []string) func(*catalog.Kernel, catalog.Expectation) catalog.Expectation {
	return func(k *catalog.Kernel, p catalog.Expectation) catalog.Expectation {
		if !objects.Claims(claims, k.Version) {
			why := "no manifest claims a kernel for it"
			if len(claims) > 0 {
				why = fmt.Sprintf("the manifest claims %s for it, not %d.%d", strings.Join(claims, ", "), k.Version.Major, k.Version.Minor)
			}
			if p.Status != reports.Supported {
				why += "; predicted " + p.String()
			}
			return catalog.Expectation{Status: reports.Unknown, Reason: why}
		}
		if p.Status == reports.Blocked {
			return p
		}
		why := fmt.Sprintf("the manifest claims %d.%d for it", k.Version.Major, k.Version.Minor)
		if p.Status != reports.Supported {
			why += ", although predicted " + p.String()
		}
		return catalog.Expectation{Status: reports.Supported, Reason: why}
	}
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
	"uprobe": "CONFIG_UPROBE_EVENTS", "uretprobe": "CONFIG_UPROBE_EVENTS", "uprobe.s": "CONFIG_UPROBE_EVENTS", "uretprobe.s": "CONFIG_UPROBE_EVENTS",
}
