#!/usr/bin/python3
"""A GStreamer webrtcbin participant, as a gateway built on GStreamer joins: it
signals over Tessera's plain WebSocket (/ws/{alias}, libsoup through GObject
introspection), sends a solid-colour VP8 camera and an Opus sine tone, and
reports what it receives: the colours of the composite it decodes and the level
of given tones in the mix it hears.

Run by tests/e2e/webrtcbin.test.js with Debian's /usr/bin/python3 (python3-gi,
gir1.2-gst-plugins-bad-1.0, gir1.2-soup-3.0, gstreamer1.0-plugins-bad,
gstreamer1.0-nice, -base, -good). One JSON object per line on stdout:
  {"ready": true}                      the socket is open
  {"offer": sdp} / {"answer": sdp}     the descriptions exchanged
  {"stats": {"frames", "size", "shares", "audio_frames", "tones_db"}} every 0.5 s
  {"server": msg}                      any other message from the server
  {"error": text}                      then it exits 1
Reads "quit" on stdin: sends {"bye": true} and exits 0.
"""
import argparse
import json
import math
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstWebRTC', '1.0')
gi.require_version('GstSdp', '1.0')
gi.require_version('Soup', '3.0')
from gi.repository import GLib, Gst, GstSdp, GstWebRTC, Soup  # noqa: E402

VIDEO_W, VIDEO_H = 64, 36  # the composite is scaled to this for colour sampling


