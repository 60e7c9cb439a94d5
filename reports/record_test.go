package reports

import (
	"strings"
	"testing"
)

// TestReadStreamKeepsEveryRecord: a torn or garbled line loses only itself,
// wherever it is, and the error names it.
func TestReadStreamKeepsEveryRecord(t *testing.T) {
	const (
		kernel = `{"kernel":{"release":"6.1.0-50-cloud-amd64"}}`
		kprobe = `{"cell":{"feature":"attach/kprobe","status":"supported"}}`
		fentry = `{"cell":{"feature":"attach/fentry","status":"supported"}}`
		torn   = `{"cell":{"feature":"attach/lsm","sta`
	)
	for _, tc := range []struct {
		name, stream string
		cells        int
		lost         string // "" when nothing is lost
	}{
		{"clean", kernel + "\n" + kprobe + "\n" + fentry + "\n", 2, ""},
		{"torn last line", kernel + "\n" + kprobe + "\n" + torn, 1, "1 of 3 lines are not records, the rest are kept: line 3 (unexpected end of JSON input)"},
		{"torn line in the middle", kernel + "\n" + kprobe + "\n" + torn + "\n" + fentry + "\n", 2, "line 3 (unexpected end of JSON input)"},
		{"garbage lines", kernel + "\nnot json\n" + kprobe + "\n{}\n" + torn + torn + "\nx\n" + fentry + "\n", 2, "4 of 7 lines are not records, the rest are kept: line 2 (invalid character 'o' in literal null (expecting 'u')), line 4 (no kernel, cell or probepoints record), line 5 (invalid character 'c' after object key), and 1 more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ReadStream("cells.jsonl", strings.NewReader(tc.stream))
			if s.Kernel == nil || s.Kernel.Release != "6.1.0-50-cloud-amd64" {
				t.Errorf("kernel = %+v", s.Kernel)
			}
			if len(s.Cells) != tc.cells {
				t.Errorf("cells = %+v, want %d", s.Cells, tc.cells)
			}
			switch {
			case tc.lost == "" && err != nil:
				t.Errorf("err = %v", err)
			case tc.lost != "" && (err == nil || !strings.HasPrefix(err.Error(), "records cells.jsonl: ") || !strings.Contains(err.Error(), tc.lost)):
				t.Errorf("err = %v, want one containing %q", err, tc.lost)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Errorf("err %q is more than one line", err)
			}
		})
	}
}

func TestParseNamesTheBadField(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`{"schema":99,"runs":[]}`, "field schema: version 99 is newer"},
		{`{"schema":1,"runs":[{"target":"host","cells":[{"feature":"x/y","status":"maybe"}]}]}`, "runs[0].cells[0].status"},
		{`{"schema":1,"runs":[{"target":"","cells":[]}]}`, "runs[0].target"},
		{`{"schema":1,`, "report r.json"},
	} {
		_, err := Parse("r.json", []byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%s) = %v, want an error containing %q", tc.doc, err, tc.want)
		}
	}
}
