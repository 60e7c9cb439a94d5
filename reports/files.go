package reports

import (
	"os"
	"path/filepath"
	"slices"
)

// RebaseFiles makes the runs' Files, written relative to from (the
// directory of the report.json they came in), relative to to (where a page
// or a merged report goes), and keeps only the files that exist: a page
// rendered elsewhere, or a merge of reports from several directories,
// still links each run's logs, and never a file that is not there.
func (r *Report) RebaseFiles(from, to string) {
	from, errFrom := filepath.Abs(from)
	to, errTo := filepath.Abs(to)
	for i := range r.Runs {
		run := &r.Runs[i]
		var kept []string
		for _, f := range run.Files {
			if errFrom != nil || errTo != nil || filepath.IsAbs(f) {
				break
			}
			abs := filepath.Join(from, f)
			if info, err := os.Stat(abs); err != nil || !info.Mode().IsRegular() {
				continue
			}
			if rel, err := filepath.Rel(to, abs); err == nil {
				kept = append(kept, filepath.ToSlash(rel))
			}
		}
		run.Files = kept
	}
}

// mergeFiles adds b's files to a's, once each.
func mergeFiles(a, b []string) []string {
	for _, f := range b {
		if !slices.Contains(a, f) {
			a = append(a, f)
		}
	}
	return a
}
