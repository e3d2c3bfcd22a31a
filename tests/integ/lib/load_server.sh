# Sourced by the tessera-load shell tests (tests/integ/load_generator.sh,
# memory_churn.sh): a sanitizer-built server on a small canvas, tessera-load runs
# against it and checks of each run's JSON. Expects BUILD set; sets TMP, PORT, PID.
TMP=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$TMP/log" ] && tail -30 "$TMP/log" >&2; exit 1; }

# start_server [EXTRA_CONF]: a server on a free port; EXTRA_CONF is appended to its
# configuration (sections of its own). A small canvas keeps the encoders affordable
# under ASan on two cores.
start_server() {
  local attempt
  for attempt in 1 2 3 4 5 6; do
    PORT=$((20000 + RANDOM % 40000))
    printf '%s\n' "[server]" "listen = 127.0.0.1:$PORT" "[sip]" "enabled = false" "[mixer]" \
      "canvas_width = 320" "canvas_height = 180" "fps = 15" "video_bitrate_bps = 300000" \
      "${1:-}" > "$TMP/tessera.conf"
    "$BUILD/tessera" --config "$TMP/tessera.conf" > "$TMP/log" 2>&1 &
    PID=$!
    for _ in $(seq 100); do
      curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
      kill -0 $PID 2>/dev/null || break
      sleep 0.1
    done
    kill -9 $PID 2>/dev/null; wait $PID 2>/dev/null; PID=
  done
  fail "tessera did not start"
}

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

# no_participants_left: fails unless the server holds no participant.
no_participants_left() {
  local status
  status=$(curl -sf "http://127.0.0.1:$PORT/api/v1/status") || fail "status"
  python3 -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if s["participants"] == 0 else 1)' \
    "$status" || fail "participants left behind: $status"
}

# stop_server: SIGTERM, and a clean exit (LeakSanitizer makes a leak non-zero).
stop_server() {
  local rc
  kill -TERM "$PID"
  wait "$PID"; rc=$?; PID=
  [ $rc -eq 0 ] || fail "server exit status $rc"
}
