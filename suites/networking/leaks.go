package networking

import (
	"strings"

	"github.com/onsi/ginkgo/v2"

	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

// The leak check runs after every other spec, whatever the label filter
// selected: it carries every area's label.
var _ = harness.Spec("suite/leaks", "leaves no link, cgroup, mount or network namespace behind", func(c *harness.Cell) {
	links, leaks, err := harness.Leaks()
	c.Check("iterate links", err)
	if len(leaks) > 0 {
		c.Failed("the suite left behind: %s", strings.Join(leaks, "; "))
	}
	c.Supported("none of the %d bpf links in the kernel is a suite program's held by the suite; no suite cgroup, mount or namespace remains", links)
}, ginkgo.SpecPriority(-1000), ginkgo.Label("features", "tracing", "security"))
