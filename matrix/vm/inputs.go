package vm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/matrix/runcache"
)

// Inputs of a VM's run beside the suite (matrix.Reusable): the Debian
// package of the kernel, the guest's /init, the suite binary of the
// guest's architecture, the guest's plan (the suite's arguments but its
// seed, its environment, bpftool's probe) with the bpftool it packs, and qemu's
// version and command line. The command line is the one a run gives qemu,
// with the run's own files named by their base names, so that it does not
// depend on --out. A kernel given as a file is not cached: its config and
// modules are the user's files, which may change in place.
func (t *Target) Inputs(ctx context.Context, s *matrix.Suite, p *matrix.Progress) (runcache.Inputs, error) {
	init, err := t.cfg.guestInit(ctx, filepath.Dir(s.Binary))
	if err != nil {
		return nil, err
	}
	k, err := t.cfg.kernel(ctx, t.name, p)
	if err != nil {
		return nil, fmt.Errorf("fetch kernel %s: %w", t.name, err)
	}
	if k.Package == "" {
		return nil, errors.New("a kernel given as a file is not cached (its config and modules may change in place)")
	}
	suite, err := s.BinaryFor(ctx, t.cfg.arch().Name)
	if err != nil {
		return nil, err
	}
	plan, probeErr, noProbe := t.cfg.runPlan(s)
	// The seed is an input of its own, which the runner adds: with a seed
	// picked at random, a run of any seed will do.
	plan.Args = slices.DeleteFunc(plan.Args, func(a string) bool { return strings.HasPrefix(a, "-ginkgo.seed=") })
	planJSON, err := json.Marshal(plan)
	if err != nil {
		return nil, err
	}
	in := runcache.Inputs{
		"kernel":          strings.Join([]string{k.Package, k.Version, k.Arch, k.Release, k.Suite}, " "),
		"guest plan":      string(planJSON),
		"bpftool problem": probeErr + noProbe,
	}
	files := map[string]string{"guest init": init, "suite " + t.cfg.arch().Name: suite}
	if len(plan.Bpftool) > 0 {
		files["bpftool"] = plan.Bpftool[0]
	}
	for name, path := range files {
		if in[name], err = runcache.FileSum(path); err != nil {
			return nil, err
		}
	}
	var serial []string
	for _, f := range RunFiles("") {
		serial = append(serial, filepath.Base(f))
	}
	m := t.cfg.machine(filepath.Base(k.Vmlinux), "initrd.cpio", serial)
	qemu, err := lookQemu(m.Qemu, m.arch())
	if err != nil {
		return nil, err
	}
	if in["qemu"], err = runcache.ToolVersion(qemu, "--version"); err != nil {
		return nil, err
	}
	in["qemu command line"] = shellQuote(append([]string{qemu}, m.Args()...))
	// A restored guest has the payload disk's driver loaded too, whose
	// functions its probe-point lists count: its run is not a booted one's.
	in["guest start"] = "booted"
	if t.cfg.Snapshots != "" {
		in["guest start"] = "restored from a snapshot"
	}
	return in, nil
}
