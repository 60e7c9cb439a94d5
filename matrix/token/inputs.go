package token

import (
	"context"
	"path/filepath"

	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/matrix/runcache"
)

// Inputs of the bpf-token run beside the suite (matrix.Reusable): the host
// kernel's facts, what the bpffs delegates, and the launcher's build.
func (t *Target) Inputs(ctx context.Context, s *matrix.Suite, p *matrix.Progress) (runcache.Inputs, error) {
	if err := t.launcher(ctx, s); err != nil {
		return nil, err
	}
	sum, err := runcache.FileSum(t.Launcher)
	if err != nil {
		return nil, err
	}
	in := runcache.HostFacts()
	in["delegation"] = t.Delegation.String()
	in["launcher"] = sum
	return in, nil
}

// launcher builds the launcher once, unless Launcher names one.
func (t *Target) launcher(ctx context.Context, s *matrix.Suite) error {
	t.once.Do(func() {
		if t.Launcher == "" {
			t.Launcher, t.buildErr = BuildLauncher(ctx, t.ModuleDir, filepath.Dir(s.Binary))
		}
	})
	return t.buildErr
}
