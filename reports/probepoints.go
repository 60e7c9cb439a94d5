package reports

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
)

// PointsTable compares the probe points of a report's kernels: the
// inventory counts per run, and for each watched point how it changes from
// one kernel to the next. Both renderers show it; it is computed once, here.
//
// Only the kernels' own targets (VM and host) are columns: a container or a
// BPF token on the same kernel sees the same points or fewer, and what it
// refused is in the grid already.
type PointsTable struct {
	// Runs are the runs that recorded probe points, oldest kernel series
	// first (amd64 before the other architectures of a series), so that a
	// change reads from left to right as the kernel moved on.
	Runs []*Run
	// Points are the watched points, in watch list order.
	Points []PointRow
}

// PointRow is one watched point across the runs of a PointsTable.
type PointRow struct {
	Kind, Name string
	// Points holds the point as each run saw it; nil where a run did not
	// watch it.
	Points []*WatchedPoint
	// Missing are the indexes of runs where the point does not exist.
	Missing []int
	// Fields are the point's parts compared run by run: first its presence
	// (named Presence), then a tracepoint's or a struct's fields in
	// first-seen order, or a function's return type and parameters.
	Fields []FieldRow
	// Change is the most serious change of any of Fields; "" when the
	// point is the same on every run.
	Change PointChange
	// unread marks the runs whose kernel BTF could not be read, for a
	// field or kfunc point: they have no point to compare.
	unread []bool
}

// FieldRow is one part of a point across runs: a field, a function's
// return or parameter, or the point's presence.
type FieldRow struct {
	// Name is the field's name, Presence, "return", or "arg 1", "arg 2", …
	Name string
	// Cells holds the part as each run has it.
	Cells []FieldCell
	// Change is the most serious change between neighbouring runs
	// (PointChanges orders them); "" when it is the same on every run.
	Change PointChange
	// Kinds are the kinds of change seen, most serious first.
	Kinds []PointChange
}

// Presence is the name of the FieldRow that says whether the point exists.
const Presence = "presence"

// notRead is a FieldCell's Why where the run could not read the point's
// source (HostBTF.Error): neither present nor absent, and no change.
const notRead = "not read"

// FieldCell is one part of a point on one run.
type FieldCell struct {
	// Has is false where the run has nothing to compare: it did not watch
	// the point, could not read its source ("not read"), the point does not
	// exist there, or a function is kprobe-able but not in kernel BTF. Why
	// says which.
	Has bool
	Why string
	// Text is the part as reports show it: a layout ("unsigned short
	// @24/2", "s" marking signed), a parameter ("struct sock *sk"),
	// "present" or "absent: <the kernel's reason>"; "" where the run has
	// the point but not this field.
	Text string
	// Change is how the cell differs from the nearest run to its left that
	// has the point; "" where it does not, or where no run to its left has.
	Change PointChange
}

// PointChange is how a part of a watched point differs from one kernel to the
// next: the classification reports group rows by, most serious first.
type PointChange string

// The kinds of change, in the order of PointChanges.
const (
	// PointRemoved: the kernel before had the field (or the point), this one
	// does not.
	PointRemoved PointChange = "removed"
	// PointRetyped: the type, its size or its signedness changed; for a
	// parameter or a return, the type.
	PointRetyped PointChange = "retyped"
	// PointMoved: the same type and size at another offset.
	PointMoved PointChange = "moved"
	// PointAdded: this kernel has a field (or the point) the one before had not.
	PointAdded PointChange = "added"
	// PointTrivial: a change no program reading the point can see.
	//   - any change of a common_* field (the trace header every
	//     tracepoint shares; the BPF context starts after it);
	//   - a type spelled another way with the same offset, size and
	//     signedness: qualifiers (const, volatile), and integer spellings
	//     of one size and sign ("unsigned int", "u32", "__u32",
	//     "uint32_t"; "long", "long int", "s64" on these 64-bit kernels);
	//   - the signed flag of a char array or a __data_loc field alone: the
	//     bytes read the same (in the 2026-12-02 matrix 5.10 and 6.1 set it
	//     on amd64, not on arm64, and 6.12 and later nowhere);
	//   - a function parameter renamed, its type the same.
	PointTrivial PointChange = "trivial"
)

