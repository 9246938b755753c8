#!/usr/bin/env bash
# tools/demo/elf-info.sh BINARY — what a synthetic stack needs to know about an
# ELF file, as one JSON object on stdout:
#   {"path": BINARY, "build_id": "<lowercase hex GNU build-id>",
#    "functions": {"NAME": {"file_offset": N, "size": N}, ...}}
# Function addresses come from `nm -S --defined-only` (text symbols with a
# size; the dynamic symbols, `nm -D`, when the file has no .symtab, as
# Debian's libc) and are turned into FILE offsets through the PT_LOAD program headers
# of `readelf -lW` (offset = vaddr - p_vaddr + p_offset of the segment that
# holds it), because stack frames from Tetragon and the probe-agent carry
# file offsets, and file offset == vaddr is not a rule (lld differs).
# Used by tools/run-stack.sh (make run) and the end-to-end tests; needs
# binutils and jq. Exit 1 with a message when the file has no build-id.
set -euo pipefail
bin=${1:?usage: elf-info.sh BINARY}
bid=$(readelf -nW "$bin" | sed -n 's/.*Build ID: *\([0-9a-fA-F]*\).*/\1/p' | head -1 | tr 'A-F' 'a-f')
[ -n "$bid" ] || { echo "elf-info.sh: $bin has no GNU build-id note" >&2; exit 1; }
# "offset vaddr filesz" of each PT_LOAD, in hex
loads=$(readelf -lW "$bin" | awk '$1 == "LOAD" { print $2, $3, $5 }')
syms=$(nm -S --defined-only "$bin" 2>/dev/null || true)
[ -n "$syms" ] || syms=$(nm -D -S --defined-only "$bin" 2>/dev/null || true)
printf '%s\n' "$syms" | awk -v loads="$loads" '
  function hex(s,   i, c, v) { sub(/^0x/, "", s); v = 0
    for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", tolower(substr(s, i, 1))) - 1; v = v * 16 + c }
    return v }
  BEGIN { n = split(loads, L, "\n"); for (i = 1; i <= n; i++) { split(L[i], f, " "); off[i] = hex(f[1]); va[i] = hex(f[2]); sz[i] = hex(f[3]) } }
  NF == 4 && ($3 == "T" || $3 == "t" || $3 == "W" || $3 == "i") {
    name = $4; sub(/@.*/, "", name)   # dynamic symbols carry versions: write@@GLIBC_2.2.5
    if (name in seen) next
    seen[name] = 1
    a = hex($1)
    for (i = 1; i <= n; i++) if (a >= va[i] && a < va[i] + sz[i]) { printf "%s %d %d\n", name, a - va[i] + off[i], hex($2); break }
  }' |
  jq -R -s --arg path "$bin" --arg bid "$bid" '
    {path: $path, build_id: $bid,
     functions: (split("\n") | map(select(length > 0) | split(" ")) |
                 map({key: .[0], value: {file_offset: (.[1] | tonumber), size: (.[2] | tonumber)}}) | from_entries)}'
