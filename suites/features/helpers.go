package features

import (
	"errors"
	"strings"
	"unicode"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
	"github.com/bpfmatrix/bpfmatrix/suites/harness"
)

// Helper probes load a program of the type that calls the helper once, with
// the context in R1 (the first argument of most helpers) and zeros in R2-R5.
// The verifier resolves the helper for the program type before it checks
// any argument, so a load either succeeds, or fails with the verifier saying
// the helper is unknown to this type (the helper is unsupported), or fails
// on an argument (the helper exists for this type; the verifier's words say
// which argument). This is bpftool's criterion, with the kernel's words kept.

// helperRefusals are the verifier's words for a helper the program type
// cannot call: an unknown ID, a helper withheld from the type, or one that
// lockdown or a missing CONFIG option took away (both make the type's
// func_proto return NULL).
// 7.3's verifier words the last one in its structured log's Reason.
var helperRefusals = []string{"invalid func ", "unknown func ", "program of this type cannot use helper ", "this program type does not allow the helper"}

var _ = registerAll("helper/", func(f *catalog.Feature) {
	_, rest, _ := strings.Cut(f.ID, "/")
	progName, helper, _ := strings.Cut(rest, "/")
	fn, ok := helperByName(helper)
	if !ok {
		panic("features: catalog row " + f.ID + " names a helper cilium/ebpf does not know")
	}
	spec, _ := progSpec(f.Prog)
	spec.Instructions = asm.Instructions{
		asm.Mov.Imm(asm.R2, 0),
		asm.Mov.Imm(asm.R3, 0),
		asm.Mov.Imm(asm.R4, 0),
		asm.Mov.Imm(asm.R5, 0),
		fn.Call(),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}
	harness.Spec(f.ID, "loads a "+progName+" program calling "+helper, func(c *harness.Cell) {
		prog, err := harness.NewProgram(spec, ebpf.ProgramOptions{LogLevel: ebpf.LogLevelBranch})
		if err == nil {
			prog.Close()
			c.Supported("loaded a %s program calling %s (#%d)", progName, helper, uint32(fn))
		}
		var verr *ebpf.VerifierError
		if !errors.As(err, &verr) {
			c.Loaded("load "+progName+" program calling "+helper, err)
		}
		if line, refused := lastLineWith(verr.Log, helperRefusals...); refused {
			c.Unsupported(reports.StageLoad, errnoOf(err), "load %s program calling %s (#%d): verifier: %s", progName, helper, uint32(fn), line)
		}
		if errors.Is(err, unix.EACCES) {
			line, _ := lastLineWith(verr.Log, "")
			c.Supported("the verifier resolved %s (#%d) for %s and then rejected only the zeroed arguments: %s",
				helper, uint32(fn), progName, line)
		}
		c.Loaded("load "+progName+" program calling "+helper, err)
	})
})

// helperByName finds a helper by its uapi name ("bpf_redirect") among
// cilium/ebpf's constants (FnRedirect), which are the uapi's in CamelCase.
func helperByName(name string) (asm.BuiltinFunc, bool) {
	want := strings.TrimPrefix(name, "bpf_")
	for i := asm.BuiltinFunc(1); i < 1024; i++ {
		s := i.String()
		if !strings.HasPrefix(s, "Fn") {
			break
		}
		if snake(strings.TrimPrefix(s, "Fn")) == want {
			return i, true
		}
	}
	return 0, false
}

// snake turns "SkbLoadBytes" into "skb_load_bytes" and "L3CsumReplace"
// into "l3_csum_replace".
func snake(camel string) string {
	var b strings.Builder
	runes := []rune(camel)
	for i, r := range runes {
		if unicode.IsUpper(r) && i > 0 && !unicode.IsUpper(runes[i-1]) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// lastLineWith returns the last of the log's final lines containing any of
// needles; an empty needle matches any line. The verifier's statistics
// lines, which end every log, never match.
func lastLineWith(log []string, needles ...string) (string, bool) {
	for i := len(log) - 1; i >= 0 && i >= len(log)-8; i-- {
		line := strings.TrimSpace(log[i])
		if line == "" || strings.HasPrefix(line, "processed ") || strings.HasPrefix(line, "verification time ") ||
			strings.HasPrefix(line, "stack depth ") {
			continue
		}
		for _, n := range needles {
			if strings.Contains(line, n) {
				return line, true
			}
		}
	}
	return "", false
}

func errnoOf(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return harness.ErrnoName(errno)
	}
	return ""
}
