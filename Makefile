# Tracebridge build. `make test` and `make run` install what they need
# themselves (through `make deps`). Everything builds into $(BUILD) so that
# several checkouts or developers can build side by side (make BUILD=build-x).
#
# Targets: all (default: services, tools, unit tests), test (all + unit and
# integration tests, tests/run.sh), unit, integration, run (the stack),
# lint, format, clean; fuzz (libFuzzer targets tests/fuzz/fuzz_*.c, built
# with clang into $(BUILD)/fuzz/ and run FUZZ_SECONDS each, default 60:
# `make fuzz FUZZ_SECONDS=300`), fuzz-seed (rewrite the seed corpus
# tests/fuzz/corpus/ from the tests' inputs).

BUILD    ?= build
CC       ?= cc
CFLAGS   ?= -O2 -g
PKGS     := rdkafka avro-c libpq libevent libevent_pthreads jansson libsodium libelf
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN     := -Wall -Wextra -Werror
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE -Icommon/include \
             -I/usr/include/libiberty $(PKG_CFLAGS) -MMD -MP
LDLIBS   := $(PKG_LIBS) -liberty -lpthread -lm
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=all

# Debian packages needed to build, test and run (idempotent; quick when present).
DEB_PKGS := build-essential pkg-config clang llvm lld bpftool libbpf-dev libelf-dev \
            zlib1g-dev librdkafka-dev libavro-dev libpq-dev libevent-dev \
            libjansson-dev libsodium-dev libiberty-dev libcmocka-dev libdebuginfod-dev \
            postgresql postgresql-contrib curl jq procps iproute2 util-linux \
            libclang-rt-14-dev wrk python3

