#!/usr/bin/env bash
# 200 — finding-scoped routes through the whole pipeline: POST
# /api/v1/findings/{id}/runtime/traces (400 naming the missing field, 202),
# then traces (hits summed, sort by hits / recency with stable ties),
# timeline (aligned buckets, empty ones included) and score (uprobe hit >
# sampled stack > component only loaded > never observed, with the window
# and miss probability of the never-observed finding). Auth: 401/403 and
# tenants that never see each other's findings.
#
# Four findings of artifact A: F-UP (libfoo, its symbols hit by uprobes
# through the finding-scoped route, libfoo has no SBOM binary), F-SAMPLE
# (libqux, a sampled stack through a binary registered for A), F-LOAD
# (libbaz, only a load event of its library), F-NONE (libnone, nothing).

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/stack.sh"

A="sha256:$(printf 'a%.0s' {1..64})"
QUX_BID=$(printf 'c%.0s' {1..40})
BAZ_BID=$(printf 'b%.0s' {1..40})
NONE_BID=$(printf 'e%.0s' {1..40})
DAY=$(date -u -d yesterday +%Y-%m-%d) # whole test window in the past, whatever the time of day
RW=tok-default-rw-0123456789
RO=tok-default-ro-0123456789
OTHER=tok-other-all-0123456789
cat >"$TB_TMP/tokens" <<EOT
$RW   default  runtime:read,runtime:write,findings:write
$RO   default  runtime:read
$OTHER   other    *
EOT
TB_STACK_ARGS_timeline_api="--tokens-file $TB_TMP/tokens"

if ! tb_stack_start; then tb_fail "the pipeline starts"; tb_finish; fi
tb_ok "the pipeline starts"

as() { # TOKEN METHOD PATH [CURL ARGS]
  local tok=$1 method=$2 path=$3
  shift 3
  curl -s -o "$TB_TMP/resp" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $tok" "$@" "$TB_API$path" || true
}
resp() { cat "$TB_TMP/resp"; }
F=/api/v1/findings