// PointChanges are the kinds of change in the order reports group them: what
// breaks a program that reads the point first.
var PointChanges = []PointChange{PointRemoved, PointRetyped, PointMoved, PointAdded, PointTrivial}

func (c PointChange) rank() int {
	if i := slices.Index(PointChanges, c); i >= 0 {
		return i
	}
	return len(PointChanges)
}

// Label is a run's column heading: its key as RunKey.String says it, but
// without the target when it is a VM, whose kernel alone names it ("6.1",
// "6.1 arm64"); a kernel named for its target ("host") by its series.
func (run *Run) Label() string {
	if run.Target == "vm" {
		return run.Key().kernelArch()
	}
	key := run.Key()
	if _, named := kversion.Parse(key.Kernel); !named {
		if v, ok := run.Kernel.KernelVersion(); ok {
			key.Kernel = fmt.Sprintf("%d.%d", v.Major, v.Minor)
		}
	}
	return key.String()
}

// Layout is how a report shows a field: "int @16/8", "s" marking signed; a
// bitfield adds its bit offset and width: "unsigned int @2/4 bit 17:1".
func (f TracepointField) Layout() string {
	sign := ""
	if f.Signed {
		sign = " s"
	}
	bits := ""
	if f.BitfieldSize > 0 {
		bits = fmt.Sprintf(" bit %d:%d", f.BitOffset, f.BitfieldSize)
	}
	return fmt.Sprintf("%s @%d/%d%s%s", f.Type, f.Offset, f.Size, sign, bits)
}

// NewPointsTable builds the table of r's probe points.
func NewPointsTable(r *Report) *PointsTable {
	t := &PointsTable{}
	for i := range r.Runs {
		if r.Runs[i].ProbePoints != nil && ownTarget(r.Runs[i].Target) {
			t.Runs = append(t.Runs, &r.Runs[i])
		}
	}
	slices.SortStableFunc(t.Runs, compareRuns)
	index := map[string]int{}
	for ri, run := range t.Runs {
		for wi := range run.ProbePoints.Watch {
			w := &run.ProbePoints.Watch[wi]
			key := w.Kind + " " + w.Name
			i, ok := index[key]
			if !ok {
				i = len(t.Points)
				index[key] = i
				t.Points = append(t.Points, PointRow{Kind: w.Kind, Name: w.Name, Points: make([]*WatchedPoint, len(t.Runs)), unread: make([]bool, len(t.Runs))})
			}
			if !unread(run.ProbePoints, w.Kind) {
				t.Points[i].Points[ri] = w
			}
		}
	}
	for i := range t.Points {
		p := &t.Points[i]
		for ri, run := range t.Runs {
			p.unread[ri] = unread(run.ProbePoints, p.Kind)
		}
		p.compare()
	}
	return t
}

// unread says whether points of kind are missing from pp because their
// source could not be read: the kernel BTF a field or a kfunc is looked up
// in. A report written before such runs dropped them holds them as absent,
// with that error, which says nothing of the kernel.
func unread(pp *ProbePoints, kind string) bool {
	return (kind == PointField || kind == PointKfunc) && pp.HostBTF != nil && pp.HostBTF.Error != ""
}

// compareRuns orders runs by kernel series, then architecture; a kernel
// without a version goes last.
func compareRuns(a, b *Run) int {
	va, oka := a.Kernel.KernelVersion()
	vb, okb := b.Kernel.KernelVersion()
	if oka != okb {
		if oka {
			return -1
		}
		return 1
	}
	return cmp.Or(kversion.Version{Major: va.Major, Minor: va.Minor}.Compare(kversion.Version{Major: vb.Major, Minor: vb.Minor}),
		CompareArch(a.Arch(), b.Arch()))
}

