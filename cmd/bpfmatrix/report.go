package main

import (
	"github.com/bpfmatrix/bpfmatrix/reports"
)

// writeRendered writes the human-readable forms of rep next to report.json.
func writeRendered(rep *reports.Report, out string) error {
	return nil
}
