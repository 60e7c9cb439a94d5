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

// Record is one line of the stream a suite writes while it runs: either the
// facts of the kernel it runs on (written first) or one finished cell. The
// stream is JSON Lines so that a target that dies mid-run loses nothing that
// was already written.
type Record struct {
	Kernel *Kernel `json:"kernel,omitempty"`
	Cell   *Cell   `json:"cell,omitempty"`
}

// ReadRecords decodes a record stream. A torn last line (the target died while
// writing it) is ignored; any other malformed line is an error naming it.
func ReadRecords(name string, r io.Reader) (kernel *Kernel, cells []Cell, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	var pending error
	for line := 1; sc.Scan(); line++ {
		if pending != nil {
			return nil, nil, pending
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
			kernel = rec.Kernel
		case rec.Cell != nil:
			cells = append(cells, *rec.Cell)
		}
	}
	return kernel, cells, sc.Err()
}
