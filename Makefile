# Tracebridge build. `make test` and `make run` install what they need
# themselves (through `make deps`). Everything builds into $(BUILD) so that
# several checkouts or developers can build side by side (make BUILD=build-x).

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
            libjansson-dev libsodium-dev libiberty-dev libcmocka-dev \
            postgresql postgresql-contrib curl jq procps iproute2 util-linux \
            wrk

SERVICES := adapter canonicalizer correlator aggregator timeline-api probe-agent
TOOLS    := $(patsubst tools/%/,%,$(sort $(dir $(wildcard tools/*/*.c))))

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(COMMON_SRC)) $(BUILD)/obj/gen/tb_embedded.o
COMMON_ASAN_OBJ := $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(COMMON_SRC)) $(BUILD)/asan/obj/gen/tb_embedded.o
EMBED_SRC := $(sort $(wildcard schemas/avro/*.avsc schemas/sql/*.sql))

.PHONY: all deps test unit integration run lint clean format bins unit-bins bench bench-bins
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

# ---- service and tool binaries: services/NAME/*.c -> $(BUILD)/bin/tb-NAME ---
define prog_template
$(2)_SRC := $$(wildcard $(1)/$(2)/*.c)
$(2)_OBJ := $$(patsubst %.c,$(BUILD)/obj/%.o,$$($(2)_SRC))
$(2)_LIBOBJ := $$(filter-out %/main.o,$$($(2)_OBJ))
$(2)_ASAN_LIBOBJ := $$(patsubst $(BUILD)/obj/%,$(BUILD)/asan/obj/%,$$($(2)_LIBOBJ))
$(BUILD)/bin/tb-$(2): $$($(2)_OBJ) $(BUILD)/libtb.a $$($(2)_EXTRA_DEPS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$($(2)_OBJ) $(BUILD)/libtb.a $$($(2)_LDLIBS) $$(LDLIBS)
endef
# A service folder without main.c yet still has objects its unit tests link.
BUILT_SERVICES := $(foreach s,$(SERVICES),$(if $(wildcard services/$(s)/main.c),$(s)))
$(foreach s,$(SERVICES),$(eval $(call prog_template,services,$(s))))
$(foreach t,$(TOOLS),$(eval $(call prog_template,tools,$(t))))
BINS := $(foreach s,$(BUILT_SERVICES) $(TOOLS),$(BUILD)/bin/tb-$(s))

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

# ---- top-level targets -----------------------------------------------------
all: bins unit-bins
bins: $(BINS)
unit-bins: $(UNIT_BINS)

deps:
	@tools/deps.sh $(DEB_PKGS)

test: deps
	$(MAKE) all
	BUILD=$(BUILD) tests/run.sh

unit: all
	BUILD=$(BUILD) tests/run.sh --unit-only

integration: all
	BUILD=$(BUILD) tests/run.sh --integration-only

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
	  --suppress=ctuuninitvar:common/tb_hash.c -Icommon/include common services tools

format:
	clang-format -i $(wildcard common/*.c common/include/tb/*.h services/*/*.c services/*/*.h tools/*/*.c \
	  bench/*/*.c bench/*/*.h tests/unit/*/*.c)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
