package vmimages

import (
	"fmt"
	"os"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/vmimages/internal/debian"
)

// Environment variables that override the mirrors read from apt's
// configuration, for machines whose apt points elsewhere (or has no apt).
const (
	MirrorEnv         = "BPFMATRIX_DEBIAN_MIRROR"
	SecurityMirrorEnv = "BPFMATRIX_DEBIAN_SECURITY_MIRROR"
)

// aptSourcesDir is where apt keeps its sources; a variable for tests.
var aptSourcesDir = "/etc/apt"

// Mirrors returns the Debian archive and security archive to fetch from:
// the environment overrides, else apt's configuration. It fails with one
// line when neither names a Debian mirror.
func Mirrors() (mirror, security string, err error) {
	srcs, err := debian.ReadSources(aptSourcesDir)
	if err != nil {
		return "", "", fmt.Errorf("read apt sources: %w", err)
	}
	mirror, security = debian.PickMirrors(srcs)
	if v := os.Getenv(MirrorEnv); v != "" {
		mirror = strings.TrimRight(v, "/")
		if os.Getenv(SecurityMirrorEnv) == "" && strings.HasSuffix(mirror, "/debian") {
			security = mirror + "-security"
		}
	}
	if v := os.Getenv(SecurityMirrorEnv); v != "" {
		security = strings.TrimRight(v, "/")
	}
	if mirror == "" {
		return "", "", fmt.Errorf("no Debian mirror: %s/sources.list{,.d} has no deb source for a Debian suite; set %s to a mirror URL ending in /debian", aptSourcesDir, MirrorEnv)
	}
	return mirror, security, nil
}
