package objects

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

// ManifestName is the manifest's file name when it sits beside the objects
// and no --manifest names another.
const ManifestName = "bpfmatrix.json"

// Manifest says what the product claims of its programs, and what the
// harness cannot find in an object alone: the target of a program whose
// section names none, and a trigger that reaches its hook. Its format is
// docs/objects.md; unknown fields are refused, so a typo never passes as a
// default.
type Manifest struct {
	// Kernels are the kernels every program is claimed for, unless its
	// rule says otherwise.
	Kernels []string `json:"kernels,omitempty"`
	// Programs are the rules; the first whose Match names a program is its.
	Programs []Rule `json:"programs,omitempty"`

	path string
}

// Rule says, for the programs Match names, what they attach to, how they
// are triggered, how far they must get and on which kernels.
type Rule struct {
	// Match is a path.Match pattern on "<file>/<program>":
	// "probe.bpf.o/handle_*", "*/xdp_*".
	Match string `json:"match"`
	// Attach is the target: a kernel function (kprobe, fentry, fexit, LSM
	// hooks take it as the section would), "group/name" for a tracepoint,
	// "PATH:SYMBOL" for a uprobe.
	Attach string `json:"attach,omitempty"`
	// Trigger is a shell command run in the target after attaching,
	// instead of the built-in trigger of the program's kind.
	Trigger string `json:"trigger,omitempty"`
	// Stage is the stage the program must reach: load, attach or fired.
	Stage reports.ObjectStage `json:"stage,omitempty"`
	// Kernels are the kernels the product claims for these programs:
	// "6.1" (that major.minor), "5.15+" (that or newer), "*" (every one).
	// On a claimed kernel a program that does not reach Stage is
	// unexpected and fails the run.
	Kernels []string `json:"kernels,omitempty"`
}

// ReadManifest reads and checks the manifest at file.
func ReadManifest(file string) (*Manifest, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", file, unwrapPath(err))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	m := &Manifest{path: file}
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("manifest %s: %s; want the JSON of docs/objects.md", file, oneLine(err))
	}
	if dec.More() {
		return nil, fmt.Errorf("manifest %s: more than one JSON value; want one object", file)
	}
	if err := checkClaims("kernels", m.Kernels); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", file, err)
	}
	for i, r := range m.Programs {
		field := fmt.Sprintf("programs[%d]", i)
		if r.Match == "" {
			return nil, fmt.Errorf("manifest %s: %s.match: empty; want a pattern on <file>/<program> such as \"probe.bpf.o/*\"", file, field)
		}
		if _, err := path.Match(r.Match, ""); err != nil {
			return nil, fmt.Errorf("manifest %s: %s.match %q: %v", file, field, r.Match, err)
		}
		if r.Stage != "" && r.Stage.Rank() == 0 {
			return nil, fmt.Errorf("manifest %s: %s.stage %q: want one of %v", file, field, r.Stage, reports.ObjectStages)
		}
		if err := checkClaims(field+".kernels", r.Kernels); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", file, err)
		}
	}
	return m, nil
}

// rule returns the first rule that names program of file, and its index.
func (m *Manifest) rule(file, program string) (Rule, int) {
	if m == nil {
		return Rule{}, -1
	}
	for i, r := range m.Programs {
		if ok, _ := path.Match(r.Match, file+"/"+program); ok {
			return r, i
		}
	}
	return Rule{}, -1
}

func checkClaims(field string, claims []string) error {
	for _, c := range claims {
		if _, _, err := parseClaim(c); err != nil {
			return fmt.Errorf("%s: %q: %v", field, c, err)
		}
	}
	return nil
}

// parseClaim reads "6.1", "5.15+" or "*".
func parseClaim(c string) (v kversion.Version, orNewer bool, err error) {
	if c == "*" {
		return kversion.Version{}, true, nil
	}
	s, orNewer := strings.CutSuffix(c, "+")
	v, ok := kversion.Parse(s)
	if !ok || strings.Count(s, ".") != 1 {
		return v, false, fmt.Errorf("want a kernel as major.minor (\"6.1\"), that or newer (\"5.15+\"), or \"*\"")
	}
	return v, orNewer, nil
}

// Claims reports whether claims name the running kernel k.
func Claims(claims []string, k kversion.Version) bool {
	for _, c := range claims {
		v, orNewer, err := parseClaim(c)
		if err != nil {
			continue
		}
		same := k.Major == v.Major && k.Minor == v.Minor
		if same || orNewer && k.AtLeast(v) {
			return true
		}
	}
	return false
}
