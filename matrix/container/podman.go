// Package container runs the suite inside podman containers on the host
// kernel, one run per profile (capabilities, seccomp profile, user
// namespace), so a report shows what eBPF loses in a container.
//
// It drives the podman CLI rather than podman's Go bindings: the v4 bindings
// cannot share a module with cilium/ebpf (docs/facts.md#podman-cli).
package container

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/tools"
	"github.com/bpfmatrix/bpfmatrix/matrix/runcache"
)

// Engine is what a container target needs from a container engine.
// Podman implements it with the podman CLI.
type Engine interface {
	// Image returns a local image that holds binary as its entry point,
	// building it first if needed.
	Image(ctx context.Context, binary string) (string, error)
	// Run runs one container to its end with the given `run` arguments
	// (options, image, command), writing its output to out. The container
	// is gone when Run returns, whatever happened.
	Run(ctx context.Context, name string, args []string, out io.Writer) error
	// SeccompBPF is the path of the seccomp profile that admits bpf(2)
	// with CAP_BPF, as the engine can read it.
	SeccompBPF() string
}

// imageRepo is the local name of suite images; the tag is the binary's hash.
const imageRepo = "localhost/bpfmatrix-suite"

// hashLabel carries the full SHA-256 of the suite binary an image holds.
const hashLabel = "io.bpfmatrix.suite.sha256"

// Podman drives the podman CLI with the project's containers.conf.
type Podman struct {
	// Path is the podman binary.
	Path string
	// Dir holds containers.conf and the seccomp profile, written by Setup.
	Dir string

	mu     sync.Mutex
	images map[string]string // binary hash → image, built this process
}

// ErrMissing says in one line what the container target lacks and what to
// run; Setup returns it wrapped with the particulars.
var ErrMissing = errors.New("the container target cannot run")

// Setup makes sure podman and runc are installed (tools.Ensure: as root on
// Debian it installs them, anywhere else it says what to install) and
// writes the project's podman files into dir. containers.conf selects
// runc: crun refuses the hybrid cgroup layout of these machines. The
// target needs root: rootless podman cannot grant CAP_BPF.
func Setup(ctx context.Context, dir string, log io.Writer) (*Podman, error) {
	if os.Geteuid() != 0 {
		needs := "root (eBPF needs CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN, which rootless podman cannot grant)"
		if missing, _ := tools.Missing(tools.Containers); len(missing) > 0 {
			needs += " and " + strings.Join(missing, " and ")
		}
		return nil, fmt.Errorf("%w: it needs %s: run as root, e.g. sudo bpfmatrix run --kernel host --target containers", ErrMissing, needs)
	}
	if err := tools.Ensure(ctx, log, tools.Containers); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMissing, err)
	}
	path, err := tools.Need(ctx, log, "podman")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMissing, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := &Podman{Path: path, Dir: dir, images: map[string]string{}}
	for name, data := range map[string][]byte{"containers.conf": containersConf, "seccomp-bpf.json": seccompBPF} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return nil, fmt.Errorf("write podman config: %w", err)
		}
	}
	return p, nil
}

// SeccompBPF implements Engine.
func (p *Podman) SeccompBPF() string { return filepath.Join(p.Dir, "seccomp-bpf.json") }

// command is podman with the project's containers.conf and nothing from the
// caller's environment that would choose another one.
func (p *Podman) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.Path, args...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+filepath.Join(p.Dir, "containers.conf"))
	slog.Debug("podman", "args", args)
	return cmd
}

// output runs podman and returns its stdout; a failure carries its stderr.
func (p *Podman) output(ctx context.Context, args ...string) ([]byte, error) {
	cmd := p.command(ctx, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("podman %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// Image implements Engine: a scratch image holding only the static suite
// binary, tagged by the binary's hash, so it is rebuilt only when the
// binary changes. No registry is involved: FROM scratch, --pull=never.
func (p *Podman) Image(ctx context.Context, binary string) (string, error) {
	sum, err := runcache.FileSum(binary)
	if err != nil {
		return "", fmt.Errorf("suite image: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if ref, ok := p.images[sum]; ok {
		return ref, nil
	}
	ref := imageRepo + ":" + sum[:16]
	if label, err := p.imageLabel(ctx, ref); err == nil && label == sum {
		p.images[sum] = ref
		return ref, nil
	}
	if err := p.build(ctx, binary, ref, sum); err != nil {
		return "", err
	}
	p.images[sum] = ref
	p.pruneImages(ctx, ref)
	return ref, nil
}

// imageLabel returns the binary hash an existing image was built from.
func (p *Podman) imageLabel(ctx context.Context, ref string) (string, error) {
	out, err := p.output(ctx, "image", "inspect", "--format", "json", ref)
	if err != nil {
		return "", err
	}
	var images []struct{ Labels map[string]string }
	if err := json.Unmarshal(out, &images); err != nil || len(images) != 1 {
		return "", fmt.Errorf("podman image inspect %s: unexpected output", ref)
	}
	return images[0].Labels[hashLabel], nil
}

func (p *Podman) build(ctx context.Context, binary, ref, sum string) error {
	dir, err := os.MkdirTemp("", "bpfmatrix-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Link(binary, filepath.Join(dir, "suites.test")); err != nil {
		if err := copyFile(binary, filepath.Join(dir, "suites.test")); err != nil {
			return fmt.Errorf("suite image: %w", err)
		}
	}
	containerfile := "FROM scratch\nCOPY suites.test /suites.test\nENTRYPOINT [\"/suites.test\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Containerfile"), []byte(containerfile), 0o644); err != nil {
		return err
	}
	_, err = p.output(ctx, "build", "--quiet", "--pull=never", "--network=none",
		"--label", hashLabel+"="+sum, "--tag", ref, "--file", filepath.Join(dir, "Containerfile"), dir)
	if err != nil {
		return fmt.Errorf("suite image: %w", err)
	}
	return nil
}

// pruneImages removes suite images of older binaries. An image still in use
// by a running container (another bpfmatrix run) is kept: no --force.
func (p *Podman) pruneImages(ctx context.Context, keep string) {
	out, err := p.output(ctx, "images", "--filter", "reference="+imageRepo, "--format", "{{.Repository}}:{{.Tag}}")
	if err != nil {
		return
	}
	for _, ref := range strings.Fields(string(out)) {
		if ref != keep {
			if _, err := p.output(ctx, "rmi", ref); err != nil {
				slog.Debug("keep old suite image", "image", ref, "err", err)
			}
		}
	}
}

// Run implements Engine. The container is started with --rm and removed
// again afterwards, because a podman client that is killed leaves its
// container behind. A cancelled ctx stops the container with SIGTERM,
// which podman passes on to the suite.
func (p *Podman) Run(ctx context.Context, name string, args []string, out io.Writer) error {
	cmd := p.command(ctx, append([]string{"run", "--rm", "--name", name}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()

	cleanup, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, rmErr := p.output(cleanup, "rm", "--force", "--ignore", "--time", "0", name); rmErr != nil {
		err = errors.Join(err, rmErr)
	}
	return err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
