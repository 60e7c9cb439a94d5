package catalog

import "github.com/bpfmatrix/bpfmatrix/internal/kversion"

// Later returns the later of two row versions ("4.10", "5.8").
func Later(a, b string) string {
	va, _ := kversion.Parse(a)
	vb, _ := kversion.Parse(b)
	if va.Compare(vb) < 0 {
		return b
	}
	return a
}

// before reports whether k runs a version older than the row version v; a v
// that does not parse is no constraint.
func before(k *Kernel, v string) bool {
	w, ok := kversion.Parse(v)
	return ok && !k.Version.AtLeast(w)
}
