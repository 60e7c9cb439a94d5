package usertarget

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// Probe is one SystemTap SDT (USDT) probe of the target, with its addresses
// turned into the file offsets that uprobes take.
type Probe struct {
	Provider, Name          string
	Offset, SemaphoreOffset uint64
}

// USDT returns the target's probe provider:name.
func (t *Target) USDT(provider, name string) (Probe, error) { return findUSDT(t.Path, provider, name) }

// findUSDT reads the .note.stapsdt notes of path (cilium/ebpf has no USDT
// API) and returns the probe provider:name.
func findUSDT(path, provider, name string) (Probe, error) {
	f, err := elf.Open(path)
	if err != nil {
		return Probe{}, err
	}
	defer f.Close()
	notes := f.Section(".note.stapsdt")
	if notes == nil {
		return Probe{}, fmt.Errorf("%s: no .note.stapsdt section", path)
	}
	data, err := notes.Data()
	if err != nil {
		return Probe{}, err
	}
	// The notes record link-time addresses relative to .stapsdt.base; if the
	// binary was prelinked or moved, adjust by the section's real address.
	var baseAdjust int64
	if base := f.Section(".stapsdt.base"); base != nil {
		baseAdjust = int64(base.Addr)
	}
	probes, err := parseStapsdt(data, f.ByteOrder, baseAdjust)
	if err != nil {
		return Probe{}, fmt.Errorf("%s: %w", path, err)
	}
	for _, p := range probes {
		if p.Provider != provider || p.Name != name {
			continue
		}
		if p.Offset, err = fileOffset(f, p.Offset); err != nil {
			return Probe{}, err
		}
		if p.SemaphoreOffset != 0 {
			if p.SemaphoreOffset, err = fileOffset(f, p.SemaphoreOffset); err != nil {
				return Probe{}, err
			}
		}
		return p, nil
	}
	return Probe{}, fmt.Errorf("%s: no USDT probe %s:%s", path, provider, name)
}

// parseStapsdt decodes NT_STAPSDT notes: pc, base and semaphore addresses,
// then provider, name and argument strings. Addresses are returned as
// virtual addresses, corrected by baseAdjust - base.
func parseStapsdt(data []byte, order binary.ByteOrder, baseAdjust int64) ([]Probe, error) {
	const ntStapsdt = 3
	var probes []Probe
	for len(data) >= 12 {
		namesz, descsz, typ := order.Uint32(data), order.Uint32(data[4:]), order.Uint32(data[8:])
		nameEnd := 12 + align4(namesz)
		end := nameEnd + align4(descsz)
		if uint64(end) > uint64(len(data)) {
			return nil, fmt.Errorf("truncated .note.stapsdt")
		}
		desc := data[nameEnd : nameEnd+int(descsz)]
		data = data[end:]
		if typ != ntStapsdt || len(desc) < 24 {
			continue
		}
		pc, base, sem := order.Uint64(desc), order.Uint64(desc[8:]), order.Uint64(desc[16:])
		strs := bytes.SplitN(desc[24:], []byte{0}, 3)
		if len(strs) < 2 {
			return nil, fmt.Errorf("malformed stapsdt note")
		}
		if baseAdjust != 0 {
			pc = uint64(int64(pc) + baseAdjust - int64(base))
			if sem != 0 {
				sem = uint64(int64(sem) + baseAdjust - int64(base))
			}
		}
		probes = append(probes, Probe{Provider: string(strs[0]), Name: string(strs[1]), Offset: pc, SemaphoreOffset: sem})
	}
	return probes, nil
}

func align4(n uint32) int { return int((n + 3) &^ 3) }
