package flock

import (
	"bufio"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestLockExcludes holds the lock and takes it again from another
// goroutine (another open file, as another process would have): the second
// Lock must say it waits and return only once the first is released.
func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "lock")
	unlock, err := Lock(context.Background(), path, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	var released atomic.Bool
	log, logw := io.Pipe()
	done := make(chan bool)
	go func() {
		unlock2, err := Lock(context.Background(), path, "test", logw)
		if err != nil {
			t.Error(err)
		} else {
			unlock2()
		}
		done <- released.Load()
	}()
	line, _ := bufio.NewReader(log).ReadString('\n')
	if want := "test: waiting for " + path; !strings.Contains(line, want) {
		t.Errorf("second Lock said %q, want %q", line, want)
	}
	released.Store(true)
	unlock()
	if !<-done {
		t.Error("the second Lock returned while the first was held")
	}
}

// TestLockWaitEndsWithItsContext: a run interrupted while another holds
// the lock stops waiting, with the interrupt's cause, and leaves the lock
// to its holder.
func TestLockWaitEndsWithItsContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := Lock(context.Background(), path, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	interrupt := errors.New("interrupt")
	ctx, cancel := context.WithCancelCause(context.Background())
	log, logw := io.Pipe()
	done := make(chan error)
	go func() {
		_, err := Lock(ctx, path, "test", logw)
		done <- err
	}()
	bufio.NewReader(log).ReadString('\n') // it waits
	cancel(interrupt)
	if err := <-done; !errors.Is(err, interrupt) {
		t.Errorf("an interrupted Lock returned %v, want %v", err, interrupt)
	}
}
