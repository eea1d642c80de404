# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tcpfsm — libbpf-bootstrap-style build: BPF object -> skeleton -> userspace.
# Out of tree in build/; V=1 shows the commands.

OUTPUT ?= build
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
CC ?= cc
PREFIX ?= /usr/local
ARGS ?=

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' \
	-e 's/ppc64le/powerpc/' -e 's/mips.*/mips/' -e 's/riscv64/riscv/' \
	-e 's/loongarch64/loongarch/')
VMLINUX := vmlinux/$(ARCH)/vmlinux.h

INCLUDES := -I$(OUTPUT) -Iinclude -Isrc -Ivmlinux/$(ARCH)
# The system include dirs clang would use for the host, so BPF code finds
# <bpf/...> and asm/ headers (as libbpf-bootstrap does).
CLANG_BPF_SYS_INCLUDES ?= $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

WARN := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
SANITIZE ?=
ifneq ($(SANITIZE),)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
endif
CFLAGS ?= -g -O2
CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE $(SANFLAGS) -MMD -MP
LDFLAGS += $(SANFLAGS)
LDLIBS_BPF := -lbpf -lelf -lz -lmicrohttpd -lncursesw

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

APP := $(OUTPUT)/tcpfsm
BPF_OBJ := $(OUTPUT)/tcpfsm.bpf.o
SKEL := $(OUTPUT)/tcpfsm.skel.h

