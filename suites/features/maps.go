package features

import (
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
	"github.com/bpfmatrix/bpfmatrix/suites/internal/rawbpf"
)

const (
	bpfFNoPrealloc  = 1 << 0
	bpfFMmapable    = 1 << 10
	structOpsTarget = "bpf_struct_ops_tcp_congestion_ops"
)

// mapProbe is what a map type insists on at creation: sizes, flags, and,
// for some, an inner map or BTF types.
type mapProbe struct {
	key, value, maxEntries, flags uint32
	// inner map-in-map types need an inner map to take as template.
	inner bool
	// btf: local storage types need BTF for their key and value (int, int).
	btf bool
	// structOps names the vmlinux BTF type of the struct_ops map value.
	structOps string
}

func mapProbeFor(t ebpf.MapType) mapProbe {
	p := mapProbe{key: 4, value: 4, maxEntries: 1}
	switch t {
	case ebpf.StackTrace:
		p.value = 8
	case ebpf.LPMTrie:
		p.key, p.value, p.flags = 8, 8, bpfFNoPrealloc
	case ebpf.ArrayOfMaps, ebpf.HashOfMaps:
		p.inner = true
	case ebpf.CGroupStorage, ebpf.PerCPUCGroupStorage:
		// struct bpf_cgroup_storage_key; max_entries must be 0.
		p.key, p.maxEntries = 16, 0
	case ebpf.Queue, ebpf.Stack, ebpf.BloomFilter:
		p.key = 0
	case ebpf.SkStorage, ebpf.InodeStorage, ebpf.TaskStorage, ebpf.CgroupStorage:
		p.maxEntries, p.flags, p.btf = 0, bpfFNoPrealloc, true
	case ebpf.StructOpsMap:
		p.btf, p.structOps = true, structOpsTarget
	case ebpf.RingBuf, ebpf.UserRingbuf:
		p.key, p.value, p.maxEntries = 0, 0, uint32(os.Getpagesize())
	case ebpf.Arena:
		p.key, p.value, p.maxEntries, p.flags = 0, 0, 1, bpfFMmapable
	}
	return p
}

var _ = registerAll("map/", func(f *catalog.Feature) {
	name := strings.TrimPrefix(f.ID, "map/")
	harness.Spec(f.ID, "creates a "+name+" map", func(c *harness.Cell) {
		p := mapProbeFor(f.Map)
		attr := &rawbpf.MapAttr{MapType: uint32(f.Map), KeySize: p.key, ValueSize: p.value, MaxEntries: p.maxEntries, Flags: p.flags}
		var extra []string
		if p.inner {
			inner, err := rawbpf.MapCreate(&rawbpf.MapAttr{MapType: uint32(ebpf.Array), KeySize: 4, ValueSize: 4, MaxEntries: 1})
			c.Create("create the inner array map", err)
			c.Defer(func() { unix.Close(inner) })
			attr.InnerMapFD = uint32(inner)
			extra = append(extra, "inner map array")
		}
		if p.btf {
			fd, intID := intBTF(c)
			attr.BTFFD = uint32(fd)
			if p.structOps == "" {
				attr.BTFKeyTypeID, attr.BTFValueTypeID = uint32(intID), uint32(intID)
				extra = append(extra, "BTF key and value int")
			}
		}
		if p.structOps != "" {
			id, size := vmlinuxStruct(c, p.structOps)
			attr.BTFVmlinuxValueTypeID, attr.ValueSize = uint32(id), size
			extra = append(extra, fmt.Sprintf("value %s, vmlinux BTF ID %d", p.structOps, id))
		}
		fd, err := rawbpf.MapCreate(attr)
		c.Create("create "+name+" map", err)
		unix.Close(fd)
		c.Supported("created a map of type %s: key %d B, value %d B, max_entries %d, flags %#x%s",
			name, attr.KeySize, attr.ValueSize, attr.MaxEntries, attr.Flags, paren(strings.Join(extra, "; ")))
	})
})

// intBTF loads a BTF blob holding one type, a 4-byte int, and returns its fd
// and the int's type ID; the blob stays loaded until the spec ends.
func intBTF(c *harness.Cell) (fd int, intID btf.TypeID) {
	var b btf.Builder
	id, err := b.Add(&btf.Int{Name: "int", Size: 4, Encoding: btf.Signed})
	c.Create("build BTF", err)
	h, err := btf.NewHandle(&b)
	c.Create("load BTF", err)
	c.Defer(func() { h.Close() })
	return h.FD(), id
}

// vmlinuxStruct finds the struct called name in the kernel's BTF.
func vmlinuxStruct(c *harness.Cell, name string) (btf.TypeID, uint32) {
	spec, err := harness.KernelBTF.Kernel()
	c.Create("load vmlinux BTF", err)
	var s *btf.Struct
	c.Create("find "+name+" in vmlinux BTF", spec.TypeByName(name, &s))
	id, err := spec.TypeID(s)
	c.Create("type ID of "+name, err)
	return id, s.Size
}
