// Package suites is the one test binary that runs inside every target. Its
// areas register their specs from their own packages, Kubernetes e2e style;
// build it with `go test -c ./suites` and filter with --ginkgo.label-filter.
package suites

import (
	"testing"

	"github.com/bpfmatrix/bpfmatrix/suites/harness"

	_ "github.com/bpfmatrix/bpfmatrix/suites/faults"
	_ "github.com/bpfmatrix/bpfmatrix/suites/features"
	_ "github.com/bpfmatrix/bpfmatrix/suites/kfuncs"
	_ "github.com/bpfmatrix/bpfmatrix/suites/leaks"
	_ "github.com/bpfmatrix/bpfmatrix/suites/networking"
	_ "github.com/bpfmatrix/bpfmatrix/suites/objects"
	_ "github.com/bpfmatrix/bpfmatrix/suites/probepoints"
	_ "github.com/bpfmatrix/bpfmatrix/suites/security"
	_ "github.com/bpfmatrix/bpfmatrix/suites/tracing"
)

func TestSuites(t *testing.T) {
	harness.RunSuite(t, "bpfmatrix")
}
