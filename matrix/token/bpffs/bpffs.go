// Package bpffs hands a process in a user namespace a bpffs it can create
// BPF tokens from (Linux 6.9+), the way the kernel means unprivileged
// containers to get eBPF: the process inside opens the filesystem context
// (fsopen), so the superblock belongs to its user namespace, and a privileged
// process outside sets the delegate_* options on it, which nobody inside may
// do, creates it and sends back a detached mount. The two talk over a unix
// socket, passing file descriptors (SCM_RIGHTS).
//
// It imports nothing of the runner: the launcher that runs between clone and
// exec in the namespace is built from it alone.
package bpffs

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Delegation is what a bpffs lets BPF tokens created from it do: the bpf(2)
// commands, map types, program types and attach types, each as the mount
// option's value: "any", a mask such as "0x3", or (from Linux 6.10) names
// joined by ":". An empty field delegates nothing of that kind.
type Delegation struct {
	Cmds, Maps, Progs, Attachs string
}

// Any delegates every command, map, program and attach type.
var Any = Delegation{Cmds: "any", Maps: "any", Progs: "any", Attachs: "any"}

type option struct{ key, value string }

func (d Delegation) options() []option {
	var opts []option
	for _, o := range []option{{"delegate_cmds", d.Cmds}, {"delegate_maps", d.Maps}, {"delegate_progs", d.Progs}, {"delegate_attachs", d.Attachs}} {
		if o.value != "" {
			opts = append(opts, o)
		}
	}
	return opts
}

// String is d as mount options, the way a report names the setting:
// "delegate_cmds=any,delegate_maps=any,...".
func (d Delegation) String() string {
	var opts []string
	for _, o := range d.options() {
		opts = append(opts, o.key+"="+o.value)
	}
	if len(opts) == 0 {
		return "no delegate_* options"
	}
	return strings.Join(opts, ",")
}

// Delegate is the privileged side, for one process on the other end of
// conn: it receives the bpffs context that process opened in its user
// namespace, sets d's options, creates the superblock and sends back a
// detached mount of it. It needs CAP_SYS_ADMIN in the initial user
// namespace: the kernel refuses delegate_* options to anyone else.
func Delegate(conn int, d Delegation) error {
	if len(d.options()) == 0 {
		// The kernel would mount it, and then refuse every token (ENOENT).
		return errors.New("delegate a bpffs: the delegation names nothing")
	}
	fsfd, err := recvFD(conn)
	if err != nil {
		return fmt.Errorf("receive the bpffs context from the user namespace: %w", err)
	}
	defer unix.Close(fsfd)
	for _, o := range d.options() {
		if err := unix.FsconfigSetString(fsfd, o.key, o.value); err != nil {
			return fmt.Errorf("fsconfig bpffs %s=%s: %w", o.key, o.value, err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return fmt.Errorf("fsconfig bpffs FSCONFIG_CMD_CREATE: %w", err)
	}
	mnt, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("fsmount bpffs: %w", err)
	}
	defer unix.Close(mnt)
	if err := sendFD(conn, mnt); err != nil {
		return fmt.Errorf("send the bpffs mount into the user namespace: %w", err)
	}
	return nil
}

// MountDelegated is the side inside the user namespace, which must have a
// mount namespace of its own: it opens a bpffs context, sends it to the
// privileged process on the other end of conn (Delegate), and mounts the
// detached mount it gets back at dir.
func MountDelegated(conn int, dir string) error {
	fsfd, err := unix.Fsopen("bpf", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen bpf: %w", err)
	}
	err = sendFD(conn, fsfd)
	unix.Close(fsfd)
	if err != nil {
		return fmt.Errorf("send the bpffs context to the runner: %w", err)
	}
	mnt, err := recvFD(conn)
	if err != nil {
		return fmt.Errorf("receive the delegated bpffs from the runner: %w", err)
	}
	defer unix.Close(mnt)
	if err := unix.MoveMount(mnt, "", unix.AT_FDCWD, dir, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount the delegated bpffs to %s: %w", dir, err)
	}
	return nil
}

// sendFD sends fd and one byte of data: a stream socket carries control
// messages only with data.
func sendFD(conn, fd int) error {
	return unix.Sendmsg(conn, []byte{0}, unix.UnixRights(fd), nil, 0)
}

// recvFD receives one file descriptor. The other end closing conn first
// (it failed, and says why on its own side) is an error of its own, not an
// errno.
func recvFD(conn int) (int, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(conn, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return -1, err
	}
	if n == 0 {
		return -1, errors.New("the other side closed the socket without sending it")
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return -1, err
	}
	var fds []int
	for _, m := range msgs {
		got, err := unix.ParseUnixRights(&m)
		if err != nil {
			return -1, err
		}
		fds = append(fds, got...)
	}
	if len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("got %d file descriptors, want 1", len(fds))
	}
	return fds[0], nil
}
