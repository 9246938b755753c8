#!/usr/bin/env bash
# build.sh OUTDIR — build the probe-agent test workloads from the sources
# next to this script, with frame pointers (the agent's BPF unwinder follows
# them; compilers also need -fno-shrink-wrap / non-leaf hot functions, see
# work.c):
#   work-pie       gcc, PIE (the default)          work-nopie  gcc -no-pie
#   work-lld       clang + ld.lld, PIE (file offsets differ from addresses)
#   work-stripped  strip --strip-all copy of work-pie (same build-id)
#   work-cpp       g++, C++ names to demangle       libloaded.so  dlopen target
#   work-v2        like work-pie with its own fixed build-id; work-v2-stripped
set -eu
src=$(cd "$(dirname "$0")" && pwd)
out=$1
mkdir -p "$out"
FP="-O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls"
gcc $FP -fno-shrink-wrap -Wl,--build-id=sha1 -o "$out/work-pie" "$src/work.c" -ldl
gcc $FP -fno-shrink-wrap -no-pie -Wl,--build-id=sha1 -o "$out/work-nopie" "$src/work.c" -ldl
clang $FP -fuse-ld=lld -Wl,--build-id=sha1 -o "$out/work-lld" "$src/work.c" -ldl
strip --strip-all -o "$out/work-stripped" "$out/work-pie"
g++ $FP -fno-shrink-wrap -Wl,--build-id=sha1 -o "$out/work-cpp" "$src/work_cpp.cpp"
gcc -O2 -g -shared -fPIC -Wl,--build-id=sha1 -o "$out/libloaded.so" "$src/libloaded.c"
# A second build with a build-id of its own, for "stripped binary, symbols
# from the symbol store" end to end (work-v2 stays unstripped for the store).
gcc $FP -fno-shrink-wrap -Wl,--build-id=0x7b0b2c3d4e5f60718293a4b5c6d7e8f901234567 -o "$out/work-v2" "$src/work.c" -ldl
strip --strip-all -o "$out/work-v2-stripped" "$out/work-v2"
