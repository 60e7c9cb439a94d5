package harness

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
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
