package reports

import (
	"regexp"
	"strings"
)

// CauseClass says at a glance why a cell is what it is: for a supported
// cell, whether the program was seen firing or only loaded and attached;
// for an unsupported one, what kind of thing the kernel lacks. The HTML
// page and the Markdown summary mark cells by it, so a reader of either
// tells "too old" from "built without the option" without opening a cell.
type CauseClass string

// The classes, in the order legends list them.
const (
	// CauseFired: supported, and the program saw at least the events
	// the spec caused (Triggered > 0, Events >= Triggered).
	CauseFired CauseClass = "fired"
	// CauseLoaded: supported, loaded or attached, with nothing to fire
	// (a map, a helper, a program type) or no trigger.
	CauseLoaded CauseClass = "loaded"
	// CauseVersion: the kernel is older than the feature, upstream or in
	// its architecture's port.
	CauseVersion CauseClass = "version"
	// CauseConfig: the kernel was built without a CONFIG option the
	// feature needs.
	CauseConfig CauseClass = "config"
	// CausePolicy: an LSM or lockdown refuses it, or is not active.
	CausePolicy CauseClass = "policy"
	// CausePrivilege: the kernel refuses this process (EPERM, EACCES, a
	// switch that keeps the feature to init), or the environment blocked
	// the cell before eBPF was reached.
	CausePrivilege CauseClass = "privilege"
	// CauseOther: anything else, and every cell that is neither
	// supported, unsupported nor blocked.
	CauseOther CauseClass = "other"
)

// CauseClasses lists the classes in the order legends show them.
var CauseClasses = []CauseClass{CauseFired, CauseLoaded, CauseVersion, CauseConfig, CausePolicy, CausePrivilege, CauseOther}

// Tag is the short sign a cell shows beside its status mark: "•" for a
// program seen firing, a word for the cause of an unsupported cell, ""
// where the status mark says enough.
func (k CauseClass) Tag() string {
	switch k {
	case CauseFired:
		return "•"
	case CauseVersion:
		return "old"
	case CauseConfig:
		return "cfg"
	case CausePolicy:
		return "lsm"
	case CausePrivilege:
		return "perm"
	}
	return ""
}

// Words say the class in a few words, for a tooltip and a screen reader.
func (k CauseClass) Words() string {
	switch k {
	case CauseFired:
		return "seen firing"
	case CauseLoaded:
		return "loaded or attached (not fired)"
	case CauseVersion:
		return "kernel too old"
	case CauseConfig:
		return "CONFIG option not set"
	case CausePolicy:
		return "LSM or lockdown"
	case CausePrivilege:
		return "privilege"
	}
	return ""
}

// CauseTag is the sign a cell shows beside its status mark: its class's
// Tag, except for a blocked cell, whose ⊘ says it already.
func (c *Cell) CauseTag() string {
	if c.Status == Blocked {
		return ""
	}
	return c.CauseClass().Tag()
}

// CauseWords say the cell's cause in a few words: its class's, or for a
// blocked cell the layer that refused it ("by seccomp"); "" when the
// status says all there is.
func (c *Cell) CauseWords() string {
	if c.Status == Blocked {
		if c.Layer != "" {
			return "by " + c.Layer
		}
		return ""
	}
	return c.CauseClass().Words()
}

// Mark is the short sign of a status, readable without colour: the one
// sign the HTML page, its script and the Markdown summary share.
func Mark(s Status) string {
	switch s {
	case Supported:
		return "✓"
	case Unsupported:
		return "✗"
	case Failed:
		return "!"
	case Blocked:
		return "⊘"
	case Error:
		return "E"
	case Skipped:
		return "–"
	case Crashed:
		return "☠"
	case Timeout:
		return "T"
	}
	return "?"
}

