package detect

import (
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader("# comment\nCONFIG_BPF=y\nCONFIG_VETH=m\n# CONFIG_KPROBES is not set\nCONFIG_LSM=\"lockdown,bpf\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"CONFIG_BPF": "y", "CONFIG_VETH": "m", "CONFIG_LSM": "lockdown,bpf"}
	for k, v := range want {
		if cfg[k] != v {
			t.Errorf("%s = %q, want %q", k, cfg[k], v)
		}
	}
	if _, ok := cfg["CONFIG_KPROBES"]; ok {
		t.Error("an unset option must be absent")
	}
	if _, err := ParseConfig(strings.NewReader("not a config\n")); err == nil {
		t.Error("a file without CONFIG_ lines must be refused")
	}
}