SERVICES := adapter canonicalizer correlator aggregator timeline-api probe-agent
TOOLS    := $(patsubst tools/%/,%,$(sort $(dir $(wildcard tools/*/*.c))))

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(COMMON_SRC)) $(BUILD)/obj/gen/tb_embedded.o
COMMON_ASAN_OBJ := $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(COMMON_SRC)) $(BUILD)/asan/obj/gen/tb_embedded.o
EMBED_SRC := $(sort $(wildcard schemas/avro/*.avsc schemas/sql/*.sql))

.PHONY: all deps test unit integration run lint clean format bins unit-bins asan-bins test-asan \
        soak-leak fuzz fuzz-bins fuzz-seed soak bench bench-bins
.DEFAULT_GOAL := all

# ---- objects ---------------------------------------------------------------
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -c -o $@ $<

# Schemas and migrations are compiled into libtb (see tb/embedded.h).
$(BUILD)/gen/tb_embedded.c: $(EMBED_SRC) tools/embed.sh
	@mkdir -p $(dir $@)
	tools/embed.sh $(EMBED_SRC) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/tb_embedded.o: $(BUILD)/gen/tb_embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/asan/obj/gen/tb_embedded.o: $(BUILD)/gen/tb_embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -c -o $@ $<

$(BUILD)/libtb.a: $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/libtb.a: $(COMMON_ASAN_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# ---- BPF (probe-agent): bpf/NAME.bpf.c -> $(BUILD)/gen/bpf/NAME.skel.h ------
# CO-RE objects built with clang against vmlinux.h, which is dumped from the
# running kernel's BTF (a checked-in bpf/vmlinux.h, if present, is used
# instead, for machines without /sys/kernel/btf/vmlinux); bpftool embeds each
# object in a skeleton header. Every probe-agent object depends on the
# skeletons (only bpf.c includes one, but a stale skeleton must never link).
BPF_CLANG   ?= clang
BPFTOOL     ?= bpftool
LLVM_STRIP  ?= llvm-strip
BPF_ARCH    := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_SRC     := $(wildcard bpf/*.bpf.c)
BPF_GEN     := $(BUILD)/gen/bpf
BPF_OBJS    := $(patsubst bpf/%.bpf.c,$(BPF_GEN)/%.bpf.o,$(BPF_SRC))
BPF_SKELS   := $(patsubst bpf/%.bpf.c,$(BPF_GEN)/%.skel.h,$(BPF_SRC))
BPF_VMLINUX := $(if $(wildcard bpf/vmlinux.h),bpf/vmlinux.h,$(BPF_GEN)/vmlinux.h)
PA_SRC_ALL  := $(wildcard services/probe-agent/*.c tests/unit/probe-agent/*.c)
PA_OBJ_ALL  := $(patsubst %.c,$(BUILD)/obj/%.o,$(PA_SRC_ALL)) $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(PA_SRC_ALL))

$(BPF_GEN)/vmlinux.h:
	@mkdir -p $(dir $@)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BPF_GEN)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(BPF_VMLINUX)
	@mkdir -p $(dir $@)
	$(BPF_CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror \
	  -I$(dir $(BPF_VMLINUX)) -Ibpf -c $< -o $@.tmp
	$(LLVM_STRIP) -g $@.tmp && mv $@.tmp $@

$(BPF_GEN)/%.skel.h: $(BPF_GEN)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

.SECONDARY: $(BPF_OBJS)
$(PA_OBJ_ALL): $(BPF_SKELS)
$(PA_OBJ_ALL): ALL_CFLAGS += -I$(BPF_GEN) -Ibpf
probe-agent_EXTRA_DEPS := $(BPF_SKELS)
probe-agent_LDLIBS := -lbpf -lelf -lz
canonicalizer_LDLIBS := -ldebuginfod

# ---- service and tool binaries: services/NAME/*.c -> $(BUILD)/bin/tb-NAME ---
define prog_template
$(2)_SRC := $$(wildcard $(1)/$(2)/*.c)
$(2)_OBJ := $$(patsubst %.c,$(BUILD)/obj/%.o,$$($(2)_SRC))
$(2)_LIBOBJ := $$(filter-out %/main.o,$$($(2)_OBJ))
$(2)_ASAN_LIBOBJ := $$(patsubst $(BUILD)/obj/%,$(BUILD)/asan/obj/%,$$($(2)_LIBOBJ))
$(2)_ASAN_OBJ := $$(patsubst $(BUILD)/obj/%,$(BUILD)/asan/obj/%,$$($(2)_OBJ))
$(BUILD)/bin/tb-$(2): $$($(2)_OBJ) $(BUILD)/libtb.a $$($(2)_EXTRA_DEPS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$($(2)_OBJ) $(BUILD)/libtb.a $$($(2)_LDLIBS) $$(LDLIBS)
$(BUILD)/asan/bin/tb-$(2): $$($(2)_ASAN_OBJ) $(BUILD)/asan/libtb.a $$($(2)_EXTRA_DEPS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $(SAN) -o $$@ $$($(2)_ASAN_OBJ) $(BUILD)/asan/libtb.a $$($(2)_LDLIBS) $$(LDLIBS)
endef
# A service folder without main.c yet still has objects its unit tests link.
BUILT_SERVICES := $(foreach s,$(SERVICES),$(if $(wildcard services/$(s)/main.c),$(s)))
$(foreach s,$(SERVICES),$(eval $(call prog_template,services,$(s))))
$(foreach t,$(TOOLS),$(eval $(call prog_template,tools,$(t))))
BINS := $(foreach s,$(BUILT_SERVICES) $(TOOLS),$(BUILD)/bin/tb-$(s))
# The same programs built with ASan+UBSan, for integration tests under the
# sanitizers (TB_BIN_DIR=$(BUILD)/asan/bin; see tests/lib/harness.sh).
ASAN_BINS := $(foreach s,$(BUILT_SERVICES) $(TOOLS),$(BUILD)/asan/bin/tb-$(s))

# ---- benchmark programs: bench/NAME/*.c -> $(BUILD)/bin/tb-NAME (make bench) -
# tb-aggload drives the aggregator's own sink code, so it links the
# aggregator's objects (all but main.o) and sees its headers.
BENCH_PROGS := $(patsubst bench/%/,%,$(sort $(dir $(wildcard bench/*/*.c))))
aggload_EXTRA_DEPS := $(aggregator_LIBOBJ) $(BUILD)/obj/bench/loadgen/world.o
aggload_LDLIBS := $(aggregator_LIBOBJ) $(BUILD)/obj/bench/loadgen/world.o $(BUILD)/libtb.a
$(foreach b,$(BENCH_PROGS),$(eval $(call prog_template,bench,$(b))))
$(aggload_OBJ): ALL_CFLAGS += -Iservices/aggregator -Ibench/loadgen
BENCH_BINS := $(foreach b,$(BENCH_PROGS),$(BUILD)/bin/tb-$(b))

