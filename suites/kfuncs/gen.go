package kfuncs

// The programs of kfuncs.c, compiled as bpf/ compiles its objects (one
// little-endian object for amd64 and arm64, UAPI headers only).
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu" -target bpfel -go-package kfuncs -no-global-types Kfuncs kfuncs.c
