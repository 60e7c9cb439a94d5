package container

import (
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite matrix/container/podmanfiles/seccomp-bpf.json from the system's default profile")

// The shipped profile must be exactly podman's default profile plus the
// bpf rules, so that bpf-caps and bpf-caps-seccomp differ in nothing else.
func TestShippedProfileIsDerivedFromDefault(t *testing.T) {
	def, err := os.ReadFile(DefaultSeccompProfile)
	if err != nil {
		t.Skipf("needs podman's default seccomp profile (%v): apt-get install podman", err)
	}
	derived, err := DeriveBPFProfile(def)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("podmanfiles/seccomp-bpf.json", derived, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !sameJSON(t, derived, seccompBPF) {
		t.Fatalf("matrix/container/podmanfiles/seccomp-bpf.json is not %s with the bpf rules: run go test ./matrix/container -run %s -update", DefaultSeccompProfile, t.Name())
	}
}

func TestDeriveBPFProfile(t *testing.T) {
	def := `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
		{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
		{"names": ["bpf", "perf_event_open", "setns"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
		{"names": ["bpf", "perf_event_open", "setns"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
		{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}]}]}`
	out, err := DeriveBPFProfile([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Syscalls []struct {
			Names    []string
			Action   string
			Includes struct{ Caps []string }
			Excludes struct{ Caps []string }
			Args     []struct{ Value json.Number }
		}
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range p.Syscalls {
		got = append(got, strings.Join(r.Names, ",")+" "+r.Action+" +"+strings.Join(r.Includes.Caps, ",")+" -"+strings.Join(r.Excludes.Caps, ","))
	}
	want := []string{
		"read,write SCMP_ACT_ALLOW + -",
		"setns SCMP_ACT_ALLOW +CAP_SYS_ADMIN -",
		"setns SCMP_ACT_ERRNO + -CAP_SYS_ADMIN",
		"ptrace SCMP_ACT_ALLOW + -",
		"bpf SCMP_ACT_ALLOW +CAP_SYS_ADMIN -",
		"bpf SCMP_ACT_ALLOW +CAP_BPF -",
		"bpf SCMP_ACT_ERRNO + -CAP_SYS_ADMIN,CAP_BPF",
		"perf_event_open SCMP_ACT_ALLOW +CAP_SYS_ADMIN -",
		"perf_event_open SCMP_ACT_ALLOW +CAP_PERFMON -",
		"perf_event_open SCMP_ACT_ERRNO + -CAP_SYS_ADMIN,CAP_PERFMON",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if v := p.Syscalls[3].Args[0].Value; v != "4294967295" {
		t.Errorf("argument value %s, want 4294967295 kept exact", v)
	}

	if _, err := DeriveBPFProfile([]byte(`{"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}`)); err == nil {
		t.Error("a profile without the CAP_SYS_ADMIN rules for bpf was accepted")
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("matrix/container/podmanfiles/seccomp-bpf.json: %v", err)
	}
	return reflect.DeepEqual(x, y)
}
