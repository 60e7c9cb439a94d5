// Package mountinfo reads /proc/self/mountinfo, which the suite, the
// container target and the token target all consult to find a filesystem
// (cgroup2, a delegated bpffs) where a machine happens to have mounted it.
package mountinfo

import (
	"os"
	"strconv"
	"strings"
)

// Mount is one line of mountinfo (proc(5)): "id parent major:minor root
// mountpoint options [optional...] - fstype source superoptions".
type Mount struct {
	// Root is the directory of the filesystem mounted here ("/" for all of
	// it); Point where it is mounted, unescaped.
	Root, Point string
	FSType      string
	// Options are the superblock options ("rw,delegate_cmds=any").
	Options string
}

// Read parses the calling process's mount table.
func Read() ([]Mount, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return Parse(string(data)), nil
}

// Parse reads a mountinfo text, skipping lines it cannot read.
func Parse(text string) []Mount {
	var mounts []Mount
	for _, line := range strings.Split(text, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		fields, super := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(super) < 1 {
			continue
		}
		m := Mount{Root: unescape(fields[3]), Point: unescape(fields[4]), FSType: super[0]}
		if len(super) >= 3 {
			m.Options = super[2]
		}
		mounts = append(mounts, m)
	}
	return mounts
}

// Find is the mount point of the first mount of the whole of a filesystem
// of type fstype, or "" if there is none.
func Find(fstype string) (string, error) {
	mounts, err := Read()
	for _, m := range mounts {
		if m.FSType == fstype && m.Root == "/" {
			return m.Point, nil
		}
	}
	return "", err
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
