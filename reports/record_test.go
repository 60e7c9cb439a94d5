package reports

import (
	"strings"
	"testing"
)

func TestReadRecordsKeepsCellsBeforeATornLine(t *testing.T) {
	stream := `{"kernel":{"release":"6.1.0-50-cloud-amd64"}}
{"cell":{"feature":"attach/kprobe","status":"supported"}}
{"cell":{"feature":"attach/fentry","sta`
	k, cells, err := ReadRecords("cells.jsonl", strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if k == nil || k.Release != "6.1.0-50-cloud-amd64" {
		t.Errorf("kernel = %+v", k)
	}
	if len(cells) != 1 || cells[0].Feature != "attach/kprobe" {
		t.Errorf("cells = %+v, want the one complete cell", cells)
	}
}

func TestReadRecordsRejectsAMalformedLineInTheMiddle(t *testing.T) {
	stream := "{\"cell\":{\"feature\":\"a/b\",\"status\":\"supported\"}}\nnot json\n{\"cell\":{\"feature\":\"c/d\",\"status\":\"supported\"}}\n"
	_, _, err := ReadRecords("cells.jsonl", strings.NewReader(stream))
	if err == nil || !strings.Contains(err.Error(), "cells.jsonl line 2") {
		t.Errorf("err = %v, want one naming cells.jsonl line 2", err)
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
