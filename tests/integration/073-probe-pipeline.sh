#!/usr/bin/env bash
# 073: tb-probe-agent through the whole pipeline (dev broker, PostgreSQL,
# adapter, canonicalizer, correlator, aggregator, timeline-api).
#  - Artifacts registered over the API: A holds work-pie (its build-id),
#    B the stripped work-v2-stripped (its own build-id; the unstripped
#    work-v2 is the only copy in the canonicalizer's symbol directory),
#    C holds libloaded.so. A finding on A's purl watches tb_watched and
#    tb_never_called: the agent learns that from tb.findings.v1 and
#    tb.artifacts.v1 and attaches the uprobes itself.
#  - The agent samples only the test's cgroup (--cgroup) and sends
#    ProbeBatch records to tb.probe.raw.v1.
# Expected: the hot-symbols route puts tb_hot_leaf first for A and for B
# (B symbolized by the canonicalizer from the symbol store), stacks.folded
# gives main;tb_run;tb_outer;tb_middle;tb_hot_leaf as the heaviest stack of
# each, the timeline of C shows the load of libloaded.so, and the timeline
# holds exactly 77 uprobe hits of tb_watched and an attached zero count of
# tb_never_called.
. "$(dirname "$0")/../lib/harness.sh"
. "$TB_ROOT/tests/lib/stack.sh"
. "$TB_ROOT/tests/data/probe/probe-lib.sh"

names=("hot symbol of A" "heaviest stack of A" "hot symbol of stripped B" "heaviest stack of B"
       "load in the timeline of C" "uprobe hits of tb_watched" "uprobe zero count of tb_never_called")
tb_probe_require_bpf "${names[@]}"
tb_probe_build || tb_finish
tb_probe_cgroup || { tb_fail "cgroup for the workloads"; tb_finish; }
TB_SYMBOL_DIR="$TB_TMP/symbols"
mkdir -p "$TB_SYMBOL_DIR"
cp "$TB_PROBE_DIR/work-v2" "$TB_SYMBOL_DIR/"
tb_stack_start || { tb_fail "pipeline started"; tb_finish; }

A="sha256:$(printf 'probe-artifact-a' | sha256sum | cut -d' ' -f1)"
B="sha256:$(printf 'probe-artifact-b' | sha256sum | cut -d' ' -f1)"
C="sha256:$(printf 'probe-artifact-c' | sha256sum | cut -d' ' -f1)"
PURL="pkg:generic/tb-work@1.0"
bid_a=$(tb_probe_build_id "$TB_PROBE_DIR/work-pie")
bid_b=$(tb_probe_build_id "$TB_PROBE_DIR/work-v2-stripped")
bid_c=$(tb_probe_build_id "$TB_PROBE_DIR/libloaded.so")

post() { # PATH JSON
  printf '%s' "$2" >"$TB_TMP/post.json"
  tb_api_post "$1" "$TB_TMP/post.json" >/dev/null
  [ "$TB_HTTP_STATUS" = 202 ] || tb_diag "POST $1: $TB_HTTP_STATUS $(cat "$TB_TMP/http.body")"
}
post /api/v1/artifacts "{\"digest\":\"$A\",\"name\":\"tb-work\",\"version\":\"1.0\",\"binaries\":[{\"path\":\"$TB_PROBE_DIR/work-pie\",\"build_id\":\"$bid_a\",\"purl\":\"$PURL\"}]}"
post /api/v1/artifacts "{\"digest\":\"$B\",\"name\":\"tb-work-v2\",\"version\":\"2.0\",\"binaries\":[{\"path\":\"$TB_PROBE_DIR/work-v2-stripped\",\"build_id\":\"$bid_b\"}]}"
post /api/v1/artifacts "{\"digest\":\"$C\",\"name\":\"libloaded\",\"version\":\"1.0\",\"binaries\":[{\"path\":\"$TB_PROBE_DIR/libloaded.so\",\"build_id\":\"$bid_c\"}]}"
post /api/v1/findings "{\"id\":\"F-PROBE-1\",\"vuln_id\":\"CVE-2099-0001\",\"purl\":\"$PURL\",\"artifact_digest\":\"$A\",\"symbols\":[\"tb_watched\",\"tb_never_called\"]}"

