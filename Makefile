# AINKA build, test and install entry points. `make test` is what CI runs;
# `make help` lists the targets.
GO       ?= go
PREFIX   ?= /usr/local
# Debian's kernel headers (linux-headers-amd64), not `uname -r`: this host's
# own kernel has no module support; the modules run in the VM harness.
KDIR     ?= $(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64)))
BIN      ?= bin
# Extra `go build` flags (make deb: PIE with full RELRO, as Debian wants).
GOBUILDFLAGS ?=
# Extra `go test` flags of test-daemon, test-cli and test-race, e.g.
# `nice -n 10 make test GOTESTFLAGS=-cover` (issue 17's three green runs).
GOTESTFLAGS ?=
# Where scripts/vm/run.sh keeps the guest kernel it downloads.
AINKA_VM_CACHE ?= /var/cache/ainka-vm
export AINKA_VM_CACHE
# The Go toolchain of a fresh machine is in /usr/local/go/bin.
export PATH := $(PATH):/usr/local/go/bin

# On a terminal: the live view (what AINKA sees, thinks and would change),
# redrawn every second; q ends early. Otherwise a text summary every 5 s.
# Advice only (--no-act) with the shipped policies; 75 s covers the 60 s of
# learning and some of what follows.
RUN_ARGS ?= --duration 75s --no-act --policy policies/default.toml --summary 5s

.PHONY: help run all build core enhanced kmod ebpf generate check-generated lint docs \
	dev-setup test test-go test-race bench-check test-daemon test-cli test-hostile test-kernel test-vm test-install \
	bench soak bench-quick bench-quick-ci install uninstall deb clean clean-cache

all: build

help:
	@echo "make run            build and run the daemon live, advice only, for 75 s (root)"
	@echo "make test           dev-setup, then every test: daemon, CLI, race, bench-check, kernel (VM), install, bench-quick-ci"
	@echo "make dev-setup      install the Debian packages of scripts/dev-packages.txt"
	@echo "make build          bin/ainka, bin/ainka-cli"
	@echo "make core|enhanced  kmod/ainka_core.ko | kmod/ainka_enhanced.ko (and core)"
	@echo "make kmod           both modules and the test consumer"
	@echo "make ebpf           recompile the eBPF object and its Go bindings (clang)"
	@echo "make test-daemon    go test of every package but the CLI"
	@echo "make test-cli       go test of ainka-cli and the control API"
	@echo "make test-hostile   the hostile suite alone: kill at every syscall, second instance, SIGPIPE, SIGHUP, planted files (docs/reliability.md)"
	@echo "make test-kernel    the modules and eBPF on Debian's kernel in qemu"
	@echo "make test-race      the concurrent packages again under -race"
	@echo "make bench-check    decode and trace reading against same-run baselines (docs/performance.md)"
	@echo "make soak           as root: VmHWM of the live daemon under bursts ≤ max_memory_mb (48), SOAK_SECONDS (600); also in make bench (docs/reliability.md)"
	@echo "make bench-quick    the effectiveness suite, short (docs/bench.md); bench-quick-ci: untuned and ainka arms only (CI)"
	@echo "make lint           go vet and staticcheck"
	@echo "make test-install   install, uninstall, rollback and purge into a DESTDIR"
	@echo "make install        PREFIX=$(PREFIX); uninstall removes it (PURGE=1: config, state)"
	@echo "make deb            build/deb/ainka_VERSION_amd64.deb, ainka-dkms_VERSION_all.deb"
	@echo "make clean          build outputs; clean-cache: the VM cache in $(AINKA_VM_CACHE)"

# The commit stamped into the binaries, so that `ainka version` names it
# also when the toolchain records no VCS information (-buildvcs=false, a
# tree without .git); GOLDFLAGS are the caller's own linker flags.
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)
MODIFIED ?= $(shell git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo true)
GOLDFLAGS ?=
STAMP    := -X github.com/ainka/ainka/buildinfo.stampCommit=$(COMMIT) -X github.com/ainka/ainka/buildinfo.stampModified=$(MODIFIED)

build:
	$(GO) build $(GOBUILDFLAGS) -ldflags='$(GOLDFLAGS) $(STAMP)' -o $(BIN)/ ./cmd/...

# The main job: the daemon, live on this host (root), for RUN_ARGS.
run: build
	$(BIN)/ainka run $(RUN_ARGS)

dev-setup:
	scripts/dev-setup.sh

# The kernel modules (kmod/Makefile): core alone, enhanced with the core it
# links against, or both and the test consumer.
core enhanced:
	$(MAKE) -C kmod KDIR=$(KDIR) $@

kmod:
	$(MAKE) -C kmod KDIR=$(KDIR)

# Rebuild the eBPF object and its Go bindings (needs clang, llvm, libbpf-dev,
# bpftool: make dev-setup).
ebpf generate:
	$(GO) generate ./...

# Fail when the committed *_bpfel.{go,o} do not match bpf/ sources.
check-generated:
	scripts/check-generated.sh

# go vet and staticcheck, pinned (go run fetches it once into the module cache).
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint:
	$(GO) vet ./...
	$(STATICCHECK) ./...

test: dev-setup test-go test-race bench-check test-kernel test-install bench-quick-ci

test-go: test-daemon test-cli

