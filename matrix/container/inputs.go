package container

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/matrix/runcache"
)

// Inputs of a container profile's run beside the suite (matrix.Reusable):
// the host kernel's facts, the profile, and podman's and runc's versions
// with the project's podman files (containers.conf, the seccomp profile).
// The image holds the suite binary alone, which the runner counts.
func (t *Target) Inputs(ctx context.Context, s *matrix.Suite, p *matrix.Progress) (runcache.Inputs, error) {
	pod, ok := t.Engine.(*Podman)
	if !ok {
		return nil, errors.New("only runs in podman are cached")
	}
	in := runcache.HostFacts()
	in["profile"] = fmt.Sprintf("%s %q seccomp-bpf=%v", t.Profile.Name, t.Profile.Flags, t.Profile.SeccompBPF)
	var err error
	if in["podman"], err = runcache.ToolVersion(pod.Path, "--version"); err != nil {
		return nil, err
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		return nil, err
	}
	if in["runc"], err = runcache.ToolVersion(runc, "--version"); err != nil {
		return nil, err
	}
	for _, name := range []string{"containers.conf", filepath.Base(pod.SeccompBPF())} {
		if in["podman file "+name], err = runcache.FileSum(filepath.Join(pod.Dir, name)); err != nil {
			return nil, err
		}
	}
	return in, nil
}
