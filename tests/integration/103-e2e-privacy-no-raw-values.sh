#!/usr/bin/env bash
# 103 — end to end privacy: a trace with raw user-space and kernel addresses,
# argv, environment variables, a working directory and /home paths goes
# through the whole pipeline, and none of those values is stored in
# PostgreSQL or returned by any GET route of the API.
#
# The Tetragon process_kprobe events come from a real binary (the demo shop)
# that "lives" in /home/<user>/bin (module and binary paths), with
# --expose-stack-addresses-style addresses on every frame, an address-only
# symbol, a file argument under the home directory, argv and env.
# Scanned: `pg_dump --data-only` of the whole database (every table), the
# body of every GET route listed in /openapi.json (path templates filled with
# a registered finding's id; the timeline also bucketed, hot symbols also by
# recency) and, past the privacy boundary, every record on
# tb.events.canonical.v1 and tb.events.correlated.v1. Planted values: each
# address in decimal and in hex (any case), each argv word, each env value,
# the home user name. The same values are shown to be on tb.events.raw.v1
# (the input side), so the scan is not vacuous, and the stored rows are
# shown to be there (symbols named, the redacted binary path kept).

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/stack.sh"
source "$TB_ROOT/tests/data/e2e/e2e-lib.sh"

HOMEUSER=zoeplanted
MOD=/home/$HOMEUSER/bin/shop
e2e_build_shop shop 0 "$MOD" || { tb_fail "the demo binary builds"; tb_finish; }
# A witness key, so that every GET route of /openapi.json answers (the
# witness route is 503 without one).
head -c 32 /dev/urandom >"$TB_TMP/witness.key"
TB_STACK_ARGS_timeline_api="--witness-key-file $TB_TMP/witness.key"
if ! tb_stack_start; then tb_fail "the pipeline starts"; tb_finish; fi
tb_ok "the pipeline starts"

ARGV=(--plantedflag-a1 plantedarg-k9x7 plantedarg-m3q)
ENVV=(plantedenv-v8w2 plantedenv-p4s6)
UBASE=$((0x55d0c0de0000))
KADDR=(0xffffffffa13f2de5 0xffffffffa1001234 0xffffffffa1b2c3d4)
kdec() { printf '%u' "$1"; }
OFF() { e2e_off shop "$1"; }
UADDR=($((UBASE + $(OFF write_receipt) + 61)) $((UBASE + $(OFF handle_checkout) + 40)) $((UBASE + $(OFF main) + 100)) 140498967885099)
ADDRSYM=0x7f12deadbeef

spec() { # TIME PID
  jq -n -c --arg m "$MOD" --arg t "$1" --argjson pid "$2" --arg a "${ARGV[*]}" \
    --arg e1 "${ENVV[0]}" --arg e2 "${ENVV[1]}" --arg k0 "$(kdec "${KADDR[0]}")" --arg k1 "$(kdec "${KADDR[1]}")" \
    --arg k2 "$(kdec "${KADDR[2]}")" --arg u0 "${UADDR[0]}" --arg u1 "${UADDR[1]}" --arg u2 "${UADDR[2]}" \
    --arg u3 "${UADDR[3]}" --arg asym "$ADDRSYM" --arg home "/home/$HOMEUSER" '
    {node: "e2e-node-3", time: $t, exec_id: "e2e-node-3:5:\($pid)", pid: $pid, uid: 1000, binary: $m,
     arguments: $a, cwd: "\($home)/work", env: {PLANTED_A: $e1, DB_PASSWORD: $e2},
     function: "security_file_open",
     args: [{file_arg: {path: "\($home)/.ssh/id_ed25519", permission: "-rw-------"}}],
     kernel: [{symbol: "security_file_open", offset: 5, address: $k0}, {symbol: "do_sys_openat2", offset: 180, address: $k1},
              {symbol: "__x64_sys_openat", offset: 90, address: $k2}],
     user: [{fn: "write_receipt", delta: 61, address: $u0}, {fn: "handle_checkout", delta: 40, symbol: false, address: $u1},
            {fn: "main", delta: 100, address: $u2},
            {module: "/lib/x86_64-linux-gnu/libc.so.6", offset: 1209643, symbol: $asym, address: $u3}]}'
}
{ spec 2026-03-14T12:00:00.5Z 701; spec 2026-03-14T12:00:01.5Z 702; } | e2e_kprobes shop >"$TB_TMP/events.jsonl"
e2e_post "$TB_TMP/events.jsonl" || tb_fail "POST the traces: 202"
e2e_wait_obs 2 || { tb_fail "the events reach PostgreSQL"; tb_finish; }
tb_ok "the events reach PostgreSQL"

# Planted values, one per line (decimal and hex of every address).
{
  echo "$HOMEUSER"
  printf '%s\n' "${ARGV[@]}" "${ENVV[@]}"
  for a in "${KADDR[@]}"; do kdec "$a"; echo; printf '%x\n' "$a"; done
  for a in "${UADDR[@]}"; do echo "$a"; printf '%x\n' "$a"; done
  echo "${ADDRSYM#0x}"; printf '%u\n' "$ADDRSYM"
} >"$TB_TMP/planted.txt"
found_in() { # FILE -> the planted values found in it (case-insensitive), space-separated
  local v out=""
  while read -r v; do grep -qiF -- "$v" "$1" && out="$out $v"; done <"$TB_TMP/planted.txt"
  echo "${out# }"
}

