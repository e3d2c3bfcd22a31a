#!/usr/bin/env bash
# Memory comes back (issue 17): 200 media joins and leaves (tessera-load churners,
# each a full WebRTC participant with camera and microphone for about a second)
# beside a steady participant; afterwards the server's resident memory is within
# 50 MiB of where it was after its first call, its descriptors are back, nobody is
# left, and it exits cleanly (LeakSanitizer). The server runs under ASan here, whose
# allocator holds freed memory in a quarantine (256 MiB by default) before reuse: the
# test makes that small and lets the allocator return free pages every second, so
# what stays resident is what Tessera keeps, as with glibc in a Release build.
# Usage: memory_churn.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
BUILD=${1:?build dir}; SRC=${2:?source dir}
. "$SRC/tests/integ/lib/load_server.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=8:allocator_release_to_os_interval_ms=1000"
# Conferences end as soon as they are empty: the churners' conference would
# otherwise linger (empty_timeout_s) and hold its mixer when RSS is read.
start_server $'[conferences]\nempty_timeout_s = 0'

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$PID/status"; }
fds() { find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
# settle: the RSS once it has stopped falling (conferences end, threads exit,
# free pages go back), at most 15 s.
settle() {
  local last now
  last=$(rss_kib)
  for _ in $(seq 15); do
    sleep 1; now=$(rss_kib)
    [ "$now" -ge "$last" ] && break
    last=$now
  done
  rss_kib
}

# A first call warms the process (codec libraries, thread pools, the DTLS
# certificate): "where it started" is after it.
load warm --conferences 1 --participants 2 --seconds 2 --decode-every 0
no_participants_left
RSS0=$(settle); FDS0=$(fds)
echo "after the first call: RSS $((RSS0 / 1024)) MiB, $FDS0 fds"

load churn --conferences 1 --participants 1 --seconds 50 --churn-per-s 4 --decode-every 0
expect churn <<'PY'
need(r["joins_ok"] >= 200, "200 media joins (and their leaves) went through")
need(r["joins_failed"] == 0 and r["ice_dtls_failures"] == 0, "every churner connected")
need(r["leaves"] >= r["joins_ok"], "every churner left")
PY
no_participants_left
RSS1=$(settle); FDS1=$(fds)
echo "after 200 joins and leaves: RSS $((RSS1 / 1024)) MiB, $FDS1 fds"
[ $((RSS1 - RSS0)) -le $((50 * 1024)) ] ||
  fail "RSS grew $(((RSS1 - RSS0) / 1024)) MiB over 200 joins and leaves (limit 50)"
[ "$FDS1" -le $((FDS0 + 1)) ] || fail "descriptors $FDS0 -> $FDS1"

stop_server
echo "PASS"
