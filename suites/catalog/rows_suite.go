package catalog

func init() {
	register(
		Feature{ID: "suite/leaks", Area: Suite, Since: "3.19", Needs: []Requirement{IterateObjects()},
			Doc: "after every other spec: no link of a suite program, cgroup, mount or namespace of the suite remains"},
	)
}
