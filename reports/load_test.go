package reports_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/internal/fixture"
)

func TestLoadErrorsNameTheFileAndTheField(t *testing.T) {
	const run = `{"target":"vm","kernel":{"name":"6.1"},"cells":[%s]}`
	for _, tc := range []struct{ name, doc, want string }{
		{"newer schema", `{"schema":5,"runs":[{"future":true}]}`, "field schema: version 5 is newer than this bpfmatrix understands (4); upgrade bpfmatrix"},
		{"newer schema, fields of another shape", `{"schema":5,"runs":"all of them"}`, "field schema: version 5 is newer"},
		{"no schema", `{"runs":[]}`, "field schema: missing"},
		{"schema not a number", `{"schema":"1","runs":[]}`, `field schema: "1" is not an integer`},
		{"no runs", `{"schema":1}`, "field runs: missing"},
		{"wrong type", `{"schema":1,"runs":[{"target":"vm","kernel":{"name":"6.1"},"cells":[{"feature":"a/b","status":"supported","duration_ms":"slow"}]}]}`,
			"field runs.cells.duration_ms: want a number, got JSON string (line 1 column"},
		{"bad status", `{"schema":1,"runs":[` + strings.Replace(run, "%s", `{"feature":"a/b","status":"works"}`, 1) + `]}`, `field runs[0].cells[0].status: "works" is not one of`},
		{"bad since", `{"schema":1,"runs":[` + strings.Replace(run, "%s", `{"feature":"a/b","status":"supported","since":"soon"}`, 1) + `]}`, `field runs[0].cells[0].since: "soon"`},
		{"negative duration", `{"schema":1,"runs":[` + strings.Replace(run, "%s", `{"feature":"a/b","status":"supported","duration_ms":-1}`, 1) + `]}`, "field runs[0].cells[0].duration_ms"},
		{"parity miscounted", `{"schema":2,"runs":[{"target":"vm","kernel":{"name":"6.1"},"cells":[],"parity":{"compared":3,"agreed":1}}]}`,
			"field runs[0].parity: compared 3 is not agreed 1 + 0 allowed + 0 disagreements"},
		{"object without program", `{"schema":3,"runs":[` + strings.Replace(run, "%s", `{"feature":"object/p.o/x","status":"supported","object":{"file":"p.o","asked":"load"}}`, 1) + `]}`,
			"field runs[0].cells[0].object.file and program: empty"},
		{"object reached an unknown stage", `{"schema":3,"runs":[` + strings.Replace(run, "%s", `{"feature":"object/p.o/x","status":"supported","object":{"file":"p.o","program":"x","asked":"attach","reached":"ran"}}`, 1) + `]}`,
			`field runs[0].cells[0].object.reached: "ran" is not one of [load attach fired]`},
		{"object of another shape", `{"schema":3,"runs":[` + strings.Replace(run, "%s", `{"feature":"object/p.o/x","status":"supported","object":{"verifier":{"insns_processed":"many"}}}`, 1) + `]}`,
			"field runs.cells.object.verifier.insns_processed: want an integer, got JSON string"},
		{"no kernel name", `{"schema":1,"runs":[{"target":"vm","cells":[]}]}`, "field runs[0].kernel.name: empty"},
		{"arch of another naming", `{"schema":4,"runs":[{"target":"vm","kernel":{"name":"6.12","arch":"aarch64"},"cells":[]}]}`,
			`field runs[0].kernel.arch: "aarch64" is not one of [amd64 arm64] (Debian's architecture names)`},
		{"syntax", "{\"schema\":1,\n\"runs\":[}", "line 2 column 9: not valid JSON"},
		{"truncated", `{"schema":1,"runs":[{"target":"vm"`, "not valid JSON"},
		{"trailing data", `{"schema":1,"runs":[]} {}`, "after top-level value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "shard-6.1.json")
			if err := os.WriteFile(path, []byte(tc.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := reports.Load(path)
			if err == nil {
				t.Fatalf("Load accepted %s", tc.doc)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "report "+path+": ") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q\nwant one line starting with %q and containing %q", msg, "report "+path+": ", tc.want)
			}
		})
	}
}

func TestLoadRoundTripsWhatItWrites(t *testing.T) {
	rep := fixture.Objects(fixture.Report(4, 30))
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := reports.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.MarshalIndent(got, "", "  ")
	if string(again) != string(data) {
		t.Error("Load(Marshal(report)) differs from the report")
	}
	if _, err := reports.Load(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("loading a missing file: %v, want an error naming it", err)
	}
}

// FuzzParse feeds arbitrary bytes to the loader: it must never panic, and
// whatever it accepts must be valid and survive a write and a re-read.
func FuzzParse(f *testing.F) {
	good, _ := json.Marshal(fixture.Report(2, 6))
	f.Add(good)
	objects, _ := json.Marshal(fixture.Objects(fixture.Report(2, 3)))
	f.Add(objects)
	arches := fixture.Report(3, 6)
	arches.Runs = append(arches.Runs, fixture.ARM64(arches.Runs[0], fixture.Feature(5)), fixture.ARM64(arches.Runs[2]))
	withArm64, _ := json.Marshal(arches)
	f.Add(withArm64)
	f.Add([]byte(`{"schema":4,"runs":[{"target":"vm","kernel":{"name":"6.1","arch":"arm64"},"cells":[{"feature":"a","status":"failed"}]},` +
		`{"target":"vm","kernel":{"name":"6.1"},"cells":[{"feature":"a","status":"supported"}]},{"target":"vm","kernel":{"name":"6.1","arch":"amd64"},"cells":[{"feature":"a","status":"supported"}]}]}`))
	f.Add([]byte(`{"schema":3,"runs":[{"target":"vm","kernel":{"name":"6.1"},"cells":[{"feature":"object/p.o/x","area":"objects","status":"unsupported","errno":"EINVAL",` +
		`"object":{"file":"p.o","program":"x","section":"xdp","type":"XDP","asked":"fired","maps":[{"name":"m","type":"Hash"}],"verifier":{"insns_processed":1000001}}}]}]}`))
	f.Add([]byte(`{"schema":1,"runs":[]}`))
	f.Add([]byte(`{"schema":3,"runs":[{}]}`))
	f.Add([]byte(`{"schema":1,"runs":[{"target":"vm","kernel":{"name":"6.1"},"cells":[{"feature":"a","status":"supported","since":"5.1"}]}]}`))
	f.Add([]byte(`{"schema":1,"runs":null,"generated":"2026-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := reports.Parse("fuzz.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "report fuzz.json: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := rep.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid report: %v", err)
		}
		out, err := json.Marshal(rep)
		if err != nil {
			t.Fatalf("marshal an accepted report: %v", err)
		}
		if _, err := reports.Parse("again.json", out); err != nil {
			t.Fatalf("a report Parse accepted does not re-parse: %v\n%s", err, out)
		}
		g := reports.NewGrid(rep)
		for _, s := range g.ArchDifferences() {
			if g.Columns[s.Base].Key.Kernel != s.Kernel || g.Columns[s.Other].Key.Arch == reports.DefaultArch || len(s.Rows) > s.Compared {
				t.Fatalf("arch series %+v pairs %v with %v", s, g.Columns[s.Base].Key, g.Columns[s.Other].Key)
			}
		}
		if d := reports.Compare(rep, rep, 10); len(d.Changes) != 0 {
			t.Fatalf("a report compared with itself changed: %+v", d.Changes)
		}
	})
}
