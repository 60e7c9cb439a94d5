package inventory

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// saved is an inventory kept in a file: the counts with the name lists
// packed (ProbePoints.PackLists), and the perf event sources' names, which
// the inventory cell's evidence spells out.
type saved struct {
	Points           *reports.ProbePoints `json:"points"`
	PerfEventSources []string             `json:"perf_event_sources"`
}

// Save keeps what Take returned in the file path, for a later Load: a VM
// guest's /init takes the inventory before its snapshot is saved, so that
// no run restored from it takes it again (0.4–0.6 s of each run under TCG,
// most of it reading tracefs and packing the lists). It packs lists into
// pp.
func Save(path string, pp *reports.ProbePoints, lists *reports.ProbeLists) error {
	if err := pp.PackLists(lists); err != nil {
		return err
	}
	data, err := json.Marshal(saved{pp, lists.PerfEventSources})
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err == nil {
		err = os.WriteFile(path, data, 0o444)
	}
	if err != nil {
		return fmt.Errorf("save the inventory: %w", err)
	}
	return nil
}

// Load reads an inventory Save kept in path, the name lists still packed.
// Each source it counted says when it was read: "… (read when)", such as
// "before the VM snapshot this run resumes", so a report never passes an
// earlier read for the run's own.
func Load(path, when string) (pp *reports.ProbePoints, perfEventSources []string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var s saved
	if err := json.Unmarshal(data, &s); err != nil || s.Points == nil {
		return nil, nil, fmt.Errorf("inventory %s: not one Save wrote (%v)", path, err)
	}
	pp = s.Points
	for _, c := range []*reports.Count{&pp.Tracepoints, &pp.SyscallTracepoints, &pp.KprobeFunctions, &pp.PerfEventSources, pp.Kallsyms} {
		if c != nil {
			c.Source += " (read " + when + ")"
		}
	}
	return pp, s.PerfEventSources, nil
}
