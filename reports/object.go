package reports

import "fmt"

// AreaObjects is the area of the cells of users' own objects: one cell per
// program, with the feature ID ObjectID(file, program).
const AreaObjects = "objects"

// ObjectID is the feature ID of program in the object file named file (its
// base name): "object/probe.bpf.o/handle_exec".
func ObjectID(file, program string) string { return "object/" + file + "/" + program }

// ObjectStage is how far a user's program got, on a ladder of its own: the
// stage a cell was asked to reach, and the last one it reached.
type ObjectStage string

// The object stages, in order.
const (
	// ObjectLoaded: every map of the object was created and the program
	// passed the verifier.
	ObjectLoaded ObjectStage = "load"
	// ObjectAttached: the program was attached to the hook its section
	// (or the manifest) names.
	ObjectAttached ObjectStage = "attach"
	// ObjectFired: with kernel.bpf_stats_enabled on, the program's own run
	// count rose after the trigger.
	ObjectFired ObjectStage = "fired"
)

// ObjectStages lists the object stages in order.
var ObjectStages = []ObjectStage{ObjectLoaded, ObjectAttached, ObjectFired}

// Rank is the stage's place on the ladder: 1 for load up to 3 for fired,
// 0 for none (nothing reached) or a stage this build does not know.
func (s ObjectStage) Rank() int {
	for i, known := range ObjectStages {
		if s == known {
			return i + 1
		}
	}
	return 0
}

// Object is what the cell of one program of a user's object says beyond
// its status: what the program is, the stage it was asked to reach and the
// one it reached, and the kernel's figures.
type Object struct {
	// File is the object's base name, Program the program's name in it,
	// Section its ELF section ("kprobe/do_unlinkat").
	File    string `json:"file"`
	Program string `json:"program"`
	Section string `json:"section"`
	// Type is the program type, AttachType its attach type when it has one.
	Type       string `json:"type"`
	AttachType string `json:"attach_type,omitempty"`
	// Target is what the program was attached to ("do_unlinkat", "veth
	// ingress"); Needs says what target a program needs that neither its
	// section nor the manifest names, and the cell stops before attaching.
	Target string `json:"target,omitempty"`
	Needs  string `json:"needs,omitempty"`
	// Asked is the stage the cell had to reach, Reached the last one it
	// reached ("" when not even the load succeeded).
	Asked   ObjectStage `json:"asked"`
	Reached ObjectStage `json:"reached,omitempty"`
	// Claimed is set when the manifest claims this kernel for the program:
	// a cell that does not reach Asked is then unexpected.
	Claimed bool `json:"claimed,omitempty"`
	// Maps are the object's maps as created (or refused) on this kernel.
	Maps []ObjectMap `json:"maps,omitempty"`
	// Verifier holds the verifier's figures of a load, where the kernel
	// reported them.
	Verifier *Verifier `json:"verifier,omitempty"`
	// XlatedBytes and JitedBytes are the program's sizes after the
	// verifier's rewrites and after the JIT, from its program info.
	XlatedBytes int    `json:"xlated_bytes,omitempty"`
	JitedBytes  uint32 `json:"jited_bytes,omitempty"`
	// Trigger says what was done to make the program run, and RunCount
	// and RunTimeNS how much its run count and run time (bpf_stats) rose.
	Trigger   string `json:"trigger,omitempty"`
	RunCount  uint64 `json:"run_count,omitempty"`
	RunTimeNS uint64 `json:"run_time_ns,omitempty"`
}

// ObjectMap is one map of a user's object.
type ObjectMap struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Flags      uint32 `json:"flags,omitempty"`
	MaxEntries uint32 `json:"max_entries,omitempty"`
}

// InsnLimit is the verifier's limit on instructions processed for one
// program (BPF_COMPLEXITY_LIMIT_INSNS, since 5.2; 4096 for unprivileged
// loaders): the headroom of Verifier.InsnsProcessed.
const InsnLimit = 1_000_000

// Verifier is what the verifier said of a program it accepted, from the
// statistics lines of its log (log level 4) and from program info.
type Verifier struct {
	// InsnsProcessed is "processed N insns": the verifier's work, which it
	// refuses above InsnLimit.
	InsnsProcessed int `json:"insns_processed"`
	// MaxStatesPerInsn, TotalStates and PeakStates are the rest of that
	// line; kernels before 5.2 print none.
	MaxStatesPerInsn int `json:"max_states_per_insn,omitempty"`
	TotalStates      int `json:"total_states,omitempty"`
	PeakStates       int `json:"peak_states,omitempty"`
	// TimeUS is "verification time N usec" (5.2+).
	TimeUS int `json:"time_us,omitempty"`
	// VerifiedInsns is verified_insns of program info (5.16+).
	VerifiedInsns uint32 `json:"verified_insns,omitempty"`
}

// Headroom is the fraction of InsnLimit the program's verification left
// unused: 1 for none processed, 0 at the limit.
func (v *Verifier) Headroom() float64 {
	return 1 - float64(v.InsnsProcessed)/InsnLimit
}

func (o *Object) validate() error {
	if o.File == "" || o.Program == "" {
		return fmt.Errorf("file and program: empty; want the object's base name and the program's name")
	}
	if o.Asked.Rank() == 0 {
		return fmt.Errorf("asked: %q is not one of %v", o.Asked, ObjectStages)
	}
	if o.Reached != "" && o.Reached.Rank() == 0 {
		return fmt.Errorf("reached: %q is not one of %v", o.Reached, ObjectStages)
	}
	return nil
}

// IsObject reports whether c is the cell of a user's object program rather
// than of a catalog feature. Renderers show such cells in a view of their
// own and count them apart: a user's program says nothing about the
// kernel's features, and its manifest, not the catalog, says what it must
// reach.
func (c *Cell) IsObject() bool { return c.Object != nil || c.Area == AreaObjects }