def emit(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


class Peer:
    def __init__(self, args):
        self.args = args
        self.palette = [tuple(int(x) for x in c.split(',')) for c in args.palette.split(';')]
        self.tones = [float(t) for t in args.tones.split(',')]
        self.frames = 0
        self.size = None
        self.shares = [0.0] * len(self.palette)
        self.audio_frames = 0
        self.samples = []
        self.tones_db = [-120.0] * len(self.tones)
        self.ws = None
        self.loop = GLib.MainLoop()
        self.pipe = Gst.parse_launch(self.pipeline_text())
        self.webrtc = self.pipe.get_by_name('w')
        self.webrtc.connect('on-negotiation-needed', self.on_negotiation_needed)
        self.webrtc.connect('on-ice-candidate', self.on_ice_candidate)
        self.webrtc.connect('pad-added', self.on_incoming_pad)
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect('message::error', self.on_bus_error)

    def pipeline_text(self):
        a = self.args
        r, g, b = (int(x) for x in a.colour.split(','))
        argb = 0xff000000 | (r << 16) | (g << 8) | b
        return (
            'webrtcbin name=w bundle-policy=max-bundle latency=100 '
            f'videotestsrc is-live=true pattern=solid-color foreground-color={argb} '
            '! video/x-raw,width=320,height=240,framerate=15/1 ! videoconvert '
            '! vp8enc deadline=1 target-bitrate=300000 keyframe-max-dist=30 ! rtpvp8pay pt=96 '
            '! application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000 ! w. '
            f'audiotestsrc is-live=true wave=sine freq={a.tone} volume=0.3 ! audioconvert '
            '! audioresample ! audio/x-raw,rate=48000,channels=1 ! opusenc bitrate=32000 '
            '! rtpopuspay pt=97 '
            '! application/x-rtp,media=audio,encoding-name=OPUS,payload=97,clock-rate=48000 ! w.')

    # ---- signalling ----

    def start(self):
        session = Soup.Session()
        msg = Soup.Message.new('GET', self.args.url)
        session.websocket_connect_async(msg, None, None, GLib.PRIORITY_DEFAULT, None,
                                        self.on_ws_open, None)
        self.session = session
        GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.PRIORITY_DEFAULT,
                          GLib.IOCondition.IN | GLib.IOCondition.HUP, self.on_stdin)
        GLib.timeout_add(500, self.report)
        self.loop.run()

    def on_ws_open(self, session, result, _data):
        try:
            self.ws = session.websocket_connect_finish(result)
        except GLib.Error as e:
            self.fail(f'WebSocket: {e.message}')
            return
        self.ws.connect('message', self.on_ws_message)
        self.ws.connect('closed', self.on_ws_closed)
        emit({'ready': True})
        self.pipe.set_state(Gst.State.PLAYING)

    def send(self, obj):
        # webrtcbin calls back on its own threads; libsoup lives on the main loop.
        GLib.idle_add(lambda: self.ws and self.ws.send_text(json.dumps(obj)) and False)

    def on_ws_message(self, _ws, _type, data):
        msg = json.loads(data.get_data().decode())
        sdp = msg.get('sdp')
        if sdp is None:
            emit({'server': msg})
            return
        text = sdp['sdp'] if isinstance(sdp, dict) else sdp
        emit({'answer': text})
        _res, parsed = GstSdp.SDPMessage.new_from_text(text)
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, parsed)
        promise = Gst.Promise.new_with_change_func(self.on_remote_set, None)
        self.webrtc.emit('set-remote-description', answer, promise)

    def on_remote_set(self, promise, _data):
        reply = promise.get_reply()
        if reply is not None and reply.has_field('error'):
            self.fail(f"set-remote-description: {reply.get_value('error').message}")

    def on_negotiation_needed(self, _webrtc):
        if getattr(self, 'offered', False):
            return  # one offer per socket: the server answers once
        self.offered = True
        promise = Gst.Promise.new_with_change_func(self.on_offer_created, None)
        self.webrtc.emit('create-offer', None, promise)

    def on_offer_created(self, promise, _data):
        reply = promise.get_reply()
        offer = reply.get_value('offer')
        self.webrtc.emit('set-local-description', offer, Gst.Promise.new())
        text = offer.sdp.as_text()
        emit({'offer': text})
        self.send({'sdp': {'type': 'offer', 'sdp': text}})

    def on_ice_candidate(self, _webrtc, mline, candidate):
        self.send({'candidate': {'candidate': candidate, 'sdpMLineIndex': mline}})

    # ---- receiving ----

    def on_incoming_pad(self, _webrtc, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        decode = Gst.ElementFactory.make('decodebin')
        decode.connect('pad-added', self.on_decoded_pad)
        self.pipe.add(decode)
        decode.sync_state_with_parent()
        pad.link(decode.get_static_pad('sink'))

    def on_decoded_pad(self, _decodebin, pad):
        caps = pad.get_current_caps().to_string()
        if caps.startswith('video'):
            desc = ('videoconvert ! videoscale ! '
                    f'video/x-raw,format=RGB,width={VIDEO_W},height={VIDEO_H} ! '
                    'appsink name=sink emit-signals=true sync=false max-buffers=2 drop=true')
            on_sample = self.on_video
        else:
            desc = ('audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=48000,channels=1 '
                    '! appsink name=sink emit-signals=true sync=false')
            on_sample = self.on_audio
        s = pad.get_current_caps().get_structure(0)
        if caps.startswith('video'):
            self.size = [s.get_value('width'), s.get_value('height')]
        branch = Gst.parse_bin_from_description(desc, True)
        self.pipe.add(branch)
        branch.get_by_name('sink').connect('new-sample', on_sample)
        branch.sync_state_with_parent()
        pad.link(branch.get_static_pad('sink'))

    def on_video(self, sink):
        buf = sink.emit('pull-sample').get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        if not ok:
            return Gst.FlowReturn.OK
        data = info.data
        counts = [0] * len(self.palette)
        n = VIDEO_W * VIDEO_H
        stride = (VIDEO_W * 3 + 3) & ~3
        for y in range(VIDEO_H):
            for x in range(VIDEO_W):
                o = y * stride + x * 3
                px = (data[o], data[o + 1], data[o + 2])
                for i, c in enumerate(self.palette):
                    if math.dist(px, c) < 70:
                        counts[i] += 1
        buf.unmap(info)
        self.shares = [c / n for c in counts]
        self.frames += 1
        return Gst.FlowReturn.OK

    def on_audio(self, sink):
        buf = sink.emit('pull-sample').get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        if ok:
            pcm = memoryview(info.data).cast('h')
            self.samples.extend(pcm.tolist())
            buf.unmap(info)
        self.audio_frames += 1
        window = 9600  # 200 ms
        if len(self.samples) >= window:
            block, self.samples = self.samples[-window:], []
            self.tones_db = [goertzel_db(block, f) for f in self.tones]
        return Gst.FlowReturn.OK

    # ---- reporting and shutdown ----

    def report(self):
        emit({'stats': {'frames': self.frames, 'size': self.size, 'shares': self.shares,
                        'audio_frames': self.audio_frames, 'tones_db': self.tones_db}})
        return True

    def on_ws_closed(self, ws):
        emit({'closed': ws.get_close_code()})
        if getattr(self, 'quitting', False):
            self.stop()

    def on_stdin(self, source, cond):
        line = sys.stdin.readline() if cond & GLib.IOCondition.IN else ''
        if line.strip() == 'quit' or not line:
            # {"bye": true}; the server then closes the socket (1000) and we stop.
            self.quitting = True
            if self.ws and self.ws.get_state() == Soup.WebsocketState.OPEN:
                self.ws.send_text(json.dumps({'bye': True}))
                GLib.timeout_add_seconds(5, self.stop)  # a server that never closes
            else:
                self.stop()
            return False
        return True

    def on_bus_error(self, _bus, message):
        err, _dbg = message.parse_error()
        self.fail(f'pipeline: {err.message}')

    def fail(self, text):
        emit({'error': text})
        self.stop(1)

    def stop(self, code=0):
        self.pipe.set_state(Gst.State.NULL)
        self.loop.quit()
        sys.exit(code)


def goertzel_db(samples, freq, rate=48000):
    """Amplitude of `freq` in `samples` (int16), in dB relative to full scale."""
    w = 2 * math.pi * freq / rate
    coeff = 2 * math.cos(w)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x / 32768.0 + coeff * s1 - s2
        s2, s1 = s1, s0
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    amp = 2 * math.sqrt(max(power, 0.0)) / len(samples)
    return 20 * math.log10(max(amp, 1e-6))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--url', required=True, help='ws://HOST:PORT/ws/ALIAS?name=…')
    p.add_argument('--colour', default='40,80,220', help='camera colour R,G,B')
    p.add_argument('--tone', default='440', help='microphone sine, Hz')
    p.add_argument('--palette', default='220,40,40;40,80,220', help='colours to count: R,G,B;…')
    p.add_argument('--tones', default='440,660', help='tones to measure in the mix, Hz')
    Gst.init(None)
    Peer(p.parse_args()).start()


if __name__ == '__main__':
    main()
