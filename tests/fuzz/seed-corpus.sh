#!/usr/bin/env bash
# Rewrites the committed seed corpus tests/fuzz/corpus/fuzz_NAME/ from the
# tests' own inputs (`make fuzz-seed` runs it after building $BUILD/fuzz/seed).
# Each input is small and real: Tetragon events split one per file (the
# shared testdata and our fixtures), SBOM fixtures and artifact bodies built
# from them, query strings and request bodies as the integration tests send
# them, symbol names of the demangler tests, and (from seed.c) Avro
# encodings of every record and timeline queries with valid cursors.
# Corpus entries that libFuzzer finds later stay in $BUILD/fuzz/, not here.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
C=tests/fuzz/corpus
SHARED=${TB_SHARED:-../shared}/testdata/tetragon
TETRA=tests/data/tetragon

rm -rf "$C"
mkdir -p "$C"/fuzz_{tetragon,jsonstream,sbom,http_params,demangle,requests,elf}

# put DIR NAME CONTENT: one corpus file with exactly CONTENT (no newline added).
put() { printf '%s' "$3" >"$C/$1/$2"; }

# ---- Tetragon events: every file whole, and each event alone (compact). ----------
n=0
for f in "$SHARED"/*.json "$SHARED"/*.jsonl "$SHARED"/*.txt "$TETRA"/*.json "$TETRA"/*.jsonl; do
  [ -f "$f" ] || continue
  base=$(basename "$f")
  cp "$f" "$C/fuzz_tetragon/$base"
  # One file per top-level object jq can read (malformed lines are kept whole above).
  if jq -c . "$f" >/dev/null 2>&1; then
    while IFS= read -r ev; do
      n=$((n + 1))
      printf '%s\n' "$ev" >"$C/fuzz_tetragon/event-$(printf %03d $n)"
    done < <(jq -c . "$f")
  else
    while IFS= read -r line; do
      [ -n "$line" ] || continue
      n=$((n + 1))
      printf '%s\n' "$line" >"$C/fuzz_tetragon/line-$(printf %03d $n)"
    done <"$f"
  fi
done

# ---- the splitter: byte 0 is the chunk size - 1, then a stream. ----------------------
for f in "$TETRA"/malformed.jsonl "$TETRA"/v17-kprobe-stacks.pretty.json "$TETRA"/comma-space.jsonl \
  "$SHARED"/docs-selectors-stack-trace-fragments.txt "$SHARED"/repo-testdata-events.jsonl; do
  [ -f "$f" ] || continue
  for chunk in 0 6 63; do # chunks of 1, 7 and 64 bytes
    { printf "\\$(printf %03o $chunk)"; cat "$f"; } >"$C/fuzz_jsonstream/$(basename "$f").c$((chunk + 1))"
  done
done

# ---- SBOMs: the fixtures, and artifact request bodies around them. -------------------
D=sha256:aaaa000000000000000000000000000000000000000000000000000000000000
for f in tests/data/sbom/*.json; do
  base=$(basename "$f" .json)
  cp "$f" "$C/fuzz_sbom/$base.json"
  jq -c --arg d "$D" '{digest: $d, name: "shop/checkout", version: "1.4.2", sbom: .,
    binaries: [{path: "/usr/bin/app", build_id: "bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22", purl: "pkg:generic/app@1.0"}]}' \
    "$f" >"$C/fuzz_sbom/request-$base.json"
done
jq -c --arg d "$D" '{digest: $d, sbom: (. | tostring)}' tests/data/sbom/cyclonedx-1.6-nested.json \
  >"$C/fuzz_sbom/request-sbom-as-string.json"
put fuzz_sbom request-binaries-only.json "{\"digest\":\"$D\",\"name\":\"shop\",\"binaries\":[
  {\"path\":\"/usr/lib/libqux.so.1\",\"build_id\":\"$(printf 'a%.0s' {1..40})\",\"purl\":\"pkg:generic/libqux@1.0\"},
  {\"path\":\"/usr/lib/libbaz.so.3\",\"build_id\":\"$(printf 'b%.0s' {1..40})\",\"purl\":\"pkg:generic/libbaz@3.0\"}]}"

# ---- query strings (timeline, hot-symbols, stacks.folded, findings routes). ----------
put fuzz_http_params timeline-range "from=2026-03-14T09:30:00Z&to=2026-03-14T10:30:00.1234567%2B01:00&limit=5"
put fuzz_http_params timeline-now "from=now-15m&to=now&bucket=1m"
put fuzz_http_params timeline-filters "artifact=$D&purl=pkg%3Ageneric%2Fx%401.0&symbol=SSL_read&limit=100"
put fuzz_http_params hot "sort=recency&limit=3&artifact=$D"
put fuzz_http_params hot-hits "sort=hits&from=now-1d"
put fuzz_http_params folded "symbol=main&limit=10001"
put fuzz_http_params qs-odd "a=1&purl=pkg%3Ageneric%2Fx%401.0&sym=a+b&&flag&e="
put fuzz_http_params route-score "/api/v1/findings/CVE-2024-1001/runtime/score?from=now-7d&to=now"
put fuzz_http_params route-timeline "/api/v1/findings/F-UP/runtime/timeline?bucket=1h&from=2026-03-13T00:00:00Z&to=2026-03-14T00:00:00Z"
put fuzz_http_params route-traces "/api/v1/findings/GHSA-xxxx-yyyy-zzzz/runtime/traces"

# ---- symbols (the demangler tests' names). -------------------------------------------
i=0
for s in memcpy@@GLIBC_2.14 do_work.constprop.0 _ZN3foo3barEv.isra.0.cold _ZN5tbcpp6Engine4spinEv \
  _ZN5tbcpp5churnImEET_S1_ _ZN4core3fmt5write17h0123456789abcdefE _RNvCs1234_7mycrate3foo main.main \
  counter.1 "foo::bar [clone .cold]" "core::fmt::write::h0123456789abcdef" plain_c_function; do
  i=$((i + 1))
  put fuzz_demangle "sym-$(printf %02d $i)" "$s"
done

# ---- request bodies: trace JSON, findings, finding-scoped traces. --------------------
put fuzz_requests traces-batch '{"events":[{"node":"worker-3","kind":"uprobe","time":"2026-03-14T09:30:00.5Z","hook":"SSL_read",
  "process":{"pid":42,"binary":"/usr/bin/app","exec_id":"worker-3:1:42"},
  "user_stack":[{"module":"/usr/lib/libssl.so.3","build_id":"aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11","file_offset":"0x1000","symbol":"SSL_read"}]},
  {"node":"worker-3","kind":"sample","ts_ns":1773480600000000000,"process":{"pid":42,"exec_id":"worker-3:1:42"},
  "user_stack":[{"module":"/usr/bin/app","symbol":"main"}]}]}'
put fuzz_requests traces-one '{"node":"n1","kind":"sample","ts_ns":"1773480600000000000","process":{"pid":7},"user_stack":[{"symbol":"main"}]}'
put fuzz_requests finding "{\"id\":\"F-UP\",\"vuln_id\":\"CVE-2024-1001\",\"purl\":\"pkg:generic/libfoo@1.0\",\"artifact_digest\":\"$D\",\"symbols\":[\"foo_parse\",\"foo_free\",\"foo_close\"]}"
put fuzz_requests finding-minimal '{"finding_id":"F-E2E-103","vuln_id":"CVE-2099-0103","purl":"pkg:generic/tb-e2e/shop@1.0.0","symbols":["write_receipt"]}'
put fuzz_requests finding-trace "{\"artifactDigest\":\"$D\",\"componentPurl\":\"pkg:generic/libfoo@1.0\",\"frames\":[{\"symbol\":\"foo_parse\"},{\"symbol\":\"main\"}],\"hits\":3,\"observedAt\":\"2026-03-13T10:00:30Z\",\"node\":\"n1\"}"
cp "$TETRA"/v17-kprobe-stacks.json "$C/fuzz_requests/"

# ---- ELF files (about 1-6 KiB each): executable, shared object, lld, stripped,
# separate debug file, and an executable without section headers (build-id from
# PT_NOTE only).
E=$C/fuzz_elf
SRC=tests/fuzz/elf_seed.c
gcc -Os -nostdlib -static -Wl,--build-id=sha1 -Wl,-z,noseparate-code -o "$E/exec" "$SRC"
gcc -Os -nostdlib -shared -fPIC -Wl,--build-id=md5 -Wl,-z,noseparate-code -o "$E/shared.so" "$SRC"
clang -Os -nostdlib -static -fuse-ld=lld -Wl,--build-id=fast -o "$E/exec-lld" "$SRC"
strip -o "$E/exec-stripped" "$E/exec"
objcopy --only-keep-debug "$E/exec" "$E/exec.debug"
cp "$E/exec" "$E/exec-no-sections" # e_shoff (8 bytes at 0x28), e_shnum and e_shstrndx (0x3c) zeroed
head -c 8 /dev/zero | dd of="$E/exec-no-sections" bs=1 seek=$((0x28)) conv=notrunc status=none
head -c 4 /dev/zero | dd of="$E/exec-no-sections" bs=1 seek=$((0x3c)) conv=notrunc status=none

# ---- generated: Avro records of every type, timeline queries with cursors. ----------
"$BUILD/fuzz/seed" "$C"

for d in "$C"/*/; do echo "$(basename "$d"): $(find "$d" -type f | wc -l) files, $(du -sk "$d" | cut -f1) KiB"; done
