package reports_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bpfmatrix/bpfmatrix/internal/arch"
	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
)

// jsonSchema is the subset of JSON Schema that schema.json uses.
type jsonSchema struct {
	Ref        string                 `json:"$ref"`
	Type       any                    `json:"type"`
	Required   []string               `json:"required"`
	Properties map[string]*jsonSchema `json:"properties"`
	Items      *jsonSchema            `json:"items"`
	Enum       []any                  `json:"enum"`
	Minimum    *float64               `json:"minimum"`
	Maximum    *float64               `json:"maximum"`
	MinLength  *int                   `json:"minLength"`
	Pattern    string                 `json:"pattern"`
	Defs       map[string]*jsonSchema `json:"$defs"`
}

func loadSchema(t testing.TB) *jsonSchema {
	t.Helper()
	data, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s jsonSchema
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	return &s
}

func (s *jsonSchema) resolve(root *jsonSchema) *jsonSchema {
	if s.Ref == "" {
		return s
	}
	return root.Defs[strings.TrimPrefix(s.Ref, "#/$defs/")]
}

func (s *jsonSchema) types() []string {
	switch v := s.Type.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, x.(string))
		}
		return out
	}
	return nil
}

// TestSchemaMatchesGoTypes keeps schema.json in step with schema.go: the same
// properties, JSON types and required fields (those written even when empty)
// for every object, the same statuses, and the current version.
func TestSchemaMatchesGoTypes(t *testing.T) {
	root := loadSchema(t)
	objects := map[string]struct {
		schema *jsonSchema
		typ    reflect.Type
	}{
		"report":           {root, reflect.TypeOf(reports.Report{})},
		"run":              {root.Defs["run"], reflect.TypeOf(reports.Run{})},
		"kernel":           {root.Defs["kernel"], reflect.TypeOf(reports.Kernel{})},
		"cell":             {root.Defs["cell"], reflect.TypeOf(reports.Cell{})},
		"parity":           {root.Defs["parity"], reflect.TypeOf(reports.Parity{})},
		"cached":           {root.Defs["cached"], reflect.TypeOf(reports.Cached{})},
		"parity_diff":      {root.Defs["parity_diff"], reflect.TypeOf(reports.ParityDiff{})},
		"object":           {root.Defs["object"], reflect.TypeOf(reports.Object{})},
		"object_map":       {root.Defs["object_map"], reflect.TypeOf(reports.ObjectMap{})},
		"verifier":         {root.Defs["verifier"], reflect.TypeOf(reports.Verifier{})},
		"probepoints":      {root.Defs["probepoints"], reflect.TypeOf(reports.ProbePoints{})},
		"watched_point":    {root.Defs["watched_point"], reflect.TypeOf(reports.WatchedPoint{})},
		"tracepoint_field": {root.Defs["tracepoint_field"], reflect.TypeOf(reports.TracepointField{})},
	}
	for name, o := range objects {
		if o.schema == nil {
			t.Errorf("schema.json: no $defs.%s", name)
			continue
		}
		var required []string
		seen := map[string]bool{}
		for i := 0; i < o.typ.NumField(); i++ {
			f := o.typ.Field(i)
			tag, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "-" || !f.IsExported() {
				continue
			}
			seen[tag] = true
			if !strings.Contains(opts, "omitempty") {
				required = append(required, tag)
			}
			prop := o.schema.Properties[tag]
			if prop == nil {
				t.Errorf("schema.json %s: Go field %s.%s (%q) is missing from properties", name, o.typ.Name(), f.Name, tag)
				continue
			}
			if want, got := jsonTypeOf(f.Type), prop.resolve(root).types(); want != "" && len(got) > 0 && got[0] != want {
				t.Errorf("schema.json %s.%s: type %v, Go type %s wants %q", name, tag, got, f.Type, want)
			}
		}
		for prop := range o.schema.Properties {
			if !seen[prop] {
				t.Errorf("schema.json %s.%s: no Go field has this JSON name", name, prop)
			}
		}
		sort.Strings(required)
		got := append([]string(nil), o.schema.Required...)
		sort.Strings(got)
		if !reflect.DeepEqual(got, required) {
			t.Errorf("schema.json %s: required %v, but the Go type always writes %v", name, got, required)
		}
	}

	var enum []string
	for _, v := range root.Defs["status"].Enum {
		enum = append(enum, v.(string))
	}
	var statuses []string
	for _, s := range reports.Statuses {
		statuses = append(statuses, string(s))
	}
	if !reflect.DeepEqual(enum, statuses) {
		t.Errorf("schema.json $defs.status: %v, reports.Statuses: %v", enum, statuses)
	}
	var stageEnum, stages []string
	for _, v := range root.Defs["object_stage"].Enum {
		stageEnum = append(stageEnum, v.(string))
	}
	for _, s := range reports.ObjectStages {
		stages = append(stages, string(s))
	}
	if !reflect.DeepEqual(stageEnum, stages) {
		t.Errorf("schema.json $defs.object_stage: %v, reports.ObjectStages: %v", stageEnum, stages)
	}
	var archEnum []string
	for _, v := range root.Defs["kernel"].Properties["arch"].Enum {
		archEnum = append(archEnum, v.(string))
	}
	if !reflect.DeepEqual(archEnum, arch.Names()) || arch.All[0].Name != reports.DefaultArch {
		t.Errorf("schema.json $defs.kernel.arch: %v, internal/arch: %v with %s first; want the same, reports.DefaultArch (%s) first", archEnum, arch.Names(), arch.All[0].Name, reports.DefaultArch)
	}
	if max := root.Properties["schema"].Maximum; max == nil || int(*max) != reports.SchemaVersion {
		t.Errorf("schema.json schema.maximum must be reports.SchemaVersion (%d)", reports.SchemaVersion)
	}
}

