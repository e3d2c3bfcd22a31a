#!/usr/bin/env bash
# tessera-load against the (sanitizer-built) server: 2 conferences x 3 synthetic
# WebRTC participants for a few seconds, every receiver decoding and checking its
# composite. Asserts what the participants saw, not how fast: everyone joined and
# received composite frames and audio, the tiles show the other members' colours
# and never the viewer's own, frame stamps were read back into latency samples, and
# after everyone left the server holds no participant and no extra descriptor, and
# exits cleanly (LeakSanitizer makes a leak a non-zero exit).
# Usage: load_generator.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
BUILD=${1:?build dir}; SRC=${2:?source dir}
TMP=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$TMP/log" ] && tail -30 "$TMP/log" >&2; exit 1; }

for attempt in 1 2 3 4 5 6; do
  PORT=$((20000 + RANDOM % 40000))
  # A small canvas keeps six encoders affordable under ASan on two cores.
  cat > "$TMP/tessera.conf" <<CONF
[server]
listen = 127.0.0.1:$PORT
[sip]
enabled = false
[mixer]
canvas_width = 320
canvas_height = 180
fps = 15
video_bitrate_bps = 300000
CONF
  "$BUILD/tessera" --config "$TMP/tessera.conf" > "$TMP/log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break 2
    kill -0 $PID 2>/dev/null || break
    sleep 0.1
  done
  kill -9 $PID 2>/dev/null; wait $PID 2>/dev/null; PID=
done
[ -n "$PID" ] || fail "tessera did not start"

# load NAME ARGS...: one tessera-load run against the server, its output shown;
# then `expect NAME` checks the run's JSON with the Python `need(...)` lines on stdin.
load() {
  local name=$1; shift
  "$BUILD/tessera-load" --server "http://127.0.0.1:$PORT" --video 320x240 --talkers 1 \
    --warmup 3 --decode-every 1 --ramp-per-s 10 --json "$TMP/$name.json" "$@" \
    > "$TMP/$name.out" 2>&1 || { cat "$TMP/$name.out" >&2; fail "tessera-load ($name) exited $?"; }
  cat "$TMP/$name.out"
}
expect() {
  { printf '%s\n' "import json, sys" "r = json.load(open(sys.argv[1]))" \
      "def need(cond, what):" "    if not cond:" \
      "        print('FAIL:', what, json.dumps(r, indent=1), file=sys.stderr)" \
      "        sys.exit(1)"; cat; } > "$TMP/$1.py"
  python3 "$TMP/$1.py" "$TMP/$1.json" || fail "$1 results"
}

load grid --conferences 2 --participants 3 --seconds 5
expect grid <<'PY'
need(r["joins_ok"] == 6 and r["joins_failed"] == 0, "all six joined")
need(r["ice_dtls_failures"] == 0, "ICE and DTLS connected everyone")
need(r["steady_receivers"] == 6, "six receivers at the end of the window")
need((r["fps_received_min"] or 0) >= 1, "every receiver got composite frames")
need(r["freezes"] is not None, "freezes counted")
need((r["audio_packets_per_s_min"] or 0) >= 10, "every receiver got the mix")
need(r["tiles_checked"] > 0, "composites were checked")
need(r["own_tile_seen"] == 0, "nobody saw their own camera")
need(r["tiles_correct"] >= 0.9 * r["tiles_checked"], "tiles show the other members' colours")
need(r["latency_samples"] > 0 and r["latency_ms_p50"] is not None, "frame stamps read back")
need(r["join_ms_p50"] is not None, "join time measured")
need(r["leaves"] == 6, "everyone left")
need(r["server_cpu_cores"] is not None, "server CPU read from /metrics")
need(r["server_open_fds_after"] <= r["server_open_fds_before"] + 1,
     "descriptors back to where they were")
# Everyone is shown in a quarter of a 2x2 grid: a view without itself each.
need(r["server_video_encoders"] == 6, "one personal view per participant in 3-party grids")
PY

# A 6-member speaker layout (1:7): the strip's tiles are small, so strip members
# share the common view and see themselves there (gallery style); only the main
# speaker gets a view without itself: two encoders, not six.
load speaker --conferences 1 --participants 6 --layout 1:7 --seconds 4
expect speaker <<'PY'
need(r["joins_ok"] == 6 and r["steady_receivers"] == 6, "all six in")
need(r["server_video_encoders"] == 2, "common view + the main speaker's own view")
need(r["own_tile_seen"] == 0, "nobody sees themselves in the large tile")
need(r["self_view_tiles"] > 0, "strip members see themselves in a small tile")
need(r["tiles_correct"] >= 0.9 * r["tiles_checked"], "tiles show the members' colours")
PY

STATUS=$(curl -sf "http://127.0.0.1:$PORT/api/v1/status") || fail "status"
python3 -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if s["participants"] == 0 else 1)' \
  "$STATUS" || fail "participants left behind: $STATUS"

# Bad server answers are counted, not fatal: nothing listens on this port.
"$BUILD/tessera-load" --server "http://127.0.0.1:1" --seconds 1 > "$TMP/bad.out" 2>&1
[ $? -eq 1 ] || fail "an unreachable server should exit 1"
grep -q "no /metrics answer" "$TMP/bad.out" || fail "unreachable server not reported"

kill -TERM "$PID"
wait "$PID"; rc=$?; PID=
[ $rc -eq 0 ] || fail "server exit status $rc"
echo "PASS"
