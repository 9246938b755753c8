#!/usr/bin/env python3
"""Writes the synthetic Tetragon fixtures in this directory (run from here).

Written by hand for Tracebridge's parser tests, following the field shapes in
/work/shared/TETRAGON.md (protojson, UseProtoNames, 64-bit values as decimal
strings). The real samples live read-only in ../shared/testdata/tetragon/.
Re-running it rewrites the same bytes.
"""
import base64
import json

NODE = "tb-node-1"


def exec_id(node, start_ns, pid):
    return base64.b64encode(f"{node}:{start_ns}:{pid}".encode()).decode()


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


POD = {
    "namespace": "payments",
    "name": "checkout-7d9f8b6c5-x2k4p",
    "container": {
        "id": "containerd://3f6c2a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b",
        "name": "checkout",
        "image": {
            "id": "registry.example.com/shop/checkout@sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "name": "registry.example.com/shop/checkout:1.4.2",
        },
        "start_time": "2026-03-14T08:00:00Z",
        "pid": 7,
        "security_context": {"privileged": False},
    },
    "pod_labels": {"app": "checkout"},
    "workload": "checkout",
    "workload_kind": "Deployment",
    "uid": "9b1c3a52-0d6e-4f7a-8c2b-5e4d3c2b1a09",
}

PARENT_EID = exec_id(NODE, 12345600000000, 4100)


def process(pid, binary, args, start, start_ns, tid=None, extra=None):
    p = {
        "exec_id": exec_id(NODE, start_ns, pid),
        "pid": pid,
        "uid": 1000,
        "cwd": "/srv/app",
        "binary": binary,
        "arguments": args,
        "flags": "execve clone inInitTree",
        "start_time": start,
        "auid": 4294967295,
        "pod": POD,
        "docker": "3f6c2a1b9e8d7c6b5a4f3e2d1c0b9a8",
        "parent_exec_id": PARENT_EID,
        "tid": tid if tid is not None else pid,
        "in_init_tree": True,
    }
    if extra:
        p.update(extra)
    return p


PARENT = {
    "exec_id": PARENT_EID, "pid": 4100, "uid": 1000, "cwd": "/srv/app", "binary": "/bin/sh",
    "flags": "execve clone", "start_time": "2026-03-14T09:26:40.000000001Z", "auid": 4294967295,
    "pod": POD, "parent_exec_id": exec_id(NODE, 1, 1), "tid": 4100,
}