func jsonTypeOf(t reflect.Type) string {
	if t == reflect.TypeOf(time.Time{}) {
		return "string"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Uint32:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "string" // encoding/json writes []byte as base64
		}
		return "array"
	case reflect.Struct:
		return "object"
	}
	return ""
}

// TestSchemaAcceptsWrittenReports validates what the Go types write against
// schema.json, so the file documents real reports, not a wish.
func TestSchemaAcceptsWrittenReports(t *testing.T) {
	root := loadSchema(t)
	rep := fixture.Objects(fixture.Report(3, 40))
	// A run that broke before any cell, as matrix writes it: cells null.
	rep.Runs = append(rep.Runs, reports.Run{Kernel: reports.Kernel{Name: "7.2"}, Target: "vm", Status: "error", Detail: "qemu: not found"})
	rep.Runs[0].Cells[0].Expected = ""
	rep.Runs[0].Parity = &reports.Parity{Compared: 3, Agreed: 1,
		Allowed:       []reports.ParityDiff{{Feature: "prog/tracing", Bpftool: "not available (have_tracing_prog_type)", Cell: "supported: loaded", Reason: "bpftool probes tracing without a BTF target"}},
		Disagreements: []reports.ParityDiff{{Feature: "map/ringbuf", Bpftool: "available (have_ringbuf_map_type)", Cell: "error: the suite wrote no cell"}}}
	rep.Runs[1].Parity = &reports.Parity{Skipped: "no bpftool in this target"}
	rep.Runs[1].CachedFrom = &reports.Cached{Key: strings.Repeat("0f", 32), Entry: "/root/.cache/bpfmatrix/runs/" + strings.Repeat("0f", 32), RanAt: rep.Runs[1].Start}
	rep.Runs = append(rep.Runs, fixture.ARM64(rep.Runs[2]))
	rep.Runs[0].ProbePoints = &reports.ProbePoints{HostBTF: &reports.Count{N: 90000, Source: "/cache/vmlinux"}, Watch: []reports.WatchedPoint{
		{Kind: reports.PointFunction, Name: "vfs_read", Present: true, Kprobe: "yes", Traceability: reports.TraceTraceable},
		{Kind: reports.PointFunction, Name: "vfs_write", Traceability: reports.TraceUnknown + ": available_filter_functions: operation not permitted"},
		{Kind: reports.PointFunction, Name: "inlined", Traceability: reports.TraceKallsymsOnly},
		{Kind: reports.PointField, Name: "sk_buff.pkt_type", Present: true, Fields: []reports.TracepointField{{Name: "pkt_type", Type: "__u8", Offset: 128, Size: 1, BitOffset: 1024, BitfieldSize: 3}}},
		{Kind: reports.PointKfunc, Name: "bpf_task_acquire", Present: true, Prototype: "struct task_struct *bpf_task_acquire(struct task_struct *p)", DeclTags: []string{"bpf_kfunc"}},
	}}
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if err := validate(root, root, doc, "$"); err != nil {
		t.Fatal(err)
	}

	// And the validator is not a yes-machine: a bad status, or an object
	// asked for a stage that does not exist, is refused.
	for _, tc := range []struct {
		name, want string
		spoil      func(*reports.Report) func()
	}{
		{"status maybe", "status", func(r *reports.Report) func() {
			c := &r.Runs[0].Cells[0]
			old := c.Status
			c.Status = "maybe"
			return func() { c.Status = old }
		}},
		{"object asked run", "object.asked", func(r *reports.Report) func() {
			o := r.Runs[1].Cells[len(r.Runs[1].Cells)-1].Object
			old := o.Asked
			o.Asked = "run"
			return func() { o.Asked = old }
		}},
		{"traceability guessed", "traceability", func(r *reports.Report) func() {
			w := &r.Runs[0].ProbePoints.Watch[1]
			old := w.Traceability
			w.Traceability = "probably traceable"
			return func() { w.Traceability = old }
		}},
		{"cached key short", "cached_from.key", func(r *reports.Report) func() {
			c := r.Runs[1].CachedFrom
			old := c.Key
			c.Key = "0f0f"
			return func() { c.Key = old }
		}},
		{"arch x86_64", "kernel.arch", func(r *reports.Report) func() {
			k := &r.Runs[len(r.Runs)-1].Kernel
			old := k.Arch
			k.Arch = "x86_64"
			return func() { k.Arch = old }
		}},
	} {
		undo := tc.spoil(rep)
		data, _ = json.Marshal(rep)
		undo()
		doc = nil
		_ = json.Unmarshal(data, &doc)
		if err := validate(root, root, doc, "$"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s validated: %v", tc.name, err)
		}
	}
}

