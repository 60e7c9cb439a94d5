// Package bpf holds the eBPF programs the suites load, compiled by bpf2go,
// and a typed handle for each program and map (programs.go, generated from
// the compiled objects): specs name a program by a Go identifier such as
// KprobeCount, so a misspelt name does not compile. The generated objects
// and Go files are committed so that building needs no clang; `make
// generate` rebuilds them, and `make check-generate` fails when they are
// stale.
package bpf
