package harness

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/onsi/ginkgo/v2/types"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err      error
		status   reports.Status
		errno    string
		evidence string
	}{
		{fmt.Errorf("load program: %w", unix.EPERM), reports.Unsupported, "EPERM", "operation not permitted"},
		{fmt.Errorf("attach: %w", ENOTSUPP), reports.Unsupported, "ENOTSUPP", ""},
		{fmt.Errorf("probe: %w", ebpf.ErrNotSupported), reports.Unsupported, "ErrNotSupported", "not supported"},
		{fmt.Errorf("load: %w (MEMLOCK may be too low, consider rlimit.RemoveMemlock)", unix.EPERM), reports.Unsupported, "EPERM", "load: operation not permitted"},
		{errors.New("harness bug"), reports.Error, "", "harness bug"},
	} {
		v := Classify(tc.err)
		if v.Status != tc.status || v.Errno != tc.errno || !strings.Contains(v.Evidence, tc.evidence) {
			t.Errorf("Classify(%v) = %+v, want %s %q containing %q", tc.err, v, tc.status, tc.errno, tc.evidence)
		}
		if strings.Contains(v.Evidence, "MEMLOCK") {
			t.Errorf("Classify(%v) kept cilium/ebpf's misleading MEMLOCK hint", tc.err)
		}
	}
}

// helperLocation is a spec helper: where Ginkgo places a failure inside it.
func helperLocation(c *Cell) types.CodeLocation {
	c.Helper()
	return types.NewCodeLocation(0)
}

// TestHelperPlacesFailuresAtTheCaller checks that a helper's failures are
// placed at the line that called it, the first time its call site marks
// it and every time after, when Helper no longer asks Ginkgo.
func TestHelperPlacesFailuresAtTheCaller(t *testing.T) {
	var c Cell
	first, again := helperLocation(&c), helperLocation(&c)
	_, file, line, _ := runtime.Caller(0)
	for _, loc := range []types.CodeLocation{first, again} {
		if loc.FileName != file || loc.LineNumber != line-1 {
			t.Errorf("failure placed at %s:%d, want %s:%d", loc.FileName, loc.LineNumber, file, line-1)
		}
	}
}
