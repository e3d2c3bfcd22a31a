#!/usr/bin/env bash
# The capacity scenarios of issue 10, run with tessera-load against a Release
# build/tessera pinned to one core (taskset -c 1) while the generator runs on the
# other (taskset -c 0), so "per core" is measured, not guessed.
#
#   bench/load.sh [SCENARIO ...]     rooms | hundred | audio1000 | churn (default: all)
#
# Environment: CODEC (h264|vp8, default h264), SECONDS_PER_RUN (15), MAX_ROOMS (12),
# AUDIO_SIZES (smaller audio-only runs before the 1,000, e.g. "250 500 750"), AUDIO_RAMP (20),
# OUT (bench/results). Writes $OUT/load_<scenario>.csv, the tessera-load JSON of every
# run under $OUT/load/, and $OUT/load_rooms.png (CPU and fps against participants).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results}
CODEC=${CODEC:-h264}
SECS=${SECONDS_PER_RUN:-15}
MAX_ROOMS=${MAX_ROOMS:-12}
PORT=${PORT:-18480}
SERVER_CPU=${SERVER_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
mkdir -p "$OUT/load"
TMP=$(mktemp -d)
SPID=
stop_server() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null; SPID=; }
trap 'stop_server; rm -rf "$TMP"' EXIT

# start_server [extra config lines]: a fresh server for every run, so RSS, fds and
# encoder state of one run never leak into the next.
start_server() {
  stop_server
  {
    printf '[server]\nlisten = 127.0.0.1:%s\n[log]\nlevel = warn\n' "$PORT"
    printf '[sip]\nenabled = false\n'
    printf '[conferences]\nmax_participants = 1000\n'
    printf '%b' "${1:-}"
  } > "$TMP/tessera.conf"
  taskset -c "$SERVER_CPU" build/tessera --config "$TMP/tessera.conf" > "$TMP/server.log" 2>&1 &
  SPID=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "load.sh: tessera did not start" >&2; cat "$TMP/server.log" >&2; exit 1
}

# load NAME ARGS...: one tessera-load run; its JSON lands in $OUT/load/NAME.json.
load() {
  local name=$1; shift
  taskset -c "$LOAD_CPU" build/tessera-load --server "http://127.0.0.1:$PORT" --codec "$CODEC" \
    --json "$OUT/load/$name.json" "$@" > "$OUT/load/$name.txt" 2>&1 || true
  cat "$OUT/load/$name.txt"
}

# field FILE KEY: a number from a run's JSON ("" when null).
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"; }

CSV_KEYS="participants conferences fps_received_p50 fps_received_min freezes latency_ms_p50 latency_ms_p99 join_ms_p50 join_ms_p95 audio_packets_per_s_p50 audio_packets_per_s_min audio_gaps tiles_checked tiles_correct own_tile_seen server_cpu_cores load_cpu_cores server_rss_mb_before server_rss_mb_after server_open_fds_before server_open_fds_after joins_ok joins_failed"
csv_header() { echo "run,codec,$(echo $CSV_KEYS | tr ' ' ',')" > "$1"; }
csv_row() {
  local file=$1 name=$2 row="$2,$CODEC"
  for k in $CSV_KEYS; do row="$row,$(field "$OUT/load/$name.json" "$k")"; done
  echo "$row" >> "$file"
}

# A run passes scenario 1's quality limit: every receiver >= 28 fps, no freeze,
# latency p99 <= 150 ms, nobody refused.
passes() {
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = (r["fps_received_min"] or 0) >= 28 and r["freezes"] == 0 and \
     r["latency_ms_p99"] is not None and r["latency_ms_p99"] <= 150 and r["joins_failed"] == 0
sys.exit(0 if ok else 1)
PY
}

