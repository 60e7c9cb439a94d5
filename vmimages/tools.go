package vmimages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
)

// The archive keyring apt trusts by default; InRelease files must be signed
// by one of its keys. A variable for tests, which sign their own mirror.
var archiveKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

// installMu serialises apt-get runs of this process.
var installMu sync.Mutex

// lookTool returns the path of an external program, installing the Debian
// package that ships it when it is missing and we are root. Go's standard
// library cannot verify OpenPGP signatures or undo xz's x86 BCJ filter, so
// these few tools are required.
func lookTool(ctx context.Context, tool, debPkg string, log io.Writer) (string, error) {
	if p, err := exec.LookPath(tool); err == nil {
		return p, nil
	}
	if err := aptInstall(ctx, debPkg, log); err != nil {
		return "", fmt.Errorf("%s not found in PATH and %v: install it with apt-get install %s", tool, err, debPkg)
	}
	p, err := exec.LookPath(tool)
	if err != nil {
		return "", fmt.Errorf("%s still not in PATH after apt-get install %s", tool, debPkg)
	}
	return p, nil
}

// needKeyring makes sure the Debian archive keyring exists.
func needKeyring(ctx context.Context, log io.Writer) error {
	if _, err := os.Stat(archiveKeyring); err == nil {
		return nil
	}
	if err := aptInstall(ctx, "debian-archive-keyring", log); err != nil {
		return fmt.Errorf("%s missing and %v: install it with apt-get install debian-archive-keyring", archiveKeyring, err)
	}
	if _, err := os.Stat(archiveKeyring); err != nil {
		return fmt.Errorf("%s still missing after apt-get install debian-archive-keyring", archiveKeyring)
	}
	return nil
}

func aptInstall(ctx context.Context, debPkg string, log io.Writer) error {
	if os.Geteuid() != 0 {
		return errors.New("not root, so cannot install it")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return errors.New("apt-get is not available")
	}
	installMu.Lock()
	defer installMu.Unlock()
	fmt.Fprintf(log, "vmimages: installing %s with apt-get\n", debPkg)
	cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", debPkg)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get install %s failed: %w: %s", debPkg, err, lastLine(out))
	}
	return nil
}
