# Thin wrapper around CMake. `make run` starts the proxy, `make test` runs every test.
# Both install missing system packages first (scripts/deps.sh).
BUILD ?= build
ASAN_BUILD ?= build-asan
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2)

.PHONY: all deps build run test test-asan clean bench bench-docs bench-readme fuzz brew-formula release format

all: build

deps:
	@scripts/deps.sh

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/claude-proxy $(ARGS)

tests/node_modules/.package-lock.json: tests/package.json tests/package-lock.json
	cd tests && npm ci --no-audit --no-fund

test: build tests/node_modules/.package-lock.json
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps tests/node_modules/.package-lock.json
	cmake -S . -B $(ASAN_BUILD) -DCP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

bench: deps
	cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build build-release -j $(JOBS)
	bench/run.sh

# after `make bench`: its figures into docs/benchmarks.md (bench-readme: the old name)
bench-docs bench-readme:
	bench/docs-figures.sh

# the C sources in .clang-format's style (make test checks it: style.clang_format)
format:
	scripts/format.sh

# A Homebrew formula for this clone (build/homebrew/claude-proxy.rb), put in the local tap
# claude-proxy/local when brew is on PATH; DIRTY=1 archives the work tree as it is, NO_TAP=1 only
# writes the file. release: VERSION=x.y.z, the tarball and the committed formula's checksum.
brew-formula:
	scripts/brew-formula.sh $(if $(filter 1,$(DIRTY)),--dirty) $(if $(filter 1,$(NO_TAP)),--no-tap)

release:
	@test -n "$(VERSION)" || { echo "make release VERSION=x.y.z" >&2; exit 2; }
	scripts/release.sh $(VERSION)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# Service management (install, start, stop, restart, status, logs, error-logs, uninstall, update-token)
-include mk/service.mk
