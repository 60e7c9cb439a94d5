package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/matrix/container"
	"github.com/bpfmatrix/bpfmatrix/matrix/token"
	"github.com/bpfmatrix/bpfmatrix/vmimages"
)

// targetFlagDoc documents run's -target flag.
var targetFlagDoc = "comma-separated targets: host, vm, containers (every profile: " +
	strings.Join(container.ProfileNames(), ", ") + "), container/<profile> or " + token.Name + " (a user namespace holding a BPF token, host kernel); " +
	"default: vm for catalog kernels, host for the host kernel, and the containers and bpf-token too with -kernel all"

// selectTargets turns -kernel and -target into targets: host and vm
// targets through targetsFor, and one container target per profile on the
// host kernel. Podman is set up (and as root on Debian, installed) here,
// before the slow work starts, unless check: --check only checks what the
// user typed, so its container targets have no engine and nothing is
// looked up, installed or written.
func selectTargets(kernels, kinds []string, out string, timeout time.Duration, check bool, vmf *vmFlags) ([]matrix.Target, error) {
	all := len(kernels) == 1 && kernels[0] == "all"
	if all {
		kernels = vmimages.Names()
	}
	if len(kinds) == 0 {
		kinds = []string{"host", "vm"}
		if all {
			kinds = append(kinds, "containers", token.Name)
		}
	}
	var profiles []container.Profile
	keep := map[string]bool{}
	for _, kind := range kinds {
		name, isProfile := strings.CutPrefix(kind, "container/")
		switch {
		case kind == "host" || kind == "vm" || kind == token.Name:
			keep[kind] = true
		case kind == "containers":
			profiles = container.Profiles
		case isProfile:
			p, ok := container.LookupProfile(name)
			if !ok {
				return nil, badInput("%s", (&container.UnknownProfileError{Name: name}).Error())
			}
			if !slices.ContainsFunc(profiles, func(q container.Profile) bool { return q.Name == p.Name }) {
				profiles = append(profiles, p)
			}
		default:
			return nil, badInput("unknown target %q: use host, vm, containers, container/<profile> (%s) or %s", kind, strings.Join(container.ProfileNames(), ", "), token.Name)
		}
	}

	var others []string
	for _, k := range kernels {
		if (k == vmimages.Host && keep["host"]) || (k != vmimages.Host && keep["vm"]) {
			others = append(others, k)
		}
	}
	var containers []matrix.Target
	if len(profiles) > 0 {
		if !slices.Contains(kernels, vmimages.Host) {
			return nil, badInput("containers share the host's kernel: run them with -kernel host (got -kernel %s)", strings.Join(kernels, ","))
		}
		var engine container.Engine
		if !check {
			dir, err := filepath.Abs(filepath.Join(out, "build", "containers"))
			if err != nil {
				return nil, err
			}
			podman, err := container.Setup(context.Background(), dir, os.Stderr)
			if errors.Is(err, container.ErrMissing) {
				return nil, badInput("%v", err)
			}
			if err != nil {
				return nil, err
			}
			engine = podman
		}
		containers = container.Targets(engine, profiles, timeout)
	}
	if keep[token.Name] {
		t, err := tokenTarget(kernels, timeout, vmf)
		if err != nil {
			return nil, err
		}
		containers = append(containers, t)
	}
	if len(others) == 0 && len(containers) == 0 {
		return nil, badInput("no target for -kernel %s -target %s: vm runs catalog kernels, host and containers the host kernel", strings.Join(kernels, ","), strings.Join(kinds, ","))
	}
	targets, err := targetsFor(others, timeout, vmf)
	if err != nil {
		return nil, err
	}
	return append(targets, containers...), nil
}
