# tools/demo/tetragon-kprobe.jq — Tetragon v1.7 process_kprobe export lines
# (one compact JSON object each, TETRAGON.md sections 1.5 and 5) from short
# specs, for tools/run-stack.sh and the end-to-end tests.
#
#   jq -c --argjson elfs '{"/opt/shop/bin/shop": <elf-info.sh output>, ...}' \
#      -f tools/demo/tetragon-kprobe.jq specs.jsonl
#
# One spec per input value:
#   {"node", "time" (RFC 3339), "exec_id" (raw "<node>:<ktime>:<pid>"; written
#    base64 as Tetragon does), "pid", "tid"?, "uid"?, "binary", "arguments"?,
#    "cwd"?, "env"? {KEY: VALUE}, "start_time"?, "flags"?,
#    "pod"? {"namespace", "name", "workload", "workload_kind"?, "container_id",
#            "image_name", "image_id"},
#    "function" (the kprobe'd kernel function), "policy"?, "args"? (Tetragon
#    KprobeArgument list, as is),
#    "kernel": [{"symbol", "offset" (into the function), "address"? (decimal
#               string)}], innermost first,
#    "user": [{"fn": NAME, "delta": N, "symbol"?: false, "module"?: PATH,
#              "address"?: decimal string}
#             | {"module": PATH, "offset": N, "symbol"?: NAME, "address"?}],
#            innermost first; "fn" frames get file offset = the function's
#            file offset in $elfs[module] + delta and, unless "symbol": false,
#            symbol = NAME; "module" defaults to "binary",
#    "user_base"?: N (frames without "address" get user_base + offset),
#    "count"?: N (aggregation_info.count: events folded into this line)}
# 64-bit values are decimal strings (Tetragon's protojson); addresses are
# only written when given (Tetragon hides them unless --expose-stack-addresses).
def b64: @base64;
def ustr: if . == null then null else tostring end;
def strip_nulls: with_entries(select(.value != null));

def user_frame($spec):
  (.module // $spec.binary) as $mod
  | (if .fn then
       ($elfs[$mod] // error("no elf-info for module \($mod)")) as $elf
       | ($elf.functions[.fn] // error("\($mod) has no function \(.fn)")) as $f
       | {off: ($f.file_offset + (.delta // 0)), sym: (if .symbol == false then null else .fn end)}
     else {off: .offset, sym: .symbol} end) as $r
  | {address: (.address // (if $spec.user_base then ($spec.user_base + $r.off) | ustr else null end)),
     offset: ($r.off | ustr), symbol: $r.sym, module: $mod} | strip_nulls;

def kernel_frame: {address: .address, offset: (.offset | ustr), symbol: .symbol} | strip_nulls;

def pod:
  if . == null then null else
  {namespace, name, workload, workload_kind: (.workload_kind // "Deployment"),
   container: {id: .container_id, name: .workload,
               image: {id: .image_id, name: .image_name}} | strip_nulls} | strip_nulls end;

def process($s):
  {exec_id: ($s.exec_id | b64), pid: $s.pid, uid: ($s.uid // 0), cwd: $s.cwd, binary: $s.binary,
   arguments: $s.arguments, flags: ($s.flags // "execve clone"), start_time: $s.start_time,
   pod: ($s.pod | pod), tid: ($s.tid // $s.pid),
   environment_variables: (if $s.env then [$s.env | to_entries[] | {Key: .key, Value: .value}] else null end)}
  | strip_nulls;

. as $s
| {process_kprobe: ({process: process($s), function_name: $s.function, args: $s.args,
                     action: "KPROBE_ACTION_POST", policy_name: ($s.policy // "tb-demo-stacks"),
                     kernel_stack_trace: (if $s.kernel then [$s.kernel[] | kernel_frame] else null end),
                     user_stack_trace: (if $s.user then [$s.user[] | user_frame($s)] else null end)}
                    | strip_nulls),
   node_name: $s.node, time: $s.time,
   aggregation_info: (if $s.count then {count: ($s.count | tostring)} else null end)}
| strip_nulls