# ---- the input side has them (the scan can find what it looks for) --------------------------
# tb-rtevent prints the raw RuntimeEvents (addresses as signed 64-bit); it
# does not print env, so the env values' arrival at the boundary is shown by
# the canonicalizer's redaction counters (2 events x 2 variables).
timeout 60 "$TB_BIN/tb-rtevent" events -G e2e-103-raw --exit-after 2 >"$TB_TMP/raw.jsonl" 2>"$TB_TMP/raw.err"
missing=""
for v in "$HOMEUSER" "${ARGV[@]}"; do grep -qF -- "$v" "$TB_TMP/raw.jsonl" || missing="$missing $v"; done
for a in "${KADDR[@]}" "${UADDR[@]}"; do
  jq -e --argjson a "$((a))" '[.event.kernel_frames[]?, .event.user_frames[]? | .address] | index($a)' \
    "$TB_TMP/raw.jsonl" >/dev/null || missing="$missing $a"
done
tb_check "the raw events on tb.events.raw.v1 carry the home path, every argv word and every address" "" "${missing# }"
metrics=$(curl -s "http://127.0.0.1:$(cat "$TB_TMP/canonicalizer.port")/metrics")
tb_check "the canonicalizer counted what it removed: env 4, args 2, cwd 2, addresses 16" "4 2 2 16" \
  "$(for r in env args cwd addresses; do grep "privacy_redactions_total{rule=\"$r\"}" <<<"$metrics" | awk '{print $2}'; done | tr '\n' ' ' | sed 's/ $//')"

# ---- PostgreSQL: every table ------------------------------------------------------------------
"$TB_PG_BINDIR/pg_dump" --data-only --no-owner "$TB_PG_URL" >"$TB_TMP/pg.sql" 2>"$TB_TMP/pg_dump.err" ||
  tb_fail "pg_dump of the database"
tb_check "pg_dump holds the stored events (symbols named, the bare frame too; home redacted in nothing it names)" \
  "yes yes yes" \
  "$(grep -q write_receipt "$TB_TMP/pg.sql" && echo yes) $(grep -q handle_checkout "$TB_TMP/pg.sql" && echo yes) $(grep -q security_file_open "$TB_TMP/pg.sql" && echo yes)"
tb_check "PostgreSQL (pg_dump --data-only, every table): no planted value" "" "$(found_in "$TB_TMP/pg.sql")"

# ---- every GET route of the API -----------------------------------------------------------------
tb_api_post /api/v1/findings <(jq -n -c '{id: "F-E2E-103", vuln_id: "CVE-2099-0103", purl: "pkg:generic/tb-e2e/shop@1.0.0", symbols: ["write_receipt"]}') >/dev/null
[ "$TB_HTTP_STATUS" = 202 ] || tb_diag "POST /api/v1/findings: $TB_HTTP_STATUS $(cat "$TB_TMP/http.body")"
# the finding routes answer 404 until the aggregator stored the finding
tb_wait_rows "SELECT count(*) FROM findings WHERE finding_id = 'F-E2E-103'" 1 60 ||
  tb_diag "finding F-E2E-103 not stored after 60 s"
tb_api_get /openapi.json >"$TB_TMP/openapi.json"
jq -r '.paths | to_entries[] | select(.value.get) | .key' "$TB_TMP/openapi.json" >"$TB_TMP/routes.txt"
: >"$TB_TMP/api.txt"
n_routes=0 bad_routes=""
while read -r route; do
  path=$(sed 's/{[^}]*}/F-E2E-103/g' <<<"$route")
  for q in "" "?bucket=1m" "?sort=recency" "?limit=1000"; do
    case "$q:$path" in
      "?bucket=1m:"*timeline* | "?sort=recency:"*hot-symbols* | "?sort=recency:"*/runtime/traces | \
        "?limit=1000:/api/v1/runtime/timeline" | ":"*) ;;
      *) continue ;;
    esac
    tb_api_get "$path$q" >>"$TB_TMP/api.txt"
    echo >>"$TB_TMP/api.txt"
    case "$TB_HTTP_STATUS" in 2??) ;; *) bad_routes="$bad_routes $path$q:$TB_HTTP_STATUS" ;; esac
  done
  n_routes=$((n_routes + 1))
done <"$TB_TMP/routes.txt"
tb_check "every GET route answers 2xx (${n_routes} routes from /openapi.json)" "" "${bad_routes# }"
tb_check "the API responses show the events (timeline ids, folded stack)" "yes yes" \
  "$(grep -q "$(head -1 <<<"$E2E_IDS")" "$TB_TMP/api.txt" && echo yes) $(grep -q 'main;handle_checkout;write_receipt' "$TB_TMP/api.txt" && echo yes)"
tb_check "every GET route's response: no planted value" "" "$(found_in "$TB_TMP/api.txt")"

# ---- past the privacy boundary: canonical and correlated records --------------------------------
for t in tb.events.canonical.v1 tb.events.correlated.v1; do
  timeout 60 "$TB_BIN/tb-gen" dump -t "$t" --exit-after 2 >"$TB_TMP/$t.jsonl" 2>"$TB_TMP/$t.err"
  tb_check "$t: both records, no planted value" "2 " "$(grep -c . "$TB_TMP/$t.jsonl") $(found_in "$TB_TMP/$t.jsonl")"
done
tb_check "the binary's home directory is redacted, the rest of the path kept" "/home/<redacted>/bin/shop" \
  "$(jq -r '.record.binary' "$TB_TMP/tb.events.canonical.v1.jsonl" | sort -u)"
tb_finish
