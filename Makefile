# bpfmatrix: `make matrix KERNEL=5.10` runs the suites in one kernel,
# `make matrix` in all of them, `make test` runs every test.

GO      ?= go
BIN     := bin/bpfmatrix
KERNEL  ?= all
# ARCH: the lanes of the VM kernels, amd64 and Debian's arm64 kernels under
# qemu-system-aarch64 (TCG on an x86 host); ARCH=amd64 for one.
# Kernel builds export ARCH=x86_64 and the like: only make's command line
# sets the lanes.
ifeq ($(origin ARCH),environment)
ARCH    := amd64,arm64
endif
ARCH    ?= amd64,arm64
# The mirror lists arm64 5.10 builds in bullseye-security that its pool does
# not serve (docs/facts.md#arm64-kernels): the arm64 lane, alone, takes the
# newest build its pool serves (for 5.10, bullseye's), and says so; a
# BPFMATRIX_ALLOW_FALLBACK of the user's wins.
ARCH_ENV = $(if $(BPFMATRIX_ALLOW_FALLBACK),,$(if $(findstring arm64,$(ARCH)),BPFMATRIX_ALLOW_FALLBACK=arm64))
FLAVOR  ?= cloud
OUT     ?= reports/out
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
# Packages with unit tests: everything but the suites, which only run inside
# a target (through the runner, below).
UNIT    := $(shell $(GO) list ./... 2>/dev/null | grep -v '/suites$$')

.PHONY: all build kernels matrix containers probepoints crash-demo test lint-ci unit fuzz faults host-suite generate check-generate report bench lint deps

all: build

build:
	@scripts/deps.sh build
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/bpfmatrix

# Fetch (or refresh) kernels into the cache without running anything.
kernels: build
	@scripts/deps.sh vm
	$(BIN) kernels fetch -flavor $(FLAVOR) $(KERNEL)

# OBJECTS='build/*.o' (and MANIFEST=file) proves your own objects instead
# of the catalog: one cell per program (docs/objects.md). A pattern that
# matches nothing is passed on as it is, for bpfmatrix to name.
OBJECT_FLAGS = $(foreach o,$(or $(wildcard $(OBJECTS)),$(OBJECTS)),--object $(o)) $(if $(MANIFEST),--manifest $(MANIFEST))

# RUN_FLAGS=--no-cache runs every target again rather than reuse a run
# whose inputs did not change (docs/caching.md).
matrix: build
	@$(ARCH_ENV) $(BIN) run --kernel $(KERNEL) --arch $(ARCH) $(OBJECT_FLAGS) $(RUN_FLAGS) --check
	@scripts/deps.sh parity $(if $(filter host,$(KERNEL)),,vm $(if $(findstring arm64,$(ARCH)),vm-arm64)) $(if $(filter all,$(KERNEL)),containers,)
	$(ARCH_ENV) $(BIN) run --kernel $(KERNEL) --arch $(ARCH) $(OBJECT_FLAGS) $(RUN_FLAGS) --out $(OUT)

# Hookable points and tracepoint layout differences across the catalog.
probepoints: build
	@scripts/deps.sh vm parity
	$(BIN) run --kernel 5.10,6.1,6.12,7.2,7.3 --label-filter probepoints --out $(OUT)/probepoints

# The container profiles (privileged, bpf-caps, bpf-caps-seccomp, default,
# userns) on the host kernel.
containers: build
	@scripts/deps.sh containers
	$(BIN) run --kernel host --target containers --out $(OUT)

test: build
	@scripts/deps.sh generate parity vm containers browser signing
	$(GO) vet ./...
	$(MAKE) --no-print-directory lint-ci
	$(MAKE) --no-print-directory check-generate
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory fuzz
	$(MAKE) --no-print-directory host-suite

# The GitHub workflows and the action (through the workflow that uses it),
# by actionlint from the Go module proxy.
ACTIONLINT ?= github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
lint-ci:
	$(GO) run $(ACTIONLINT) -color=false

unit:
	$(GO) test -count=1 $(UNIT)

