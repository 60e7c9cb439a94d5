// Command build compiles the uprobe/USDT target, testdata/target.c, for
// every architecture of internal/arch with that architecture's C compiler
// (arch.CC) into testdata/target-<arch>: static, as a VM guest has no C
// library, and without debug information but with its symbols, which
// uprobes resolve. `make generate` runs it through go generate, in the
// package directory, and `make check-generate` fails when a committed
// target is stale.
//
// sys/sdt.h (Debian's systemtap-sdt-dev, installed for the host's
// architecture only) is the same text for every architecture: its
// differences are conditionals on the compiler's own macros. A cross
// compiler finds it with -idirafter, after its own headers.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/bpfmatrix/bpfmatrix/internal/arch"
)

const source = "testdata/target.c"

func main() {
	sdt, err := sdtDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "usertarget build:", err)
		os.Exit(2)
	}
	for _, a := range arch.All {
		if _, err := exec.LookPath(a.CC); err != nil {
			fmt.Fprintf(os.Stderr, "usertarget build: no C compiler for %s (%s): install %s\n", a.Name, a.CC, a.CCPackage)
			os.Exit(2)
		}
		out := "testdata/target-" + a.Name
		// -Wl,-S drops debug sections at link time; the symbol table and
		// the .note.stapsdt notes stay.
		cmd := exec.Command(a.CC, "-O2", "-static", "-Wl,-S", "-idirafter", sdt, "-o", out, source)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "usertarget build: %s: %v\n", cmd, err)
			os.Exit(1)
		}
	}
}

// sdtDir is the include directory that holds sys/sdt.h.
func sdtDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/include/*-linux-gnu")
	for _, dir := range append([]string{"/usr/include"}, dirs...) {
		if _, err := os.Stat(filepath.Join(dir, "sys/sdt.h")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("no sys/sdt.h under /usr/include: install systemtap-sdt-dev")
}
