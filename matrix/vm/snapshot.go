package vm

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/flock"
	"github.com/bpfmatrix/bpfmatrix/internal/qmp"
	"github.com/bpfmatrix/bpfmatrix/matrix"
	"github.com/bpfmatrix/bpfmatrix/matrix/guest"
	"github.com/bpfmatrix/bpfmatrix/matrix/runcache"
	"github.com/bpfmatrix/bpfmatrix/vmimages"
	"github.com/bpfmatrix/bpfmatrix/vmimages/initramfs"
)

// A snapshot is a guest booted once and saved by qemu just before its
// suite would start: kernel up, filesystems mounted, modules loaded,
// bpftool's probe answered, ftrace's list of functions copied
// (docs/speed.md#snapshots). A run restores it
// instead of booting, and hands it the run's own files (the suite binary,
// the objects, the kernel's config, the plan) on a virtio disk, the
// payload (guest/payload.go). Under TCG the boot and the guest's work
// before the suite are 2 to 5 s of every run; a restore is a fraction of a
// second.
//
// A snapshot is only valid for the very machine it was saved from, so its
// key is everything qemu and the guest were given: qemu's version, its
// command line, the kernel file, and the bytes of the initramfs (/init,
// the modules, bpftool and its libraries, the plan).
type snapshot struct {
	dir  string
	meta snapshotMeta
}

// snapshotMeta is snapshot.json, written last: an entry without it is
// incomplete.
type snapshotMeta struct {
	Key     string    `json:"key"`
	Kernel  string    `json:"kernel"`
	Release string    `json:"release"`
	Created time.Time `json:"created"`
	// Took is how long booting and saving the guest took.
	Took time.Duration `json:"took_ns"`
	// StateBytes is the state file's size: qemu's cat does not sync it,
	// so a machine that lost power may keep a shorter one.
	StateBytes int64 `json:"state_bytes"`
}

// Files of a snapshot's directory.
const (
	snapshotMetaFile = "snapshot.json"
	snapshotState    = "state"
	snapshotInitrd   = "initrd.cpio"
)

func (s *snapshot) path(name string) string { return filepath.Join(s.dir, name) }

// console and bpftool are the snapshot's console log and bpftool's answer,
// which every restored run's files start with.
func (s *snapshot) console() string { return RunFiles(s.dir)[0] }
func (s *snapshot) bpftool() string { return RunFiles(s.dir)[3] }

// snapshotPlan is the plan of kernel k's snapshot guest for runs of plan:
// its lines to the host and bpftool's probe, the modules, and the wait for
// a payload. The payload disk needs virtio_blk, and virtio_pci where it is
// a module.
func snapshotPlan(a *initramfs.Archive, k *vmimages.Kernel, plan guest.Plan) (guest.Plan, error) {
	base := guest.Plan{Channels: plan.Channels, Bpftool: plan.Bpftool, Snapshot: true}
	if err := addKernelWork(a, k, &base, []string{"virtio_pci", "virtio_blk"}); err != nil {
		return base, err
	}
	return base, nil
}