# Bounded fuzzing of what reads untrusted input: report files and merges.
# Budgets are counts, not durations: Go 1.26's fuzz coordinator can fail a
# clean target with "context deadline exceeded" when a duration budget ends
# (golang/go#75804, fixed in Go 1.27). 20000 inputs take ~10 s here.
FUZZ_EXECS ?= 20000
fuzz:
	$(GO) test ./reports -run '^$$' -fuzz '^FuzzParse$$' -fuzztime=$(FUZZ_EXECS)x -fuzzminimizetime=200x
	$(GO) test ./reports -run '^$$' -fuzz '^FuzzMerge$$' -fuzztime=$(FUZZ_EXECS)x -fuzzminimizetime=200x

# Reproduces every fault a run must survive (interrupts, a path kernel,
# duplicate targets, a full disk, a tampered index, a damaged cache, bad
# flags, spec order) with real VMs and the host, on a scratch cache and
# --out, and prints a table: fault, outcome, cells kept, cause shown.
faults: build
	@scripts/deps.sh vm parity
	BPFMATRIX_FAULTS=1 $(GO) test -count=1 -timeout 30m -run '^TestFault' ./cmd/bpfmatrix -v

# Re-render index.html and summary.md from the last report.json.
report: build
	$(BIN) report render $(OUT)/report.json --out $(OUT)

# The host suite through the runner, as a user runs it, run again even when
# the run cache holds its result (docs/caching.md): the gate proves this tree.
host-suite: build
	$(BIN) run --kernel host --no-cache --out $(OUT)/test-host

# Per kernel: bare boot-to-poweroff time, full run time, and their ratio;
# then the whole matrix `make matrix` runs, cold (--no-cache) and again:
# matrix-ratio, its wall time over Σ bare boots ÷ jobs, and rerun-ratio,
# the unchanged rerun's over the cold one's (docs/speed.md).
bench: build
	@scripts/deps.sh vm parity $(if $(findstring arm64,$(ARCH)),vm-arm64) $(if $(filter all,$(KERNEL)),containers,)
	$(ARCH_ENV) $(BIN) bench --kernel $(KERNEL) --arch $(ARCH) --out $(OUT)/bench

# Crashes each VM's kernel on purpose mid-suite: the report keeps the cells
# streamed before the crash and marks the rest crashed.
crash-demo: build
	@scripts/deps.sh vm parity
	$(BIN) run --kernel 6.1,5.10 --jobs 1 --crash-test --label-filter 'tracing || crash' --out $(OUT)/crash-demo || test $$? -eq 1

# User objects for `bpfmatrix run --object` (objects/testdata), compiled as
# bpf2go compiles bpf/ (its flags, DWARF stripped, BTF kept) but without Go
# bindings: a user's object comes with none.
FIXTURE_CFLAGS := -O2 -mcpu=v1 -g -Wall -Werror -fno-ident -fdebug-compilation-dir . -I/usr/include/x86_64-linux-gnu

# Rebuild the eBPF objects (bpf/, suites/kfuncs), the object fixtures and the static uprobe/USDT
# target, one per architecture (each with its C compiler from internal/arch).
generate:
	@scripts/deps.sh generate
	$(GO) generate ./bpf/... ./suites/kfuncs
	for c in objects/testdata/*.bpf.c; do \
		clang $(FIXTURE_CFLAGS) -target bpfel -c $$c -o $${c%.c}.o && llvm-strip -g $${c%.c}.o || exit 1; \
	done
	$(GO) generate ./suites/harness/usertarget

# Fails when the committed generated files differ from what `make generate`
# produces from their sources, or when it produces one that is not
# committed (a new architecture's target, say).
GENERATED := bpf suites/kfuncs objects/testdata suites/harness/usertarget/testdata
check-generate:
	@$(MAKE) --no-print-directory generate >/dev/null && \
	if ! git diff --quiet -- $(GENERATED) || [ -n "$$(git ls-files --others --exclude-standard -- $(GENERATED))" ]; then \
		git diff --stat -- $(GENERATED); git ls-files --others --exclude-standard -- $(GENERATED); \
		echo "check-generate: generated files are stale: run make generate and commit" >&2; exit 1; \
	fi

lint:
	$(GO) vet ./...
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