# rooms_steps NAME SERVER_CONFIG TOOL_ARGS...: add 4-party rooms until a step breaks
# the quality limit; prints and records the knee, then measures latency at half of it.
rooms_steps() {
  local tag=$1 conf=$2; shift 2
  local csv="$OUT/load_$tag.csv" knee=0
  csv_header "$csv"
  for rooms in $(seq 1 "$MAX_ROOMS"); do
    start_server "$conf"
    load "${tag}_$rooms" --conferences "$rooms" --participants 4 --video 640x360 --layout grid \
      --talkers 1 --seconds "$SECS" --decode-every 4 "$@"
    csv_row "$csv" "${tag}_$rooms"
    if passes "$OUT/load/${tag}_$rooms.json"; then knee=$rooms; else break; fi
  done
  echo "scenario 1 ($tag): the last passing step had $knee rooms = $((knee * 4)) HD participants on one core"
  echo "$((knee * 4))" > "$OUT/load/${tag}_knee_participants"
  # Past the knee at a browser-like pace (one join a second, so the measured video
  # load follows each newcomer): the server refuses the joins it cannot carry
  # (503 capacity) and those inside keep their frame rate.
  start_server "$conf"
  load "${tag}_past_knee" --conferences $((knee + 2)) --participants 4 --video 640x360 \
    --layout grid --talkers 1 --seconds "$SECS" --decode-every 4 --ramp-per-s 1 "$@"
  csv_row "$csv" "${tag}_past_knee"
  local half=$(( (knee + 1) / 2 ))
  [ "$half" -ge 1 ] || half=1
  start_server "$conf"
  load "${tag}_half_knee" --conferences "$half" --participants 4 --video 640x360 --layout grid \
    --talkers 1 --seconds $((SECS * 2)) --decode-every 1 "$@"
  csv_row "$csv" "${tag}_half_knee"
}

# Scenario 1 as shipped (every participant in a 2x2 cell gets a view without
# itself: four 720p encoders per room), then with the rooms' four members sharing
# one gallery view, self included ([mixer] personal_view_min_tile_pct = 30).
scenario_rooms() {
  rooms_steps rooms ""
  rooms_steps rooms_gallery '[mixer]\npersonal_view_min_tile_pct = 30\n' --self-view-pct 30
  plot_rooms
}

plot_rooms() {
  command -v gnuplot >/dev/null 2>&1 || { echo "load.sh: gnuplot missing, no plot"; return 0; }
  for tag in rooms rooms_gallery; do
    grep -v -e half_knee -e past_knee "$OUT/load_$tag.csv" | tail -n +2 | awk -F, '{print $3, $18, $6}' > "$TMP/$tag.dat"
  done
  gnuplot <<GP
set terminal pngcairo size 900,500
set output "$OUT/load_rooms.png"
set title "4-party rooms: 640x360 cameras in, 1280x720 $CODEC composite out, server on one core"
set xlabel "participants"
set ylabel "server CPU (cores)"
set y2label "lowest receiver fps"
set yrange [0:1.2]
set y2range [0:35]
set ytics nomirror
set y2tics
set grid
set key bottom left
plot "$TMP/rooms.dat" using 1:2 with linespoints lw 2 title "CPU, a personal view each", \
     "$TMP/rooms.dat" using 1:3 axes x1y2 with linespoints lw 2 dt 3 title "fps, a personal view each", \
     "$TMP/rooms_gallery.dat" using 1:2 with linespoints lw 2 title "CPU, one gallery view per room", \
     "$TMP/rooms_gallery.dat" using 1:3 axes x1y2 with linespoints lw 2 dt 3 title "fps, one gallery view per room", \
     28 axes x1y2 with lines dt 2 lc rgb "grey" title "28 fps limit"
GP
}

scenario_hundred() {
  local csv="$OUT/load_hundred.csv"
  csv_header "$csv"
  for layout in 1:7 1:21; do
    local name="hundred_${layout/:/_}"
    start_server
    load "$name" --conferences 1 --participants 100 --layout "$layout" --talkers 3 \
      --video 320x240 --seconds "$SECS" --decode-every 10 --ramp-per-s 20
    csv_row "$csv" "$name"
  done
}

# The server as on a host with one media address: one UDP socket per participant.
# By default it gathers on every interface and adds ICE-TCP (here 8 descriptors per
# participant, every one polled on each wake-up of its loop). A wider port range
# leaves room for 1,000 participants. AUDIO_SIZES adds smaller runs before it.
scenario_audio1000() {
  local csv="$OUT/load_audio1000.csv" n
  csv_header "$csv"
  for n in ${AUDIO_SIZES:-} 1000; do
    start_server '[webrtc]\nmedia_addresses = 127.0.0.1\nice_tcp = false\nrtp_port_max = 41999\n'
    load "audio$n" --conferences 1 --participants "$n" --video none --talkers 3 \
      --seconds "$SECS" --ramp-per-s "${AUDIO_RAMP:-20}" --warmup 5
    csv_row "$csv" "audio$n"
  done
}

scenario_churn() {
  local csv="$OUT/load_churn.csv"
  csv_header "$csv"
  start_server
  load churn --conferences 1 --participants 4 --video 640x360 --talkers 1 --seconds 60 \
    --churn-per-s 10 --decode-every 1
  csv_row "$csv" churn
}

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(rooms hundred audio1000 churn)
for s in "${scenarios[@]}"; do
  echo "== scenario $s"
  "scenario_$s"
done
