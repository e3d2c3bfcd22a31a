#!/usr/bin/env python3
"""Issue 17's hostile probe, repeatable: each numbered item of the issue against a
Release build on loopback. Starts its own servers (random ports 18000-18999, own
configs in a temp dir, SIP and recording off, 320x180 canvas), measures, prints one
line per figure and, with --json, writes them all.

  cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release
  cmake --build build-rel -j2 --target tessera tessera-load
  python3 bench/hostile_probe.py --build build-rel --json /tmp/probe17.json
  python3 bench/hostile_probe.py --items 4,5        # some items only

Items: 1 (fd limit, timeouts, per-address cap, SSE per token), 2 (huge bodies),
3 (ad hoc off through inLive), 4 (PIN lockout per address), 5 (inLive credentials
and quotas), 6 (inLive stream CLOSE-WAIT), 7 (bursts of 200/500 connections),
8 (RSS over 200 media join/leave cycles with tessera-load; ~1 core for a minute),
11 (the smaller items), extra (500 parallel roster joins, slowloris with 500
connections). 9 and 10 are browser tests (e2e/media_timeout, e2e/rejoin,
e2e/audio_loss). About 5 minutes in all, most of it waiting on the 30 s idle
timeout and the churn. Only the standard library; traffic only to 127.0.0.1.
"""
import argparse, base64, hashlib, http.client, json, os, random, re, resource, select
import shutil, socket, statistics, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
RESULTS = {}


def say(item, key, value):
    RESULTS.setdefault(item, {})[key] = value
    print(f"[{item}] {key}: {value}", flush=True)


