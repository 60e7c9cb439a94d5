package mountinfo

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	text := "41 23 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n" +
		"50 41 0:38 /sub /mnt/sub rw - cgroup2 cgroup2 rw\n" +
		"77 27 0:52 / /tmp/with\\040space rw shared:3 - bpf bpf rw,delegate_cmds=any\n" +
		"not a mountinfo line\n"
	want := []Mount{
		{Root: "/", Point: "/sys/fs/cgroup/unified", FSType: "cgroup2", Options: "rw"},
		{Root: "/sub", Point: "/mnt/sub", FSType: "cgroup2", Options: "rw"},
		{Root: "/", Point: "/tmp/with space", FSType: "bpf", Options: "rw,delegate_cmds=any"},
	}
	if got := Parse(text); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", got, want)
	}
}

func TestFindOnThisMachine(t *testing.T) {
	// /proc is mounted wherever a test runs.
	if dir, err := Find("proc"); err != nil || dir == "" {
		t.Errorf("Find(proc) = %q, %v", dir, err)
	}
}
