// Package qmp speaks as much of QEMU's machine protocol (QMP) as bpfmatrix
// needs to save a running guest: connect to qemu's socket, run a command,
// read its answer. Events qemu sends meanwhile are skipped.
package qmp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"
)

// Conn is one QMP session in command mode.
type Conn struct {
	c net.Conn
	r *bufio.Reader
}

// Dial connects to the QMP server qemu listens on at the unix socket path,
// retrying until qemu has created it or ctx ends, and leaves capability
// negotiation so that commands can run.
func Dial(ctx context.Context, path string) (*Conn, error) {
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "unix", path)
		if err == nil {
			conn := &Conn{c: c, r: bufio.NewReader(c)}
			if err := conn.greet(); err != nil {
				c.Close()
				return nil, err
			}
			return conn, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("qmp %s: %w (last: %v)", path, context.Cause(ctx), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *Conn) greet() error {
	var hello struct {
		QMP json.RawMessage `json:"QMP"`
	}
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("qmp greeting: %w", err)
	}
	if err := json.Unmarshal(line, &hello); err != nil || hello.QMP == nil {
		return fmt.Errorf("qmp greeting: not QMP: %q", line)
	}
	_, err = c.Execute("qmp_capabilities", nil)
	return err
}

// Error is a command's failure as qemu states it.
type Error struct {
	Command, Class, Desc string
}

func (e *Error) Error() string { return fmt.Sprintf("qmp %s: %s: %s", e.Command, e.Class, e.Desc) }

// Execute runs command with args (nil for none) and returns its "return"
// value.
func (c *Conn) Execute(command string, args any) (json.RawMessage, error) {
	req := map[string]any{"execute": command}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := c.c.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("qmp %s: %w", command, err)
	}
	for {
		line, err := c.r.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("qmp %s: %w", command, err)
		}
		var resp struct {
			Return json.RawMessage `json:"return"`
			Error  *struct {
				Class string `json:"class"`
				Desc  string `json:"desc"`
			} `json:"error"`
			Event string `json:"event"`
		}
		if err := json.Unmarshal(line, &resp); err != nil {
			return nil, fmt.Errorf("qmp %s: answer %q: %w", command, line, err)
		}
		switch {
		case resp.Event != "":
			continue
		case resp.Error != nil:
			return nil, &Error{Command: command, Class: resp.Error.Class, Desc: resp.Error.Desc}
		case resp.Return != nil:
			return resp.Return, nil
		default:
			return nil, fmt.Errorf("qmp %s: answer %q is neither a return nor an error", command, line)
		}
	}
}

// Close ends the session.
func (c *Conn) Close() error {
	err := c.c.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
