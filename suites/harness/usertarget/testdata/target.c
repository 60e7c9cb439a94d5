// Uprobe and USDT target of the suites (suites/harness/usertarget). Built
// static for each architecture by `make generate` (the VM guest has no C
// library) into target-<arch>, and embedded in the suite binary of that
// GOARCH.
//
// Usage: target N   calls bpfmatrix_uprobe_target N times and fires the
//                   bpfmatrix:tick USDT probe N times, but only while its
//                   semaphore is raised: that proves the kernel honoured the
//                   uprobe's ref_ctr_offset.

#define _SDT_HAS_SEMAPHORES 1
#include <stdlib.h>
#include <sys/sdt.h>

unsigned short bpfmatrix_tick_semaphore __attribute__((unused, section(".probes")));

__attribute__((noinline)) int bpfmatrix_uprobe_target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	int sum = 0;

	for (int i = 0; i < n; i++) {
		sum += bpfmatrix_uprobe_target(i);
		if (bpfmatrix_tick_semaphore)
			STAP_PROBE1(bpfmatrix, tick, i);
	}
	return sum == -1;
}
