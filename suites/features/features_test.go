package features

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
)

// The uapi enums in order, as `bpftool feature list_builtins` prints them
// (bpftool 7.1), with the types added since: each name's index is the
// kernel's number for it.
var (
	uapiProgTypes = strings.Fields(`unspec socket_filter kprobe sched_cls sched_act tracepoint xdp perf_event
		cgroup_skb cgroup_sock lwt_in lwt_out lwt_xmit sock_ops sk_skb cgroup_device sk_msg raw_tracepoint
		cgroup_sock_addr lwt_seg6local lirc_mode2 sk_reuseport flow_dissector cgroup_sysctl
		raw_tracepoint_writable cgroup_sockopt tracing struct_ops ext lsm sk_lookup syscall netfilter`)
	uapiMapTypes = strings.Fields(`unspec hash array prog_array perf_event_array percpu_hash percpu_array
		stack_trace cgroup_array lru_hash lru_percpu_hash lpm_trie array_of_maps hash_of_maps devmap sockmap
		cpumap xskmap sockhash cgroup_storage reuseport_sockarray percpu_cgroup_storage queue stack sk_storage
		devmap_hash struct_ops ringbuf inode_storage task_storage bloom_filter user_ringbuf cgrp_storage arena`)
)

// TestCatalogNamesMatchUAPI checks that every program and map type has a
// row, and that each row's name is the bpftool name of its type's number:
// parity with bpftool (matrix/parity) and the reports rely on the names.
func TestCatalogNamesMatchUAPI(t *testing.T) {
	for i, name := range uapiProgTypes[1:] {
		f, ok := catalog.Lookup("prog/" + name)
		if !ok {
			t.Errorf("no catalog row prog/%s", name)
			continue
		}
		if got := int(f.Prog); got != i+1 {
			t.Errorf("prog/%s: program type %d (%s), want %d", name, got, f.Prog, i+1)
		}
	}
	for i, name := range uapiMapTypes[1:] {
		f, ok := catalog.Lookup("map/" + name)
		if !ok {
			t.Errorf("no catalog row map/%s", name)
			continue
		}
		if got := int(f.Map); got != i+1 {
			t.Errorf("map/%s: map type %d (%s), want %d", name, got, f.Map, i+1)
		}
	}
}

func TestHelperByName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want asm.BuiltinFunc
	}{
		{"bpf_map_lookup_elem", asm.FnMapLookupElem},
		{"bpf_l3_csum_replace", asm.FnL3CsumReplace},
		{"bpf_get_prandom_u32", asm.FnGetPrandomU32},
		{"bpf_redirect", asm.FnRedirect},
		{"bpf_skc_to_tcp6_sock", asm.FnSkcToTcp6Sock},
		{"bpf_user_ringbuf_drain", asm.FnUserRingbufDrain},
	} {
		got, ok := helperByName(tc.name)
		if !ok || got != tc.want {
			t.Errorf("helperByName(%q) = %v, %v; want %v", tc.name, got, ok, tc.want)
		}
	}
	if _, ok := helperByName("bpf_no_such_helper"); ok {
		t.Error("helperByName found bpf_no_such_helper")
	}
}

// TestEveryHelperRowResolves checks that each helper/<type>/<helper> row
// names a program type with a prog/ row and a helper cilium/ebpf knows, so
// no spec panics at registration inside a target.
func TestEveryHelperRowResolves(t *testing.T) {
	n := 0
	for _, f := range catalog.All() {
		if !strings.HasPrefix(f.ID, "helper/") {
			continue
		}
		n++
		parts := strings.Split(f.ID, "/")
		if len(parts) != 3 {
			t.Errorf("%s: want helper/<program type>/<helper>", f.ID)
			continue
		}
		if p, ok := catalog.Lookup("prog/" + parts[1]); !ok || p.Prog != f.Prog {
			t.Errorf("%s: program type %s has no matching prog/ row", f.ID, parts[1])
		}
		if _, ok := helperByName(parts[2]); !ok {
			t.Errorf("%s: cilium/ebpf knows no helper %s", f.ID, parts[2])
		}
	}
	if n == 0 {
		t.Fatal("no helper rows in the catalog")
	}
}

func TestLastLineWith(t *testing.T) {
	log := []string{
		"0: R1=ctx() R10=fp0",
		"4: (85) call bpf_override_return#58",
		"program of this type cannot use helper bpf_override_return#58",
		"processed 5 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
		"",
	}
	if line, ok := lastLineWith(log, helperRefusals...); !ok || !strings.HasPrefix(line, "program of this type") {
		t.Errorf("refusal: got %q, %v", line, ok)
	}
	if line, _ := lastLineWith(log, ""); !strings.HasPrefix(line, "program of this type") {
		t.Errorf("any line: got %q, want the last line before the statistics", line)
	}
	if _, ok := lastLineWith(log[:2], helperRefusals...); ok {
		t.Error("found a refusal in a log without one")
	}
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"SkbLoadBytes":  "skb_load_bytes",
		"L3CsumReplace": "l3_csum_replace",
		"GetPrandomU32": "get_prandom_u32",
		"SkcToTcp6Sock": "skc_to_tcp6_sock",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}
