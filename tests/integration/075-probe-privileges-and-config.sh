#!/usr/bin/env bash
# 075: tb-probe-agent says clearly what is wrong. Without root (or CAP_BPF +
# CAP_PERFMON + CAP_SYS_ADMIN) it exits 4 naming the missing capabilities;
# bad options and a bad watch file exit 2 naming the option or the line;
# an unreachable broker exits 3; --check as root exits 0 and says what works.
. "$(dirname "$0")/../lib/harness.sh"

agent="$TB_BIN/tb-probe-agent"

out=$(runuser -u nobody -- "$agent" --dry-run --admin-addr 127.0.0.1:0 2>&1); rc=$?
if [ $rc -eq 4 ] && grep -q "needs root, or the capabilities CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN; missing: CAP_BPF" <<<"$out"; then
  tb_ok "unprivileged: exit 4 naming the missing capabilities"
else
  tb_fail "unprivileged: exit 4 naming the missing capabilities"; tb_diag "got exit $rc: $(head -3 <<<"$out")"
fi

out=$("$agent" --frequency -5 --admin-addr 127.0.0.1:0 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "option 'frequency'" <<<"$out"; then tb_ok "bad frequency: exit 2"; else
  tb_fail "bad frequency: exit 2"; tb_diag "got exit $rc: $(head -3 <<<"$out")"; fi

out=$("$agent" --pid 12x --admin-addr 127.0.0.1:0 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "option 'pid': '12x'" <<<"$out"; then tb_ok "bad pid: exit 2"; else
  tb_fail "bad pid: exit 2"; tb_diag "got exit $rc: $(head -3 <<<"$out")"; fi

printf '/usr/bin/true main\nnot-a-target foo\n' >"$TB_TMP/bad-watch.txt"
out=$("$agent" --dry-run --watch-file "$TB_TMP/bad-watch.txt" --admin-addr 127.0.0.1:0 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "bad-watch.txt:2: 'not-a-target'" <<<"$out"; then tb_ok "bad watch file: exit 2 naming the line"; else
  tb_fail "bad watch file: exit 2 naming the line"; tb_diag "got exit $rc: $(head -3 <<<"$out")"; fi

port=$(tb_free_port)
out=$("$agent" --brokers "127.0.0.1:$port" --admin-addr 127.0.0.1:0 -X socket.connection.setup.timeout.ms=2000 2>&1); rc=$?
if [ $rc -eq 3 ] && grep -q "127.0.0.1:$port" <<<"$out"; then tb_ok "unreachable broker: exit 3"; else
  tb_fail "unreachable broker: exit 3"; tb_diag "got exit $rc: $(tail -3 <<<"$out")"; fi

out=$("$agent" --check --admin-addr 127.0.0.1:0 2>/dev/null); rc=$?
if [ $rc -eq 0 ] && grep -q "^ok: sampling [0-9]* CPUs at 99 Hz" <<<"$out"; then
  tb_ok "--check as root"
elif [ $rc -eq 4 ]; then
  tb_skip "--check as root" "kernel refused BPF: $out"
else
  tb_fail "--check as root"; tb_diag "got exit $rc: $out"
fi
tb_finish
