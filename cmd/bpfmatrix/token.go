package main

import (
	"slices"
	"strings"
	"time"

	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/matrix/token"
	"github.com/bpfmatrix/bpfmatrix/vmimages"
)

// tokenTarget is the bpf-token target, which runs on the host's kernel
// and, like the host target, needs root: only the initial user namespace's
// CAP_SYS_ADMIN may delegate a bpffs.
func tokenTarget(kernels []string, timeout time.Duration, vmf *vmFlags) (matrix.Target, error) {
	if !slices.Contains(kernels, vmimages.Host) {
		return nil, badInput("%s shares the host's kernel: run it with -kernel host (got -kernel %s)", token.Name, strings.Join(kernels, ","))
	}
	if err := (matrix.Host{}).CheckRoot(); err != nil {
		return nil, err
	}
	module := "."
	if m := vmf.fs.Lookup("module"); m != nil {
		module = m.Value.String()
	}
	return token.New(timeout, module), nil
}