# Layers, lowest first; a module includes only from its own layer or below
# (tests/layers.sh checks it):
#   pure/   tables, histograms, alert rules, formatters: no libbpf, no
#           syscalls beyond memory; unit-tested without root
#   sys/    the operating system but not BPF: logging, stdout, record
#           files, HTTP, serve's log, hooks, capabilities, users
#   kernel/ the BPF side: loader, ring reader, event loop, snapshots, sources
#   engine/ what watch, serve and top share: table, alerts, sweeps
#   cmd/    the commands and their options, one file each
PURE_SRCS := $(sort $(wildcard src/pure/*.c))
SYS_SRCS := $(sort $(wildcard src/sys/*.c))
KERNEL_SRCS := $(sort $(wildcard src/kernel/*.c))
ENGINE_SRCS := $(sort $(wildcard src/engine/*.c))
CMD_SRCS := $(sort $(wildcard src/cmd/*.c))
APP_SRCS := $(PURE_SRCS) $(SYS_SRCS) $(KERNEL_SRCS) $(ENGINE_SRCS) $(CMD_SRCS)
obj = $(patsubst src/%.c,$(OUTPUT)/obj/%.o,$(1))
PURE_OBJS := $(call obj,$(PURE_SRCS))
APP_OBJS := $(call obj,$(APP_SRCS))
# what unit tests link, as an archive (each takes only what it uses): no
# libbpf; the option parser and the ring readers (mmap, epoll) are tested too
UNIT_OBJS := $(call obj,$(PURE_SRCS) $(SYS_SRCS) src/cmd/cli.c src/kernel/ringbuf.c \
	src/kernel/rings.c)
UNIT_LIB := $(OUTPUT)/libunit.a

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
ITEST_SRCS := $(wildcard tests/integration/itest_*.c)
ITEST_BINS := $(patsubst tests/integration/%.c,$(OUTPUT)/tests/%,$(ITEST_SRCS))

.DELETE_ON_ERROR:
.PHONY: all clean deps run test check unit integration install vmlinux format bench fuzz soak
.PHONY: kernel-test
all: $(APP)

$(OUTPUT) $(OUTPUT)/obj $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(BPF_OBJ): bpf/tcpfsm.bpf.c include/tcpfsm.h $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(INCLUDES) \
		$(CLANG_BPF_SYS_INCLUDES) -Wall -Wno-unused-function -MMD -MP -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@ # drop DWARF, keep BTF

$(SKEL): $(BPF_OBJ)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name tcpfsm_bpf > $@

# The drop tracker: its own object, sharing the main one's rings.
$(OUTPUT)/drops.bpf.o: bpf/drops.bpf.c include/tcpfsm.h $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(INCLUDES) \
		$(CLANG_BPF_SYS_INCLUDES) -Wall -Wno-unused-function -MMD -MP -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUTPUT)/drops.skel.h: $(OUTPUT)/drops.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name drops_bpf > $@

$(OUTPUT)/obj/%.o: src/%.c | $(OUTPUT)/obj
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -c $< -o $@

# Only the loader, its kernel probes and the drop tracker include a skeleton.
$(OUTPUT)/obj/kernel/loader.o $(OUTPUT)/obj/kernel/probe.o: $(SKEL)
$(OUTPUT)/obj/kernel/drops.o: $(OUTPUT)/drops.skel.h

$(APP): $(APP_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS_BPF) -o $@

# support.c first: of several sources, -MMD keeps the last one's dependencies.
$(OUTPUT)/tests/test_%: tests/unit/support.c tests/unit/test_%.c tests/unit/support.h \
		$(UNIT_LIB) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $(filter %.c %.a,$^) $(LDFLAGS) -lcmocka -o $@

$(UNIT_LIB): $(UNIT_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Integration tests that drive the loader API directly link the app's modules.
LIB_OBJS := $(filter-out $(OUTPUT)/obj/cmd/main.o,$(APP_OBJS))
$(OUTPUT)/tests/itest_hist: tests/integration/itest_hist.c tests/integration/harness.c \
		tests/integration/harness.h $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,ITEST,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -Itests/integration $(filter %.c %.o,$^) $(LDFLAGS) \
		$(LDLIBS_BPF) -lcmocka -ljson-c -o $@

# itest_storm drives build/storm (next to the tcpfsm under test) and asks the
# kernel for recursion misses (libbpf).
$(OUTPUT)/tests/itest_storm: tests/integration/itest_storm.c tests/integration/harness.c \
		tests/integration/harness.h $(OUTPUT)/storm | $(OUTPUT)/tests
	$(call msg,ITEST,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -Itests/integration $(filter %.c,$^) $(LDFLAGS) \
		-lbpf -lcmocka -ljson-c -o $@

$(OUTPUT)/tests/itest_%: tests/integration/itest_%.c tests/integration/harness.c \
		tests/integration/harness.h | $(OUTPUT)/tests
	$(call msg,ITEST,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -Itests/integration $(filter %.c,$^) $(LDFLAGS) \
		-lcmocka -ljson-c -o $@

# Install missing Debian packages (needs root; prints what is missing otherwise).
deps:
	$(Q)./scripts/deps.sh

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(APP) trace $(ARGS)

# Unit tests (no root) then integration tests (root, own network namespaces).
# One summary line ("N passed, N failed, N skipped") per pass: the plain
# build, then the same suites against an ASan+UBSan (and LeakSanitizer)
# build of everything in build/asan.
test: deps
	$(Q)$(MAKE) --no-print-directory check
	$(Q)echo "--- the same tests under ASan+UBSan ---"
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(OUTPUT)/asan SANITIZE=1 check

# ncurses keeps its screen memory to the end: not a leak of ours
export LSAN_OPTIONS = suppressions=$(abspath tests/lsan.supp)

check: $(APP) $(UNIT_BINS) $(ITEST_BINS)
	$(Q)TCPFSM=$(abspath $(APP)) OBJDIR=$(OUTPUT)/obj ./tests/run-tests.sh tests/layers.sh \
		$(UNIT_BINS) $(ITEST_BINS) tests/deploy/check.sh

unit: $(APP) $(UNIT_BINS)
	$(Q)OBJDIR=$(OUTPUT)/obj ./tests/run-tests.sh tests/layers.sh $(UNIT_BINS)

integration: $(APP) $(ITEST_BINS)
	$(Q)TCPFSM=$(abspath $(APP)) ./tests/run-tests.sh $(ITEST_BINS) tests/deploy/check.sh

install: $(APP)
	install -D -m 0755 $(APP) $(DESTDIR)$(PREFIX)/sbin/tcpfsm

# Benchmarks (root; not part of test): results in build/bench and README.
$(OUTPUT)/storm: tests/bench/storm.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -Wall -D_GNU_SOURCE $< -lpthread -o $@

# make bench's drop case: a UDP flood dropped by nft (the drop tracker's
# cost on a host that drops non-TCP packets).
$(OUTPUT)/udpflood: tests/bench/udpflood.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -Wall -D_GNU_SOURCE $< -o $@

# The floor for make bench: bpf/floor.bpf.c (a tp_btf counter, not part of
# tcpfsm) and its loader.
$(OUTPUT)/floor.bpf.o: bpf/floor.bpf.c $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(INCLUDES) \
		$(CLANG_BPF_SYS_INCLUDES) -Wall -MMD -MP -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUTPUT)/floor.skel.h: $(OUTPUT)/floor.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name floor_bpf > $@

$(OUTPUT)/floor: tests/bench/floor.c $(OUTPUT)/floor.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -Wall -D_GNU_SOURCE -I$(OUTPUT) $< -lbpf -lelf -lz -o $@

bench: deps $(APP) $(OUTPUT)/storm $(OUTPUT)/floor $(OUTPUT)/udpflood
	$(Q)command -v tcpstates >/dev/null && command -v bpftrace >/dev/null || \
		apt-get install -y -qq libbpf-tools bpftrace
	$(Q)./tests/bench/bench.sh

# serve under SOAK_SECONDS (600) of churn: RSS flat, nothing lost, counts exact.
soak: deps $(APP) $(OUTPUT)/storm
	$(Q)./tests/bench/soak.sh

# libFuzzer targets (clang, ASan+UBSan), each run FUZZ_SECONDS from the
# committed seeds in tests/fuzz/corpus/; new inputs go to build/fuzz/.
FUZZ_TARGETS := record parsers alert
FUZZ_SECONDS ?= 30
FUZZ_BINS := $(patsubst %,$(OUTPUT)/fuzz/fuzz_%,$(FUZZ_TARGETS))
$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(PURE_SRCS) $(filter-out src/sys/http.c,$(SYS_SRCS)) src/cmd/cli.c $(SKEL)
	$(Q)mkdir -p $(OUTPUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $(INCLUDES) $(filter %.c,$^) -o $@

fuzz: $(FUZZ_BINS)
	$(Q)for t in $(FUZZ_TARGETS); do \
		mkdir -p $(OUTPUT)/fuzz/corpus-$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		$(OUTPUT)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(OUTPUT)/fuzz/ \
			$(OUTPUT)/fuzz/corpus-$$t tests/fuzz/corpus/$$t > $(OUTPUT)/fuzz/$$t.log 2>&1; \
		rc=$$?; tail -n 2 $(OUTPUT)/fuzz/$$t.log; [ $$rc -eq 0 ] || exit 1; \
	done

# Boot Debian 12's Linux 6.1 in qemu (software emulation) with a static
# tcpfsm and run tests/kernel/driver.c there (root; not part of test).
kernel-test:
	$(Q)KT_OUT=$(OUTPUT)/kernel-test ./tests/kernel/run.sh

# Regenerate the committed vmlinux.h from the running kernel.
vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX)

format:
	clang-format -i src/*/*.[ch] include/*.h bpf/*.c tests/unit/*.c tests/integration/*.[ch]

clean:
	rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/obj/*/*.d $(OUTPUT)/*.d $(OUTPUT)/tests/*.d)
