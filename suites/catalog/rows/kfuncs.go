package rows

import (
	"fmt"

	"github.com/bpfmatrix/bpfmatrix/internal/kfuncs"
	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
)

// Kfunc cells, kfunc/<program type>/<kfunc>: one per program type of each
// kfunc of the watch list (internal/kfuncs/watchlist.txt). Since is the
// later of the program type's and the kfunc's: a kernel before the kfunc
// has no BTF of it. Where the type may call the kfunc only from a later
// version (its kfunc set was registered for the type later), kernels in
// between have the kfunc and refuse it in the verifier with EACCES
// ("calling kernel function X is not allowed"), and a cell the watch list
// marks "never" is that refusal on every kernel. A module's kfunc needs
// the module loaded (catalog.Module). docs/kfuncs.md says more.
func init() {
	for _, k := range kfuncs.List() {
		for _, c := range k.Cells {
			prog := progTypeByName(c.Prog)
			needs := append([]catalog.Requirement{}, prog.needs...)
			if c.Prog == "lsm" {
				needs = append(needs, catalog.ActiveLSM("bpf"))
			}
			needs = append(needs, kfuncNeeds[k.Name]...)
			if k.Module != kfuncs.Vmlinux {
				needs = append(needs, catalog.Module(k.Module, kfuncs.ModuleConfigs[k.Module]))
			}
			if c.Since != "" || c.Never {
				needs = append(needs, registered{kfunc: k.Name, kfuncSince: k.Since, prog: c.Prog, since: c.Since})
			}
			catalog.Register(catalog.Feature{ID: "kfunc/" + c.Prog + "/" + k.Name, Area: catalog.Kfuncs, Prog: prog.typ,
				Since: catalog.Later(prog.since, k.Since), Needs: needs, At: reports.StageLoad,
				Doc: "load a " + c.Prog + " program that calls " + k.Name + ", run it, and see what the call did"})
		}
	}
}

// kfuncNeeds are what the spec of a kfunc needs beyond its program type.
// The XDP metadata kfuncs are for device-bound programs only: the spec
// binds its program to a veth in a network namespace of its own, and a
// device-bound program cannot be loaded with a BPF token, since
// bpf_prog_dev_bound_init (kernel/bpf/offload.c) refuses every prog_flags
// bit but BPF_F_XDP_DEV_BOUND_ONLY and BPF_F_XDP_HAS_FRAGS with EINVAL,
// and BPF_F_TOKEN_FD is one (docs/facts.md#kfuncs).
var kfuncNeeds = map[string][]catalog.Requirement{
	"bpf_xdp_metadata_rx_timestamp": devBound,
	"bpf_xdp_metadata_rx_hash":      devBound,
}

var devBound = []catalog.Requirement{catalog.Config("CONFIG_VETH"), catalog.OwnNetNS(), withoutToken{}}

type withoutToken struct{}

func (withoutToken) Unmet(k *catalog.Kernel) *catalog.Miss {
	if !k.Token.Held() {
		return nil
	}
	return &catalog.Miss{Reason: "a device-bound program loads with no BPF token: bpf_prog_dev_bound_init refuses BPF_F_TOKEN_FD", Errnos: []string{"EINVAL"}}
}

// registered requires that the kernel lets prog call a kfunc it has: from
// since on, or never where since is "". Before the kfunc itself the row's
// Since decides, so this is no constraint there.
type registered struct{ kfunc, kfuncSince, prog, since string }

func (r registered) Unmet(k *catalog.Kernel) *catalog.Miss {
	if v, _ := kversion.Parse(r.kfuncSince); !k.Version.AtLeast(v) {
		return nil
	}
	reason := fmt.Sprintf("no kernel registers %s for %s programs", r.kfunc, r.prog)
	if r.since != "" {
		if v, _ := kversion.Parse(r.since); k.Version.AtLeast(v) {
			return nil
		}
		reason = fmt.Sprintf("%s is registered for %s programs from Linux %s (running %s)", r.kfunc, r.prog, r.since, k.Version.Full())
	}
	return &catalog.Miss{Reason: reason, Errnos: []string{"EACCES"}}
}