// snapshot returns kernel k's snapshot for runs of plan, saving one first
// if the cache has none; created says it did.
func (c *Config) snapshot(ctx context.Context, init string, k *vmimages.Kernel, plan guest.Plan, p *matrix.Progress) (snap *snapshot, created bool, err error) {
	a := initramfs.New()
	if err := a.AddFile("init", init); err != nil {
		return nil, false, err
	}
	base, err := snapshotPlan(a, k, plan)
	if err != nil {
		return nil, false, err
	}
	if err := addPlan(a, &base); err != nil {
		return nil, false, err
	}
	var initrd bytes.Buffer
	if _, err := a.WriteTo(&initrd); err != nil {
		return nil, false, err
	}
	key, err := c.snapshotKey(k, initrd.Bytes())
	if err != nil {
		return nil, false, err
	}
	snap = &snapshot{dir: filepath.Join(c.Snapshots, key)}
	unlock, err := flock.Lock(ctx, snap.dir+".lock", "snapshot of "+k.Release, p)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	switch err := snap.check(); {
	case err == nil:
		// Its modification time says when it was last used (pruneSnapshots).
		now := time.Now()
		_ = os.Chtimes(snap.path(snapshotMetaFile), now, now)
		return snap, false, nil
	case !errors.Is(err, os.ErrNotExist):
		p.Printf("%v: saving it again", err)
	}
	p.Printf("saving a snapshot of %s booted (once per kernel and guest: later runs restore it)", k.Release)
	tmp, err := os.MkdirTemp(c.Snapshots, key+".tmp-")
	if err != nil {
		return nil, false, err
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	if err := os.WriteFile(filepath.Join(tmp, snapshotInitrd), initrd.Bytes(), 0o644); err != nil {
		return nil, false, err
	}
	// The machine is the restore's, with the state going out instead of
	// coming in and the payload all zeros: the guest waits for a header.
	m := c.restoreMachine(k, &snapshot{dir: tmp}, filepath.Join(tmp, "payload.img"), "")
	m.AppendSerial = false
	if err := writePayload(m.Disk, nil); err != nil {
		return nil, false, err
	}
	if err := c.save(ctx, m, filepath.Join(tmp, snapshotState)); err != nil {
		return nil, false, fmt.Errorf("snapshot of %s: %w", k.Release, err)
	}
	removeQuietly(m.Disk, m.Serial[1], m.Serial[2])
	st, err := os.Stat(filepath.Join(tmp, snapshotState))
	if err != nil {
		return nil, false, err
	}
	snap.meta = snapshotMeta{Key: key, Kernel: k.Vmlinux, Release: k.Release, Created: time.Now().UTC(), Took: time.Since(start), StateBytes: st.Size()}
	meta, err := json.Marshal(snap.meta)
	if err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(filepath.Join(tmp, snapshotMetaFile), meta, 0o644); err != nil {
		return nil, false, err
	}
	_ = os.RemoveAll(snap.dir) // an entry without its snapshot.json
	if err := os.Rename(tmp, snap.dir); err != nil {
		return nil, false, err
	}
	pruneSnapshots(c.Snapshots, snap.meta)
	p.Printf("snapshot of %s saved in %.1fs", k.Release, snap.meta.Took.Seconds())
	return snap, true, nil
}

// check reads the snapshot's snapshot.json into s.meta and checks its
// state file is whole; an error wrapping os.ErrNotExist says there is no
// snapshot yet.
func (s *snapshot) check() error {
	b, err := os.ReadFile(s.path(snapshotMetaFile))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &s.meta); err != nil {
		return fmt.Errorf("snapshot %s: %s: %v", s.dir, snapshotMetaFile, err)
	}
	st, err := os.Stat(s.path(snapshotState))
	if err != nil {
		return fmt.Errorf("snapshot %s: %v", s.dir, err)
	}
	if st.Size() != s.meta.StateBytes {
		return fmt.Errorf("snapshot %s: its state has %d bytes, not the %d saved", s.dir, st.Size(), s.meta.StateBytes)
	}
	return nil
}