// CauseClass derives the cell's class from its record: a supported cell
// from its event counts; an unsupported one from the reason of its
// expectation when the kernel did what the catalog predicted (the reason
// then explains the cell), else from the kernel's own words (evidence,
// verifier log, errno); a blocked one is CausePrivilege.
func (c *Cell) CauseClass() CauseClass {
	switch c.Status {
	case Supported:
		if c.Triggered > 0 && c.Events >= c.Triggered {
			return CauseFired
		}
		return CauseLoaded
	case Blocked:
		return CausePrivilege
	case Unsupported:
	default:
		return CauseOther
	}
	if c.Expected == Unsupported && c.Reason != "" {
		// The first part that names a class decides: "needs Linux >=
		// 6.4 (…); CONFIG_NETFILTER_BPF_LINK is not set" is a kernel
		// too old to have the option at all.
		for _, part := range strings.Split(c.Reason, "; ") {
			if k := reasonClass(part); k != CauseOther {
				return k
			}
		}
	}
	return evidenceClass(c)
}

// reasonClass classifies one part of a catalog reason, as the catalog's
// requirements word them (suites/catalog).
func reasonClass(part string) CauseClass {
	switch {
	case strings.Contains(part, "needs Linux >= "), kfuncFrom.MatchString(part):
		return CauseVersion
	case configNotSet.MatchString(part):
		return CauseConfig
	case strings.Contains(part, "active LSM list"), strings.HasPrefix(part, "lockdown is "):
		return CausePolicy
	case strings.Contains(part, "EPERM"), strings.Contains(part, "init_private"):
		return CausePrivilege
	}
	return CauseOther
}

// kfuncFrom matches the kfunc rows' words for a program type that may call
// a kfunc only from a later kernel ("bpf_task_from_pid is registered for
// xdp programs from Linux 6.8"); "no kernel registers …" is no version.
var kfuncFrom = regexp.MustCompile(`^\S+ is registered for \S+ programs from Linux `)

// configNotSet matches the catalog's words for a missing option: "CONFIG_X
// is not set", "none of CONFIG_X, CONFIG_Y is set".
var configNotSet = regexp.MustCompile(`CONFIG_[A-Z0-9_]+ is not set|^none of CONFIG_`)

// evidenceClass classifies an unsupported cell by the kernel's words. A
// version in cilium/ebpf's "requires >= vX" is not taken for the cause: it
// names a version even where a CONFIG option is the real one
// (docs/facts.md).
func evidenceClass(c *Cell) CauseClass {
	words := c.Evidence + "\n" + c.VerifierLog
	switch {
	case configNotSet.MatchString(words), strings.Contains(words, "CONFIG_"):
		return CauseConfig
	case strings.Contains(words, "lockdown"), strings.Contains(words, "LSM list"):
		return CausePolicy
	case c.Errno == "EPERM", c.Errno == "EACCES" && c.VerifierLog == "":
		// EACCES with a verifier log is the verifier refusing the
		// program ("calling kernel function X is not allowed"), not
		// the process.
		return CausePrivilege
	}
	return CauseOther
}

// Note is the explanation a report lists once and numbers, caniuse's
// numbered notes: the reason of the cell's expectation where it explains
// the cell (an unsupported or blocked cell the catalog predicted), else
// the first line of the kernel's words of an unsupported or blocked one;
// "" for other cells. The running kernel's version is left out ("needs
// Linux >= 5.18", not "… (running 5.10.262)"), so that every kernel the
// same reason holds for shares one note.
func (c *Cell) Note() string {
	if c.Status != Unsupported && c.Status != Blocked {
		return ""
	}
	if c.Reason != "" && c.Expected == c.Status {
		return withoutRunning(c.Reason)
	}
	return c.EvidenceLine(160)
}

var (
	runningAlone = regexp.MustCompile(` \(running [^()]*\)`)
	runningLast  = regexp.MustCompile(`; running [^();]*\)`)
)

// withoutRunning drops the running kernel's version from a catalog reason.
func withoutRunning(reason string) string {
	return runningLast.ReplaceAllString(runningAlone.ReplaceAllString(reason, ""), ")")
}

// Notes numbers distinct notes from 1 in the order they are first asked
// for: one number per explanation on a page.
type Notes struct {
	List  []string
	index map[string]int
}

// Number returns note's number, giving it the next one when it is new; 0
// for no note.
func (n *Notes) Number(note string) int {
	if note == "" {
		return 0
	}
	if i, ok := n.index[note]; ok {
		return i
	}
	if n.index == nil {
		n.index = map[string]int{}
	}
	n.List = append(n.List, note)
	n.index[note] = len(n.List)
	return len(n.List)
}
