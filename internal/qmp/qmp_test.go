package qmp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// fakeQemu answers a QMP session as qemu does: the greeting, then one
// answer per command, with an event before each answer. It stands in for
// qemu in a test of the protocol code around it.
func fakeQemu(t *testing.T, path string, answer func(command string) string) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte(`{"QMP": {"version": {"qemu": {"major": 7}}, "capabilities": []}}` + "\n"))
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			var req struct {
				Execute string `json:"execute"`
			}
			if json.Unmarshal(sc.Bytes(), &req) != nil {
				return
			}
			c.Write([]byte(`{"event": "RESUME", "timestamp": {"seconds": 1}}` + "\n" + answer(req.Execute) + "\n"))
		}
	}()
}

func TestExecuteReturnsTheAnswerPastEvents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qmp")
	fakeQemu(t, path, func(command string) string {
		switch command {
		case "qmp_capabilities":
			return `{"return": {}}`
		case "query-migrate":
			return `{"return": {"status": "completed"}}`
		default:
			return `{"error": {"class": "CommandNotFound", "desc": "The command ` + command + ` has not been found"}}`
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := Dial(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got, err := conn.Execute("query-migrate", nil)
	if err != nil || string(got) != `{"status": "completed"}` {
		t.Errorf("query-migrate = %s, %v", got, err)
	}
	_, err = conn.Execute("no-such", map[string]any{"x": 1})
	var qerr *Error
	if !errors.As(err, &qerr) || qerr.Class != "CommandNotFound" {
		t.Errorf("no-such: %v, want a CommandNotFound Error", err)
	}
}

func TestDialWaitsForTheSocketUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Dial(ctx, filepath.Join(t.TempDir(), "none")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial of a socket nobody serves: %v, want the context's deadline", err)
	}
}
