package vm

import (
	"bufio"
	"os"
	"strings"
	"time"

	"github.com/bpfmatrix/bpfmatrix/matrix/guest"
)

// crashSigns are console lines that mean the kernel broke, whatever the
// suite said afterwards. With oops=panic and softlockup_panic=1 most end in
// "Kernel panic", but the first sign is the more useful evidence.
var crashSigns = []string{
	"Kernel panic - not syncing",
	"Oops:",
	"BUG: ",
	"general protection fault",
	"invalid opcode:",
	"Out of memory: Killed process",
	"invoked oom-killer",
	"watchdog: BUG: soft lockup",
	"rcu_sched detected stalls",
	"rcu_preempt detected stalls",
	"blocked for more than",
}

// console is what a finished boot's console log says.
type console struct {
	// exited is set when /init printed the exit marker, with the code.
	exited bool
	code   int
	// records is how many records /init passed on to the records port.
	records int
	// suite is the suite's run time as the guest measured it.
	suite time.Duration
	// crash is the first line showing the kernel broke, and crashAt its
	// line number.
	crash   string
	crashAt int
	// initErr collects /init's own error lines.
	initErr []string
	// ready is the READY line, when the suite started.
	ready string
	// bpftoolErr says why bpftool's probe failed, when /init said so, and
	// bpftool how long it took when it did not.
	bpftoolErr string
	bpftool    time.Duration
	lines      []string
}

// readConsole parses a console log. Lines end in "\r\n" on a serial console.
func readConsole(path string) (*console, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := &console{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		c.lines = append(c.lines, line)
		if code, ok := guest.ParseExit(line); ok {
			c.exited, c.code = true, code
			c.suite, _ = guest.ParseSuiteTime(line)
		}
		if n, ok := guest.ParseRecords(line); ok {
			c.records = n
		}
		if took, ok := guest.ParseBpftoolTime(line); ok {
			c.bpftool = took
		}
		if why, ok := guest.ParseBpftoolFailure(line); ok {
			c.bpftoolErr = "bpftool in the guest: " + why
		}
		if i := strings.Index(line, guest.ErrorMarker); i >= 0 {
			c.initErr = append(c.initErr, line[i:])
		}
		if i := strings.Index(line, guest.ReadyMarker); i >= 0 {
			c.ready = line[i:]
		}
		if c.crash == "" {
			for _, sign := range crashSigns {
				if strings.Contains(line, sign) {
					c.crash, c.crashAt = strings.TrimSpace(line), len(c.lines)-1
					break
				}
			}
		}
	}
	return c, sc.Err()
}

// tail returns the last n lines, or, after a crash, n lines from the first
// sign of it: the report's evidence is the kernel's own account.
func (c *console) tail(n int) string {
	from := len(c.lines) - n
	if c.crash != "" {
		from = c.crashAt
		if len(c.lines)-from > n {
			return strings.Join(c.lines[from:from+n], "\n")
		}
	}
	if from < 0 {
		from = 0
	}
	return strings.Join(c.lines[from:], "\n")
}
