package bpf

// One object per C file, so that a kernel refusing one program type or map
// never affects the programs of another file. The last line writes the
// typed handles of programs.go from the objects the lines before compiled.
//
// One object serves amd64 and arm64 alike: the programs are little-endian
// BPF (-target bpfel), include only UAPI headers (the host's asm/types.h,
// from -I/usr/include/x86_64-linux-gnu, is asm-generic's, as arm64's is),
// read no pt_regs (whose layout and PT_REGS_* macros differ per arch), and
// name arch-specific kernel functions arch-neutrally (syscallEntry in
// object.go).

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu" -target bpfel -go-package bpf Counters counters.c
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu" -target bpfel -go-package bpf Net net.c
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu" -target bpfel -go-package bpf Security security.c
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu" -target bpfel -go-package bpf -no-global-types NetCC net_cc.c
//go:generate go run ./internal/handles gen.go programs.go