# ---- unit tests: tests/unit/common/test_X.c and tests/unit/SERVICE/test_X.c --
# A service's tests link that service's objects except main.o.
UNIT_SRC := $(wildcard tests/unit/*/test_*.c)
unit_group = $(word 3,$(subst /, ,$(1)))
define unit_template
$(BUILD)/tests/$(basename $(notdir $(1))): $(BUILD)/obj/$(basename $(1)).o \
    $$(if $$(filter common,$(2)),,$$($(2)_LIBOBJ)) $(BUILD)/libtb.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$($(2)_LDLIBS) $$(LDLIBS) -lcmocka
$(BUILD)/asan/tests/$(basename $(notdir $(1))): $(BUILD)/asan/obj/$(basename $(1)).o \
    $$(if $$(filter common,$(2)),,$$($(2)_ASAN_LIBOBJ)) $(BUILD)/asan/libtb.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $(SAN) -o $$@ $$^ $$($(2)_LDLIBS) $$(LDLIBS) -lcmocka
endef
$(foreach f,$(UNIT_SRC),$(eval $(call unit_template,$(f),$(call unit_group,$(f)))))
UNIT_BINS := $(foreach f,$(UNIT_SRC),$(BUILD)/tests/$(basename $(notdir $(f))) \
                                      $(BUILD)/asan/tests/$(basename $(notdir $(f))))

# ---- fuzzing: tests/fuzz/fuzz_NAME.c ----------------------------------------
# `make fuzz` builds every target with clang and libFuzzer (+ASan+UBSan) from
# the same sources, into $(BUILD)/fuzz/, and runs each for FUZZ_SECONDS
# (tests/fuzz/run.sh: corpus tests/fuzz/corpus/NAME + regressions, new
# entries and crashes only under $(BUILD)/fuzz/, one summary line per
# target). `make test` replays the corpus and the regressions without
# libFuzzer: each target is also linked with tests/fuzz/replay_main.c like a
# unit test, as $(BUILD)/asan/tests/test_fuzz_NAME. A target that calls a
# service's code links that service's objects except main.o (fuzz_NAME_SVC).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES   := $(basename $(notdir $(FUZZ_SRC)))
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS   = $(ALL_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -O1 -g
fuzz_tetragon_SVC     := adapter
fuzz_sbom_SVC         := timeline-api
fuzz_http_params_SVC  := timeline-api
fuzz_requests_SVC     := timeline-api
fuzz_svc_obj = $(patsubst $(BUILD)/obj/%,$(BUILD)/$(2)/%,$($($(1)_SVC)_LIBOBJ))

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(BUILD)/fuzz/obj/gen/tb_embedded.o: $(BUILD)/gen/tb_embedded.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(BUILD)/fuzz/libtb.a: $(patsubst $(BUILD)/obj/%,$(BUILD)/fuzz/obj/%,$(COMMON_OBJ))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define fuzz_template
$(BUILD)/fuzz/bin/$(1): $(BUILD)/fuzz/obj/tests/fuzz/$(1).o $(call fuzz_svc_obj,$(1),fuzz/obj) \
    $(BUILD)/fuzz/libtb.a
	@mkdir -p $$(dir $$@)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $$@ $$^ $$(LDLIBS)
$(BUILD)/asan/tests/test_$(1): $(BUILD)/asan/obj/tests/fuzz/$(1).o $(BUILD)/asan/obj/tests/fuzz/replay_main.o \
    $(call fuzz_svc_obj,$(1),asan/obj) $(BUILD)/asan/libtb.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $(SAN) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(FUZZ_NAMES),$(eval $(call fuzz_template,$(t))))
FUZZ_BINS   := $(foreach t,$(FUZZ_NAMES),$(BUILD)/fuzz/bin/$(t))
FUZZ_REPLAY := $(foreach t,$(FUZZ_NAMES),$(BUILD)/asan/tests/test_$(t))

# tests/fuzz/seed-corpus.sh rewrites the committed corpus from the tests'
# inputs and, with $(BUILD)/fuzz/seed, the generated part (Avro records,
# cursors): `make fuzz-seed` when a record schema or a fixture changes.
$(BUILD)/fuzz/seed: $(BUILD)/obj/tests/fuzz/seed.o $(timeline-api_LIBOBJ) $(BUILD)/libtb.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ---- top-level targets -----------------------------------------------------
all: bins unit-bins asan-bins
bins: $(BINS)
asan-bins: $(ASAN_BINS)
unit-bins: $(UNIT_BINS) $(FUZZ_REPLAY)

deps:
	@tools/deps.sh $(DEB_PKGS)

# Integration tests that exercise the services and tools, rerun under
# ASan+UBSan by `make test-asan` (about 15 minutes). 071 is left out: its
# "representative stack" check depends on catching short-lived workload
# processes alive, which the slower ASan agent missed once in three runs;
# 190 (make run) runs its own stack from $(BUILD)/bin. ASAN_QUICK is the
# cheap representative subset `make test` runs (hostile HTTP input, the
# whole pipeline with kprobe stacks, Tetragon samples with dead letters,
# findings): 60-80 s.
ASAN_IT    := 010 011 020 021 030 031 032 040 041 042 043 050 060 070 072 073 074 075 \
              101 102 103 104 105 106 107 108 109 200 201
ASAN_QUICK := 043 101 107 200

test: deps
	$(MAKE) all
	BUILD=$(BUILD) TB_ASAN_TESTS="$(ASAN_QUICK)" tests/run.sh

test-asan: all
	BUILD=$(BUILD) TB_BIN_DIR=$(abspath $(BUILD))/asan/bin tests/run.sh --integration-only $(ASAN_IT)

# Leak growth over a long steady load (several minutes; not part of `make test`).
soak-leak: all
	BUILD=$(BUILD) tests/soak/leak-growth.sh

unit: all
	BUILD=$(BUILD) tests/run.sh --unit-only

integration: all
	BUILD=$(BUILD) tests/run.sh --integration-only

fuzz-bins: $(FUZZ_BINS)

fuzz: deps
	$(MAKE) fuzz-bins
	BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_NAMES)

fuzz-seed: $(BUILD)/fuzz/seed
	BUILD=$(BUILD) tests/fuzz/seed-corpus.sh

# The fault suite (tests/integration/300-fault-suite.sh, docs/FAULTS.md) with
# a bigger workload and more kills, SOAK_ITERATIONS times in a row (each with
# a new fault seed); stops at the first failing iteration. TB_FAULT_* from the
# environment override the sizes.
SOAK_ITERATIONS ?= 3
soak: all
	@for i in $$(seq 1 $(SOAK_ITERATIONS)); do \
	  echo "== soak iteration $$i of $(SOAK_ITERATIONS)"; \
	  TB_FAULT_LINES=$${TB_FAULT_LINES:-40000} TB_FAULT_BATCHES=$${TB_FAULT_BATCHES:-800} \
	  TB_FAULT_KILLS=$${TB_FAULT_KILLS:-24} TB_FAULT_CHUNKS=$${TB_FAULT_CHUNKS:-20} \
	  TB_FAULT_WAIT=$${TB_FAULT_WAIT:-300} BUILD=$(BUILD) tests/run.sh --integration-only '300*' || exit 1; \
	done

run: deps
	$(MAKE) bins
	BUILD=$(BUILD) tools/run-stack.sh

# Benchmarks (bench/README.md): measurements, not pass/fail tests; not in `make test`.
bench-bins: $(BENCH_BINS)

bench: deps
	$(MAKE) bins bench-bins
	BUILD=$(BUILD) bench/run.sh

lint: $(BPF_SKELS)
	clang-tidy --quiet $(COMMON_SRC) $(foreach s,$(BUILT_SERVICES),$($(s)_SRC)) -- $(ALL_CFLAGS) -I$(BPF_GEN) -Ibpf
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --suppress=missingIncludeSystem --suppress=unknownMacro:services/probe-agent/bpf.c \
	  --suppress=unknownMacro:tools/dlq/main.c --suppress=ctuuninitvar:common/tb_hash.c \
	  -Icommon/include common services tools

format:
	clang-format -i $(wildcard common/*.c common/include/tb/*.h services/*/*.c services/*/*.h tools/*/*.c \
	  bench/*/*.c bench/*/*.h tests/unit/*/*.c tests/fuzz/*.c tests/fuzz/*.h)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