# -- registration ------------------------------------------------------------------
code=$(as "$RW" POST /api/v1/artifacts --data-binary "{\"digest\":\"$A\",\"name\":\"shop\",\"binaries\":[
  {\"path\":\"/usr/lib/libqux.so.1\",\"build_id\":\"$QUX_BID\",\"purl\":\"pkg:generic/libqux@1.0\"},
  {\"path\":\"/usr/lib/libbaz.so.3\",\"build_id\":\"$BAZ_BID\",\"purl\":\"pkg:generic/libbaz@3.0\"},
  {\"path\":\"/usr/lib/libnone.so.1\",\"build_id\":\"$NONE_BID\",\"purl\":\"pkg:generic/libnone@1.0\"}]}")
tb_check "artifact A registered" 202 "$code"
reg() { as "$1" POST $F --data-binary "$2"; }
c1=$(reg "$RW" "{\"id\":\"F-UP\",\"vuln_id\":\"CVE-2024-1001\",\"purl\":\"pkg:generic/libfoo@1.0\",\"artifact_digest\":\"$A\",\"symbols\":[\"foo_parse\",\"foo_free\",\"foo_close\"]}")
c2=$(reg "$RW" "{\"id\":\"F-SAMPLE\",\"vuln_id\":\"CVE-2024-1002\",\"purl\":\"pkg:generic/libqux@1.0\",\"artifact_digest\":\"$A\",\"symbols\":[\"qux_eval\"]}")
c3=$(reg "$RW" "{\"id\":\"F-LOAD\",\"vuln_id\":\"CVE-2024-1003\",\"purl\":\"pkg:generic/libbaz@3.0\",\"artifact_digest\":\"$A\",\"symbols\":[\"baz_inflate\"]}")
c4=$(reg "$RW" "{\"id\":\"F-NONE\",\"vuln_id\":\"CVE-2024-1004\",\"purl\":\"pkg:generic/libnone@1.0\",\"artifact_digest\":\"$A\",\"symbols\":[\"none_fn\"]}")
c5=$(reg "$OTHER" "{\"id\":\"F-UP\",\"vuln_id\":\"CVE-2024-1001\",\"purl\":\"pkg:generic/libfoo@1.0\",\"artifact_digest\":\"$A\",\"symbols\":[\"foo_parse\"]}")
tb_check "five findings registered (four of default, one of other)" "202 202 202 202 202" "$c1 $c2 $c3 $c4 $c5"
tb_wait_rows "SELECT count(*) FROM findings" 5 || tb_fail "findings reach PostgreSQL"
tb_wait_rows "SELECT count(*) FROM artifact_binaries" 3 || tb_fail "artifact reaches PostgreSQL"
sleep 2 # the correlator's index reads the compacted topics too; give it the records first

# -- finding-scoped ingest: validation ------------------------------------------------
trace() { # FINDING SYMBOL HITS TIME [TOKEN]
  as "${5:-$RW}" POST "$F/$1/runtime/traces" --data-binary \
    "{\"artifactDigest\":\"$A\",\"componentPurl\":\"pkg:generic/libfoo@1.0\",\"frames\":[{\"symbol\":\"$2\"},{\"symbol\":\"main\"}],\"hits\":$3,\"observedAt\":\"${DAY}T$4Z\",\"node\":\"n1\"}"
}
code=$(as "$RW" POST "$F/F-UP/runtime/traces" --data-binary "{\"artifactDigest\":\"$A\",\"frames\":[{\"symbol\":\"foo_parse\"}]}")
tb_check "no componentPurl: 400 naming the field" "400 yes" "$code $(resp | jq -r '.error.message | contains("componentPurl")' | sed 's/true/yes/')"
code=$(as "$RW" POST "$F/F-UP/runtime/traces" --data-binary '{"componentPurl":"pkg:generic/libfoo@1.0","frames":[{"symbol":"foo_parse"}]}')
tb_check "no artifactDigest: 400 naming the field" "400 yes" "$code $(resp | jq -r '.error.message | contains("artifactDigest")' | sed 's/true/yes/')"
code=$(as "$RW" POST "$F/F-UP/runtime/traces" --data-binary "{\"artifactDigest\":\"$A\",\"componentPurl\":\"pkg:generic/libfoo@1.0\",\"frames\":[]}")
tb_check "no frames: 400 naming the field" "400 yes" "$code $(resp | jq -r '.error.message | contains("frames")' | sed 's/true/yes/')"
tb_check "no token: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$TB_API$F/F-UP/runtime/traces" --data-binary '{}')"
tb_check "unknown token: 401" 401 "$(as not-a-token-0123456789 GET "$F/F-UP/runtime/score")"
tb_check "read-only token cannot ingest: 403" 403 "$(trace F-UP foo_parse 3 10:00:30 "$RO")"
tb_check "GET on score with a read-only token: 200" 200 "$(as "$RO" GET "$F/F-UP/runtime/score")"
tb_check "POST on score: 405" 405 "$(as "$RW" POST "$F/F-UP/runtime/score" --data-binary '{}')"

# -- finding-scoped ingest: accepted ----------------------------------------------------
r1=$(trace F-UP foo_parse 3 10:00:30); r2=$(trace F-UP foo_parse 4 10:02:10); r3=$(trace F-UP foo_free 7 10:02:10)
r4=$(trace F-UP foo_close 1 10:04:59); r5=$(trace F-UP foo_helper 100 10:03:00)
r6=$(trace F-UP foo_parse 50 10:01:00 "$OTHER")
tb_check "valid finding-scoped traces: 202" "202 202 202 202 202 202" "$r1 $r2 $r3 $r4 $r5 $r6"
# A sampled stack through libqux (correlated by build-id), 400 workload samples, a load of libbaz.
cat >"$TB_TMP/events.json" <<EOT
{"events":[
 {"node":"n1","time":"${DAY}T10:01:30Z","kind":"sample","count":2,"container":{"image_digest":"$A"},
  "process":{"pid":7,"binary":"/usr/bin/shop"},
  "user_stack":[{"module":"/usr/lib/libqux.so.1","build_id":"$QUX_BID","file_offset":"0x1200","symbol":"qux_eval"},
                {"module":"/usr/bin/shop","symbol":"main","file_offset":"0x400"}]},
 {"node":"n1","time":"${DAY}T10:01:40Z","kind":"sample","count":398,"container":{"image_digest":"$A"},
  "process":{"pid":7,"binary":"/usr/bin/shop"},
  "user_stack":[{"module":"/usr/bin/shop","symbol":"work","file_offset":"0x500"},{"module":"/usr/bin/shop","symbol":"main","file_offset":"0x400"}]},
 {"node":"n1","time":"${DAY}T10:00:05Z","kind":"load","container":{"image_digest":"$A"},
  "process":{"pid":7,"binary":"/usr/bin/shop"},"path":"/usr/lib/libbaz.so.3","build_id":"$BAZ_BID"}]}
EOT
tb_check "runtime traces (sample, sample, load): 202" 202 "$(as "$RW" POST /api/v1/runtime/traces --data-binary @"$TB_TMP/events.json")"
# The probe-agent's report of an attached uprobe on none_fn that was never hit (a ProbeBatch).
t0=$(date -u -d "${DAY}T10:02:00Z" +%s)000000000; t1=$(date -u -d "${DAY}T10:03:00Z" +%s)000000000
cat >"$TB_TMP/batch.json" <<EOT
{"node":"n1","boot_id":"5d3c1a7e-0b2f-4c1e-9a55-2b7f1e0c9d11","agent_version":"0.1.0","seq":1,
 "start_ns":$t0,"end_ns":$t1,"processes":[],"samples":[],"loads":[],"lost_samples":0,"lost_events":0,
 "uprobe_counts":[{"build_id":"$NONE_BID","binary":"/usr/lib/libnone.so.1","symbol":"none_fn","file_offset":4096,
   "hits":0,"attached":true,"stack":[{"build_id":"$NONE_BID","file_offset":4096,"module":"/usr/lib/libnone.so.1","symbol":"none_fn"}]}]}
EOT
"$TB_BIN/tb-rtevent" -b "$TB_BROKERS" probe-batch <"$TB_TMP/batch.json" >/dev/null 2>"$TB_TMP/rtevent.err" ||
  { tb_fail "probe batch produced"; sed 's/^/#   /' "$TB_TMP/rtevent.err"; }
tb_wait_rows "SELECT count(*) FROM observations" 10 90 || tb_fail "observations reach PostgreSQL"

# -- traces ---------------------------------------------------------------------------
as "$RO" GET "$F/F-UP/runtime/traces" >/dev/null
tb_check "traces by hits: summed, ties by last seen then symbol, non-finding symbols left out" \
  "foo_free:7 foo_parse:7 foo_close:1" "$(resp | jq -r '[.traces[] | "\(.symbol):\(.hits)"] | join(" ")')"
tb_check "a trace names artifact, purl, first and last seen" \
  "$A pkg:generic/libfoo@1.0 ${DAY}T10:00:30.000000Z ${DAY}T10:02:10.000000Z" \
  "$(resp | jq -r '.traces[] | select(.symbol == "foo_parse") | "\(.artifact_digest) \(.purl) \(.first_seen) \(.last_seen)"')"
as "$RO" GET "$F/F-UP/runtime/traces?sort=recency" >/dev/null
tb_check "traces by recency" "foo_close foo_free foo_parse" "$(resp | jq -r '[.traces[].symbol] | join(" ")')"
as "$RO" GET "$F/F-UP/runtime/traces?sort=hits&limit=1" >/dev/null
tb_check "limit" "foo_free" "$(resp | jq -r '[.traces[].symbol] | join(" ")')"
b1=$(as "$RO" GET "$F/F-UP/runtime/traces"; resp); b2=$(as "$RO" GET "$F/F-UP/runtime/traces"; resp)
tb_check "the same query twice gives the same bytes" "$b1" "$b2"
tb_check "bad sort: 400" 400 "$(as "$RO" GET "$F/F-UP/runtime/traces?sort=size")"
tb_check "unknown parameter: 400" 400 "$(as "$RO" GET "$F/F-UP/runtime/traces?sortt=hits")"
as "$RO" GET "$F/F-SAMPLE/runtime/traces" >/dev/null
tb_check "sampled stack correlated by build-id reaches its finding" "qux_eval:2:$QUX_BID" \
  "$(resp | jq -r '[.traces[] | "\(.symbol):\(.hits):\(.build_id)"] | join(" ")')"

# -- timeline -------------------------------------------------------------------------
as "$RO" GET "$F/F-UP/runtime/timeline?from=${DAY}T10:00:10Z&to=${DAY}T10:05:30Z&bucket=1m" >/dev/null
tb_check "timeline: aligned buckets, empty ones included" \
  "10:00:3 10:01:0 10:02:11 10:03:0 10:04:1 10:05:0" \
  "$(resp | jq -r '[.buckets[] | "\(.start[11:16]):\(.hits)"] | join(" ")')"
tb_check "bucket of more than TB_FND_MAX_BUCKETS: 400" 400 \
  "$(as "$RO" GET "$F/F-UP/runtime/timeline?from=${DAY}T00:00:00Z&to=${DAY}T23:00:00Z&bucket=1s")"

# -- score ------------------------------------------------------------------------------
score() { as "$RO" GET "$F/$1/runtime/score" >/dev/null; resp | jq -r "$2"; }
s_up=$(score F-UP .score); s_sa=$(score F-SAMPLE .score); s_lo=$(score F-LOAD .score); s_no=$(score F-NONE .score)
tb_check "tiers" "uprobe sampled load none" \
  "$(score F-UP .tier) $(score F-SAMPLE .tier) $(score F-LOAD .tier) $(score F-NONE .tier)"
if awk -v a="$s_up" -v b="$s_sa" -v c="$s_lo" -v d="$s_no" 'BEGIN { exit !(a > b && b > c && c > d && d == 0) }'; then
  tb_ok "score: uprobe hit > sampled > only loaded > never observed"
else
  tb_fail "score: uprobe hit > sampled > only loaded > never observed"; tb_diag "got $s_up $s_sa $s_lo $s_no"
fi
tb_check "score hits and call paths (three distinct stacks)" "15 3" "$(score F-UP '"\(.hits) \(.call_paths)"')"
tb_check "never observed: window, samples and miss probability (0.99^400)" \
  "false ${DAY}T10:00:05.000000Z ${DAY}T10:04:59.000000Z 400 0.0179506" \
  "$(score F-NONE '"\(.reached) \(.negative_evidence.window.from) \(.negative_evidence.window.to) \(.negative_evidence.samples) \(.negative_evidence.miss_probability)"')"
tb_check "never observed: the attached uprobe on its symbol reported exactly 0 hits, with its window" \
  "true 1 1 0 none" \
  "$(score F-NONE '"\(.negative_evidence.uprobes.attached) \(.negative_evidence.uprobes.reports) \(.negative_evidence.uprobes.symbols) \(.negative_evidence.uprobes.hits) \(.tier)"')"
tb_check "the zero-hit report is stored with count 0 and attached" "0|t" \
  "$(tb_psql -c "SELECT count, attached FROM observations WHERE kind = 'uprobe' AND purl = 'pkg:generic/libnone@1.0'")"
tb_check "cpuShare parameter" "0.5 3.87259e-121" \
  "$(as "$RO" GET "$F/F-NONE/runtime/score?cpuShare=0.5" >/dev/null; resp | jq -r '"\(.negative_evidence.cpu_share) \(.negative_evidence.miss_probability)"')"

# -- tenants ------------------------------------------------------------------------------
as "$OTHER" GET "$F/F-UP/runtime/traces" >/dev/null
tb_check "tenant other sees only its own traces of its F-UP" "foo_parse:50" "$(resp | jq -r '[.traces[] | "\(.symbol):\(.hits)"] | join(" ")')"
for sub in traces timeline score; do
  tb_check "tenant other gets 404 for default's F-SAMPLE $sub" 404 "$(as "$OTHER" GET "$F/F-SAMPLE/runtime/$sub")"
done
as "$OTHER" GET "/api/v1/runtime/hot-symbols?from=${DAY}T00:00:00Z&to=${DAY}T23:59:00Z&limit=1000" >/dev/null
tb_check "tenant other's hot symbols hold none of default's symbols" "no" \
  "$(resp | jq -r '[.items[].symbol] | any(. == "foo_free" or . == "qux_eval" or . == "none_fn" or . == "work")' | sed 's/false/no/;s/true/yes/')"
as "$OTHER" GET "/api/v1/runtime/timeline?artifact=$A&from=${DAY}T00:00:00Z&to=${DAY}T23:59:00Z&limit=1000" >/dev/null
tb_check "tenant other's timeline of artifact A holds only its own trace" "1 50" \
  "$(resp | jq -r '"\(.items | length) \([.items[].count] | add)"')"
tb_check "tenant other's F-UP score counts only its hits" 50 "$(as "$OTHER" GET "$F/F-UP/runtime/score" >/dev/null; resp | jq -r .hits)"

tb_finish
