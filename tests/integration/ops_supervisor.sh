#!/usr/bin/env bash
# deploy/mempulsectl as an operator uses it (issue 6): up (ready, URL, a second up is a
# no-op, a port in use is refused), status and status --json (pids, uptimes, restarts,
# seqs, lag), logs; crash restarts with exponential backoff (100, 200, 400 ms) logged;
# the restart-rate limit gives up on a process and `restart NAME` revives it; down leaves
# no process and keeps the regions, and the next up continues the seq; exit 2 (a bad
# option) is not retried and `up` says it is not ready.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/ops_lib.bash"

write_conf RATE=100 SEED=9 GATEWAYS=2 RESTART_LIMIT=3 RESTART_WINDOW_S=60 READY_TIMEOUT_S=30
ctl_up >"$OPS/up.out" 2>&1 || fail "up: $(cat "$OPS/up.out")"
[ "$(tail -1 "$OPS/up.out")" = "http://127.0.0.1:$PORT/" ] || fail "up did not end with the URL: $(cat "$OPS/up.out")"
ready || fail "/readyz is not 200 after up"
ctl_up >"$OPS/up2.out" 2>&1 || fail "second up failed: $(cat "$OPS/up2.out")"
grep -q "already runs" "$OPS/up2.out" || fail "second up: $(cat "$OPS/up2.out")"

# Another stack on the same port is refused (SO_REUSEPORT would split the traffic).
sed "s/^INSTANCE=.*/INSTANCE=$INSTANCE-other/; s#^RUN_DIR=.*#RUN_DIR=$OPS/run-other#; s#^LOG_DIR=.*#LOG_DIR=$OPS/log-other#" "$CONF" >"$OPS/other.conf"
"$CTL" --config "$OPS/other.conf" up >"$OPS/other.out" 2>&1 && fail "up on a port in use succeeded"
grep -q "already in use" "$OPS/other.out" || fail "port in use: $(cat "$OPS/other.out")"
[ ! -e "/dev/shm/mempulse.$INSTANCE-other.events" ] || fail "the refused up created regions"

# ---- status --------------------------------------------------------------------------------
wait_until 10 test "$(info_field readmodel.applied_seq)" -gt 0 || fail "nothing applied"
sleep 1.2
ctl status >"$OPS/status.txt" || fail "status"
for n in ingest readmodel gateway.1 gateway.2; do
    grep -qE "^$n +running +[0-9]+ +[0-9]+s +0 " "$OPS/status.txt" || fail "status line of $n: $(cat "$OPS/status.txt")"
done
grep -q "readmodel  applied seq [0-9]*, lag [0-9]* events" "$OPS/status.txt" || fail "status seqs: $(cat "$OPS/status.txt")"
ctl status --json >"$OPS/status.json" || fail "status --json"
python3 - "$OPS/status.json" "$PORT" <<'PY' || fail "status --json: $(cat "$OPS/status.json")"
import json, os, sys
s = json.load(open(sys.argv[1]))
assert s["supervisor"]["alive"] and s["ready"] and s["url"] == "http://127.0.0.1:%s/" % sys.argv[2], s
assert [p["name"] for p in s["processes"]] == ["ingest", "readmodel", "gateway.1", "gateway.2"], s
for p in s["processes"]:
    assert p["state"] == "running" and p["restarts"] == 0 and p["uptime_s"] >= 1, p
    os.kill(p["pid"], 0)
assert s["events"]["last_seq"] > 0 and s["readmodel"]["applied_seq"] > 0, s
assert 0 <= s["readmodel"]["lag_events"] <= s["events"]["last_seq"], s
PY
ctl logs gateway -n 5 >"$OPS/logs.txt" || fail "logs gateway"
grep -q "gateway.1.log" "$OPS/logs.txt" && grep -q "gateway.2.log" "$OPS/logs.txt" || fail "logs gateway: $(cat "$OPS/logs.txt")"
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8} mempulse-gateway: listening' "$OPS/log/gateway.1.log" ||
    fail "gateway.1.log lines are not time-stamped: $(head -3 "$OPS/log/gateway.1.log")"
ctl logs nothing >/dev/null 2>&1; [ $? -eq 2 ] || fail "logs of an unknown process is not a usage error"

# ---- crash restarts: backoff doubles -------------------------------------------------------
for i in 1 2 3; do
    pid=$(state_of gateway.1 pid)
    kill -KILL "$pid"
    wait_restarted gateway.1 "$pid" 10 || fail "gateway.1 not restarted after kill $i"
done
delays=$(grep -o 'gateway.1 (pid [0-9]*) crashed (signal 9 (KILL)) after [0-9]* ms; restart [0-9]* in [0-9]* ms' "$OPS/log/supervisor.log" |
    sed 's/.* in \([0-9]*\) ms/\1/' | tr '\n' ' ')
[ "$delays" = "100 200 400 " ] || fail "backoff delays '$delays', expected 100 200 400: $(tail -6 "$OPS/log/supervisor.log")"
[ "$(status_field gateway.1 restarts)" = 3 ] || fail "gateway.1 restarts $(status_field gateway.1 restarts), expected 3"