// snapshotKey is the snapshot's cache key: qemu's version and command line
// (files named by their role), the kernel file's path, size and time (the
// kernel cache's directory names the package's hash), the initramfs.
func (c *Config) snapshotKey(k *vmimages.Kernel, initrd []byte) (string, error) {
	m := c.restoreMachine(k, &snapshot{dir: ""}, "payload.img", "")
	m.Vmlinux, m.Initrd = "vmlinux", "initrd"
	qemu, err := lookQemu(m.Qemu, m.arch())
	if err != nil {
		return "", err
	}
	version, err := runcache.ToolVersion(qemu, "--version")
	if err != nil {
		return "", err
	}
	st, err := os.Stat(k.Vmlinux)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "bpfmatrix snapshot 1\nqemu %s\n%s\nkernel %s %d %d\npayload %d\n", version, shellQuote(append([]string{qemu}, m.Args()...)),
		k.Vmlinux, st.Size(), st.ModTime().UnixNano(), guest.PayloadSize)
	h.Write(initrd)
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// restoreMachine is the machine of a run restored from snap with the
// payload disk; incoming is where its state comes from ("" when saving).
func (c *Config) restoreMachine(k *vmimages.Kernel, snap *snapshot, payload, incoming string) *Machine {
	m := &Machine{Arch: c.arch(), Qemu: c.Qemu, Vmlinux: k.Vmlinux, Initrd: snap.path(snapshotInitrd), Append: cmdline(c.Append),
		MemoryMiB: c.MemoryMiB, CPUs: c.CPUs, Serial: RunFiles(snap.dir), Disk: payload, Incoming: incoming, AppendSerial: true}
	return m
}

// save boots m, waits for its guest to say it is ready to be saved, and
// has qemu write its state to the file state.
func (c *Config) save(ctx context.Context, m *Machine, state string) error {
	sockDir, err := os.MkdirTemp("", "bpfmatrix-qmp-") // a socket's path is at most 108 bytes
	if err != nil {
		return err
	}
	defer os.RemoveAll(sockDir)
	m.QMP = filepath.Join(sockDir, "qmp")
	ctx, cancel := context.WithTimeoutCause(ctx, cmp.Or(c.Timeout, DefaultIdle), errors.New("the guest did not get ready to be saved"))
	defer cancel()
	exited := make(chan error, 1)
	go func() {
		_, err := m.Run(ctx)
		exited <- err
	}()
	if err := waitConsole(ctx, m.Serial[0], guest.SnapshotMarker, exited); err != nil {
		cancel()
		<-exited
		return err
	}
	conn, err := qmp.Dial(ctx, m.QMP)
	if err == nil {
		err = migrate(ctx, conn, state)
		conn.Close()
	}
	cancel() // qemu has nothing more to do: saved, or failed to
	<-exited
	return err
}

