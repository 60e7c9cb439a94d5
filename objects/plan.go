package objects

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Entry is one cell of the plan: a program of an object and what the
// manifest and the command line give it.
type Entry struct {
	File    string `json:"file"`
	Program string `json:"program"`
	// Attach, Trigger and Kernels are the program's rule's; Stage is the
	// rule's or the command line's, "" for the default, fired.
	Attach  string              `json:"attach,omitempty"`
	Trigger string              `json:"trigger,omitempty"`
	Stage   reports.ObjectStage `json:"stage,omitempty"`
	Kernels []string            `json:"kernels,omitempty"`
}

// ID is the entry's cell: reports.ObjectID.
func (e Entry) ID() string { return reports.ObjectID(e.File, e.Program) }

// Plan is every cell of a run's objects, in order, and the objects.
type Plan struct {
	Entries []Entry `json:"entries"`
	objects []*Object
}

// Defaults are what the command line gives every program its rule does not
// say otherwise: --trigger and --stages.
type Defaults struct {
	Trigger string
	Stage   reports.ObjectStage
}

// NewPlan opens the objects at paths and plans one cell per program. The
// manifest is the file named, or else ManifestName beside the first object
// if it exists. Two objects of one base name, a rule that matches no
// program, and every error of Open are refused.
func NewPlan(paths []string, manifest string, d Defaults) (*Plan, error) {
	if d.Stage != "" && d.Stage.Rank() == 0 {
		return nil, fmt.Errorf("--stages %q: want one of %v", d.Stage, reports.ObjectStages)
	}
	p := &Plan{}
	byName := map[string]string{}
	for _, path := range paths {
		o, err := Open(path)
		if err != nil {
			return nil, err
		}
		if first, dup := byName[o.Name]; dup {
			return nil, fmt.Errorf("object %s: has the base name of %s; cells are named by base name, so rename one", path, first)
		}
		byName[o.Name] = path
		p.objects = append(p.objects, o)
	}
	if manifest == "" && len(paths) > 0 {
		if beside := filepath.Join(filepath.Dir(paths[0]), ManifestName); fileExists(beside) {
			manifest = beside
		}
	}
	var m *Manifest
	if manifest != "" {
		var err error
		if m, err = ReadManifest(manifest); err != nil {
			return nil, err
		}
	}
	used := map[int]bool{}
	for _, o := range p.objects {
		for _, prog := range o.Programs() {
			r, i := m.rule(o.Name, prog)
			used[i] = true
			e := Entry{File: o.Name, Program: prog, Attach: r.Attach, Trigger: r.Trigger, Stage: r.Stage, Kernels: r.Kernels}
			if e.Trigger == "" {
				e.Trigger = d.Trigger
			}
			if e.Stage == "" {
				e.Stage = d.Stage
			}
			if e.Kernels == nil && m != nil {
				e.Kernels = m.Kernels
			}
			p.Entries = append(p.Entries, e)
		}
	}
	if m != nil {
		for i, r := range m.Programs {
			if !used[i] {
				return nil, fmt.Errorf("manifest %s: programs[%d].match %q: names no program of the objects given (%s)", m.path, i, r.Match, some(p.names()))
			}
		}
	}
	return p, nil
}

// some lists names, the first few of them.
func some(names []string) string {
	const shown = 6
	if len(names) <= shown {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:shown], ", "), len(names)-shown)
}

func (p *Plan) names() []string {
	var names []string
	for _, e := range p.Entries {
		names = append(names, e.File+"/"+e.Program)
	}
	return names
}

// planFile is the plan's name in a staged directory.
const planFile = "plan.json"

// Stage copies the objects into dir, readable by anyone (a target's root
// may be a user namespace's), with the plan beside them: what a target
// needs to run the cells, wherever dir travels (a VM's initramfs, a
// container's bind mount).
func (p *Plan) Stage(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, o := range p.objects {
		data, err := os.ReadFile(o.Path)
		if err != nil {
			return fmt.Errorf("object %s: %w", o.Path, err)
		}
		if err := writeReadable(filepath.Join(dir, o.Name), data); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := writeReadable(filepath.Join(dir, planFile), data); err != nil {
		return err
	}
	// Whatever the umask made of them.
	return os.Chmod(dir, 0o755)
}

func writeReadable(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	return os.Chmod(path, 0o644)
}

// Files are the staged directory's files, by name: what a target must hold.
func (p *Plan) Files() []string {
	files := []string{planFile}
	for _, o := range p.objects {
		files = append(files, o.Name)
	}
	return files
}

// Staged reads the plan Stage wrote in dir, and parses its objects.
func Staged(dir string) (*Plan, map[string]*ebpf.CollectionSpec, error) {
	data, err := os.ReadFile(filepath.Join(dir, planFile))
	if err != nil {
		return nil, nil, fmt.Errorf("read the objects' plan: %w", err)
	}
	p := &Plan{}
	if err := json.Unmarshal(data, p); err != nil {
		return nil, nil, fmt.Errorf("read the objects' plan %s: %w", filepath.Join(dir, planFile), err)
	}
	specs := map[string]*ebpf.CollectionSpec{}
	for _, e := range p.Entries {
		if specs[e.File] != nil {
			continue
		}
		o, err := Open(filepath.Join(dir, e.File))
		if err != nil {
			return nil, nil, err
		}
		specs[e.File] = o.Spec
	}
	return p, specs, nil
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