# ---- the restart-rate limit: 3 restarts in 60 s, the 4th crash gives up -------------------
for i in 1 2 3 4; do
    pid=$(state_of readmodel pid)
    kill -KILL "$pid"
    if [ $i -le 3 ]; then wait_restarted readmodel "$pid" 10 || fail "readmodel not restarted after kill $i"; fi
done
rm_failed() { [ "$(state_of readmodel state)" = failed ]; }
wait_until 10 rm_failed || fail "readmodel not given up after 4 crashes: $(cat "$OPS/run/state/readmodel")"
grep -q "readmodel (pid [0-9]*) crashed (signal 9 (KILL)); 3 restarts in the last 60s reached RESTART_LIMIT=3: giving up" "$OPS/log/supervisor.log" ||
    fail "no give-up line: $(tail -3 "$OPS/log/supervisor.log")"
sleep 0.5
[ "$(state_of readmodel state)" = failed ] || fail "a given-up readmodel was started again"
st=$(ctl status)
grep -qE '^readmodel +failed' <<<"$st" || fail "status does not show readmodel failed: $st"
ctl restart readmodel >"$OPS/revive.out" 2>&1 || fail "restart of a failed readmodel: $(cat "$OPS/revive.out")"
[ "$(state_of readmodel state)" = running ] || fail "readmodel not running after restart"
wait_until 15 ready || fail "not ready after reviving the readmodel"

# ---- down: nothing left, regions kept; up continues the seq -------------------------------
pids=()
for n in ingest readmodel gateway.1 gateway.2; do pids+=("$(state_of "$n" pid)"); done
sup=$(cat "$OPS/run/supervisor.pid")
ctl down >"$OPS/down.out" 2>&1 || fail "down: $(cat "$OPS/down.out")"
for pid in "${pids[@]}" "$sup"; do
    kill -0 "$pid" 2>/dev/null && fail "pid $pid still alive after down"
done
ps -eo args= | grep -v grep | grep -q -- "--instance $INSTANCE " && fail "a process of instance $INSTANCE survived down: $(ps -eo pid=,args= | grep -v grep | grep -- "--instance $INSTANCE ")"
# Nor any helper of the supervisor (its log stampers are forks of it, with its command line).
sleep 0.3
ps -eo args= | grep -v grep | grep -qF -- "$CONF" && fail "a supervisor process survived down: $(ps -eo pid=,args= | grep -v grep | grep -F -- "$CONF")"
[ -e "/dev/shm/mempulse.$INSTANCE.events" ] && [ -e "/dev/shm/mempulse.$INSTANCE.readmodel" ] || fail "down removed the regions"
grep -q "regions kept" "$OPS/down.out" || fail "down output: $(cat "$OPS/down.out")"
st=$(ctl status)
[[ $(head -1 <<<"$st") == *"not running"* ]] || fail "status after down: $st"
last=$(info_field events.last_seq)
starts=$(info_field events.writer_starts)
ctl_up >"$OPS/up3.out" 2>&1 || fail "up after down: $(cat "$OPS/up3.out")"
more() { [ "$(info_field events.last_seq)" -gt "$last" ]; }
wait_until 10 more || fail "seq did not move after the second up"
[ "$(info_field events.writer_starts)" = $((starts + 1)) ] || fail "the second up did not reuse the events region"
"$BIN_SHM" tail --instance "$INSTANCE" --from "$last" -n 2 >"$OPS/cont.txt"
python3 - "$OPS/cont.txt" "$last" <<'PY' || fail "seq not continuous across down/up: $(cut -c1-80 "$OPS/cont.txt")"
import json, sys
seqs = [json.loads(l)["seq"] for l in open(sys.argv[1]) if l.startswith('{"seq"')]
assert seqs[:2] == [int(sys.argv[2]), int(sys.argv[2]) + 1], seqs
PY
ctl down >/dev/null 2>&1 || fail "second down"

# ---- exit 2 is a configuration error: not retried, up reports it ---------------------------
write_conf RATE=100 READMODEL_ARGS=--no-such-option READY_TIMEOUT_S=4
ctl_up >"$OPS/up4.out" 2>&1 && fail "up with a readmodel that cannot start reported success"
grep -q "readmodel failed (exit 2)" "$OPS/up4.out" || fail "up with a bad option: $(cat "$OPS/up4.out")"
[ "$(state_of readmodel state)" = failed ] && [ "$(state_of readmodel last_exit)" = "exit 2" ] ||
    fail "readmodel exit 2: $(cat "$OPS/run/state/readmodel")"
[ "$(state_of readmodel restarts)" = 0 ] || fail "exit 2 was retried"
ctl down >/dev/null 2>&1 || fail "down after the failed up"
no_sanitizer_reports
pass "up/status/logs/down, backoff 100-200-400 ms, restart limit gives up and restart revives, down keeps regions and up continues the seq, exit 2 not retried"