// part is one field, return or parameter of a point on one run, as the
// classification compares it: text is what reports show, and the keys
// are it with less and less of it kept, to say how two parts differ.
type part struct {
	text string
	// key is the whole part; same is it with what no program can see made
	// alike (qualifiers, integer spellings, a meaningless signed flag);
	// placed is same without the offset. A prototype's parts have a same
	// only.
	key, same, placed string
	// proto is set for a function's return and parameters.
	proto bool
}

// compare fills the row's Missing, Fields and Change from its Points.
func (p *PointRow) compare() {
	presence, parts, names := p.read()
	p.Fields = append(p.Fields, presence)
	for _, name := range names {
		p.Fields = append(p.Fields, p.field(name, parts, &presence))
	}
	for _, f := range p.Fields {
		if f.Change != "" && (p.Change == "" || f.Change.rank() < p.Change.rank()) {
			p.Change = f.Change
		}
	}
}

// read takes the point apart on each run: its presence, classified, and
// its parts by name (nil where the run has none), the names in first-seen
// order.
func (p *PointRow) read() (presence FieldRow, parts []map[string]part, names []string) {
	presence = FieldRow{Name: Presence, Cells: make([]FieldCell, len(p.Points))}
	keys := make([]string, len(p.Points))
	parts = make([]map[string]part, len(p.Points))
	seen := map[string]bool{}
	add := func(ri int, name string, pt part) {
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
		parts[ri][name] = pt
	}
	for ri, w := range p.Points {
		cell := &presence.Cells[ri]
		switch {
		case w == nil && p.unread != nil && p.unread[ri]:
			cell.Why = notRead
			continue
		case w == nil:
			cell.Why = "not watched"
			continue
		case !w.Present:
			p.Missing = append(p.Missing, ri)
			cell.Has, cell.Text, keys[ri] = true, "absent", "absent"
			if w.Error != "" {
				cell.Text += ": " + w.Error
			}
			continue
		}
		cell.Has, cell.Text, keys[ri] = true, "present", "present"
		switch {
		case len(w.Fields) > 0:
			parts[ri] = map[string]part{}
			for _, f := range w.Fields {
				add(ri, f.Name, fieldPart(f))
			}
		case w.Prototype != "":
			parts[ri] = map[string]part{}
			ret, params, ok := splitPrototype(w.Prototype, w.Name)
			if !ok {
				add(ri, "prototype", protoPart(w.Prototype, w.Prototype))
				continue
			}
			add(ri, "return", protoPart(ret, ret))
			for i, prm := range params {
				add(ri, fmt.Sprintf("arg %d", i+1), protoPart(prm, paramType(prm)))
			}
		}
	}
	// Only whether it exists counts: two kernels' different reasons for
	// its absence are no change of the point.
	presence.classify(keys, func(a, _ int) PointChange {
		if keys[a] == "present" {
			return PointRemoved
		}
		return PointAdded
	})
	return presence, parts, names
}

// field is the part name across runs, classified.
func (p *PointRow) field(name string, parts []map[string]part, presence *FieldRow) FieldRow {
	row := FieldRow{Name: name, Cells: make([]FieldCell, len(p.Points))}
	values := make([]part, len(p.Points))
	keys := make([]string, len(p.Points))
	proto := false
	for ri := range parts {
		proto = proto || parts[ri][name].proto
	}
	for ri := range p.Points {
		cell, there := &row.Cells[ri], presence.Cells[ri]
		switch {
		case parts[ri] != nil:
			cell.Has = true
			values[ri] = parts[ri][name]
			cell.Text, keys[ri] = values[ri].text, values[ri].key
		case there.Text == "present" && proto:
			cell.Why = "no BTF prototype"
		case there.Text == "present":
			cell.Why = "no fields read"
		case there.Has:
			cell.Why = "point absent"
		default:
			cell.Why = there.Why
		}
	}
	header := p.Kind == PointTracepoint && strings.HasPrefix(name, "common_")
	row.classify(keys, func(a, b int) PointChange { return classify(header, values[a], values[b]) })
	return row
}

