#!/usr/bin/env bash
# 109 — end to end: frames that arrive with a build-id and a file offset but
# no symbol are named through a debuginfod server when the symbol store does
# not hold the build-id (canonicalizer --debuginfod-urls, libdebuginfod).
#
# The server is the debuginfod protocol over plain HTTP (GET
# /buildid/ID/executable and /buildid/ID/debuginfo) from python3's
# http.server bound to 127.0.0.1, serving what a distribution's debuginfod
# serves: the stripped executable (its PT_LOAD headers map file offsets) and
# the separate debuginfo (objcopy --only-keep-debug: its .symtab names them).
# The canonicalizer's --symbol-dir is empty. Checked:
#   - the sampled frames of the demo binary are named (handle_checkout,
#     main) with its build-id, through the API;
#   - a build-id no server has: no name, the frame still stored, asked once
#     (the second event's frame is a remembered miss, not another request);
#   - metrics count found / not_found / recently_missing; each file was
#     downloaded once;
#   - after a restart of the canonicalizer the files come from its
#     libdebuginfod cache (no new request) and a new event is named.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/stack.sh"
source "$TB_ROOT/tests/data/e2e/e2e-lib.sh"

command -v python3 >/dev/null || { tb_fail "python3 (make deps installs it)"; tb_finish; }
e2e_build_shop shop 3 || { tb_fail "the demo binary builds"; tb_finish; }
BID=$E2E_BID_shop MOD=$E2E_MODULE_shop
OFF_CHECKOUT=$(e2e_off shop handle_checkout) OFF_MAIN=$(e2e_off shop main)
UNKNOWN=0123456789abcdef0123456789abcdef01234567
# what the server serves, and an empty symbol dir for the canonicalizer
mkdir -p "$TB_TMP/served/buildid/$BID"
strip --strip-all -o "$TB_TMP/served/buildid/$BID/executable" "$TB_TMP/bin/shop" &&
  objcopy --only-keep-debug "$TB_TMP/bin/shop" "$TB_TMP/served/buildid/$BID/debuginfo" ||
  { tb_fail "the served files are made"; tb_finish; }
rm -rf "$TB_SYMBOL_DIR" && mkdir -p "$TB_SYMBOL_DIR"

PORT=$(tb_free_port)
tb_start debuginfod-server python3 -m http.server --bind 127.0.0.1 --directory "$TB_TMP/served" "$PORT" >/dev/null
up() { curl -s -o /dev/null "http://127.0.0.1:$PORT/"; }
tb_wait_for 30 up || { tb_fail "the debuginfod server answers"; tb_finish; }
requests() { grep -c "GET /buildid/$1/$2 " "$TB_TMP/debuginfod-server.log"; }

export TB_STACK_ARGS_canonicalizer="--debuginfod-urls http://127.0.0.1:$PORT --debuginfod-cache $TB_TMP/dbgcache --debuginfod-miss-ttl 1h"
if ! tb_stack_start; then tb_fail "the pipeline starts"; tb_finish; fi
tb_ok "the pipeline starts (canonicalizer with an empty symbol dir and a debuginfod server)"

# sample EVENT-TIME PID: a sampled stack of the demo binary without symbols,
# with a frame of an unknown build-id on top
sample() {
  jq -n -c --arg t "$1" --argjson pid "$2" --arg m "$MOD" --arg b "$BID" --arg u "$UNKNOWN" \
    --arg c "$(printf '0x%x' $((OFF_CHECKOUT + 8)))" --arg mn "$(printf '0x%x' $((OFF_MAIN + 4)))" '
    {events: [{node: "n1", time: $t, kind: "sample", count: 1, process: {pid: $pid, binary: $m},
               user_stack: [{module: "/usr/lib/libunknown.so.1", build_id: $u, file_offset: "0x1000"},
                            {module: $m, build_id: $b, file_offset: $c},
                            {module: $m, build_id: $b, file_offset: $mn}]}]}' >"$TB_TMP/ev.json"
  tb_api_post /api/v1/runtime/traces "$TB_TMP/ev.json" >/dev/null
  [ "$TB_HTTP_STATUS" = 202 ] || { tb_diag "POST: $TB_HTTP_STATUS $(cat "$TB_TMP/http.body")"; return 1; }
}
named() { # the hot symbols of the day with the demo binary's build-id, "name:self/total"
  tb_api_get "/api/v1/runtime/hot-symbols?from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z&limit=100" |
    jq -r --arg b "$BID" '[.items[] | select(.build_id == $b) | "\(.symbol):\(.self_count)/\(.total_count)"] | sort | join(" ")'
}
sample 2026-05-01T10:00:00Z 11 && sample 2026-05-01T10:00:01Z 12 || tb_fail "POST two samples: 202"
e2e_wait_obs 2 || tb_fail "both samples reach PostgreSQL"
tb_check "the demo binary's frames are named from the server's files (no symbol dir)" \
  "handle_checkout:0/2 main:0/2" "$(named)"
tb_check "the unknown build-id's frame is stored without a name, as the leaf" "2" \
  "$(tb_psql -c "SELECT count(*) FROM observations o JOIN symbols s ON s.tenant = o.tenant AND s.symbol_id = o.leaf_symbol_id
                 WHERE s.build_id = '$UNKNOWN' AND s.name = ''")"
metric() { curl -s "http://127.0.0.1:$(cat "$TB_TMP/canonicalizer.port")/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
tb_check "metrics: found 1, not_found 1, recently_missing 1" "1 1 1" \
  "$(metric 'tb_canonicalizer_debuginfod_total{result="found"}') $(metric 'tb_canonicalizer_debuginfod_total{result="not_found"}') $(metric 'tb_canonicalizer_debuginfod_total{result="recently_missing"}')"
tb_check "each file was requested once; the unknown build-id once" "1 1 1" \
  "$(requests "$BID" executable) $(requests "$BID" debuginfo) $(requests "$UNKNOWN" executable)"

tb_service_kill canonicalizer TERM
tb_service_start canonicalizer
tb_service_ready canonicalizer || tb_fail "the canonicalizer restarts"
sample 2026-05-01T10:00:02Z 13 || tb_fail "POST a third sample: 202"
e2e_wait_obs 3 || tb_fail "the third sample reaches PostgreSQL"
tb_check "after a restart the frames are named from the cache, without a new request" \
  "handle_checkout:0/3 main:0/3 1 1" "$(named) $(requests "$BID" executable) $(requests "$BID" debuginfo)"
tb_finish
