#!/usr/bin/env bash
# The tessera binary from the outside: options, exit codes, config errors,
# the HTTP listener and a clean shutdown on SIGTERM.
set -u
build=$1
src=$2
bin=$build/tessera
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect_rc() { # expected_rc description command...
  local want=$1 what=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  [ "$rc" = "$want" ] || fail "$what: exit $rc, wanted $want ($(cat "$tmp/err"))"
}

expect_rc 0 "--version" "$bin" --version
grep -qx "tessera [0-9.]*" "$tmp/out" || fail "--version output: $(cat "$tmp/out")"
expect_rc 0 "--help" "$bin" --help
grep -q -- "--probe \[--json\]" "$tmp/out" || fail "--help lacks the usage line"
expect_rc 2 "unknown option" "$bin" --frobnicate
grep -q "unknown or incomplete option '--frobnicate'" "$tmp/err" || fail "unknown option message"
expect_rc 2 "--json alone" "$bin" --json

expect_rc 0 "shipped config" "$bin" --config "$src/config/tessera.conf" --check-config
grep -q "configuration OK" "$tmp/out" || fail "--check-config output"

printf '[server]\nlisten = 0.0.0.0:8080\n\n[media]\nencoder = turbo\n' >"$tmp/bad.conf"
expect_rc 2 "bad value" "$bin" --config "$tmp/bad.conf"
grep -qF "tessera: $tmp/bad.conf:5: [media] encoder: 'turbo' is not allowed; allowed values: auto|software|vaapi" "$tmp/err" \
  || fail "bad value message: $(cat "$tmp/err")"
grep -q "listening" "$tmp/err" && fail "server started despite a bad config"
expect_rc 2 "missing file" "$bin" --config "$tmp/nope.conf"
grep -qF "$tmp/nope.conf: cannot read the file: No such file or directory" "$tmp/err" || fail "missing file message"
expect_rc 2 "bad --listen" "$bin" --listen nowhere
grep -qF -- "--listen: [server] listen: expected ADDR:PORT" "$tmp/err" || fail "bad --listen message"
expect_rc 2 "bad --log-level" "$bin" --log-level loud

printf '{"conferences":[{"alias":"board","guest_pin":"12"}]}' >"$tmp/conf.json"
printf '[conferences]\nfile = %s\n' "$tmp/conf.json" >"$tmp/conf.conf"
expect_rc 2 "bad conferences file" "$bin" --config "$tmp/conf.conf" --check-config
grep -qF "$tmp/conf.json: conference 'board':" "$tmp/err" || fail "conferences file message: $(cat "$tmp/err")"

# [webrtc] lists: a TURN server without credentials, a media address that is no IP
printf '[webrtc]\nturn_servers = stun:stun.example.com:3478, turn:turn.example.com:3478\n' >"$tmp/turn.conf"
expect_rc 2 "bad turn_servers" "$bin" --config "$tmp/turn.conf" --check-config
grep -qF 'tessera: [webrtc] turn_servers entry "turn:turn.example.com:3478": a TURN server needs a username and a credential' "$tmp/err" \
  || fail "turn_servers message: $(cat "$tmp/err")"
printf '[webrtc]\nmedia_addresses = 127.0.0.1, media.example.com\n' >"$tmp/addr.conf"
expect_rc 2 "bad media_addresses" "$bin" --config "$tmp/addr.conf"
grep -qF 'tessera: [webrtc] media_addresses: "media.example.com" is not an IP address' "$tmp/err" \
  || fail "media_addresses message: $(cat "$tmp/err")"

expect_rc 0 "--probe --json" "$bin" --probe --json
python3 - "$tmp/out" <<'PY' || fail "--probe --json content"
import json, sys
p = json.load(open(sys.argv[1]))
enc = {e["name"]: e for e in p["encoders"]}
assert enc["libx264"]["usable"] and enc["libvpx"]["usable"], enc
assert set(enc) == {"libx264", "libvpx", "h264_vaapi", "vp8_vaapi"}
assert {d["name"] for d in p["decoders"]} == {"vp8", "h264"}
assert "available" in p["vaapi"] and "reason" in p["vaapi"]
if not p["vaapi"]["available"]:
    assert p["vaapi"]["reason"], "unavailable VAAPI must say why"
    assert p["auto"] == {"h264": "libx264", "vp8": "libvpx"}, p["auto"]
c = p["compositor"]
assert c["setting"] == "auto" and c["chosen"] in ("cpu", "vulkan") and c["reason"], c
# auto never composes on a CPU implementation of Vulkan (lavapipe here).
assert c["chosen"] == "cpu" or c["device_type"] in ("discrete", "integrated"), c
PY
expect_rc 0 "--probe" "$bin" --probe
grep -q "libx264 .* usable" "$tmp/out" || fail "probe text lacks libx264 usable"
grep -q "^compositor: .*(setting auto)" "$tmp/out" || fail "probe text lacks the compositor line"
grep -q "^vulkan: loader" "$tmp/out" || fail "probe text lacks the Vulkan line"
printf '[media]\ncompositor = cpu\n' >"$tmp/cpu.conf"
expect_rc 0 "--probe with compositor = cpu" "$bin" --config "$tmp/cpu.conf" --probe
grep -q "^compositor: cpu (setting cpu)" "$tmp/out" || fail "compositor = cpu not reported"

# The server: pick a free port, check the endpoints, stop it with SIGTERM. SIP off:
# its default port 5060 may be another test's.
printf '[sip]\nenabled = false\n' >"$tmp/nosip.conf"
for try in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 20000))
  "$bin" --config "$tmp/nosip.conf" --listen "127.0.0.1:$port" 2>"$tmp/server.log" &
  pid=$!
  for i in $(seq 1 600); do # up to 60 s: a sanitizer build on a loaded machine starts slowly
    grep -q "listening on" "$tmp/server.log" && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  kill -0 $pid 2>/dev/null && break
  pid=
done
[ -n "$pid" ] || { fail "server did not start: $(cat "$tmp/server.log")"; exit 1; }
body=$(curl -s "http://127.0.0.1:$port/healthz")
echo "$body" | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["status"]=="ok" and j["version"] and j["uptime_s"]>=0, j' \
  || fail "/healthz body: $body"
code=$(curl -s -o "$tmp/404" -w '%{http_code}' "http://127.0.0.1:$port/nothing")
[ "$code" = 404 ] || fail "unknown path gave $code"
grep -q '"error":"not_found"' "$tmp/404" || fail "404 body: $(cat "$tmp/404")"
curl -s "http://127.0.0.1:$port/metrics" >"$tmp/metrics"
for m in tessera_build_info process_cpu_seconds_total process_resident_memory_bytes tessera_http_requests_total; do
  grep -q "^$m" "$tmp/metrics" || fail "/metrics lacks $m"
done
grep -q "probe.*libx264" "$tmp/server.log" || fail "the probe is not logged at start"
start=$(date +%s%N)
kill -TERM $pid
wait $pid; rc=$?
pid=
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" = 0 ] || fail "SIGTERM exit status $rc"
[ "$ms" -lt 2000 ] || fail "shutdown took $ms ms"
grep -q "stopped" "$tmp/server.log" || fail "no clean stop in the log"

[ $fails = 0 ] && echo "cli: all checks passed"
exit $fails
