// Package suitebin builds the suite binary and lists its specs with a
// Ginkgo dry run, for the tests that check the suite as the runner sees it
// (the runner builds and plans it the same way).
package suitebin

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

// Build compiles ./suites of this module, static, into a temporary
// directory of t and returns the binary's path.
func Build(t testing.TB) string {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin := filepath.Join(t.TempDir(), "suites.test")
	cmd := exec.Command("go", "test", "-c", "-o", bin, "./suites")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the suite binary in %s: %v\n%s", root, err, out)
	}
	return bin
}

// Command runs the suite binary with args. A run mounts the kernel
// filesystems it lacks, so as root the binary runs in a mount namespace of
// its own and leaves the machine's mounts alone, as the runner's targets do.
func Command(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	if os.Geteuid() == 0 {
		// Go makes / recursively private in the child before exec.
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	}
	return cmd
}

// DryRun lists the specs of the suite binary that Ginkgo would run with
// args (a label filter, say), from its JSON report.
func DryRun(t testing.TB, bin string, args ...string) []types.SpecReport {
	t.Helper()
	report := filepath.Join(t.TempDir(), "dry-run.json")
	cmd := Command(bin, append([]string{"-ginkgo.dry-run", "-ginkgo.no-color", "-ginkgo.json-report=" + report}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dry run of %s: %v\n%s", bin, err, out)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var suites []types.Report
	if err := json.Unmarshal(data, &suites); err != nil {
		t.Fatalf("Ginkgo report %s: %v", report, err)
	}
	var specs []types.SpecReport
	for _, s := range suites {
		for _, sr := range s.SpecReports {
			if sr.LeafNodeType == types.NodeTypeIt && sr.State != types.SpecStateSkipped {
				specs = append(specs, sr)
			}
		}
	}
	if len(specs) == 0 {
		t.Fatalf("dry run of %s listed no specs", bin)
	}
	return specs
}
