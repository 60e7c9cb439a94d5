package reports

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// CellsEnv names the file (or, inside a VM, the serial device) a suite
// writes its record stream to. The suite and every target agree on it here,
// where the stream's format is defined.
const CellsEnv = "BPFMATRIX_CELLS"

// Record is one line of the stream a suite writes while it runs: the facts
// of the kernel it runs on (written first), one finished cell, or the
// kernel's probe points. The stream is JSON Lines so that a target that dies
// mid-run loses nothing that was already written.
type Record struct {
	Kernel      *Kernel      `json:"kernel,omitempty"`
	Cell        *Cell        `json:"cell,omitempty"`
	ProbePoints *ProbePoints `json:"probepoints,omitempty"`
}

// Stream is everything a record stream held.
type Stream struct {
	Kernel *Kernel
	Cells  []Cell
	// ProbePoints is the last probe points record, lists included.
	ProbePoints *ProbePoints
}

// ReadRecords decodes a record stream. A torn last line (the target died while
// writing it) is ignored; any other malformed line is an error naming it.
func ReadRecords(name string, r io.Reader) (kernel *Kernel, cells []Cell, err error) {
	s, err := ReadStream(name, r)
	if s == nil {
		return nil, nil, err
	}
	return s.Kernel, s.Cells, err
}

// ReadStream is ReadRecords for readers that want every kind of record. On a
// read error it returns what it decoded before it, as well as the error.
func ReadStream(name string, r io.Reader) (*Stream, error) {
	var s Stream
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	var pending error
	for line := 1; sc.Scan(); line++ {
		if pending != nil {
			return nil, pending
		}
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			// Only fatal if another line follows: the last one may be torn.
			pending = fmt.Errorf("records %s line %d: %w", name, line, err)
			continue
		}
		switch {
		case rec.Kernel != nil:
			s.Kernel = rec.Kernel
		case rec.Cell != nil:
			s.Cells = append(s.Cells, *rec.Cell)
		case rec.ProbePoints != nil:
			s.ProbePoints = rec.ProbePoints
		}
	}
	if err := sc.Err(); err != nil {
		return &s, fmt.Errorf("records %s: %w", name, err)
	}
	return &s, nil
}