// classify sets each cell's Change against the nearest cell to its left
// that has the point, with how (called with the two runs' indexes when
// their keys differ), and the row's Change and Kinds from them.
func (f *FieldRow) classify(keys []string, how func(a, b int) PointChange) {
	prev := -1
	for ri := range f.Cells {
		c := &f.Cells[ri]
		if !c.Has {
			continue
		}
		if prev >= 0 && keys[prev] != keys[ri] {
			c.Change = how(prev, ri)
			if !slices.Contains(f.Kinds, c.Change) {
				f.Kinds = append(f.Kinds, c.Change)
			}
		}
		prev = ri
	}
	slices.SortFunc(f.Kinds, func(a, b PointChange) int { return a.rank() - b.rank() })
	if len(f.Kinds) > 0 {
		f.Change = f.Kinds[0]
	}
}

// Changed returns the parts of the point that differ between runs, trivial
// ones included.
func (p *PointRow) Changed() []FieldRow {
	var out []FieldRow
	for _, f := range p.Fields {
		if f.Change != "" {
			out = append(out, f)
		}
	}
	return out
}

// fieldPart is a tracepoint's or a struct's field. Its keys print the
// whole struct, so that a property TracepointField gains tells two fields
// apart, as a retype, until the classification knows it. Where it is
// placed (Offset, and a struct field's BitOffset) is left out of placed.
func fieldPart(f TracepointField) part {
	same := f
	same.Type = canonicalType(f.Type)
	if signless(same.Type) {
		same.Signed = false
	}
	placed := same
	placed.Offset, placed.BitOffset = 0, 0
	return part{text: f.Layout(), key: fmt.Sprintf("%+v", f), same: fmt.Sprintf("%+v", same), placed: fmt.Sprintf("%+v", placed)}
}

// protoPart is a function's return or parameter, typ its type alone.
func protoPart(text, typ string) part {
	return part{text: text, key: text, same: canonicalType(typ), proto: true}
}

// classify says how part b of a point differs from part a (their keys
// differ); the zero part is one the run does not have. header is set for a
// tracepoint's common_* field.
func classify(header bool, a, b part) PointChange {
	switch {
	case a.key == "":
		return PointAdded
	case b.key == "":
		return PointRemoved
	case header || a.same == b.same:
		return PointTrivial
	case !a.proto && a.placed == b.placed:
		return PointMoved
	}
	return PointRetyped
}

// signless reports whether a field of canonical type typ reads the same
// whatever its signed flag says: a char array (a string) or a __data_loc
// (a u32 holding its data's offset and length).
func signless(typ string) bool {
	return strings.HasPrefix(typ, "__data_loc") || strings.HasPrefix(typ, "char[")
}

// intSpellings maps C and kernel spellings of integer types to one name
// per size and sign, on the LP64 kernels reports come from (amd64, arm64).
var intSpellings = map[string]string{}

func init() {
	for canon, spellings := range map[string][]string{
		"s8":   {"signed char", "s8", "__s8", "int8_t"},
		"u8":   {"unsigned char", "u8", "__u8", "uint8_t"},
		"s16":  {"short", "short int", "signed short", "signed short int", "s16", "__s16", "int16_t"},
		"u16":  {"unsigned short", "unsigned short int", "u16", "__u16", "uint16_t"},
		"s32":  {"int", "signed", "signed int", "s32", "__s32", "int32_t"},
		"u32":  {"unsigned", "unsigned int", "u32", "__u32", "uint32_t"},
		"s64":  {"long", "long int", "signed long", "signed long int", "long long", "long long int", "signed long long", "signed long long int", "s64", "__s64", "int64_t"},
		"u64":  {"unsigned long", "unsigned long int", "unsigned long long", "unsigned long long int", "u64", "__u64", "uint64_t"},
		"bool": {"bool", "_Bool"},
	} {
		for _, s := range spellings {
			intSpellings[s] = canon
		}
	}
}

