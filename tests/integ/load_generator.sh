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
. "$SRC/tests/integ/lib/load_server.sh"
start_server

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
need(r["server_after_read_s"] is not None and r["server_after_read_s"] >= 3,
     "the after-run reading is taken once everyone has left")
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

no_participants_left

# Audio only: every 2nd receiver is sampled (its SRTP checked as it arrives), the
# others read their socket themselves in batches and count the mix's RTP headers.
# Both kinds must receive the mix at its full rate without gaps.
load audio --conferences 1 --participants 4 --video none --talkers 1 --decode-every 2 \
  --seconds 3
expect audio <<'PY'
need(r["joins_ok"] == 4 and r["ice_dtls_failures"] == 0, "all four in")
need(r["audio_counted_only"] == 2, "two receivers counted headers only")
need((r["audio_packets_per_s_min"] or 0) >= 40, "every receiver got the mix at ~50 packets/s")
need(r["audio_gaps"] == 0, "no sequence gaps")
need(r["leaves"] == 4, "everyone left")
PY

no_participants_left

# Bad server answers are counted, not fatal: nothing listens on this port.
"$BUILD/tessera-load" --server "http://127.0.0.1:1" --seconds 1 > "$TMP/bad.out" 2>&1
[ $? -eq 1 ] || fail "an unreachable server should exit 1"
grep -q "no /metrics answer" "$TMP/bad.out" || fail "unreachable server not reported"

# A media address that is not an IP literal is a usage error (exit 2), said as such.
"$BUILD/tessera-load" --server "http://127.0.0.1:1" --media-address media.example \
  > "$TMP/usage.out" 2>&1
[ $? -eq 2 ] || fail "a non-IP --media-address should exit 2"
grep -q "media-address must be an IP address" "$TMP/usage.out" || fail "bad --media-address not said"

stop_server
echo "PASS"
