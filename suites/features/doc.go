// Package features probes what the running kernel can load: every program
// type (prog/<bpftool name>), every map type (map/<bpftool name>), helpers
// per program type (helper/<program type>/<helper>), and miscellaneous
// probes (misc/<name>: instruction limit, bounded loops, ISA versions,
// bpf_link, kprobe_multi and uprobe_multi links). A misc/ probe asks
// whether the kernel accepts an object, as bpftool's do: misc/kprobe_multi
// creates a kprobe_multi link and closes it, while attach/kprobe.multi in
// suites/tracing attaches one and sees it fire.
//
// Each probe calls bpf(2) with the smallest object the kernel accepts and,
// where cilium/ebpf would turn the kernel's answer into ErrNotSupported,
// makes the call itself so the cell carries the kernel's errno. The specs
// are registered from the catalog rows (suites/catalog/rows/features.go),
// one per row. Every run compares them with `bpftool feature probe kernel`
// run in the same kernel beforehand (matrix/parity).
package features
