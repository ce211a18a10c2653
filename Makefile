# ccompose build. `make` builds build/ccompose; `make check` sets the machine up (scripts/setup.sh)
# and runs every test, plain and under ASan+UBSan; `make demo` sets up and brings the example up.

PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc
PKGS := yaml-0.1 jansson libcurl libuv libarchive libssl libcrypto

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libarchive is not linked into ccompose: common/archive.c loads it on first use (see why there).
# Tests that call it themselves link it (TEST_LIBS).
PKG_LIBS = $(shell pkg-config --libs $(filter-out libarchive,$(PKGS)) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
        -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) -I. $(PKG_CFLAGS) \
             -DCCOMPOSE_VERSION='"$(VERSION)"' -DCCOMPOSE_GIT_REV='"$(GIT_REV)"' -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(EXTRA_LDFLAGS)
LIBS = $(PKG_LIBS) -lm
TEST_LIBS = $(LIBS) $(shell pkg-config --libs libarchive 2>/dev/null)

# Modules in dependency order; cli/ holds main() and is not part of the library tests link.
LIB_SRC := $(wildcard common/*.c compose/*.c engine-client/*.c scheduler/*.c)
CLI_SRC := $(wildcard cli/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)

UNIT_SRC := $(wildcard tests/unit/*/test-*.c)
INTEG_SRC := $(wildcard tests/integration/test-*.c)
# Swarm tests run inside a private single-node swarm (tests/swarm/private-swarm.sh), never on the
# shared engine; scripts/run-tests.sh wraps each binary in it.
SWARM_SRC := $(wildcard tests/swarm/test-*.c)
TESTLIB_SRC := $(wildcard tests/lib/*.c)
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)
INTEG_BIN := $(INTEG_SRC:%.c=$(BUILD)/%) $(SWARM_SRC:%.c=$(BUILD)/%)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o)

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

.PHONY: all install check sanitize test test-unit test-integration test-podman setup demo clean \
        fuzz format deps fuzz-build fuzz-smoke test-setup sanitize-test tests bench-build \
        valgrind-test

all: $(BUILD)/ccompose

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libccompose.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/ccompose: $(CLI_OBJ) $(BUILD)/libccompose.a
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libccompose.a $(LIBS)

$(BUILD)/tests/%: tests/%.c $(TESTLIB_OBJ) $(BUILD)/libccompose.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(TESTLIB_OBJ) $(BUILD)/libccompose.a $(TEST_LIBS) -lcmocka

tests: $(UNIT_BIN) $(INTEG_BIN)

# Benchmark drivers (bench/NAME/bench.c -> $(BUILD)/bench/NAME/bench); bench/NAME/run runs them.
BENCH_SRC := $(wildcard bench/*/bench.c)
BENCH_BIN := $(BENCH_SRC:%.c=$(BUILD)/%)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libccompose.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libccompose.a $(LIBS)

bench-build: $(BENCH_BIN)

# Test-library objects are linked into every test; keep them so that a rebuild relinks only.
.SECONDARY: $(TESTLIB_OBJ)

# The machine: packages, a running engine, the base and test images. Idempotent.
setup:
	scripts/setup.sh

# The set-up scripts themselves, on private dockerds and with docker-compose (root, ~3 minutes).
test-setup:
	tests/setup/test-engine.sh
	tests/setup/test-setup.sh
	tests/setup/test-hello-example.sh

# Tests against an already set-up machine (no install step).
test: $(BUILD)/ccompose $(UNIT_BIN) $(INTEG_BIN)
	scripts/run-tests.sh $(BUILD)

# The integration tests again, then the voting app end to end, against Podman's API service
# (scripts/test-podman.sh; docs/podman.md).
test-podman: $(BUILD)/ccompose $(INTEG_BIN)
	scripts/test-podman.sh $(BUILD)

test-unit: $(UNIT_BIN)
	scripts/run-tests.sh --unit $(BUILD)

# Every stage runs even when one fails; scripts/check.sh adds up their counts on the last line.
check: setup
	scripts/check.sh $(MAKE)

sanitize: setup
	$(MAKE) sanitize-test

sanitize-test:
	$(MAKE) BUILD=build-san CC=gcc EXTRA_CFLAGS="$(SAN_FLAGS)" EXTRA_LDFLAGS="$(SAN_FLAGS)" \
	    CFLAGS="-O1 -g" test

# Unit tests, then every integration test program and the ccompose it runs, under valgrind
# (VALGRIND_INTEGRATION names a subset); see scripts/valgrind-test.sh.
valgrind-test: $(BUILD)/ccompose $(UNIT_BIN) $(INTEG_BIN)
	scripts/valgrind-test.sh $(BUILD)

demo: setup $(BUILD)/ccompose
	scripts/demo.sh $(BUILD)/ccompose

# The binary, the man page, bash's completion (where bash-completion looks for it by the
# command's name).
install: $(BUILD)/ccompose
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 $(BUILD)/ccompose $(DESTDIR)$(PREFIX)/bin/ccompose
	install -m 644 docs/ccompose.1 $(DESTDIR)$(PREFIX)/share/man/man1/ccompose.1
	install -m 644 completion/ccompose.bash \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ccompose

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-fuzz

# ---- Fuzzing (clang, libFuzzer) ----------------------------------------------------------------
# Every tests/fuzz/fuzz-NAME.c is a target (LLVMFuzzerTestOneInput) with seeds in
# tests/fuzz/corpus/NAME/; nothing to list here. The library is rebuilt with coverage hooks into
# build-fuzz/. `make fuzz` runs each target FUZZ_SECONDS (60), `make fuzz-smoke` 10 s (CI); both
# fail if a target crashes. Runs work on a scratch copy of the corpus (build-fuzz/run/NAME) and
# leave crash inputs in build-fuzz/artifacts/NAME/; see tests/fuzz/README.md.
FUZZ_BUILD := build-fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -O1 -g $(FUZZ_SAN) -I. $(PKG_CFLAGS) \
              -DCCOMPOSE_VERSION='"$(VERSION)"' -DCCOMPOSE_GIT_REV='"$(GIT_REV)"' -MMD -MP
FUZZ_SRC := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/libccompose.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_BUILD)/libccompose.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libccompose.a $(LIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	scripts/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-smoke: $(FUZZ_BIN)
	scripts/run-fuzz.sh $(FUZZ_BUILD) 10

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BIN:=.d)
# ---- end of fuzzing ----------------------------------------------------------------------------

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TESTLIB_OBJ:.o=.d)

# The voting app end-to-end tests (tests/e2e/) with a compose command: COMPOSE="docker-compose"
# or, by default, this build's ccompose.
.PHONY: test-e2e
test-e2e: $(BUILD)/ccompose
	COMPOSE="$${COMPOSE:-$(BUILD)/ccompose}" tests/e2e/run.sh

# Benchmarks against docker-compose (bench/*/run, see bench/README.md); needs an engine with the
# machine set up. Ends with "N passed, N failed".
.PHONY: bench
bench: $(BUILD)/ccompose
	CCOMPOSE="$${CCOMPOSE:-$(BUILD)/ccompose}" scripts/run-bench.sh
