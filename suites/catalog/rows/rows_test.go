package rows

import (
	"strings"
	"testing"

	"github.com/bpfmatrix/bpfmatrix/internal/kversion"
	"github.com/bpfmatrix/bpfmatrix/suites/catalog"
)

func TestRowsAreWellFormed(t *testing.T) {
	all := catalog.All()
	if len(all) < 150 {
		t.Fatalf("All() has %d rows; package rows registers more than 150", len(all))
	}
	for _, f := range all {
		if v, ok := kversion.Parse(f.Since); !ok || v.String() != f.Since {
			t.Errorf("%s: Since %q is not major.minor", f.ID, f.Since)
		}
		if f.Area == "" || f.Doc == "" {
			t.Errorf("%s: Area and Doc are required", f.ID)
		}
		if !strings.Contains(f.ID, "/") {
			t.Errorf("%s: IDs are kind/name", f.ID)
		}
		if got, ok := catalog.Lookup(f.ID); !ok || got != f {
			t.Errorf("Lookup(%q) does not return the row All() lists", f.ID)
		}
	}
}