// canonicalType writes a C type without qualifiers, its integer spelling
// made canonical, its declarator tight: "const char *const *" is "char**",
// "__u8[4]" is "u8[4]", "long int" is "s64".
func canonicalType(typ string) string {
	typ = strings.NewReplacer("*", " * ", "[", " [", "(", " ( ", ")", " ) ").Replace(typ)
	var base, rest []string
	for _, tok := range strings.Fields(typ) {
		switch {
		case tok == "const" || tok == "volatile" || tok == "restrict":
		case len(rest) == 0 && tok != "*" && !strings.HasPrefix(tok, "[") && tok != "(" && tok != ")":
			base = append(base, tok)
		default:
			rest = append(rest, tok)
		}
	}
	b := strings.Join(base, " ")
	if c, ok := intSpellings[b]; ok {
		b = c
	}
	return b + strings.Join(rest, "")
}

// cKeywords are words that end a parameter's type without naming it
// ("unsigned int" is a type, not "unsigned" named int).
var cKeywords = map[string]bool{"int": true, "long": true, "short": true, "char": true, "signed": true,
	"unsigned": true, "void": true, "_Bool": true, "bool": true, "float": true, "double": true}

// paramType is a parameter without its name: "struct sock *sk" is
// "struct sock *". One it cannot take apart (a pointer to a function) is
// returned whole.
func paramType(param string) string {
	end := len(param)
	start := strings.LastIndexFunc(param, func(r rune) bool {
		return r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9')
	}) + 1
	if start == 0 || start == end || cKeywords[param[start:]] || (param[start-1] != ' ' && param[start-1] != '*') {
		return param
	}
	return strings.TrimSpace(param[:start])
}

// splitPrototype takes "long f(int a, char *b)" apart into its return type
// and parameters; ok is false when it does not find name's parameter list.
func splitPrototype(proto, name string) (ret string, params []string, ok bool) {
	open := strings.Index(proto, name+"(")
	if open < 0 {
		return "", nil, false
	}
	start := open + len(name) + 1
	depth, last := 1, start
	for i := start; i < len(proto); i++ {
		switch proto[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 1 {
				params = append(params, strings.TrimSpace(proto[last:i]))
				last = i + 1
			}
		}
		if depth == 0 {
			if p := strings.TrimSpace(proto[last:i]); p != "void" || len(params) > 0 {
				params = append(params, p)
			}
			ret = strings.TrimSpace(proto[:open] + " " + proto[i+1:])
			return ret, params, true
		}
	}
	return "", nil, false
}

// InventoryRow is one kind of event source counted on each run of a
// PointsTable.
type InventoryRow struct {
	What string
	// Values are Count.String per run; for tracefs, where it was found
	// ("" nowhere).
	Values []string
}

// Inventory is what each run lets eBPF hook, counted.
func (t *PointsTable) Inventory() []InventoryRow {
	var rows []InventoryRow
	for _, c := range []struct {
		what string
		of   func(*ProbePoints) string
	}{
		{"tracepoints", func(p *ProbePoints) string { return p.Tracepoints.String() }},
		{"syscall tracepoints", func(p *ProbePoints) string { return p.SyscallTracepoints.String() }},
		{"kprobe-able functions", func(p *ProbePoints) string { return p.KprobeFunctions.String() }},
		{"BTF functions (fentry)", func(p *ProbePoints) string { return p.BTFFunctions.String() }},
		{"perf event sources", func(p *ProbePoints) string { return p.PerfEventSources.String() }},
		{"tracefs", func(p *ProbePoints) string { return p.Tracefs }},
	} {
		row := InventoryRow{What: c.what}
		for _, run := range t.Runs {
			row.Values = append(row.Values, c.of(run.ProbePoints))
		}
		rows = append(rows, row)
	}
	return rows
}
