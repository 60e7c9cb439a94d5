package rawbpf

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

func TestProbeBTFLoadAsRoot(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Skip("needs root: BPF_BTF_LOAD needs CAP_BPF")
	}
	if err := ProbeBTFLoad(); err != nil {
		t.Fatalf("a minimal BTF blob was refused: %v", err)
	}
}

func TestMapCreateAsRoot(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Skip("needs root: BPF_MAP_CREATE of an array needs CAP_BPF")
	}
	fd, err := MapCreate(&MapAttr{MapType: uint32(ebpf.Array), KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		t.Fatalf("an array map was refused: %v", err)
	}
	unix.Close(fd)
	// The kernel refuses a hash map without a key; the error says what was asked.
	if _, err := MapCreate(&MapAttr{MapType: uint32(ebpf.Hash), ValueSize: 4, MaxEntries: 1}); err == nil || !strings.Contains(err.Error(), "type 1, key 0") {
		t.Errorf("MapCreate(hash, key 0) = %v, want EINVAL naming the attributes", err)
	}
}

// TestProbeLoadAsRoot: a tracing program without a target reaches the
// verifier, which asks for one, on every kernel that has the type, unless
// a check before the verifier refuses it (as on this project's host).
func TestProbeLoadAsRoot(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Skip("needs root: bpf(BPF_PROG_LOAD)")
	}
	log, err := ProbeLoad(ebpf.Tracing, ebpf.AttachTraceRawTp)
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(log, "btf_id") {
		t.Errorf("tracing/raw_tp without a target: %v, log %q; want EINVAL and the verifier asking for a btf_id", err, log)
	}
	log, err = ProbeLoad(ebpf.Tracing, ebpf.AttachTraceFEntry)
	t.Logf("tracing/fentry without a target: %v, log %q", err, log)
	if err == nil {
		t.Error("a tracing program without a target loaded")
	}
}