# ---------------------------------------------------------------- server control
class Server:
    def __init__(self, build, extra="", nofile=None, conferences=None, name="srv"):
        self.build, self.extra, self.nofile = build, extra, nofile
        self.tmp = tempfile.mkdtemp(prefix=f"probe17-{name}-")
        self.proc = None
        self.conf_file = None
        if conferences is not None:
            self.conf_file = os.path.join(self.tmp, "conferences.json")
            with open(self.conf_file, "w") as f:
                json.dump({"conferences": conferences}, f)

    def start(self):
        for _ in range(8):
            self.port = random.randint(18000, 18999)
            conf = os.path.join(self.tmp, "tessera.conf")
            extra = self.extra
            if self.conf_file:
                extra = extra.replace("@CONFFILE@", self.conf_file)
            with open(conf, "w") as f:
                f.write(f"[server]\nlisten = 127.0.0.1:{self.port}\n{extra_server(extra)}"
                        "[sip]\nenabled = false\n"
                        "[recording]\ndir = \n"
                        "[mixer]\ncanvas_width = 320\ncanvas_height = 180\nfps = 15\n"
                        "video_bitrate_bps = 300000\n" + extra_rest(extra))
            nofile = self.nofile

            def pre():
                if nofile:
                    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
            self.log = open(os.path.join(self.tmp, "log"), "w")
            self.proc = subprocess.Popen([os.path.join(self.build, "tessera"), "--config", conf],
                                         stdout=self.log, stderr=subprocess.STDOUT,
                                         preexec_fn=pre)
            for _ in range(100):
                if self.proc.poll() is not None:
                    break
                try:
                    if get(self.port, "/healthz", timeout=1)[0] == 200:
                        return self
                except OSError:
                    pass
                time.sleep(0.1)
            self.stop()
        raise RuntimeError("server did not start: " + open(os.path.join(self.tmp, "log")).read()[-2000:])

    def rss_kib(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def settle_rss(self, maxs=15):
        last = self.rss_kib()
        for _ in range(maxs):
            time.sleep(1)
            now = self.rss_kib()
            if now >= last:
                break
            last = now
        return self.rss_kib()

    def metrics(self, pattern):
        code, body, _ = get(self.port, "/metrics")
        return [l for l in body.decode().splitlines() if re.search(pattern, l) and not l.startswith("#")]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def extra_server(extra):
    """Lines of EXTRA before any section header belong to [server]."""
    out = []
    for l in extra.splitlines():
        if l.startswith("["):
            break
        out.append(l)
    return "".join(l + "\n" for l in out)


def extra_rest(extra):
    lines = extra.splitlines()
    for i, l in enumerate(lines):
        if l.startswith("["):
            return "".join(x + "\n" for x in lines[i:])
    return ""


# ---------------------------------------------------------------- HTTP helpers
def req(port, method, path, body=None, headers=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = dict(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        if isinstance(data, str):
            data = data.encode()
        h.setdefault("Content-Type", "application/json")
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    b = r.read()
    hdrs = dict(r.getheaders())
    c.close()
    return r.status, b, hdrs


def get(port, path, timeout=10, headers=None):
    return req(port, "GET", path, headers=headers, timeout=timeout)


def jbody(b):
    try:
        return json.loads(b)
    except Exception:
        return None


def healthz_ms(port, timeout=5):
    t = time.monotonic()
    try:
        code = get(port, "/healthz", timeout=timeout)[0]
    except OSError as e:
        return None, type(e).__name__
    return (time.monotonic() - t) * 1000, code


def raw_request(port, data, timeout=10, read=True):
    """Send DATA on a fresh socket, return (status line, head+body bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return s
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout) as e:
                return ("<" + type(e).__name__ + ">", buf)
            if not chunk:
                break
            buf += chunk
        first = buf.split(b"\r\n", 1)[0].decode(errors="replace")
        return first or "<closed without answer>", buf
    finally:
        if read:
            s.close()


def body_of(raw):
    return raw.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in raw else b""


def native_join(port, alias, name="probe", pin=None, sdp=None, xff=None):
    body = {"display_name": name}
    if pin is not None:
        body["pin"] = pin
    if sdp is not None:
        body["sdp"] = sdp
    h = {"X-Forwarded-For": xff} if xff else {}
    code, b, _ = req(port, "POST", f"/api/v1/conferences/{alias}/join", body, h)
    return code, jbody(b) or b


def native_leave(port, j):
    return req(port, "POST", f"/api/v1/participants/{j['participant_id']}/leave", b"",
               {"Authorization": "Bearer " + j["token"]})[0]


def chrome_offer():
    with open(os.path.join(SRC, "tests/data/sdp/chrome_offer.sdp")) as f:
        lines = [l.rstrip("\r\n") for l in f if not l.startswith("a=candidate")]
    return "\r\n".join(lines) + "\r\n"


def close_wait(port):
    out = subprocess.run(["ss", "-tanH", "state", "close-wait", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    return len([l for l in out.splitlines() if l.strip()])


def established(port):
    out = subprocess.run(["ss", "-tanH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    return len([l for l in out.splitlines() if l.strip()])


# ---------------------------------------------------------------- WebSocket (minimal)
def ws_open(port, path, headers=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    h = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"{h}\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        c = s.recv(4096)
        if not c:
            raise OSError("ws handshake: closed: " + buf.decode(errors="replace"))
        buf += c
    head, rest = buf.split(b"\r\n\r\n", 1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise OSError("ws handshake: " + head.split(b"\r\n")[0].decode())
    return s, rest


def ws_send(s, text):
    data = text.encode()
    mask = os.urandom(4)
    hdr = bytes([0x81])
    n = len(data)
    if n < 126:
        hdr += bytes([0x80 | n])
    elif n < 65536:
        hdr += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        hdr += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def ws_recv(s, rest=b"", timeout=10):
    s.settimeout(timeout)
    buf = rest

    def need(n):
        nonlocal buf
        while len(buf) < n:
            c = s.recv(65536)
            if not c:
                raise OSError("closed")
            buf += c
    need(2)
    op, n = buf[0] & 0x0F, buf[1] & 0x7F
    off = 2
    if n == 126:
        need(4); n = int.from_bytes(buf[2:4], "big"); off = 4
    elif n == 127:
        need(10); n = int.from_bytes(buf[2:10], "big"); off = 10
    need(off + n)
    payload, buf = buf[off:off + n], buf[off + n:]
    return op, payload.decode(errors="replace"), buf


def sse_streams_open(port, path, n=10):
    """Opens n event streams on path one after another; how many are still open
    1.5 s later (the server closes the oldest past its cap)."""
    streams = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n".encode())
        streams.append(s)
        time.sleep(0.05)
    time.sleep(1.5)
    open_n = 0
    for s in streams:
        s.setblocking(False)
        alive = True
        try:
            while True:
                if not s.recv(65536):
                    alive = False
                    break
        except BlockingIOError:
            pass
        except OSError:
            alive = False
        open_n += alive
        s.close()
    return open_n


# ================================================================= item 1
def item1(build):
    with Server(build, nofile=128, name="i1") as srv:
        say(1, "fds at start under ulimit -n 128", srv.fds())
        for rnd in (1, 2):
            socks, errs = [], 0
            for _ in range(140):
                try:
                    socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=3))
                except OSError:
                    errs += 1
            time.sleep(2)
            ms, code = healthz_ms(srv.port, timeout=3)
            say(1, f"round {rnd}: 140 idle conns opened ({errs} connect errors); /healthz while held",
                f"{code} in {ms:.0f} ms" if ms else code)
            for s in socks:
                s.close()
            t0 = time.monotonic()
            ok = None
            while time.monotonic() - t0 < 15:
                ms, code = healthz_ms(srv.port, timeout=2)
                if code == 200:
                    ok = time.monotonic() - t0
                    break
                time.sleep(0.1)
            say(1, f"round {rnd}: /healthz after closing all",
                f"200 after {ok:.2f} s" if ok is not None else "NO ANSWER within 15 s")
        # an attacker who keeps its 140 connections open: the idle timeout frees them
        socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=3) for _ in range(140)]
        t0, ok = time.monotonic(), None
        while time.monotonic() - t0 < 45:
            ms, code = healthz_ms(srv.port, timeout=2)
            if code == 200:
                ok = time.monotonic() - t0
                break
        closed = 0
        for s in socks:
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    closed += 1
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
            s.close()
        say(1, "140 idle conns kept open by the client: /healthz answers",
            f"after {ok:.1f} s ({closed} of the 140 closed by the server by then)" if ok is not None
            else "NOT within 45 s")
        say(1, "fd metrics", srv.metrics(r"accept_errors|too_many_conn"))
        say(1, "server alive", srv.proc.poll() is None)

    # the per-address cap, with loopback not a trusted proxy (else it is exempt)
    with Server(build, extra="trusted_proxies = 192.0.2.1\n", name="i1c") as srv:
        socks, errs = [], 0
        for _ in range(300):
            try:
                socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=3))
            except OSError:
                errs += 1
        time.sleep(1)
        refused = 0
        for s in socks:
            s.setblocking(False)
            try:
                d = s.recv(4096)
                if d.startswith(b"HTTP/1.1 503"):
                    refused += 1
            except BlockingIOError:
                pass
            except OSError:
                pass
        ms, code = healthz_ms(srv.port, timeout=3)
        say(1, "300 idle conns from one untrusted address",
            f"{refused} answered 503 at once, {errs} connect errors; /healthz meanwhile: "
            + (f"{code} in {ms:.0f} ms" if ms else str(code)))
        for s in socks:
            s.close()
        say(1, "per-address counter", srv.metrics(r"too_many_connections"))

    # timeouts: idle, half-sent header, stalled chunked body, stalled Content-Length body
    with Server(build, name="i1t") as srv:
        kinds = {
            "idle (nothing sent)": b"",
            "half-sent header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ",
            "stalled chunked body": b"POST /api/v1/conferences/x/join HTTP/1.1\r\nHost: x\r\n"
                                    b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
                                    b"5\r\n{\"dis\r\n",
            "stalled Content-Length body": b"POST /api/v1/conferences/x/join HTTP/1.1\r\nHost: x\r\n"
                                           b"Content-Length: 100\r\n\r\n{\"dis",
        }
        res = {}

        def probe(name, data):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=90)
            t = time.monotonic()
            if data:
                s.sendall(data)
            try:
                got = s.recv(4096)
                while got and not got.endswith(b"}") and b"\r\n\r\n" not in got:
                    got += s.recv(4096) or b""
                    break
                res[name] = (time.monotonic() - t, got.split(b"\r\n", 1)[0].decode(errors="replace") or "FIN")
            except socket.timeout:
                res[name] = (None, "still open after 90 s")
            except ConnectionResetError:
                res[name] = (time.monotonic() - t, "RST")
            s.close()
        def trickle():
            # slowloris proper: one header byte every 20 s (progress, so no idle timeout)
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=2)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            t = time.monotonic()
            out = (None, "still open after 90 s")
            while time.monotonic() - t < 90:
                time.sleep(min(20, max(0.1, 90 - (time.monotonic() - t))))
                try:
                    s.send(b"X")
                    time.sleep(0.2)  # the answer, if the server gives one now
                    s.setblocking(False)
                    got = s.recv(200)
                    if got == b"":
                        out = (time.monotonic() - t, "FIN")
                        break
                    out = (time.monotonic() - t, got.split(b"\r\n", 1)[0].decode(errors="replace"))
                    break
                except BlockingIOError:
                    pass
                except OSError as e:
                    out = (time.monotonic() - t, type(e).__name__)
                    break
                finally:
                    s.setblocking(True)
            res["header trickled 1 byte / 20 s"] = out
            s.close()
        ths = [threading.Thread(target=probe, args=kv) for kv in kinds.items()]
        ths.append(threading.Thread(target=trickle))
        [t.start() for t in ths]
        [t.join() for t in ths]
        for k, (secs, how) in res.items():
            say(1, f"timeout: {k}", f"closed after {secs:.1f} s ({how})" if secs else how)

        # event streams per native token
        code, j = native_join(srv.port, "ssecap", "sse")
        open_n = sse_streams_open(srv.port, f"/api/v1/conferences/ssecap/events?token={j['token']}")
        say(1, "SSE streams still open of 10 on one native token", open_n)
        say(1, "superseded counter", srv.metrics(r"sse_streams_superseded"))
        native_leave(srv.port, j)


# ================================================================= item 2
def item2(build):
    with Server(build, name="i2") as srv:
        rss0 = srv.settle_rss(3)
        say(2, "RSS before (MiB)", round(rss0 / 1024, 1))
        for label, size, chunked, path in (
                ("1 GiB Content-Length to /api/v1 join", 1 << 30, False, "/api/v1/conferences/big/join"),
                ("64 MiB Content-Length to /api/v1 join", 64 << 20, False, "/api/v1/conferences/big/join"),
                ("64 MiB chunked to /api/v1 join", 64 << 20, True, "/api/v1/conferences/big/join"),
                ("1 GiB chunked to /v1/rooms/create (inLive)", 1 << 30, True, "/v1/rooms/create"),
                ("512 KiB Content-Length to Pexip request_token", 512 << 10, False,
                 "/api/client/v2/conferences/big/request_token"),
                ("64 MiB Content-Length to / (static)", 64 << 20, False, "/")):
            lat, stop = [], threading.Event()

            def poll():
                while not stop.is_set():
                    ms, code = healthz_ms(srv.port, timeout=5)
                    lat.append(ms if ms is not None else 5000)
                    time.sleep(0.05)
            th = threading.Thread(target=poll)
            th.start()
            peak = srv.rss_kib()
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
            s.sendall(head.encode())
            sent, answer, t0 = 0, b"", time.monotonic()
            block = b"[" * 65536
            err = None
            while sent < size:
                r, w, _ = select.select([s], [s], [], 5)
                if r:
                    try:
                        answer = s.recv(65536)
                    except OSError as e:
                        err = type(e).__name__
                    break
                if not w:
                    err = "send stalled 5 s"
                    break
                try:
                    if chunked:
                        s.sendall(b"10000\r\n" + block + b"\r\n")
                    else:
                        s.sendall(block)
                    sent += len(block)
                except OSError as e:
                    err = type(e).__name__
                    break
                if sent % (8 << 20) == 0:
                    peak = max(peak, srv.rss_kib())
            try:  # the rest of the answer, until the server closes
                s.settimeout(3)
                while True:
                    more = s.recv(65536)
                    if not more:
                        break
                    answer += more
            except OSError as e:
                err = err or type(e).__name__
            secs = time.monotonic() - t0
            s.close()
            peak = max(peak, srv.rss_kib())
            stop.set()
            th.join()
            status = answer.split(b"\r\n", 1)[0].decode(errors="replace") or f"<none: {err}>"
            say(2, label, f"{status} | body {body_of(answer)[:140]!r}{' (then ' + err + ')' if err else ''} | sent {sent >> 10} KiB before "
                          f"the answer in {secs:.2f} s | RSS peak {peak / 1024:.1f} MiB | /healthz "
                          f"max {max(lat):.0f} ms over {len(lat)} polls")
        time.sleep(1)
        say(2, "RSS after (MiB)", round(srv.settle_rss(5) / 1024, 1))
        say(2, "counters", srv.metrics(r"body_too_large"))


# ================================================================= item 3
def item3(build):
    confs = [{"alias": "board", "host_pin": "1234"}]
    with Server(build, extra="[conferences]\nallow_adhoc = false\nfile = @CONFFILE@\n",
                conferences=confs, name="i3") as srv:
        for hdr in ({}, {"Authorization": "Bearer attacker-token"}):
            code, b, _ = req(srv.port, "POST", "/v1/rooms/create", {"id": "secretroom"}, hdr)
            say(3, f"inLive rooms/create secretroom {'with a Bearer' if hdr else 'no auth'}",
                f"{code} {b[:200].decode(errors='replace')}")
        code, b, _ = req(srv.port, "POST", "/v1/rooms/create", {"name": "x"})
        say(3, "inLive rooms/create with generated id", f"{code} {b[:160].decode(errors='replace')}")
        code, j = native_join(srv.port, "secretroom", "intruder")
        say(3, "native join secretroom", f"{code} {str(j)[:160]}")
        code, b, _ = req(srv.port, "POST", "/api/client/v2/conferences/secretroom/request_token",
                         {"display_name": "intruder"})
        say(3, "Pexip request_token secretroom", f"{code} {b[:160].decode(errors='replace')}")
        try:
            s, rest = ws_open(srv.port, "/ws/secretroom?name=intruder")
            ws_send(s, json.dumps({"sdp": {"type": "offer", "sdp": chrome_offer()}}))
            op, txt, _ = ws_recv(s, rest)
            say(3, "WebSocket /ws/secretroom offer", txt[:160])
            s.close()
        except OSError as e:
            say(3, "WebSocket /ws/secretroom", str(e)[:160])
        code, b, _ = get(srv.port, "/api/v1/status")
        say(3, "status after", b[:200].decode(errors="replace"))
        # a defined, PIN-protected conference through inLive: no PIN bypass
        code, b, _ = req(srv.port, "POST", "/v1/rooms/create", {"id": "board"})
        say(3, "inLive rooms/create board (defined, host PIN)", f"{code} {(jbody(b) or {}).get('error')}")
        if code == 201:
            code, b, _ = req(srv.port, "POST", "/v1/rooms/board/register", {"uid": "x"})
            cid = jbody(b)["data"]["client_id"]
            code, b, _ = req(srv.port, "PUT", f"/v1/rooms/board/negotiate/{cid}",
                             {"type": "offer", "sdp": chrome_offer()})
            say(3, "inLive offer into PIN-protected board", f"{code} {(jbody(b) or {}).get('error')} "
                                                           f"{(jbody(b) or {}).get('message')}")
            code, b, _ = get(srv.port, "/api/v1/conferences/board")
            say(3, "board participant_count after", (jbody(b) or {}).get("participant_count"))


# ================================================================= item 4
def item4(build):
    confs = [{"alias": "board", "host_pin": "1234", "guest_pin": "5678", "max_participants": 100}]
    with Server(build, extra="trusted_proxies = 127.0.0.1\n[conferences]\nallow_adhoc = false\n"
                             "file = @CONFFILE@\n", conferences=confs, name="i4") as srv:
        # native, interleaved: attacker wrong PIN from .1, host right PIN from .2, 30 rounds
        att, host = {}, {}
        for i in range(30):
            c, _ = native_join(srv.port, "board", "att", pin="0000", xff="198.51.100.1")
            att[c] = att.get(c, 0) + 1
            c, j = native_join(srv.port, "board", "host", pin="1234", xff="198.51.100.2")
            host[c] = host.get(c, 0) + 1
            if c == 200:
                native_leave(srv.port, j)
        say(4, "native: attacker (XFF .1) 30 wrong PINs", att)
        say(4, "native: host (XFF .2) 30 host-PIN joins interleaved", host)
        c, _ = native_join(srv.port, "board", "att", pin="1234", xff="198.51.100.1")
        say(4, "native: attacker then tries the right PIN", c)
        # Pexip
        att, host = {}, {}
        P = "/api/client/v2/conferences/board"
        for i in range(30):
            c, b, _ = req(srv.port, "POST", P + "/request_token", {"display_name": "att"},
                          {"pin": "0000", "X-Forwarded-For": "198.51.100.3"})
            k = f"{c} {(jbody(b) or {}).get('result')}"
            att[k] = att.get(k, 0) + 1
            c, b, _ = req(srv.port, "POST", P + "/request_token", {"display_name": "host"},
                          {"pin": "1234", "X-Forwarded-For": "198.51.100.4"})
            host[c] = host.get(c, 0) + 1
            if c == 200:
                tok = jbody(b)["result"]["token"]
                req(srv.port, "POST", P + "/release_token", b"", {"token": tok})
        say(4, "Pexip: attacker (XFF .3) 30 wrong PINs", att)
        say(4, "Pexip: host (XFF .4) 30 host-PIN request_token interleaved", host)
        c, b, _ = req(srv.port, "POST", P + "/request_token", {"display_name": "att"},
                      {"pin": "1234", "X-Forwarded-For": "198.51.100.3"})
        say(4, "Pexip: attacker then tries the right PIN", f"{c} {b[:120]!r}")
        # WebSocket: the PIN is checked with the offer
        offer = json.dumps({"sdp": {"type": "offer", "sdp": chrome_offer()}})

        def ws_try(pin, xff):
            try:
                s, rest = ws_open(srv.port, f"/ws/board?name=w&pin={pin}", {"X-Forwarded-For": xff})
                ws_send(s, offer)
                op, txt, _ = ws_recv(s, rest)
                o = jbody(txt) or {}
                if "sdp" in o:
                    ws_send(s, '{"bye": true}')
                s.close()
                return "joined" if "sdp" in o else o.get("error", txt[:40])
            except OSError as e:
                return "err:" + str(e)[:40]
        att, host = {}, {}
        for i in range(12):
            r = ws_try("0000", "198.51.100.5")
            att[r] = att.get(r, 0) + 1
            r = ws_try("1234", "198.51.100.6")
            host[r] = host.get(r, 0) + 1
            time.sleep(0.3)
        say(4, "WebSocket: attacker (XFF .5) 12 wrong PINs", att)
        say(4, "WebSocket: host (XFF .6) 12 host-PIN joins interleaved", host)
        say(4, "counters", srv.metrics(r"too_many_attempts|wrong_pin"))


# ================================================================= item 5
def item5(build):
    with Server(build, name="i5") as srv:
        p = srv.port
        code, b, _ = req(p, "POST", "/v1/rooms/create", {"id": "r5", "name": "Room five"},
                         {"Authorization": "Bearer creator-secret-token"})
        room = jbody(b)["data"]
        secret = room.get("room_secret")
        say(5, "create answer keys", sorted(room.keys()))
        code, b, _ = req(p, "POST", "/v1/rooms/r5/register", {"uid": "alice", "name": "Alice"})
        cid = jbody(b)["data"]["client_id"]
        say(5, "register: client_id issued", f"{len(cid)} chars, != uid: {cid != 'alice'}")
        for label, path, method, body, hdr in (
                ("end without credential", "/v1/rooms/r5/end", "PUT", b"", {}),
                ("end with a wrong Bearer", "/v1/rooms/r5/end", "PUT", b"", {"Authorization": "Bearer guess"}),
                ("setmeta without credential", "/v1/rooms/r5/setmeta", "POST", {"k": "v"}, {}),
                ("deletemeta without credential", "/v1/rooms/r5/deletemeta/k", "DELETE", None, {}),
                ("setname with the uid as id", "/v1/rooms/r5/setname/alice", "PUT", {"name": "Mallory"}, {}),
                ("setname with a guessed id", "/v1/rooms/r5/setname/AAAAAAAAAAAAAAAAAAAAAA", "PUT",
                 {"name": "Mallory"}, {}),
                ("leave with the uid as id", "/v1/rooms/r5/leave/alice", "DELETE", None, {}),
                ("events with the uid as id", "/v1/rooms/r5/events/alice", "GET", None, {})):
            code, b, _ = req(p, method, path, body, hdr, timeout=5)
            j = jbody(b) or {}
            say(5, label, f"{code} {j.get('error')}")
        code, b, _ = req(p, "GET", f"/v1/rooms/r5/client/{cid}")
        say(5, "client's name after the attempts", (jbody(b) or {}).get("data", {}).get("name"))
        # quotas
        code, b, _ = req(p, "POST", "/v1/rooms/create",
                         {"id": "r5t", "options": {"empty_room_timeout_ns": 10 ** 18}})
        say(5, "empty_room_timeout_ns 1e18 ->", f"{code} options {jbody(b)['data'].get('options')}")
        req(p, "PUT", "/v1/rooms/r5t/end", b"", {"Authorization": "Bearer " + jbody(b)["data"]["room_secret"]})
        code, b, _ = req(p, "POST", "/v1/rooms/r5/setmeta", {"big": "x" * 60000},
                         {"Authorization": "Bearer " + secret})
        say(5, "setmeta 60 KB", f"{code} {(jbody(b) or {}).get('error')}")
        code, b, _ = req(p, "POST", "/v1/rooms/r5/setmeta", {"ok": "x" * 1000},
                         {"Authorization": "Bearer " + secret})
        say(5, "setmeta 1 KB with the room secret", code)
        # rooms cap + metadata memory: fill every room up to the metadata limit
        rss0 = srv.settle_rss(3)
        secrets, made, refused = {}, 0, {}
        t0 = time.monotonic()
        for i in range(1100):
            code, b, _ = req(p, "POST", "/v1/rooms/create", {"id": f"q{i}"})
            if code == 201:
                made += 1
                sec = jbody(b)["data"]["room_secret"]
                secrets[f"q{i}"] = sec
                c2, _, _ = req(p, "POST", f"/v1/rooms/q{i}/setmeta", {"m": "y" * 16000},
                               {"Authorization": "Bearer " + sec})
                refused["setmeta " + str(c2)] = refused.get("setmeta " + str(c2), 0) + 1
            else:
                k = f"{code} {(jbody(b) or {}).get('error')}"
                refused[k] = refused.get(k, 0) + 1
        say(5, "creating 1100 rooms (each + ~16 KB metadata)",
            f"{made} made (+ room r5 = {made + 1} rooms), others: {refused}, {time.monotonic() - t0:.1f} s")
        rss1 = srv.rss_kib()
        say(5, "RSS with the rooms full of metadata (MiB)", f"{rss0 / 1024:.1f} -> {rss1 / 1024:.1f}")
        say(5, "metadata gauge", srv.metrics(r"inlive_metadata_bytes|too_many_rooms|clamped"))
        for rid, sec in secrets.items():
            req(p, "PUT", f"/v1/rooms/{rid}/end", b"", {"Authorization": "Bearer " + sec})
        say(5, "RSS after ending them (MiB)", round(srv.settle_rss(5) / 1024, 1))
        say(5, "metadata gauge after ending", srv.metrics(r"inlive_metadata_bytes"))
        # a second fill: the freed memory is reused, not added to
        secrets = {}
        for i in range(999):
            code, b, _ = req(p, "POST", "/v1/rooms/create", {"id": f"s{i}"})
            if code == 201:
                secrets[f"s{i}"] = jbody(b)["data"]["room_secret"]
                req(p, "POST", f"/v1/rooms/s{i}/setmeta", {"m": "y" * 16000},
                    {"Authorization": "Bearer " + secrets[f"s{i}"]})
        say(5, f"RSS with a second {len(secrets)} full rooms (MiB)", round(srv.rss_kib() / 1024, 1))
        for rid, sec in secrets.items():
            req(p, "PUT", f"/v1/rooms/{rid}/end", b"", {"Authorization": "Bearer " + sec})


# ================================================================= item 6
def item6(build):
    with Server(build, name="i6") as srv:
        p = srv.port
        code, b, _ = req(p, "POST", "/v1/rooms/create", {"id": "r6"})
        secret = jbody(b)["data"]["room_secret"]
        code, b, _ = req(p, "POST", "/v1/rooms/r6/register", {"uid": "u6"})
        cid = jbody(b)["data"]["client_id"]

        def open_stream():
            s = socket.create_connection(("127.0.0.1", p), timeout=5)
            s.sendall(f"GET /v1/rooms/r6/events/{cid} HTTP/1.1\r\nHost: x\r\n"
                      "Accept: text/event-stream\r\n\r\n".encode())
            s.recv(4096)
            return s
        base = close_wait(p)
        # a) reconnect: the client drops its stream and opens a new one, 10 times
        for _ in range(10):
            s = open_stream()
            s.close()
            time.sleep(0.2)
        time.sleep(1.5)
        say(6, "CLOSE-WAIT after 10 close+reconnect", close_wait(p) - base)
        # b) superseded: 10 streams opened without closing the old ones
        held = [open_stream() for _ in range(10)]
        time.sleep(1.5)
        gone = 0
        for s in held:
            s.setblocking(False)
            try:
                while True:
                    d = s.recv(65536)
                    if not d:
                        gone += 1
                        break
            except BlockingIOError:
                pass
            except OSError:
                gone += 1
        say(6, "superseded streams closed by the server (of 9 older)", gone)
        for s in held:
            s.close()
        t0 = time.monotonic()
        cw = close_wait(p) - base
        say(6, "CLOSE-WAIT 0.1 s after closing the 10 held streams", cw)
        while cw and time.monotonic() - t0 < 20:
            time.sleep(0.5)
            cw = close_wait(p) - base
        say(6, "CLOSE-WAIT after closing the 10 held streams, waited",
            f"{cw} after {time.monotonic() - t0:.1f} s (keep-alive ping every 15 s)")
        req(p, "DELETE", f"/v1/rooms/r6/leave/{cid}")
        req(p, "PUT", "/v1/rooms/r6/end", b"", {"Authorization": "Bearer " + secret})
        time.sleep(1)
        say(6, "CLOSE-WAIT after leave + end", close_wait(p) - base)
        say(6, "server fds", srv.fds())


# ================================================================= item 7 / burst
def burst(port, n, path="/healthz"):
    bar = threading.Barrier(n)
    res = {}
    lock = threading.Lock()
    lat = []

    def one():
        bar.wait()
        t = time.monotonic()
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=15)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            buf = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                buf += d
            s.close()
            k = buf.split(b"\r\n", 1)[0].decode(errors="replace") or "empty"
        except OSError as e:
            k = type(e).__name__
        with lock:
            res[k] = res.get(k, 0) + 1
            lat.append((time.monotonic() - t) * 1000)
    ths = [threading.Thread(target=one) for _ in range(n)]
    [t.start() for t in ths]
    [t.join() for t in ths]
    lat.sort()
    return res, lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1], lat[-1]


def item7(build):
    with Server(build, name="i7") as srv:
        out = subprocess.run(["ss", "-ltnH", f"( sport = :{srv.port} )"], capture_output=True,
                             text=True).stdout.split()
        say(7, "listen backlog (ss Send-Q)", out[2] if len(out) > 2 else out)
        for n in (200, 500):
            res, p50, p99, mx = burst(srv.port, n)
            say(7, f"burst of {n} concurrent GET /healthz", f"{res} p50 {p50:.0f} ms p99 {p99:.0f} ms max {mx:.0f} ms")
        say(7, "refusal counters", srv.metrics(r"refused_total"))


# ================================================================= item 8
def item8(build):
    load = os.path.join(build, "tessera-load")
    with Server(build, extra="[conferences]\nempty_timeout_s = 0\n", name="i8") as srv:
        def run(name, *args):
            j = os.path.join(srv.tmp, name + ".json")
            cmd = ["nice", load, "--server", f"http://127.0.0.1:{srv.port}", "--video", "320x240",
                   "--talkers", "1", "--warmup", "3", "--decode-every", "1", "--ramp-per-s", "10",
                   "--json", j, *args]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode:
                say(8, name + " tessera-load failed", (r.stdout + r.stderr)[-800:])
                return {}
            return json.load(open(j))
        run("warm", "--conferences", "1", "--participants", "2", "--seconds", "2", "--decode-every", "0")
        rss0, fd0 = srv.settle_rss(), srv.fds()
        peak = [rss0]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    peak[0] = max(peak[0], srv.rss_kib())
                except Exception:
                    pass
                time.sleep(0.5)
        th = threading.Thread(target=sample)
        th.start()
        r = run("churn", "--conferences", "1", "--participants", "1", "--seconds", "50",
                "--churn-per-s", "4", "--decode-every", "0")
        stop.set()
        th.join()
        rss1, fd1 = srv.settle_rss(), srv.fds()
        say(8, "churn joins ok / failed / leaves", (r.get("joins_ok"), r.get("joins_failed"), r.get("leaves")))
        say(8, "RSS MiB before / peak / after", f"{rss0 / 1024:.1f} / {peak[0] / 1024:.1f} / "
                                                  f"{rss1 / 1024:.1f} (delta {(rss1 - rss0) / 1024:+.1f})")
        say(8, "fds before / after", (fd0, fd1))
        code, b, _ = get(srv.port, "/api/v1/status")
        say(8, "participants left", (jbody(b) or {}).get("participants"))


# ================================================================= item 11
def item11(build):
    with Server(build, name="i11") as srv:
        p = srv.port
        # 11a remote candidates after the join
        code, j = native_join(p, "cands", "c", sdp=chrome_offer())
        if code != 200:
            say(11, "media join for candidates", f"{code} {str(j)[:200]}")
        else:
            counts = {}
            t0 = time.monotonic()
            for i in range(2000):
                c, b, _ = req(p, "POST", f"/api/v1/participants/{j['participant_id']}/candidates",
                              {"candidate": f"candidate:{i} 1 udp 2122260223 127.0.0.1 {20000 + i} typ host",
                               "sdpMid": "0", "sdpMLineIndex": 0},
                              {"Authorization": "Bearer " + j["token"]})
                k = f"{c} {(jbody(b) or {}).get('error', '')}".strip()
                counts[k] = counts.get(k, 0) + 1
            say(11, "2,000 trickled candidates after the join", f"{counts} in {time.monotonic() - t0:.1f} s")
            say(11, "candidate counter", srv.metrics(r"candidates_refused"))
            native_leave(p, j)
        # inLive candidates before the first offer (buffered)
        code, b, _ = req(p, "POST", "/v1/rooms/create", {"id": "candroom"})
        rsec = jbody(b)["data"]["room_secret"]
        code, b, _ = req(p, "POST", "/v1/rooms/candroom/register", {"uid": "c"})
        icid = jbody(b)["data"]["client_id"]
        counts = {}
        for i in range(200):
            c, b, _ = req(p, "POST", f"/v1/rooms/candroom/candidate/{icid}",
                          {"candidate": f"candidate:{i} 1 udp 2122260223 127.0.0.1 {30000 + i} typ host",
                           "sdpMid": "0", "sdpMLineIndex": 0})
            k = f"{c} {(jbody(b) or {}).get('error', '')}".strip()
            counts[k] = counts.get(k, 0) + 1
        say(11, "inLive: 200 candidates before the offer", counts)
        req(p, "PUT", "/v1/rooms/candroom/end", b"", {"Authorization": "Bearer " + rsec})
        # Pexip event streams per token
        c, b, _ = req(p, "POST", "/api/client/v2/conferences/pxsse/request_token", {"display_name": "s"})
        ptok = jbody(b)["result"]["token"]
        open_n = sse_streams_open(p, f"/api/client/v2/conferences/pxsse/events?token={ptok}")
        say(11, "Pexip: SSE streams still open of 10 on one token", open_n)
        req(p, "POST", "/api/client/v2/conferences/pxsse/release_token", b"", {"token": ptok})
        # 11b libsoup-level errors
        for label, data in (
                ("%00 in path", b"GET /api/v1/conferences/a%00b HTTP/1.1\r\nHost: x\r\n\r\n"),
                ("/../ in path", b"GET /api/v1/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"),
                ("raw /../ in path", b"GET /api/v1/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"),
                ("garbage request line", b"\x16\x03\x01\x00\xa5garbage\r\n\r\n")):
            try:
                first, raw = raw_request(p, data)
            except OSError as e:
                first, raw = "<" + type(e).__name__ + ">", b""
            say(11, label, f"{first} | {body_of(raw)[:120]!r}")
        # oversized headers, sent in pieces while watching for an early answer (an
        # answer to a request still being sent is lost to the RST of unread data)
        for kib in (8, 16, 64, 100, 1024):
            s = socket.create_connection(("127.0.0.1", p), timeout=10)
            s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nX-Big: ")
            sent, ans, how = 0, b"", ""
            while True:
                r, w, _ = select.select([s], [s] if sent < kib * 1024 else [], [], 5)
                if r:
                    try:
                        ans = s.recv(65536)
                        while ans and b"\r\n\r\n" in ans and len(body_of(ans)) == 0:
                            more = s.recv(65536)
                            if not more:
                                break
                            ans += more
                        how = "answered" if ans else "FIN"
                    except OSError as e:
                        how = type(e).__name__
                    break
                if not w:
                    if sent >= kib * 1024:
                        s.sendall(b"\r\n\r\n")
                        sent += 1
                        continue
                    how = "stalled"
                    break
                try:
                    s.sendall(b"a" * 1024)
                    sent += 1024
                except OSError as e:
                    how = "send " + type(e).__name__
                    break
            s.close()
            first = ans.split(b"\r\n", 1)[0].decode(errors="replace")
            say(11, f"{kib} KiB header", f"{how} after {sent >> 10} KiB: {first} | {body_of(ans)[:120]!r}")
        # 11c display names
        for label, name in (("zero-width only", "\u200b\u200c\u200d"), ("U+202E", "abc\u202eevil"),
                            ("control char", "a\u0007b"), ("plain", "Ann")):
            code, jj = native_join(p, "names", name)
            say(11, f"native display name {label}", f"{code} {jj.get('error') if isinstance(jj, dict) else ''}")
            if code == 200:
                native_leave(p, jj)
            code, b, _ = req(p, "POST", "/api/client/v2/conferences/names/request_token", {"display_name": name})
            say(11, f"Pexip display name {label}", f"{code} {(jbody(b) or {}).get('error', '')}")
            if code == 200:
                req(p, "POST", "/api/client/v2/conferences/names/release_token", b"",
                    {"token": jbody(b)["result"]["token"]})
            code, b, _ = req(p, "POST", "/v1/rooms/create", {"name": name})
            jb = jbody(b) or {}
            say(11, f"inLive room name {label}", f"{code} {jb.get('error', '')}")
            if code == 201:
                req(p, "PUT", f"/v1/rooms/{jb['data']['id']}/end", b"",
                    {"Authorization": "Bearer " + jb["data"]["room_secret"]})
        # 11d token rotation
        code, j = native_join(p, "rot", "r")
        H = lambda t: {"Authorization": "Bearer " + t}
        c, b, _ = req(p, "POST", f"/api/v1/participants/{j['participant_id']}/refresh", b"", H(j["token"]))
        new = (jbody(b) or {}).get("token")
        c2, b2, _ = req(p, "POST", f"/api/v1/participants/{j['participant_id']}/refresh", b"", H(j["token"]))
        say(11, "native refresh", f"{c}, new token differs: {new != j['token']}; old token refreshes again: "
                                  f"{c2} {(jbody(b2) or {}).get('error')}")
        # native token in URL on a non-event route
        c, b, _ = req(p, "POST", f"/api/v1/participants/{j['participant_id']}/leave?token={new}", b"")
        say(11, "native ?token= on leave", f"{c} {(jbody(b) or {}).get('error')}")
        native_leave(p, {"participant_id": j["participant_id"], "token": new})
        P = "/api/client/v2/conferences/rot"
        c, b, _ = req(p, "POST", P + "/request_token", {"display_name": "px"})
        t1 = jbody(b)["result"]["token"]
        c, b, _ = req(p, "POST", P + "/refresh_token", b"", {"token": t1})
        t2 = (jbody(b) or {}).get("result", {}).get("token")
        c3, _, _ = req(p, "POST", P + "/refresh_token", b"", {"token": t1})
        say(11, "Pexip refresh_token", f"{c}, new token differs: {t2 != t1}; old refreshes again: {c3}")
        c, b, _ = get(p, P + f"/participants?token={t2}")
        say(11, "Pexip ?token= on participants (GET)", f"{c} {b[:100]!r}")
        c, b, _ = get(p, P + "/participants", headers={"token": t2})
        say(11, "Pexip token header on participants (GET)", c)
        c, b, _ = req(p, "POST", P + "/release_token", b"", {"token": t2})


# ================================================================= extra: 500 joins, slowloris
def extra(build):
    with Server(build, name="ex") as srv:
        p = srv.port
        rss0, fd0 = srv.settle_rss(3), srv.fds()
        bar = threading.Barrier(500)
        joined, codes, lock = [], {}, threading.Lock()

        def j(i):
            bar.wait()
            try:
                c, jj = native_join(p, f"crowd{i % 50}", f"p{i}")
            except OSError as e:
                c, jj = type(e).__name__, None
            with lock:
                codes[c] = codes.get(c, 0) + 1
                if c == 200:
                    joined.append(jj)
        ths = [threading.Thread(target=j, args=(i,)) for i in range(500)]
        [t.start() for t in ths]
        [t.join() for t in ths]
        rss1, fd1 = srv.rss_kib(), srv.fds()
        for jj in joined:
            native_leave(p, jj)
        rss2, fd2 = srv.settle_rss(), srv.fds()
        say("extra", "500 parallel roster joins", codes)
        say("extra", "RSS MiB before/joined/after leave", f"{rss0 / 1024:.1f}/{rss1 / 1024:.1f}/{rss2 / 1024:.1f}")
        say("extra", "fds before/joined/after", (fd0, fd1, fd2))
        # slowloris: 500 connections trickling header bytes; /healthz latency meanwhile
        socks = []
        for _ in range(500):
            try:
                s = socket.create_connection(("127.0.0.1", p), timeout=5)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
            except OSError:
                pass
        lat, fails = [], 0
        t0 = time.monotonic()
        k = 0
        while time.monotonic() - t0 < 20:
            ms, code = healthz_ms(p, timeout=5)
            if ms is None or code != 200:
                fails += 1
            else:
                lat.append(ms)
            k += 1
            if k % 10 == 0:
                for s in socks:
                    try:
                        s.send(b"X")
                    except OSError:
                        pass
            time.sleep(0.05)
        alive = established(p)
        for s in socks:
            s.close()
        lat.sort()
        say("extra", "slowloris 500 conns: /healthz",
            f"{len(lat)} ok, {fails} failed, p50 {lat[len(lat) // 2]:.1f} ms, p99 {lat[int(len(lat) * .99) - 1]:.1f} ms, "
            f"max {lat[-1]:.1f} ms; server-side established at the end {alive}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SRC, "build-rel"))
    ap.add_argument("--items", default="1,2,3,4,5,6,7,8,11,extra")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    fns = {"1": item1, "2": item2, "3": item3, "4": item4, "5": item5, "6": item6, "7": item7,
           "8": item8, "11": item11, "extra": extra}
    for it in a.items.split(","):
        t = time.monotonic()
        try:
            fns[it](a.build)
        except Exception as e:
            import traceback
            traceback.print_exc()
            say(it, "PROBE ERROR", repr(e))
        print(f"== item {it}: {time.monotonic() - t:.0f} s", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(RESULTS, f, indent=1, default=str)


if __name__ == "__main__":
    main()
