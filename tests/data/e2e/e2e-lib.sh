# tests/data/e2e/e2e-lib.sh — helpers shared by the end-to-end tests
# (tests/integration/1xx-e2e-*.sh); source it after harness.sh and stack.sh.
#
#   e2e_build_shop NAME [VARIANT] [MODULE]
#       Compiles the demo workload (tools/demo/workload/shop.c) with symbols
#       and frame pointers into $TB_TMP/bin/NAME (-DSHOP_VARIANT=VARIANT gives
#       each variant its own build-id) and installs a copy in the symbol dir
#       at $TB_SYMBOL_DIR/MODULE (default /opt/tb-e2e/NAME/bin/shop), i.e. the
#       symbol dir is a sysroot of the traced node: the canonicalizer finds
#       the build-id of a Tetragon frame (which has none) from its module
#       path. Call it before tb_stack_start (the store is indexed at start).
#       Sets E2E_INFO_<NAME> (tools/demo/elf-info.sh JSON), E2E_MODULE_<NAME>,
#       E2E_BID_<NAME> (build-id) and E2E_SHA_<NAME> (sha256 of the file).
#   e2e_elfs NAME...        the --argjson elfs object for tetragon-kprobe.jq
#   e2e_kprobes NAME... < SPECS   Tetragon process_kprobe lines from specs
#   e2e_off NAME FUNCTION   file offset of FUNCTION in binary NAME
#   e2e_artifact DIGEST ARTIFACT_NAME PURL MODULE BUILD_ID
#       An artifact body for POST /api/v1/artifacts: a CycloneDX 1.5 SBOM
#       whose metadata component is the artifact and whose one application
#       component (PURL) owns the binary MODULE with BUILD_ID through the
#       tracebridge:path / tracebridge:build-id properties.
#   e2e_register DIGEST ARTIFACT_NAME PURL NAME
#       POST e2e_artifact for binary NAME (e2e_build_shop) and wait until
#       PostgreSQL holds its binary row; 1 (with the answer) when not 202.
#   e2e_write_spec NAME TIME PID    a spec for e2e_kprobes: a write(2) kprobe
#       of binary NAME with a 4-frame user stack, two frames without symbol
#   e2e_item EVENT_ID  the timeline item's link as one line: "artifact purl
#       correlation leaf-symbol stack_id" (null for absent values)
#   e2e_drained        the aggregator's stored offsets of tb.events.correlated.v1
#       have reached that topic's ends (poll it with tb_wait_for)
#   e2e_wait_obs N [SECONDS]  poll until observations holds >= N rows
#   e2e_get PATH             GET PATH from the API: sets E2E_BODY and
#                            TB_HTTP_STATUS (in this shell, not a subshell)
#   e2e_post FILE            POST FILE to /api/v1/runtime/traces; 202 or fail
#                            (sets E2E_IDS: the answered event ids, one a line)

E2E_DEMO="$TB_ROOT/tools/demo"
TB_SYMBOL_DIR=${TB_SYMBOL_DIR:-$TB_TMP/symbols}
export TB_SYMBOL_DIR

e2e_build_shop() {
  local name=$1 variant=${2:-0} module=${3:-/opt/tb-e2e/$1/bin/shop} out="$TB_TMP/bin/$1" info
  mkdir -p "$TB_TMP/bin" "$TB_SYMBOL_DIR$(dirname "$module")"
  cc -g -O1 -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-inline -DSHOP_VARIANT="$variant" \
    -o "$out" "$E2E_DEMO/workload/shop.c" || return 1
  cp "$out" "$TB_SYMBOL_DIR$module" || return 1
  info=$("$E2E_DEMO/elf-info.sh" "$out") || return 1
  printf -v "E2E_INFO_$name" '%s' "$info"
  printf -v "E2E_MODULE_$name" '%s' "$module"
  printf -v "E2E_BID_$name" '%s' "$(jq -r .build_id <<<"$info")"
  printf -v "E2E_SHA_$name" '%s' "$(sha256sum "$out" | cut -d' ' -f1)"
}

