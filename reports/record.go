package reports

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

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
	// Lines counts the stream's lines, records or not: what arrived, to
	// compare with what the target says it sent.
	Lines int
	// Lost are the lines that were not records: torn by a target that died
	// mid-write, or by a write that failed.
	Lost []LostLine
}

// LostLine is a line of a record stream that could not be decoded.
type LostLine struct {
	// Line is its number, from 1.
	Line int
	// Err is why it is not a record.
	Err string
}

// ReadRecords decodes a record stream; see ReadStream.
func ReadRecords(name string, r io.Reader) (kernel *Kernel, cells []Cell, err error) {
	s, err := ReadStream(name, r)
	return s.Kernel, s.Cells, err
}

// ReadStream decodes a record stream, keeping every line that is a record.
// A line that is not (a target died mid-write, a write failed) loses only
// itself: the error names each such line, and the stream it returns holds
// everything else. A read error also returns what was decoded before it.
func ReadStream(name string, r io.Reader) (*Stream, error) {
	var s Stream
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		s.Lines++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var rec Record
		err := json.Unmarshal(b, &rec)
		switch {
		case err != nil:
			s.Lost = append(s.Lost, LostLine{s.Lines, err.Error()})
		case rec.Kernel != nil:
			s.Kernel = rec.Kernel
		case rec.Cell != nil:
			s.Cells = append(s.Cells, *rec.Cell)
		case rec.ProbePoints != nil:
			s.ProbePoints = rec.ProbePoints
		default:
			s.Lost = append(s.Lost, LostLine{s.Lines, "no kernel, cell or probepoints record"})
		}
	}
	if err := sc.Err(); err != nil {
		return &s, fmt.Errorf("records %s: after line %d: %w", name, s.Lines, err)
	}
	if len(s.Lost) > 0 {
		return &s, lostError(name, s.Lines, s.Lost)
	}
	return &s, nil
}

// lostError says in one line which lines of a stream were lost, naming the
// first few.
func lostError(name string, lines int, lost []LostLine) error {
	const named = 3
	var parts []string
	for _, l := range lost[:min(len(lost), named)] {
		parts = append(parts, fmt.Sprintf("line %d (%s)", l.Line, l.Err))
	}
	if len(lost) > named {
		parts = append(parts, fmt.Sprintf("and %d more", len(lost)-named))
	}
	return fmt.Errorf("records %s: %d of %d lines are not records, the rest are kept: %s", name, len(lost), lines, strings.Join(parts, ", "))
}
