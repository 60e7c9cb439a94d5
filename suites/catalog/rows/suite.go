package rows

import "github.com/bpfmatrix/bpfmatrix/suites/catalog"

func init() {
	catalog.Register(
		catalog.Feature{ID: "suite/leaks", Area: catalog.Suite, Since: "3.19", Needs: []catalog.Requirement{catalog.IterateObjects()},
			Doc: "after every other spec: no link of a suite program, cgroup, mount or namespace of the suite remains"},
	)
}