CLI_PKGS := ./cmd/ainka-cli/... ./control/...
test-daemon:
	$(GO) test $(GOTESTFLAGS) $$($(GO) list ./... | grep -vE '/ainka/(cmd/ainka-cli|control)(/|$$)')

test-cli:
	$(GO) test $(GOTESTFLAGS) $(CLI_PKGS)

# The hostile suite (docs/reliability.md), as root. Its tests are also in
# test-daemon and test-cli (go test ./...), so make test runs them once;
# this target runs them alone.
HOSTILE_RUN := Hostile|ListenKeepsNonSocket|PIDFileIgnoresPlantedSymlinks|Unsafe|LockDir|FullDisk|CorruptLineSetAside|CrashBefore|CrashBetween|JournalCannotRedirect|YieldLifecycle|CorruptJournalStarts|PauseAllAfterRollback|ReloadEmptyKeepsRunning|ReloadInPlaceWrite
test-hostile:
	$(GO) test -count=1 -run '$(HOSTILE_RUN)' ./stages/actuate/... ./stages/decide ./cmd/ainka ./control ./config

# The packages whose tests run goroutines against each other (the channel
# pipeline, the stages' concurrency tests, the control API, the daemon),
# again under the race detector.
RACE_PKGS ?= ./pipeline/... ./stages/decide/... ./stages/actuate ./stages/predict ./control/... ./daemon/... ./view/web ./fleet/push
test-race:
	$(GO) test $(GOTESTFLAGS) -race $(RACE_PKGS)

# The data-plane benchmarks, briefly, each against a baseline measured in
# the same run (decode vs copying the same bytes, trace reading vs their
# CRC; the fleet push against the pipeline's CPU at 1 M events/s): fails on
# a ratio past its stated limit (internal/testenv.BenchRatio, daemon's
# TestBenchPushCost).
bench-check:
	AINKA_BENCH_CHECK=1 $(GO) test -count=1 -run '^TestBench' ./stages/decode ./trace ./stages/tune ./daemon

# Kernel module and second-kernel eBPF tests inside qemu (Debian's 6.1 kernel).
test-kernel test-vm:
	scripts/vm/run.sh

test-install: build
	scripts/install_test.sh

bench:
	scripts/bench.sh

# The memory bound (issue 16): the live daemon's VmHWM under bursts and
# quiet periods against max_memory_mb (48, the default), 10 minutes by
# default; `make soak SOAK_SECONDS=180` for a short one. Also the last part
# of `make bench` as root.
SOAK_SECONDS ?= 600
soak: build
	AINKA=$(BIN)/ainka scripts/soak.sh $(SOAK_SECONDS)

# The effectiveness suite, once per scenario and arm, short (≤ 10 min):
# fails if an arm leaves the host changed or the ainka arm makes a
# scenario worse than untuned beyond its noise band (docs/bench.md).
bench-quick: build
	$(BIN)/ainka-bench --quick --out $(BIN)/bench-quick

# What make test runs: the gate of bench-quick (the ainka arm no worse
# than untuned beyond the noise band, the host restored after every run)
# on all five scenarios, with the arms the gate compares: untuned (run
# twice, bracketing) and ainka, three repeats: 45 runs, about 7.5 min quiet
# (docs/bench.md); the tuned, ainka+policies and oracle arms would double
# that, and make bench-quick keeps them.
# Three repeats, not one: one quiet clean-clone run measured writeback's
# small-fsync p99 at 2.02 ms with ainka against 1.07 and 1.15 ms
# untuned, another 0.89 against 0.91 and 1.24: a single p99 is too noisy
# for the gate, a median of three is what it should judge.
BENCH_CI_ARMS := untuned,ainka
BENCH_CI_REPEATS := 3
bench-quick-ci: build
	$(BIN)/ainka-bench --quick --repeats $(BENCH_CI_REPEATS) --arm $(BENCH_CI_ARMS) --out $(BIN)/bench-quick

install: build docs
	DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) BIN=$(BIN) scripts/install.sh

uninstall:
	DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) scripts/uninstall.sh

deb:
	scripts/deb.sh

clean:
	rm -rf $(BIN) build
	$(MAKE) -C kmod KDIR=$(KDIR) clean
	@if [ -d "$(AINKA_VM_CACHE)" ]; then \
		echo "the VM guest kernel cache is kept in $(AINKA_VM_CACHE) ($$(du -sh $(AINKA_VM_CACHE) | cut -f1)); make clean-cache removes it"; \
	else echo "no VM cache at $(AINKA_VM_CACHE)"; fi

clean-cache:
	rm -rf $(AINKA_VM_CACHE)
	@echo "removed the VM cache $(AINKA_VM_CACHE)"

# Manual pages and shell completion, generated from the commands'
# definitions, into $(BIN)/man and $(BIN)/completion: make install and
# make deb install them from there.
docs: build
	mkdir -p $(BIN)/man $(BIN)/completion
	$(BIN)/ainka man > $(BIN)/man/ainka.1
	$(BIN)/ainka-cli man > $(BIN)/man/ainka-cli.1
	$(BIN)/ainka-cli completion bash > $(BIN)/completion/ainka-cli.bash
	$(BIN)/ainka-cli completion zsh > $(BIN)/completion/_ainka-cli
