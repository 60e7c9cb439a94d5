package objects

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/internal/contract"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

// workload is the built-in trigger of the tracing kinds: a mix of the
// syscalls and kernel paths programs commonly hook (getpgid, open, a file
// written and unlinked, fork and a failed exec, a sysctl read), each
// TriggerCalls times. Which of them reach a user's hook is the user's
// program's business, so it claims one run, the least; a hook none of them
// reaches needs a trigger of the manifest's.
func workload() harness.Trigger {
	parts := []harness.Trigger{harness.Getpgid(), harness.OpenFile(), writeAndUnlink(), harness.Fork(), harness.ReadSysctl(), loopbackTCP()}
	var what []string
	for _, t := range parts {
		what = append(what, t.What)
	}
	return harness.Trigger{What: strings.Join(what, ", "), Events: 1}
}

func writeAndUnlink() harness.Trigger {
	dir := os.TempDir()
	return harness.Repeat("files created (open and mknod), written, synced and unlinked", func() {
		if f, err := os.CreateTemp(dir, "bpfmatrix-trigger-"); err == nil {
			_, _ = f.WriteString("bpfmatrix")
			_ = f.Sync()
			f.Close()
			os.Remove(f.Name())
		}
		node := filepath.Join(dir, fmt.Sprintf("bpfmatrix-trigger-node-%d", os.Getpid()))
		if unix.Mknod(node, unix.S_IFREG|0o600, 0) == nil {
			os.Remove(node)
		}
	})
}

// loopbackTCP connects to a listener on 127.0.0.1 and closes: TCP's
// connect and state paths, where the target's loopback is up.
func loopbackTCP() harness.Trigger {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return harness.Trigger{What: "no loopback TCP connection (" + err.Error() + ")"}
	}
	defer ln.Close()
	return harness.Repeat("loopback TCP connections", func() {
		if conn, err := net.Dial("tcp4", ln.Addr().String()); err == nil {
			if peer, err := ln.Accept(); err == nil {
				peer.Close()
			}
			conn.Close()
		}
	})
}

// userTriggerTimeout bounds a user's trigger command.
const userTriggerTimeout = time.Minute

// userTrigger runs the manifest's (or --trigger's) command with /bin/sh in
// the staged objects' directory, the run's one event at the least. A
// command that fails ends the spec as the harness's error: its output says
// why.
func userTrigger(c *harness.Cell, command string) harness.Trigger {
	c.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), userTriggerTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Dir = os.Getenv(contract.ObjectsEnv)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		// %v: the command's failure is the user's or the target's, never
		// an errno the kernel answered for the program.
		err = fmt.Errorf("%v: %s", err, tail(string(out)))
	}
	c.Triggered(fmt.Sprintf("run trigger %q (with /bin/sh in %s)", command, filepath.Clean(cmd.Dir)), err)
	return harness.Trigger{What: fmt.Sprintf("the trigger %q", command), Events: 1}
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		s = "…" + s[len(s)-300:]
	}
	return strings.ReplaceAll(s, "\n", " | ")
}
