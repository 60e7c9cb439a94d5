// Package leaks holds the spec that runs after every other one and fails if
// the suite left anything behind: a bpf link of a suite program that the
// suite still holds, a cgroup or cgroup2 mount it created, a network
// namespace it still holds. Every fixture removes what it made when its
// spec ends; this spec proves it.
package leaks

import (
	"strings"

	"github.com/onsi/ginkgo/v2"

	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

// The leak check runs after every other spec, whatever the label filter
// selected: it carries the label of every feature area.
var _ = harness.Spec("suite/leaks", "leaves no link, cgroup, mount or network namespace behind", func(c *harness.Cell) {
	links, leaks, err := find()
	c.Observed("iterate links", err)
	if len(leaks) > 0 {
		c.Failed("the suite left behind: %s", strings.Join(leaks, "; "))
	}
	c.Supported("none of the %d bpf links in the kernel is a suite program's held by the suite; no suite cgroup, mount or namespace remains", links)
}, ginkgo.SpecPriority(-1000),
	ginkgo.Label(string(catalog.Features), string(catalog.Tracing), string(catalog.Networking), string(catalog.Security)))
