package main

import (
	"os"
	"time"

	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/vmimages"
)

// vmTarget returns the target that boots kernel name under qemu.
func vmTarget(name string, timeout time.Duration) (matrix.Target, error) {
	if _, ok := vmimages.Lookup(name); !ok {
		if _, err := os.Stat(name); err != nil {
			return nil, badInput("%s", (&vmimages.UnknownError{Name: name}).Error())
		}
	}
	return nil, badInput("kernel %s: the vm target is not available in this build yet", name)
}