# Kernel and user frames as in the Tetragon docs (selectors.md, "Stack traces").
# User addresses follow the docs' compact rendering (0x7f878cf2752b...); the
# docs' JSON block says "140498967885099" for the first one, which is
# 0x7fc87712752b, an inconsistency inside the docs. Offsets agree in both.
KFRAMES = [
    (0xffffffffa13f2de5, 0x5, "kfree_skb_reason"),
    (0xffffffffa13dda9b, 0x6b, "__sys_connect_file"),
    (0xffffffffa13ddb85, 0xb5, "__sys_connect"),
    (0xffffffffa13ddbd8, 0x18, "__x64_sys_connect"),
    (0xffffffffa1714bd8, 0x58, "do_syscall_64"),
    (0xffffffffa18000e6, 0x6e, "entry_SYSCALL_64_after_hwframe"),
]
UFRAMES = [
    (0x7f878cf2752b, 0x12752b, "__connect", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
    (0x7f878cf489de, 0x1489de, "inet_pton", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
    (0x7f878d1b6167, 0x1a167, None, "/usr/lib/x86_64-linux-gnu/libcurl.so.4.7.0"),
]


def kframes(with_address=True):
    out = []
    for a, o, s in KFRAMES:
        f = {"address": str(a)} if with_address else {}
        f.update({"offset": str(o), "symbol": s})
        out.append(f)
    return out


def uframes():
    out = []
    for a, o, s, m in UFRAMES:
        f = {"address": str(a), "offset": str(o)}
        if s:
            f["symbol"] = s
        f["module"] = m
        out.append(f)
    return out


V17_KPROBE = {
    "process_kprobe": {
        "process": process(4217, "/usr/bin/curl", "-s https://example.com/pay",
                           "2026-03-14T09:26:53.589793238Z", 12345678901234, tid=4219,
                           extra={"environment_variables": [{"Key": "LANG", "Value": "C.UTF-8"},
                                                            {"Key": "PATH", "Value": "/usr/local/bin:/usr/bin"}]}),
        "parent": PARENT,
        "function_name": "kfree_skb_reason",
        "args": [{"sock_arg": {"family": "AF_INET", "type": "SOCK_STREAM", "protocol": "IPPROTO_TCP",
                               "saddr": "10.0.0.7", "daddr": "93.184.216.34", "sport": 43122, "dport": 443,
                               "cookie": "18446630131211534336", "state": "TCP_SYN_SENT"}}],
        "action": "KPROBE_ACTION_POST",
        "kernel_stack_trace": kframes(),
        "policy_name": "connect-stacks",
        "user_stack_trace": uframes(),
    },
    "node_name": NODE,
    "time": "2026-03-14T09:26:54.123456789Z",
    "cluster_name": "prod-eu",
    "node_labels": {"kubernetes.io/hostname": NODE},
}

# v1.0: the kernel stack was called `stack_trace`, no user stacks, no
# in_init_tree / environment_variables; addresses hidden (the default).
V10_PROC = process(3301, "/usr/sbin/nginx", "-g daemon off;", "2023-11-02T10:00:00.5Z", 555000000000,
                   extra={"flags": "execve rootcwd clone"})
for k in ("in_init_tree",):
    V10_PROC.pop(k)
V10_KPROBE = {
    "process_kprobe": {
        "process": V10_PROC,
        "parent": PARENT,
        "function_name": "tcp_connect",
        "args": [{"sock_arg": {"family": "AF_INET", "saddr": "10.0.0.9", "daddr": "10.0.0.10",
                               "sport": 51000, "dport": 5432}}],
        "action": "KPROBE_ACTION_POST",
        "policy_name": "tcp-connect",
        "stack_trace": [
            {"offset": "0", "symbol": "tcp_connect"},
            {"offset": "1021", "symbol": "tcp_v4_connect"},
            {"offset": "56", "symbol": "__inet_stream_connect"},
            {"offset": "76", "symbol": "inet_stream_connect"},
        ],
    },
    "node_name": "legacy-node",
    "time": "2023-11-02T10:00:01.250Z",
}


def base_proc(pid, binary, start_ns, start):
    p = process(pid, binary, None, start, start_ns)
    p.pop("arguments")
    return p


SHAPES = [
    {"process_uprobe": {"process": base_proc(5001, "/usr/bin/python3.11", 20000000000001,
                                             "2026-03-14T09:30:00Z"),
                        "parent": PARENT, "path": "/usr/lib/x86_64-linux-gnu/libssl.so.3",
                        "symbol": "SSL_write", "policy_name": "tls-writes",
                        "args": [{"size_arg": "512"}], "action": "KPROBE_ACTION_POST"},
     "node_name": NODE, "time": "2026-03-14T09:30:01.000000001Z"},
    {"process_uprobe": {"process": base_proc(5002, "/usr/bin/openssl", 20000000000002,
                                             "2026-03-14T09:30:02Z"),
                        "path": "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "offset": "74565",
                        "ref_ctr_offset": "0", "policy_name": "crypto-offsets"},
     "node_name": NODE, "time": "2026-03-14T09:30:03.5Z"},
    {"process_lsm": {"process": base_proc(5003, "/usr/bin/cat", 20000000000003, "2026-03-14T09:31:00Z"),
                     "parent": PARENT, "function_name": "file_open", "policy_name": "lsm-file-open",
                     "args": [{"file_arg": {"path": "/etc/shadow", "permission": "-rw-r-----"}}],
                     "action": "KPROBE_ACTION_POST", "ima_hash": "sha256:00ff"},
     "node_name": NODE, "time": "2026-03-14T09:31:00.250Z"},
    {"process_tracepoint": {"process": base_proc(5004, "/usr/bin/ls", 20000000000004, "2026-03-14T09:32:00Z"),
                            "subsys": "raw_syscalls", "event": "sys_enter", "policy_name": "raw-syscalls",
                            "args": [{"long_arg": "59"}], "action": "KPROBE_ACTION_POST"},
     "node_name": NODE, "time": "2026-03-14T09:32:00.000001Z"},
    {"process_loader": {"process": base_proc(5005, "/usr/bin/curl", 20000000000005, "2026-03-14T09:33:00Z"),
                        "path": "/usr/lib/x86_64-linux-gnu/libc.so.6",
                        "buildid": base64.b64encode(bytes.fromhex(
                            "a9cf4a8e4c1c7ed5e9ea3bbd1fba3f1ad16d3c2e")).decode()},
     "node_name": NODE, "time": "2026-03-14T09:33:00.1Z"},
    {"process_usdt": {"process": base_proc(5006, "/usr/bin/python3.11", 20000000000006, "2026-03-14T09:34:00Z"),
                      "path": "/usr/bin/python3.11", "provider": "python", "name": "function__entry",
                      "policy_name": "python-usdt", "args": [{"string_arg": "app.py"}],
                      "action": "KPROBE_ACTION_POST"},
     "node_name": NODE, "time": "2026-03-14T09:34:00.999Z"},
    {"rate_limit_info": {"number_of_dropped_process_events": "1024"},
     "node_name": NODE, "time": "2026-03-14T09:35:00Z"},
    {"process_exec": {"process": base_proc(5007, "/usr/bin/id", 20000000000007, "2026-03-14T09:36:00Z"),
                      "parent": PARENT},
     "node_name": NODE, "time": "2026-03-14T09:36:00Z", "aggregation_info": {"count": "5"}},
    # Legacy 2021-22 type, removed from the proto: must be skipped, not an error.
    {"process_connect": {"process": base_proc(5008, "/usr/bin/curl", 20000000000008, "2022-01-19T16:29:01Z"),
                         "source_ip": "10.0.0.7", "source_port": 43122,
                         "destination_ip": "93.184.216.34", "destination_port": 443},
     "node_name": NODE, "time": "2022-01-19T16:29:02Z"},
    {"test": {"arg0": "0", "arg1": "1"}, "node_name": NODE, "time": "2026-03-14T09:37:00Z"},
]

# Absent-like values: every field below is null, "" or [] and must read as
# absent; 32-bit and 64-bit numbers written the "other" way.
TOLERANCE = [
    {"process_kprobe": {"process": {"exec_id": exec_id(NODE, 30000000000001, 6001), "pid": "6001",
                                    "tid": 6002, "uid": None, "cwd": "", "binary": "/usr/bin/tolerant",
                                    "arguments": None, "pod": None, "docker": "",
                                    "environment_variables": [], "start_time": None},
                        "function_name": "security_file_permission", "policy_name": "",
                        "kernel_stack_trace": [{"address": 18446744072119856613, "offset": 5,
                                                "symbol": "kfree_skb_reason"}],
                        "user_stack_trace": [], "args": None, "return": None},
     "node_name": NODE, "time": "2026-03-14T09:40:00Z", "aggregation_info": None,
     "cluster_name": "", "node_labels": {}},
]


# One line per case; each bad line names what the parser or the splitter must
# say about it. Good lines before and after prove that reading goes on.
MALFORMED = [
    compact(SHAPES[0]),
    '{"process_exec":{"process":{"pid":"12x","binary":"/bin/true"}},"node_name":"n1"}',
    '{"process_kprobe":{"process":{"pid":1},"function_name":"f","kernel_stack_trace":'
    '[{"offset":"1"},{"offset":"2"},{"offset":"3"},{"offset":{"x":1}}]},"node_name":"n1"}',
    '{"process_exec":{"process":{"pid":1,"binary":"/bin/cut-off',
    'this line is not JSON at all',
    '{"process_exec":[1,2],"node_name":"n1"}',
    '{"process_exit":{"process":{"pid":2}},"time":"yesterday"}',
    '{"process_exec":{"process":{"pid":1}},"node_name":"n1","node_name":"n2"}',
    '{"process_exec":{"process":{"pid":1,}},"node_name":"n1"}',
    compact(SHAPES[2]),
]


def main():
    with open("v17-kprobe-stacks.json", "w") as f:
        f.write(compact(V17_KPROBE) + "\n")
    with open("v17-kprobe-stacks.pretty.json", "w") as f:
        # Different whitespace AND key order: the event_id must not change.
        f.write(json.dumps(V17_KPROBE, indent=3, sort_keys=True) + "\n")
    with open("v10-kprobe-legacy-stack_trace.json", "w") as f:
        f.write(compact(V10_KPROBE) + "\n")
    with open("shapes.jsonl", "w") as f:
        for e in SHAPES:
            f.write(compact(e) + "\n")
    with open("tolerance.jsonl", "w") as f:
        for e in TOLERANCE:
            f.write(compact(e) + "\n")
    with open("malformed.jsonl", "w") as f:
        for line in MALFORMED:
            f.write(line + "\n")
    # The comma-space variant some protojson builds emit (issue #1707), made
    # from the real export line 2 of repo-testdata-events.jsonl.
    with open("../../../../shared/testdata/tetragon/repo-testdata-events.jsonl") as src:
        line2 = src.read().splitlines()[1]
    with open("comma-space.jsonl", "w") as f:
        f.write(json.dumps(json.loads(line2), separators=(", ", ":")) + "\n")


if __name__ == "__main__":
    main()