// validate checks v against s for the keywords schema.json uses.
func validate(root, s *jsonSchema, v any, path string) error {
	s = s.resolve(root)
	if s == nil {
		return fmt.Errorf("%s: unresolved $ref", path)
	}
	if types := s.types(); len(types) > 0 {
		ok := false
		for _, ty := range types {
			ok = ok || isType(v, ty)
		}
		if !ok {
			return fmt.Errorf("%s: %T is not %v", path, v, types)
		}
	}
	if s.Enum != nil {
		found := false
		for _, e := range s.Enum {
			found = found || e == v
		}
		if !found {
			return fmt.Errorf("%s: %v is not one of %v", path, v, s.Enum)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		for _, r := range s.Required {
			if _, ok := x[r]; !ok {
				return fmt.Errorf("%s: required %q is missing", path, r)
			}
		}
		for k, val := range x {
			if p := s.Properties[k]; p != nil {
				if err := validate(root, p, val, path+"."+k); err != nil {
					return err
				}
			}
		}
	case []any:
		if s.Items != nil {
			for i, val := range x {
				if err := validate(root, s.Items, val, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	case float64:
		if s.Minimum != nil && x < *s.Minimum || s.Maximum != nil && x > *s.Maximum {
			return fmt.Errorf("%s: %v out of range", path, x)
		}
	case string:
		if s.MinLength != nil && len(x) < *s.MinLength {
			return fmt.Errorf("%s: shorter than %d", path, *s.MinLength)
		}
		if s.Pattern != "" && !regexp.MustCompile(s.Pattern).MatchString(x) {
			return fmt.Errorf("%s: %q does not match %s", path, x, s.Pattern)
		}
	}
	return nil
}

func isType(v any, ty string) bool {
	switch ty {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "null":
		return v == nil
	}
	return false
}
