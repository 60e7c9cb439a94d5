//go:build linux

package guest

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestRelayCountsWhatItPassesOn(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stream := strings.Repeat(`{"cell":{"feature":"attach/kprobe"}}`+"\n", 1000) + `{"cell":{"fea`
	go func() {
		w.WriteString(stream)
		w.Close()
	}()
	var port bytes.Buffer
	n, err := relay(&port, r)
	if err != nil || n != 1000 || port.String() != stream {
		t.Errorf("relay = %d, %v, %d bytes passed on; want 1000 lines and all %d bytes", n, err, port.Len(), len(stream))
	}
}

type brokenPort struct{}

func (brokenPort) Write([]byte) (int, error) { return 0, syscall.EIO }

// TestRelayFailureStopsTheWriter: when the records port fails, the suite's
// next record fails too, so the suite stops and says so by its exit code.
func TestRelayFailureStopsTheWriter(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteString("{}\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := relay(brokenPort{}, r); !errors.Is(err, syscall.EIO) {
		t.Errorf("relay = %v, want EIO", err)
	}
	if _, err := w.WriteString("{}\n"); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("write after the relay stopped: %v, want EPIPE", err)
	}
}
