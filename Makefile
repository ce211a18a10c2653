# ccompose build. `make` builds build/ccompose; `make check` sets the machine up (scripts/setup.sh)
# and runs every test, plain and under ASan+UBSan; `make demo` sets up and brings the example up.

PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc
PKGS := yaml-0.1 jansson libcurl libuv libarchive

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
        -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) -I. $(PKG_CFLAGS) \
             -DCCOMPOSE_VERSION='"$(VERSION)"' -DCCOMPOSE_GIT_REV='"$(GIT_REV)"' -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(EXTRA_LDFLAGS)
LIBS = $(PKG_LIBS) -lm

# Modules in dependency order; cli/ holds main() and is not part of the library tests link.
LIB_SRC := $(wildcard common/*.c compose/*.c engine-client/*.c scheduler/*.c)
CLI_SRC := $(wildcard cli/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)

UNIT_SRC := $(wildcard tests/unit/*/test-*.c)
INTEG_SRC := $(wildcard tests/integration/test-*.c)
TESTLIB_SRC := $(wildcard tests/lib/*.c)
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)
INTEG_BIN := $(INTEG_SRC:%.c=$(BUILD)/%)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o)

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

.PHONY: all install check sanitize test test-unit test-integration setup demo clean fuzz format \
        deps

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
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(TESTLIB_OBJ) $(BUILD)/libccompose.a $(LIBS) -lcmocka

tests: $(UNIT_BIN) $(INTEG_BIN)

# The machine: packages, a running engine, the base and test images. Idempotent.
setup:
	scripts/setup.sh

# Tests against an already set-up machine (no install step).
test: $(BUILD)/ccompose $(UNIT_BIN) $(INTEG_BIN)
	scripts/run-tests.sh $(BUILD)

test-unit: $(UNIT_BIN)
	scripts/run-tests.sh --unit $(BUILD)

check: setup
	$(MAKE) test
	$(MAKE) sanitize-test

sanitize: setup
	$(MAKE) sanitize-test

sanitize-test:
	$(MAKE) BUILD=build-san CC=gcc EXTRA_CFLAGS="$(SAN_FLAGS)" EXTRA_LDFLAGS="$(SAN_FLAGS)" \
	    CFLAGS="-O1 -g" test

demo: setup $(BUILD)/ccompose
	scripts/demo.sh $(BUILD)/ccompose

install: $(BUILD)/ccompose
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/ccompose $(DESTDIR)$(PREFIX)/bin/ccompose

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TESTLIB_OBJ:.o=.d)

# The voting app end-to-end tests (tests/e2e/) with a compose command: COMPOSE="docker-compose"
# or, by default, this build's ccompose.
.PHONY: test-e2e
test-e2e:
	COMPOSE="$${COMPOSE:-$(BUILD)/ccompose}" tests/e2e/run.sh
