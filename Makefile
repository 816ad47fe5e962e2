# AINKA build, test and install entry points. `make test` is what CI runs.
GO       ?= go
PREFIX   ?= /usr/local
# Debian's kernel headers (linux-headers-amd64), not `uname -r`: this host's
# own kernel has no module support; the modules run in the VM harness.
KDIR     ?= $(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64)))
BIN      := bin

# On a terminal: the live view (what AINKA sees, thinks and would change),
# redrawn every second; q ends early. Otherwise a text summary every 5 s.
# Advice only (--no-act) with the shipped policies; 75 s covers the 60 s of
# learning and some of what follows.
RUN_ARGS ?= --duration 75s --no-act --policy policies/default.toml --summary 5s

.PHONY: run all build generate check-generated lint test test-go test-race test-vm bench bench-quick kmod install uninstall clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# The main job: the daemon, live on this host (root), for RUN_ARGS.
run: build
	$(BIN)/ainka run $(RUN_ARGS)

# Rebuild the eBPF object and its Go bindings (needs clang, llvm, libbpf-dev, bpftool).
generate:
	$(GO) generate ./...

# Fail when the committed *_bpfel.{go,o} do not match bpf/ sources.
check-generated:
	scripts/check-generated.sh

# go vet and staticcheck, pinned (go run fetches it once into the module cache).
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint:
	$(GO) vet ./...
	$(STATICCHECK) ./...

test: test-go test-race test-vm bench-quick

test-go:
	$(GO) test ./...

# The packages whose tests run goroutines against each other (the channel
# pipeline, the stages' concurrency tests, the control API, the daemon),
# again under the race detector.
RACE_PKGS ?= ./pipeline/... ./stages/decide/... ./stages/actuate ./stages/predict ./control/... ./daemon/...
test-race:
	$(GO) test -race $(RACE_PKGS)

# Kernel module and second-kernel eBPF tests inside qemu (Debian's 6.1 kernel).
test-vm:
	scripts/vm/run.sh

kmod:
	$(MAKE) -C kmod KDIR=$(KDIR)

bench:
	scripts/bench.sh

# The effectiveness suite, once per scenario and arm, short (≤ 10 min):
# fails if an arm leaves the host changed or the ainka arm makes a
# scenario worse than untuned beyond its noise band (docs/bench.md).
bench-quick: build
	$(BIN)/ainka-bench --quick --out $(BIN)/bench-quick

install: build
	DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) BIN=$(BIN) scripts/install.sh

uninstall:
	DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) scripts/uninstall.sh

clean:
	rm -rf $(BIN)
	$(MAKE) -C kmod KDIR=$(KDIR) clean