e2e_elfs() {
  local name info mod out='{}'
  for name in "$@"; do
    info="E2E_INFO_$name"; mod="E2E_MODULE_$name"
    out=$(jq -c --arg m "${!mod}" --argjson i "${!info}" '. + {($m): $i}' <<<"$out")
  done
  echo "$out"
}

e2e_kprobes() {
  jq -c --argjson elfs "$(e2e_elfs "$@")" -f "$E2E_DEMO/tetragon-kprobe.jq"
}

e2e_off() {
  local info="E2E_INFO_$1"
  jq -r --arg f "$2" '.functions[$f].file_offset' <<<"${!info}"
}

e2e_artifact() {
  local digest=$1 name=$2 purl=$3 module=$4 bid=$5
  jq -n -c --arg d "$digest" --arg n "$name" --arg p "$purl" --arg m "$module" --arg b "$bid" '
    {digest: $d, name: $n, version: "1.0.0",
     sbom: {bomFormat: "CycloneDX", specVersion: "1.5", version: 1,
            serialNumber: "urn:uuid:3e1a3c52-7a53-4d55-9c1b-0e2e0e2e0e2e",
            metadata: {component: {"bom-ref": "artifact", type: "application", name: $n, version: "1.0.0"}},
            components: [{"bom-ref": "shop", type: "application", name: ($n + "-shop"), version: "1.0.0",
                          purl: $p,
                          properties: [{name: "tracebridge:path", value: $m},
                                       {name: "tracebridge:build-id", value: $b}]}]}}'
}

e2e_register() {
  local mod="E2E_MODULE_$4" bid="E2E_BID_$4"
  e2e_artifact "$1" "$2" "$3" "${!mod}" "${!bid}" >"$TB_TMP/artifact.json"
  tb_api_post /api/v1/artifacts "$TB_TMP/artifact.json" >/dev/null
  [ "$TB_HTTP_STATUS" = 202 ] || { tb_diag "POST /api/v1/artifacts: $TB_HTTP_STATUS $(cat "$TB_TMP/http.body")"; return 1; }
  tb_wait_rows "SELECT count(*) FROM artifact_binaries WHERE artifact_digest = '$1' AND build_id = '${!bid}'" 1
}

e2e_write_spec() {
  local mod="E2E_MODULE_$1"
  jq -n -c --arg m "${!mod}" --arg t "$2" --argjson pid "$3" '
    {node: "e2e-node-2", time: $t, exec_id: "e2e-node-2:77:\($pid)", pid: $pid, binary: $m,
     function: "__x64_sys_write",
     kernel: [{symbol: "ksys_write", offset: 12}, {symbol: "__x64_sys_write", offset: 5}],
     user: [{fn: "write_receipt", delta: 61, symbol: false}, {fn: "handle_checkout", delta: 40},
            {fn: "serve_requests", delta: 33, symbol: false}, {fn: "main", delta: 100}]}'
}

e2e_item() {
  tb_api_get '/api/v1/runtime/timeline?limit=1000' |
    jq -r --arg e "$1" '.items[] | select(.event_id == $e) | [.artifact_digest, .purl, .correlation, .symbol, .stack_id] | map(. // "null") | join(" ")'
}

e2e_drained() {
  local hw stored
  hw=$("$TB_BIN/tb-kafka" metadata -t tb.events.correlated.v1 --watermarks 2>/dev/null | awk '{s += $4} END {print s + 0}')
  stored=$(tb_psql -c "SELECT coalesce(sum(next_offset), 0) FROM sink_offsets WHERE topic = 'tb.events.correlated.v1'")
  [ "$stored" = "$hw" ]
}

e2e_wait_obs() {
  tb_wait_rows "SELECT count(*) FROM observations" "$1" "${2:-90}"
}

e2e_post() {
  local body
  tb_api_post /api/v1/runtime/traces "$1" >/dev/null
  body=$(cat "$TB_TMP/http.body")
  if [ "$TB_HTTP_STATUS" != 202 ]; then
    tb_diag "POST $1: $TB_HTTP_STATUS $body"
    E2E_IDS=""
    return 1
  fi
  E2E_IDS=$(jq -r '.event_ids[]' <<<"$body")
}

e2e_get() {
  tb_api_get "$1" >/dev/null
  E2E_BODY=$(cat "$TB_TMP/http.body")
}
