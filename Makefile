# SPDX-License-Identifier: GPL-2.0-only
# kvmprof — one non-recursive Makefile. Components add themselves through the
# build.mk fragments included below (still one make process, one dependency
# graph).  `make V=1` shows the commands.

# ARCH: x86 or arm64 (the kernel's names). Another ARCH than the machine's
# cross-builds with Debian's cross compiler against the target's multiarch
# libraries (scripts/deps.sh --arch ARCH installs both), into build-ARCH.
HOST_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
ARCH ?= $(HOST_ARCH)
MULTIARCH_x86 := x86_64-linux-gnu
MULTIARCH_arm64 := aarch64-linux-gnu
MULTIARCH := $(MULTIARCH_$(ARCH))
ifeq ($(MULTIARCH),)
$(error ARCH=$(ARCH): kvmprof builds for x86 and arm64)
endif

ifeq ($(ARCH),$(HOST_ARCH))
O ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config
else
O ?= build-$(ARCH)
CROSS_COMPILE ?= $(MULTIARCH)-
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
PKG_CONFIG ?= PKG_CONFIG_LIBDIR=/usr/lib/$(MULTIARCH)/pkgconfig:/usr/share/pkgconfig pkg-config
ifeq ($(shell command -v $(CC)),)
$(error $(CC) not found: scripts/deps.sh --arch $(ARCH) installs the cross toolchain and libraries)
endif
endif
CLANG ?= clang
BPFTOOL ?= bpftool

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2
BASE_CFLAGS := -std=gnu11 $(WARN) -g -Iinclude -Ilib -I$(O)/gen -MMD -MP \
	-D_GNU_SOURCE
CFLAGS ?= -O2
CFLAGS_ALL := $(BASE_CFLAGS) $(CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
SAN_CFLAGS := $(BASE_CFLAGS) -O1 $(SAN_FLAGS)
LDFLAGS ?=

# Libraries (all Debian packages, see README "Dependencies").
LIBBPF_LIBS := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
CJSON_LIBS := $(shell $(PKG_CONFIG) --libs libcjson 2>/dev/null || echo -lcjson)
MHD_LIBS := $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
CURL_LIBS := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)
CAPNG_LIBS := $(shell $(PKG_CONFIG) --libs libcap-ng 2>/dev/null || echo -lcap-ng)
ZLIB_LIBS := -lz
ELF_LIBS := -lelf

# Filled by the fragments.
BINS :=
TEST_BINS :=
BENCH_BINS :=
CLEAN_EXTRA :=

obj = $(patsubst %.c,$(O)/obj/%.o,$(1))
sanobj = $(patsubst %.c,$(O)/san/%.o,$(1))

.PHONY: all
all: bins

# The version: `git describe` of the checkout when there is one.  Only
# $(O)/gen/version.h has it (rewritten when it changes, so what includes
# it is rebuilt then).
KVMPROF_VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1)
VERSION_H := $(O)/gen/version.h

.PHONY: version-force
$(VERSION_H): version-force
	$(Q)mkdir -p $(@D)
	$(Q)echo '#define KVMPROF_VERSION "$(KVMPROF_VERSION)"' > $@.tmp
	$(Q)cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

# Fragments: each owns its folder's targets (a missing one is an error).
# Libraries and tools before what links them (they define *_SRCS).
include lib/spe/build.mk
include lib/build.mk
include bpf/build.mk
include daemon/build.mk
include cli/build.mk
include $(sort $(wildcard tools/*/build.mk))
include tests/build.mk
include tests/spe/build.mk
include tests/service/build.mk
include bench/build.mk
include fuzz/build.mk
include dist/build.mk

.PHONY: bins
bins: $(BINS)

$(O)/obj/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

# Position-independent, for shared objects (kvmprof-client.so).
$(O)/pic/%.o: %.c
	$(call msg,CC-PIC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_ALL) -fPIC -c $< -o $@

$(O)/san/%.o: %.c
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAN_CFLAGS) -c $< -o $@

# The C lines changed since FORMAT_BASE (default: the branch point from
# main) as clang-format writes them (scripts/format-check.sh).
.PHONY: format-check
format-check:
	$(Q)scripts/format-check.sh $(FORMAT_BASE)

.PHONY: deps
deps:
	$(Q)scripts/deps.sh

.PHONY: test run-tests
# `make test` first installs what is missing (no-op when all is there).
test:
	$(Q)scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory run-tests

run-tests: $(BINS) $(TEST_BINS)
	$(Q)O=$(O) tests/run-tests.sh $(TEST_BINS)

# The tests that need /dev/kvm, in an emulated x86_64 guest with KVM (SVM)
# where this machine has none (tests/nested/run.sh; not part of `make test`)
.PHONY: test-nested
test-nested: $(BINS) $(TEST_BINS)
	$(Q)O=$(O) tests/nested/run.sh

.PHONY: bench run-bench
bench:
	$(Q)scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory run-bench

run-bench: $(BINS) $(BENCH_BINS)
	$(Q)O=$(O) bench/run-bench.sh $(BENCH_BINS)

# The main job: kvmprofd + demo guests + live per-VM view; Ctrl-C stops all.
.PHONY: demo
demo:
	$(Q)scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory bins
	$(Q)O=$(O) scripts/demo.sh

.PHONY: clean
clean:
	$(Q)rm -rf $(O) $(CLEAN_EXTRA)

-include $(shell find $(O) -name '*.d' 2>/dev/null)