// migrate has qemu write the running guest's state to the file state, and
// waits until it has. The guest keeps running meanwhile, which is what a
// restore resumes: a guest saved stopped would be restored stopped.
func migrate(ctx context.Context, conn *qmp.Conn, state string) error {
	// qemu's default bandwidth limit (32 MiB/s in 7.2) would make the
	// save seconds long.
	if _, err := conn.Execute("migrate-set-parameters", map[string]any{"max-bandwidth": int64(1) << 40}); err != nil {
		return err
	}
	if _, err := conn.Execute("migrate", map[string]any{"uri": "exec:cat > " + shellQuote1(state)}); err != nil {
		return err
	}
	for {
		b, err := conn.Execute("query-migrate", nil)
		if err != nil {
			return err
		}
		var st struct {
			Status    string `json:"status"`
			ErrorDesc string `json:"error-desc"`
		}
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("query-migrate: %w", err)
		}
		switch st.Status {
		case "completed":
			return nil
		case "failed", "cancelled":
			return fmt.Errorf("saving the guest %s: %s", st.Status, st.ErrorDesc)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitConsole waits until the console file at path has a line starting
// with marker. qemu exiting first (a panic, /init failing) is an error
// quoting the console's end.
func waitConsole(ctx context.Context, path, marker string, exited <-chan error) error {
	for {
		if consoleHas(path, marker) {
			return nil
		}
		select {
		case err := <-exited:
			c, rerr := readConsole(path)
			if rerr != nil {
				return fmt.Errorf("qemu ended before %s (%v): %v", marker, err, rerr)
			}
			return fmt.Errorf("qemu ended before %s (%v); console:\n%s", marker, err, c.tail(20))
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// consoleHas says whether the console file at path has a line starting
// with marker.
func consoleHas(path, marker string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(strings.TrimSpace(sc.Text()), marker) {
			return true
		}
	}
	return false
}

// restore runs the suite of plan on kernel k in dir by restoring snap and
// handing the guest a payload of the run's files; prep is how long writing
// the payload and the run's files took, took qemu's run.
func (c *Config) restore(ctx context.Context, snap *snapshot, k *vmimages.Kernel, binary string, s *matrix.Suite, plan guest.Plan, dir string, p *matrix.Progress) (out matrix.Outcome, prep, took time.Duration) {
	start := time.Now()
	a := initramfs.New()
	plan.Bpftool = nil // the snapshot ran it
	err := addSuite(a, binary, s, k, &plan)
	if err == nil {
		err = addPlan(a, &plan)
	}
	payload := filepath.Join(dir, "payload.img")
	if err == nil {
		err = writePayload(payload, a)
	}
	defer removeQuietly(payload) // as big as the suite binary; rebuilt each run
	files := RunFiles(dir)
	// The run's console starts as the snapshot's, the modules' and
	// bpftool's lines included; bpftool's answer is the snapshot's. The
	// other lines start empty.
	for i, src := range []string{snap.console(), "", "", snap.bpftool()} {
		if err == nil {
			err = copyFile(files[i], src)
		}
	}
	if err != nil {
		return matrix.Outcome{Status: matrix.RunError, Detail: err.Error()}, time.Since(start), 0
	}
	prep = time.Since(start)
	p.Printf("restoring %s from its snapshot of %s", k.Release, snap.meta.Created.Local().Format(time.DateTime))
	m := c.restoreMachine(k, snap, payload, "exec:cat "+shellQuote1(snap.path(snapshotState)))
	m.Serial = files
	out, took = c.boot(ctx, m, dir, p)
	return out, prep, took
}

// writePayload writes the payload disk at path: a header and archive a, or
// all zeros for a nil a (a snapshot's, which the guest waits on).
func writePayload(path string, a *initramfs.Archive) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if a != nil {
		err = writeArchive(f, a)
	}
	if err == nil {
		err = f.Truncate(guest.PayloadSize) // sparse: the disk's size is fixed
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write the payload %s: %w", path, err)
	}
	return nil
}

func writeArchive(f *os.File, a *initramfs.Archive) error {
	if _, err := f.Seek(guest.PayloadHeaderSize, io.SeekStart); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	n, err := a.WriteTo(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return err
	}
	hdr, err := guest.NewPayloadHeader(n, time.Now()).Marshal()
	if err != nil {
		return err
	}
	_, err = f.WriteAt(hdr, 0)
	return err
}

// copyFile copies src to dst; an empty src makes dst empty.
func copyFile(dst, src string) error {
	var data []byte
	if src != "" {
		var err error
		if data, err = os.ReadFile(src); err != nil {
			return err
		}
	}
	return os.WriteFile(dst, data, 0o644)
}

// pruneSnapshots removes the snapshots of kept's kernel other than kept
// that have not been used for an hour: each change to /init, the modules
// or qemu makes a new one, and a snapshot is ~100 MB. One used in the last
// hour may be another process's, restoring it now.
func pruneSnapshots(dir string, kept snapshotMeta) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == kept.Key || strings.Contains(e.Name(), ".tmp-") {
			continue
		}
		metaPath := filepath.Join(dir, e.Name(), snapshotMetaFile)
		b, err := os.ReadFile(metaPath)
		var meta snapshotMeta
		if err != nil || json.Unmarshal(b, &meta) != nil || meta.Kernel != kept.Kernel {
			continue
		}
		if st, err := os.Stat(metaPath); err == nil && time.Since(st.ModTime()) > time.Hour {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
			_ = os.Remove(filepath.Join(dir, e.Name()+".lock"))
		}
	}
}

// shellQuote1 quotes one word for the shell qemu's exec: migration runs.
func shellQuote1(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