tb_probe_agent agent --brokers "$TB_BROKERS" --cgroup "$TB_PROBE_CG" --flush-interval 1s
agent=$TB_LAST_PID
tb_probe_ready agent "$agent" || { tb_fail "agent ready"; tb_finish; }
if ! tb_wait_for 60 grep -q "uprobe [0-9]* attached at $TB_PROBE_DIR/work-pie.*(tb_never_called)" "$TB_TMP/agent.log"; then
  tb_diag "the agent attached no uprobe from the finding; its log:"; tail -10 "$TB_TMP/agent.log" | sed 's/^/#   /'
fi

tb_probe_in_cgroup "$TB_PROBE_DIR/work-pie" spin 4; w1=$TB_LAST_PID
tb_probe_in_cgroup "$TB_PROBE_DIR/work-v2-stripped" spin 4; w2=$TB_LAST_PID
wait "$w1" "$w2"
# Uprobe hits count as self hits of tb_watched in A's hot symbols and as the
# weight of its stack: kept well below the ~400 samples of the 4 s spin, so
# tb_hot_leaf stays A's hottest symbol whenever the uprobe batch is stored
# (with 777 calls the checks below passed only while the uprobe events had
# not reached PostgreSQL yet, i.e. by the correlator's former slowness).
tb_probe_in_cgroup "$TB_PROBE_DIR/work-pie" calls 77 0.5; wait "$TB_LAST_PID"
tb_probe_in_cgroup "$TB_PROBE_DIR/work-pie" dlopen "$TB_PROBE_DIR/libloaded.so" 1; wait "$TB_LAST_PID"
sleep 2 # two more flushes
tb_stop "$agent" TERM

hot_first() { # ARTIFACT -> "symbol build_id" of the first hot symbol
  tb_api_get "/api/v1/runtime/hot-symbols?artifact=$1&sort=hits&limit=5" | jq -r '.items[0] | "\(.symbol) \(.build_id)"'
}
folded_first() { # ARTIFACT -> the heaviest stack's last five frames
  tb_api_get "/api/v1/runtime/stacks.folded?artifact=$1&limit=1" | head -1 | sed 's/ [0-9]*$//' | tr ';' '\n' | tail -5 | paste -sd';'
}
hot_a=""; hot_b=""
tb_wait_for 60 bash -c "curl -s '$TB_API/api/v1/runtime/hot-symbols?artifact=$A' | grep -q tb_hot_leaf" || true
tb_wait_for 30 bash -c "curl -s '$TB_API/api/v1/runtime/hot-symbols?artifact=$B' | grep -q tb_hot_leaf" || true
tb_check "hot symbol of A" "tb_hot_leaf $bid_a" "$(hot_first "$A")"
tb_check "heaviest stack of A" "main;tb_run;tb_outer;tb_middle;tb_hot_leaf" "$(folded_first "$A")"
tb_check "hot symbol of stripped B" "tb_hot_leaf $bid_b" "$(hot_first "$B")"
tb_check "heaviest stack of B" "main;tb_run;tb_outer;tb_middle;tb_hot_leaf" "$(folded_first "$B")"

tb_wait_for 30 bash -c "curl -s '$TB_API/api/v1/runtime/timeline?artifact=$C' | grep -q '\"load\"'" || true
got=$(tb_api_get "/api/v1/runtime/timeline?artifact=$C&limit=100" |
  jq -r '[.items[] | select(.kind == "load") | "\(.kind) \(.artifact_digest) \(.correlation)"] | unique | join(",")')
tb_check "load in the timeline of C" "load $C correlated" "$got"

uprobe_sum() {
  tb_api_get "/api/v1/runtime/timeline?symbol=$1&limit=1000" | jq '[.items[] | select(.kind == "uprobe") | .count] | add // "none"'
}
tb_wait_for 30 bash -c "[ \"\$(curl -s '$TB_API/api/v1/runtime/timeline?symbol=tb_watched&limit=1000' | jq '[.items[] | select(.kind == \"uprobe\") | .count] | add // 0')\" -ge 77 ]" || true
tb_check "uprobe hits of tb_watched" 77 "$(uprobe_sum tb_watched)"
got=$(tb_api_get "/api/v1/runtime/timeline?symbol=tb_never_called&limit=1000" |
  jq -r '[.items[] | select(.kind == "uprobe")] | "\(length > 0) \(map(.count) | add // 0)"')
tb_check "uprobe zero count of tb_never_called" "true 0" "$got"
tb_finish
