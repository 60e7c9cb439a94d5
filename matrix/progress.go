package matrix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bpfmatrix/bpfmatrix/matrix/parity"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Progress reports one target's run on the terminal: its state changes
// always, and each finished cell only when the output is a terminal, so CI
// logs get one line per state change.
type Progress struct {
	w      io.Writer
	prefix string
	total  int
	tty    bool

	mu   sync.Mutex
	done int
}

var logMu sync.Mutex // one line at a time across parallel targets

// NewProgress returns the progress of one target, labelled prefix, that
// will write total cells.
func NewProgress(w io.Writer, prefix string, total int) *Progress {
	return &Progress{w: w, prefix: prefix, total: total, tty: isTerminal(w)}
}

// Printf prints one state line: "[5.10 vm] booting".
func (p *Progress) Printf(format string, args ...any) {
	logMu.Lock()
	defer logMu.Unlock()
	fmt.Fprintf(p.w, "[%s] %s\n", p.prefix, fmt.Sprintf(format, args...))
}

// Write prints each line of b as a progress line: another package's log
// (a fetch, a lock's wait) read as this target's.
func (p *Progress) Write(b []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if line != "" {
			p.Printf("%s", line)
		}
	}
	return len(b), nil
}

// Cell notes one finished cell.
func (p *Progress) Cell(c reports.Cell) {
	p.mu.Lock()
	p.done++
	done := p.done
	p.mu.Unlock()
	if p.tty {
		mark := ""
		if c.Unexpected {
			mark = " (unexpected)"
		}
		p.Printf("%d/%d %s %s%s", done, p.total, c.Feature, c.Status, mark)
	}
}

// Summary prints how a run ended and what its cells say, and for a run that
// did not end well the first line of its detail: the cause.
func (p *Progress) Summary(run reports.Run) {
	counts := map[reports.Status]int{}
	unexpected := 0
	for _, c := range run.Cells {
		counts[c.Status]++
		if c.Unexpected {
			unexpected++
		}
	}
	release := run.Kernel.Release
	if release == "" {
		release = "unknown" // the suite never said
	}
	line := fmt.Sprintf("%s in %.1fs, kernel %s, seed %d: %d cells, %d supported, %d unsupported",
		run.Status, run.WallTime, release, run.Seed, len(run.Cells), counts[reports.Supported], counts[reports.Unsupported])
	for _, s := range reports.Statuses[2:] {
		if counts[s] > 0 {
			line += fmt.Sprintf(", %d %s", counts[s], s)
		}
	}
	line = fmt.Sprintf("%s, %d unexpected", line, unexpected)
	if run.Status != RunOK && run.Detail != "" {
		line += "; " + firstLine(run.Detail)
	}
	p.Printf("%s", line)
	// Each unexpected cell on its own line, with what was expected and the
	// kernel's words: a CI log often shows nothing of a run but this. A
	// broken run's cells all say how it broke, which its line says once.
	if run.Status == RunOK {
		lines, more := run.Deviations(maxUnexpectedShown)
		for _, line := range lines {
			p.Printf("unexpected: %s", line)
		}
		if more > 0 {
			p.Printf("unexpected: %d more, in the report", more)
		}
	}
	if pr := run.Parity; pr != nil {
		// Each disagreement on its own line with both answers: the
		// summary is all a CI log shows of a run.
		for _, line := range strings.Split(parity.Summary(pr), "\n") {
			p.Printf("%s", line)
		}
		for _, d := range pr.Undecided {
			p.Printf("parity with bpftool: %s not compared: %s", d.Feature, d.Reason)
		}
	}
}

// maxUnexpectedShown caps the unexpected cells a summary names: past it a
// kernel that broke everything would bury the rest of the log.
const maxUnexpectedShown = 10

// Watch follows a record stream that another process appends to and notes
// each cell as it lands; the returned func stops it after a last read.
func (p *Progress) Watch(path string) (stop func()) {
	var offset int64
	var partial []byte
	read := func() {
		f, err := os.Open(path)
		if err != nil {
			return
		}
		defer f.Close()
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			return
		}
		data, _ := io.ReadAll(f)
		offset += int64(len(data))
		partial = append(partial, data...)
		for {
			i := bytes.IndexByte(partial, '\n')
			if i < 0 {
				break
			}
			var rec reports.Record
			if json.Unmarshal(partial[:i], &rec) == nil && rec.Cell != nil {
				p.Cell(*rec.Cell)
			}
			partial = partial[i+1:]
		}
	}
	stopPoll := Poll(200*time.Millisecond, func() bool { read(); return false })
	return func() { stopPoll(); read() }
}

// Poll calls fn every interval, from its own goroutine, until fn returns
// true or stop is called; stop returns once fn is no longer running. Targets
// use it to watch the files a run writes (records, console) as they grow.
func Poll(interval time.Duration, fn func() (done bool)) (stop func()) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				if fn() {
					return
				}
			}
		}
	}()
	return func() { close(quit); <-finished }
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
