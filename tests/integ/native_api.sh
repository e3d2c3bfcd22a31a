#!/usr/bin/env bash
# HTTP-level test of the native API against build/tessera on a free port:
# every error status and JSON body, SSE, host actions, then 50 join/leave rounds
# with the open file descriptors counted before and after, and a clean exit
# (under ASan, LeakSanitizer turns any leak into a non-zero exit status).
# Usage: native_api.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
BUILD=${1:?build dir}; SRC=${2:?source dir}
BIN="$BUILD/tessera"
TMP=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$TMP/log" ] && tail -30 "$TMP/log" >&2; exit 1; }

cat > "$TMP/conferences.json" <<'JSON'
{"conferences": [
  {"alias": "board", "name": "Board", "host_pin": "1234", "guest_pin": "5678", "max_participants": 3},
  {"alias": "open", "max_participants": 2}
]}
JSON

# A free port: try random ones until the server binds.
for attempt in 1 2 3 4 5 6; do
  PORT=$((20000 + RANDOM % 40000))
  cat > "$TMP/tessera.conf" <<CONF
[server]
listen = 127.0.0.1:$PORT
[log]
level = info
[conferences]
allow_adhoc = false
file = $TMP/conferences.json
# longer than this test takes on a loaded machine (it ran 240 s at load 20 and the
# host's unrefreshed lease ran out); the refresh check reads this value back
token_ttl_s = 900
[sip]
enabled = false
[mixer]
max_participants = 2
[webrtc]
turn_servers = stun:stun.example.com:3478, turn:turn.example.com:3478?transport=udp alice s3cret
CONF
  ASAN_OPTIONS=detect_leaks=1 \
  LSAN_OPTIONS=suppressions=$SRC/tests/lsan.supp \
    "$BIN" --config "$TMP/tessera.conf" > "$TMP/log" 2>&1 &
  PID=$!
  for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break 2
    kill -0 $PID 2>/dev/null || break
    sleep 0.1
  done
  kill -9 $PID 2>/dev/null; wait $PID 2>/dev/null; PID=
done
[ -n "$PID" ] || fail "tessera did not start"
B="http://127.0.0.1:$PORT/api/v1"

