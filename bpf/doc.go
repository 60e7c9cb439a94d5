// Package bpf holds the eBPF programs the suites load, compiled by bpf2go.
// The generated objects and Go files are committed so that building needs
// no clang; `make generate` rebuilds them, and a test fails when they are
// stale.
package bpf

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu" -target bpfel -go-package bpf Counters counters.c
