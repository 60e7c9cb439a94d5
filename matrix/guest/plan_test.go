package guest

import (
	"errors"
	"testing"
	"time"
)

func TestExitLineRoundTrip(t *testing.T) {
	// Kernel messages may share the line, and a serial console adds "\r".
	line := "[ 3.2] random: crng init done\r" + ExitLine(1, 12500*time.Millisecond) + "\r"
	if code, ok := ParseExit(line); !ok || code != 1 {
		t.Errorf("ParseExit(%q) = %d, %v; want 1", line, code, ok)
	}
	if d, ok := ParseSuiteTime(line); !ok || d != 12500*time.Millisecond {
		t.Errorf("ParseSuiteTime(%q) = %s, %v; want 12.5s", line, d, ok)
	}
	for _, bad := range []string{"BPFMATRIX-EXITED 0", ExitMarker + " x", "EXIT 0"} {
		if _, ok := ParseExit(bad); ok {
			t.Errorf("ParseExit(%q) accepted a non-marker", bad)
		}
	}
}

func TestRecordsLineRoundTrip(t *testing.T) {
	line := "[ 9.1] veth: link up\r" + RecordsLine(184) + "\r"
	if n, ok := ParseRecords(line); !ok || n != 184 {
		t.Errorf("ParseRecords(%q) = %d, %v; want 184", line, n, ok)
	}
	if _, ok := ParseRecords(ExitLine(0, 0)); ok {
		t.Error("ParseRecords accepted an exit line")
	}
}

func TestBpftoolLineRoundTrip(t *testing.T) {
	why := "bpftool feature probe kernel -j: exit status 255"
	line := "[ 2.0] audit: type=1334\r" + BpftoolLine(0, 0, errors.New(why)) + "\r"
	if got, ok := ParseBpftoolFailure(line); !ok || got != why {
		t.Errorf("ParseBpftoolFailure(%q) = %q, %v; want %q", line, got, ok, why)
	}
	if got, ok := ParseBpftoolFailure(BpftoolLine(121630, 2*time.Second, nil)); ok {
		t.Errorf("ParseBpftoolFailure took a success line for a failure: %q", got)
	}
}

func TestBpftoolLineCarriesTheProbeTime(t *testing.T) {
	line := BpftoolLine(121625, 7*time.Second, nil) + "\r"
	if d, ok := ParseBpftoolTime(line); !ok || d != 7*time.Second {
		t.Errorf("ParseBpftoolTime(%q) = %s, %v; want 7s", line, d, ok)
	}
	failed := BpftoolLine(0, 0, errors.New("exit status 255"))
	if _, ok := ParseBpftoolTime(failed); ok {
		t.Errorf("ParseBpftoolTime(%q) read a time from a failed probe", failed)
	}
}

func TestRestoredLineCarriesTheClock(t *testing.T) {
	now := time.Date(2026, 12, 2, 23, 10, 8, 0, time.UTC)
	line := "[ 5.4] virtio_blk\r" + RestoredLine(246*time.Millisecond, now) + "\r"
	if got, ok := ParseRestoredClock(line); !ok || !got.Equal(now) {
		t.Errorf("ParseRestoredClock(%q) = %s, %v; want %s", line, got, ok, now)
	}
	if _, ok := ParseRestoredClock(SnapshotMarker); ok {
		t.Error("ParseRestoredClock read a clock from the snapshot's marker")
	}
}