# req METHOD PATH [BODY] [TOKEN] -> $CODE, $BODY
req() {
  local args=(-s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X "$1" "$B$2")
  [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  [ -n "${4:-}" ] && args+=(-H "Authorization: Bearer $4")
  [ -n "${XFF:-}" ] && args+=(-H "X-Forwarded-For: $XFF") # 127.0.0.1 is a trusted proxy
  CODE=$(curl "${args[@]}")
  BODY=$(cat "$TMP/body" 2>/dev/null)
}
# expect METHOD PATH BODY TOKEN STATUS ERROR_CODE
expect() {
  req "$1" "$2" "$3" "$4"
  [ "$CODE" = "$5" ] || fail "$1 $2 $3: status $CODE, want $5 (body: $BODY)"
  if [ -n "$6" ]; then
    grep -q "\"error\":\"$6\"" <<<"$BODY" || fail "$1 $2: body $BODY lacks error $6"
    grep -q '"message":"[^"]' <<<"$BODY" || fail "$1 $2: body $BODY lacks a message"
  fi
}
field() { echo "$BODY" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

# --- the web client's files ---
H="http://127.0.0.1:$PORT"
ctype() { curl -s -o /dev/null -w '%{http_code} %{content_type}' "$H$1"; }
[ "$(ctype /)" = "200 text/html; charset=utf-8" ] || fail "/ -> $(ctype /)"
[ "$(ctype /c/some-room)" = "200 text/html; charset=utf-8" ] || fail "/c/some-room -> $(ctype /c/some-room)"
[ "$(ctype /app.js)" = "200 text/javascript; charset=utf-8" ] || fail "/app.js -> $(ctype /app.js)"
[ "$(ctype /app.css)" = "200 text/css; charset=utf-8" ] || fail "/app.css -> $(ctype /app.css)"
for bad in /.git/config /..%2fCMakeLists.txt /%2e%2e/CMakeLists.txt /c/../../etc/passwd /web/app.js /nope.js; do
  code=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$H$bad")
  [ "$code" = 404 ] || [ "$code" = 400 ] || fail "$bad answered $code"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$H/app.js")
[ "$code" = 405 ] || fail "POST /app.js answered $code"

# --- joins and their refusals ---
expect GET /status "" "" 200 ""
grep -qE '"media":(true|false)' <<<"$BODY" || fail "status: $BODY"
# [webrtc] turn_servers reach the web client as RTCIceServer dictionaries
grep -qF '"ice_servers":[{"urls":"stun:stun.example.com:3478"},{"urls":"turn:turn.example.com:3478?transport=udp","username":"alice","credential":"s3cret"}]' <<<"$BODY" \
  || fail "status lacks the ICE servers: $BODY"
MEDIA=$(echo "$BODY" | sed -n 's/.*"media":\(true\|false\).*/\1/p')
expect POST /conferences/nowhere/join '{"display_name":"A"}' "" 404 no_such_conference
expect POST /conferences/board/join '{"display_name":"A"}' "" 401 pin_required
expect POST /conferences/board/join '{"display_name":"A","pin":"9999"}' "" 403 wrong_pin
expect POST /conferences/board/join '{"display_name":"A","pin":1234}' "" 400 bad_request
expect POST /conferences/board/join '{"display_name":' "" 400 bad_request
grep -q 'not valid JSON' <<<"$BODY" || fail "malformed JSON message: $BODY"
expect POST /conferences/board/join '["x"]' "" 400 bad_request
expect POST /conferences/board/join '{"pin":"1234"}' "" 400 bad_request
expect POST /conferences/bad!alias/join '{"display_name":"A"}' "" 400 bad_request
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
expect POST /conferences/open/join "{\"display_name\":\"$big\"}" "" 413 body_too_large
if [ "$MEDIA" = true ]; then
  expect POST /conferences/open/join '{"display_name":"A","sdp":"v=0\r\n"}' "" 400 bad_sdp
else
  expect POST /conferences/open/join '{"display_name":"A","sdp":"v=0\r\n"}' "" 503 media_unavailable
fi
expect GET /conferences/open/join "" "" 405 method_not_allowed
expect GET /conferences/nowhere "" "" 404 no_such_conference
expect GET /nothing/here "" "" 404 not_found
expect GET /conferences/board "" "" 200 ""
grep -q '"pin_required":true' <<<"$BODY" || fail "board should need a PIN: $BODY"

expect POST /conferences/board/join '{"display_name":"Host","pin":"1234"}' "" 200 ""
HOST=$(field token); HOST_ID=$(field participant_id)
grep -q '"role":"host"' <<<"$BODY" || fail "host role: $BODY"
expect POST /conferences/board/join '{"display_name":"Guest","pin":"5678"}' "" 200 ""
GUEST=$(field token); GUEST_ID=$(field participant_id)
grep -q '"role":"guest"' <<<"$BODY" || fail "guest role: $BODY"

# --- dial-out: host only, sip: URIs only, and [sip] enabled = false here ---
expect POST /conferences/board/dial '{"uri":"sip:room@127.0.0.1"}' "$GUEST" 403 forbidden
expect POST /conferences/board/dial '{"uri":"sip:room@127.0.0.1"}' "" 401 token_required
expect POST /conferences/nowhere/dial '{"uri":"sip:room@127.0.0.1"}' "$HOST" 404 no_such_conference
expect POST /conferences/board/dial '{"uri":"tel:+15551234"}' "$HOST" 400 bad_uri
grep -q 'only sip: URIs' <<<"$BODY" || fail "bad URI message: $BODY"
expect POST /conferences/board/dial '{"uri":"sip:room @host"}' "$HOST" 400 bad_uri
expect POST /conferences/board/dial '{}' "$HOST" 400 bad_request
expect POST /conferences/board/dial '{"uri":"sip:room@127.0.0.1","role":"owner"}' "$HOST" 400 bad_request
expect POST /conferences/board/dial '{"uri":"sip:room@127.0.0.1","display_name":"  "}' "$HOST" 400 bad_request
expect POST /conferences/board/dial '{"uri":"sip:room@127.0.0.1"}' "$HOST" 503 sip_disabled
expect GET /conferences/board/dial "" "$HOST" 405 method_not_allowed
expect DELETE /conferences/board/dial/00000000-0000-0000-0000-000000000000 "" "$HOST" 503 sip_disabled

# --- tokens ---
expect POST /participants/$GUEST_ID/candidates '{"candidate":""}' "" 401 token_required
expect POST /participants/$GUEST_ID/candidates '{"candidate":""}' "0000" 401 bad_token
expect POST /participants/$GUEST_ID/leave '' "$HOST" 403 forbidden
expect POST /participants/$GUEST_ID/candidates '{"candidate":""}' "$GUEST" 409 no_media
expect POST /participants/$GUEST_ID/candidates '{"sdpMid":"0"}' "$GUEST" 400 bad_request
# a re-offer (the web client's ICE restart) needs an SDP and running media
expect POST /participants/$GUEST_ID/sdp '{}' "$GUEST" 400 bad_request
expect POST /participants/$GUEST_ID/sdp '{"sdp":"v=0"}' "$HOST" 403 forbidden
expect POST /participants/$GUEST_ID/sdp '{"sdp":"v=0"}' "$GUEST" 409 no_media
expect POST /participants/$GUEST_ID/refresh '' "$GUEST" 200 ""
grep -q '"expires_in":900' <<<"$BODY" || fail "refresh: $BODY"
# a refresh rotates the token: the old one still works until its own expiry but
# cannot refresh again (a copied token mints no new ones)
GUEST_OLD=$GUEST; GUEST=$(field token)
[[ $GUEST != "$GUEST_OLD" && ${#GUEST} -eq 64 ]] || fail "refresh kept the token: $BODY"
expect POST /participants/$GUEST_ID/refresh '' "$GUEST_OLD" 401 bad_token
expect POST /participants/$GUEST_ID/candidates '{"sdpMid":"0"}' "$GUEST_OLD" 400 bad_request

# --- roster visibility, SSE ---
expect GET /conferences/board "" "" 200 ""
grep -q '"participants"' <<<"$BODY" && fail "roster shown without a token: $BODY"
expect GET /conferences/board "" "$GUEST" 200 ""
grep -q "\"id\":\"$HOST_ID\"" <<<"$BODY" || fail "roster lacks the host: $BODY"
grep -q "$HOST" <<<"$BODY" && fail "a token leaked into the roster"
# The stream ends by itself when the guest is kicked below; 60 s is only a guard.
curl -s -N --max-time 60 "$B/conferences/board/events?token=$GUEST" > "$TMP/sse" &
SSE=$!
for _ in $(seq 100); do grep -q '^event: snapshot' "$TMP/sse" && break; sleep 0.1; done
grep -q '^event: snapshot' "$TMP/sse" || fail "no SSE snapshot: $(cat "$TMP/sse")"
# At most 4 event streams per participant: a fifth ends the oldest.
CAPS=()
for i in 1 2 3 4 5; do
  curl -s -N --max-time 60 "$B/conferences/board/events?token=$HOST" > "$TMP/cap$i" &
  CAPS+=($!)
  for _ in $(seq 100); do grep -q '^event: snapshot' "$TMP/cap$i" && break; sleep 0.1; done
done
# The metrics are read into a variable first: with pipefail, `curl | grep -q`
# fails when grep exits on the match and curl then dies of SIGPIPE.
SUPERSEDED='tessera_sse_streams_superseded_total{front="native"} 1'
for _ in $(seq 100); do
  METRICS=$(curl -s "http://127.0.0.1:$PORT/metrics")
  grep -qF "$SUPERSEDED" <<<"$METRICS" && break; sleep 0.1
done
grep -qF "$SUPERSEDED" <<<"$METRICS" || fail "a fifth stream did not end the oldest"
wait "${CAPS[0]}" # the oldest one's response ended
kill "${CAPS[@]:1}" 2>/dev/null; wait "${CAPS[@]:1}" 2>/dev/null
expect GET "/conferences/board/events?token=nope" "" "" 401 bad_token
expect GET "/conferences/open/events?token=$GUEST" "" "" 403 forbidden

# --- host actions ---
expect POST /conferences/board/layout '{"layout":"speaker"}' "$GUEST" 403 forbidden
expect POST /conferences/board/layout '{"layout":"mosaic"}' "$HOST" 400 bad_layout
expect POST /conferences/board/layout '{"layout":"speaker"}' "$HOST" 200 ""
grep -q '"layout":"speaker"' <<<"$BODY" || fail "layout: $BODY"
expect POST /conferences/board/lock '{"locked":"yes"}' "$HOST" 400 bad_request
expect POST /conferences/board/lock '{"locked":true}' "$HOST" 200 ""
expect POST /conferences/board/join '{"display_name":"Late","pin":"5678"}' "" 409 conference_locked
expect POST /conferences/board/lock '{"locked":false}' "$HOST" 200 ""
expect POST /participants/$HOST_ID/mute '{"muted":true}' "$GUEST" 403 forbidden
expect POST /participants/$GUEST_ID/mute '{"muted":true}' "$GUEST" 200 ""
expect POST /participants/$GUEST_ID/video_mute '{"muted":true}' "$HOST" 200 ""
grep -q '"video_muted":true' <<<"$BODY" || fail "video mute: $BODY"
expect POST /participants/00000000-0000-0000-0000-000000000000/mute '{"muted":true}' "$HOST" 404 no_such_participant
# spotlight (pins onto the large tiles) and self-view: host only
expect POST /participants/$HOST_ID/spotlight '{"on":true}' "$GUEST" 403 forbidden
expect POST /participants/$GUEST_ID/spotlight '{"on":"yes"}' "$HOST" 400 bad_request
expect POST /participants/00000000-0000-0000-0000-000000000000/spotlight '{"on":true}' "$HOST" 404 no_such_participant
expect GET /participants/$GUEST_ID/spotlight "" "$HOST" 405 method_not_allowed
expect POST /participants/$GUEST_ID/spotlight '{"on":true}' "$HOST" 200 ""
grep -q '"spotlight":[1-9]' <<<"$BODY" || fail "spotlight on: $BODY"
expect POST /conferences/board/layout '{"layout":"2:21"}' "$HOST" 200 ""
expect GET /conferences/board "" "$HOST" 200 ""
grep -q "\"id\":\"$GUEST_ID\"[^}]*\"spotlight\":[1-9]" <<<"$BODY" || fail "spotlight lost by a layout change: $BODY"
expect POST /participants/$GUEST_ID/spotlight '{"on":false}' "$HOST" 200 ""
grep -q '"spotlight":0' <<<"$BODY" || fail "spotlight off: $BODY"
grep -q '"self_view":false' <<<"$BODY" && fail "participant carries self_view: $BODY"
expect POST /conferences/board/self_view '{"self_view":true}' "$GUEST" 403 forbidden
expect POST /conferences/board/self_view '{}' "$HOST" 400 bad_request
expect POST /conferences/board/self_view '{"self_view":true}' "$HOST" 200 ""
grep -q '"self_view":true' <<<"$BODY" || fail "self_view on: $BODY"
expect POST /conferences/board/self_view '{"self_view":false}' "$HOST" 200 ""
grep -q '"self_view":false' <<<"$BODY" || fail "self_view off: $BODY"
expect DELETE /participants/$HOST_ID "" "$GUEST" 403 forbidden
expect DELETE /participants/$HOST_ID "" "$HOST" 403 forbidden
expect DELETE /participants/$GUEST_ID "" "$HOST" 204 ""
expect POST /participants/$GUEST_ID/refresh '' "$GUEST" 401 bad_token
wait $SSE
for ev in snapshot layout conference_updated participant_updated participant_left; do
  grep -q "^event: $ev" "$TMP/sse" || fail "SSE lacks $ev: $(cat "$TMP/sse")"
done
grep -q '"reason":"kicked"' "$TMP/sse" || fail "SSE lacks the kick reason"
grep -q '^data: .*"spotlight":[1-9]' "$TMP/sse" || fail "SSE lacks the spotlight update"
grep -q '^data: .*"self_view":true' "$TMP/sse" || fail "SSE lacks the self-view update"

# --- limits ---
expect POST /conferences/open/join '{"display_name":"O1"}' "" 200 ""
O1=$(field token); O1_ID=$(field participant_id)
expect POST /conferences/open/join '{"display_name":"O2"}' "" 200 ""
O2=$(field token); O2_ID=$(field participant_id)
expect POST /conferences/open/join '{"display_name":"O3"}' "" 409 conference_full
expect POST /participants/$O2_ID/leave '' "$O2" 204 ""
expect POST /participants/$O1_ID/leave '' "$O1" 204 ""

# --- server capacity: [mixer] max_participants = 2 participants with media, all
# conferences together (roster-only joins do not count); the third is refused with
# 503 capacity and Retry-After, the two inside keep their media, a leave frees a place.
if [ "$MEDIA" = true ]; then
  # Chrome's offer without its candidates (as if it trickled them later): checks
  # against those unreachable addresses would fail ICE within ~10 s and remove the
  # participants before this section is done on a loaded machine.
  SDP=$(tr -d '\r' < "$SRC/tests/data/sdp/chrome_offer.sdp" | grep -v '^a=candidate' |
        awk '{printf "%s\\r\\n", $0}')
  has_media() { grep -q "\"id\":\"$1\"[^}]*\"has_media\":true" <<<"$BODY"; }
  expect POST /conferences/open/join "{\"display_name\":\"M1\",\"sdp\":\"$SDP\"}" "" 200 ""
  M1=$(field token); M1_ID=$(field participant_id)
  expect POST /conferences/board/join "{\"display_name\":\"M2\",\"pin\":\"5678\",\"sdp\":\"$SDP\"}" "" 200 ""
  M2=$(field token); M2_ID=$(field participant_id)
  expect POST /conferences/board/join "{\"display_name\":\"M3\",\"pin\":\"5678\",\"sdp\":\"$SDP\"}" "" 503 capacity
  grep -qi '^Retry-After: 10' "$TMP/headers" || fail "capacity refusal without Retry-After: $(cat "$TMP/headers")"
  expect POST /conferences/open/join '{"display_name":"Panel"}' "" 200 ""
  P=$(field token); P_ID=$(field participant_id)
  expect GET /conferences/board "" "$M2" 200 ""
  has_media "$M2_ID" || fail "M2 lost its media: $BODY"
  expect GET /conferences/open "" "$M1" 200 ""
  has_media "$M1_ID" || fail "M1 lost its media: $BODY"
  curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/metrics"
  grep -q 'tessera_join_refusals_total{reason="capacity"} 1$' "$TMP/metrics" || fail "capacity refusal not counted"
  grep -q 'tessera_http_errors_total{code="capacity"} 1$' "$TMP/metrics" || fail "capacity error not counted"
  grep -q '^tessera_participants_with_media 2$' "$TMP/metrics" || fail "participants with media: $(grep with_media "$TMP/metrics")"
  grep -q '^tessera_video_load [0-9]' "$TMP/metrics" || fail "no tessera_video_load gauge"
  expect POST /participants/$M1_ID/leave '' "$M1" 204 ""
  expect POST /conferences/board/join "{\"display_name\":\"M3\",\"pin\":\"5678\",\"sdp\":\"$SDP\"}" "" 200 ""
  M3=$(field token); M3_ID=$(field participant_id)
  expect POST /participants/$M2_ID/leave '' "$M2" 204 ""
  expect POST /participants/$M3_ID/leave '' "$M3" 204 ""
  expect POST /participants/$P_ID/leave '' "$P" 204 ""
fi

# --- PIN guessing is throttled per conference and client address: ten wrong PINs
# from one address (named by the trusted proxy on loopback) lock that address out,
# never another one ---
export XFF=198.51.100.1
for i in $(seq 10); do expect POST /conferences/board/join '{"display_name":"G","pin":"0000"}' "" 403 wrong_pin; done
expect POST /conferences/board/join '{"display_name":"G","pin":"5678"}' "" 429 too_many_attempts
unset XFF
XFF=198.51.100.2 expect POST /conferences/board/join '{"display_name":"G2","pin":"5678"}' "" 200 ""
expect POST "/participants/$(field participant_id)/leave" "" "$(field token)" 204 ""

# --- errors are counted ---
curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/metrics"
for code in wrong_pin pin_required no_such_conference conference_full conference_locked bad_token body_too_large; do
  grep -q "tessera_http_errors_total{code=\"$code\"} [1-9]" "$TMP/metrics" || fail "metrics lack $code"
done

# --- 50 join/leave rounds: no fd growth, no leaks ---
fds() { ls /proc/$PID/fd | wc -l; }
before=$(fds)
for i in $(seq 50); do
  req POST /conferences/open/join "{\"display_name\":\"Loop $i\"}"
  [ "$CODE" = 200 ] || fail "loop join $i: $CODE $BODY"
  T=$(field token); ID=$(field participant_id)
  curl -s -N --max-time 0.1 "$B/conferences/open/events?token=$T" >/dev/null
  req POST /participants/$ID/leave "" "$T"
  [ "$CODE" = 204 ] || fail "loop leave $i: $CODE $BODY"
done
# Closed connections are reaped on the server's loop; give a loaded machine time.
for _ in $(seq 50); do after=$(fds); [ "$after" -le $((before + 2)) ] && break; sleep 0.1; done
[ "$after" -le $((before + 2)) ] || fail "fds grew from $before to $after over 50 rounds"
expect GET /status "" "" 200 ""
grep -q '"participants":1' <<<"$BODY" || fail "only the host should remain: $BODY"

kill -TERM $PID
wait $PID; rc=$?
PID=
[ $rc = 0 ] || fail "tessera exited with $rc"
grep -q LeakSanitizer "$TMP/log" && fail "leaks reported"
echo "PASS native_api (fds $before -> $after)"
