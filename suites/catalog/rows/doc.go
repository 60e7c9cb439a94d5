// Package rows is the data of the feature catalog: one catalog.Feature per
// eBPF feature the suites prove, registered when the package is
// initialised. The harness imports it, so every spec finds its row; the
// rules that predict a row's cells are package catalog's.
package rows
