/* A real GStreamer webrtcbin participant (tests/e2e/lib/webrtcbin_peer.py: Debian
 * 12's GStreamer 1.22, max-bundle, so its audio section is offered with port 0 and
 * a=bundle-only) joins over /ws/{alias} beside a Chromium participant (the plain
 * WebSocket page). Each sees the other's camera colour in its composite and not
 * its own; each hears the other's tone in its mix and not its own (GStreamer
 * sends 440 Hz, Chromium 660 Hz from a fake-microphone file). */
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const h = require('./lib/harness');

const ALIAS = 'e2e-webrtcbin';
const GST = { name: 'GStreamer Blue', rgb: [40, 80, 220], hz: 440 };
const WEB = { name: 'Chromium Red', rgb: [220, 40, 40], hz: 660 };
const SMALL_MIXER = { mixer: { canvas_width: 320, canvas_height: 180, fps: 15 } };
const PYTHON = '/usr/bin/python3'; // Debian's, where python3-gi lives (not a pyenv shim)
const PEER = path.join(__dirname, 'lib', 'webrtcbin_peer.py');

/* Skips (77) when the GStreamer stack is missing; scripts/deps.sh test installs it. */
function requireGstreamer() {
  const probe = spawnSync(PYTHON, ['-c', [
    'import gi',
    "gi.require_version('Gst', '1.0'); gi.require_version('GstWebRTC', '1.0'); gi.require_version('Soup', '3.0')",
    'from gi.repository import Gst, GstWebRTC, Soup',
    'Gst.init(None)',
    "missing = [e for e in ('webrtcbin', 'nicesrc', 'dtlssrtpenc', 'vp8enc', 'vp8dec', 'opusenc', 'opusdec') if not Gst.ElementFactory.find(e)]",
    "print(' '.join(missing))",
  ].join('\n')], { encoding: 'utf8' });
  if (probe.status !== 0) h.skip(`GStreamer through python3-gi is not usable: ${probe.stderr.trim().split('\n').pop()}`);
  if (probe.stdout.trim()) h.skip(`GStreamer elements missing: ${probe.stdout.trim()}`);
}

/* Starts the webrtcbin participant; its JSON lines land in `peer.last`. */
function startPeer(url) {
  const child = spawn(PYTHON, [PEER, '--url', url, '--colour', GST.rgb.join(','), '--tone', String(GST.hz),
    '--palette', `${WEB.rgb.join(',')};${GST.rgb.join(',')}`, '--tones', `${GST.hz},${WEB.hz}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  const peer = { child, last: {}, errors: [], stderr: '', exited: null };
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    let msg;
    try { msg = JSON.parse(line); } catch (e) { peer.errors.push(`bad line: ${line}`); return; }
    for (const [k, v] of Object.entries(msg)) peer.last[k] = v;
    if (msg.error) peer.errors.push(msg.error);
  });
  child.stderr.on('data', (d) => { peer.stderr += d; });
  peer.done = new Promise((resolve) => child.on('exit', (code) => { peer.exited = code; resolve(code); }));
  peer.stop = async () => {
    if (peer.exited === null) child.stdin.write('quit\n');
    const code = await Promise.race([peer.done, h.sleep(10000).then(() => 'timeout')]);
    if (code === 'timeout') child.kill('SIGKILL');
  };
  return peer;
}

function checkPeer(peer) {
  if (peer.errors.length) throw new Error(`webrtcbin peer: ${peer.errors.join('; ')}\n${peer.stderr.slice(-2000)}`);
  if (peer.exited !== null) throw new Error(`webrtcbin peer exited (${peer.exited}):\n${peer.stderr.slice(-2000)}`);
}

h.run('webrtcbin', async ({ scratch, defer }) => {
  requireGstreamer();
  const server = await h.startServer({ sections: SMALL_MIXER });
  defer(() => server.stop());
  if (!(await server.status()).media) {
    await server.stop();
    h.skip('the server reports "media": false in /api/v1/status');
  }

  const peer = startPeer(`ws://127.0.0.1:${server.port}/ws/${ALIAS}?name=${encodeURIComponent(GST.name)}`);
  defer(() => peer.stop());
  await h.waitFor(() => { checkPeer(peer); return peer.last.answer; }, { timeoutMs: 30000, what: 'the answer to webrtcbin' });
  const { offer, answer } = peer.last;
  fs.mkdirSync(h.artifactsDir, { recursive: true });
  fs.writeFileSync(path.join(h.artifactsDir, 'webrtcbin-offer.sdp'), offer);
  fs.writeFileSync(path.join(h.artifactsDir, 'webrtcbin-answer.sdp'), answer);
  h.assert.match(offer, /m=audio 0 UDP\/TLS\/RTP\/SAVPF 97\r\n(.*\r\n)*a=bundle-only/, 'webrtcbin offers audio bundle-only');
  h.assert.match(answer, /a=group:BUNDLE video0 audio1\r\n/, 'both sections are bundled in the answer');
  h.assert.match(answer, /m=audio 9 UDP\/TLS\/RTP\/SAVPF 97\r\n/);

  const browser = await h.launchBrowser(h.makeY4m(path.join(scratch, 'red.y4m'), WEB.rgb), {
    wav: h.makeToneWav(path.join(scratch, 'tone660.wav'), WEB.hz),
    args: ['--autoplay-policy=no-user-gesture-required'],
  });
  defer(() => browser.close());
  const page = browser.page;
  // The page runs in the server's origin (see ws_signalling.test.js for why).
  const html = fs.readFileSync(path.join(__dirname, 'pages', 'ws_client.html'), 'utf8');
  await page.goto(`${server.url}/healthz?alias=${ALIAS}&name=${encodeURIComponent(WEB.name)}&rawaudio=1`);
  await page.setContent(html);
  await page.waitForFunction(() => window.wsClient && ['answered', 'failed', 'closed'].includes(window.wsClient.state), null, { timeout: 30000 });
  const st = await page.evaluate(() => ({ state: window.wsClient.state, failure: window.wsClient.failure, errors: window.wsClient.errors }));
  h.assert.equal(st.state, 'answered', `Chromium page: ${JSON.stringify(st)}`);
  h.assert.equal((await server.status()).participants, 2);

  // Pictures: each sees the other's colour and not its own.
  const gstSees = await h.waitFor(() => {
    checkPeer(peer);
    const s = peer.last.stats;
    return s && s.shares[0] >= 0.3 && s.shares[1] < 0.01 && s;
  }, { timeoutMs: 60000, intervalMs: 250, what: 'webrtcbin to see red and not blue' });
  console.log(`webrtcbin sees ${JSON.stringify(gstSees)}`);
  const webSees = await h.waitFor(async () => {
    const [red, blue] = await h.colourShares(page, '#remote', [WEB.rgb, GST.rgb]);
    return blue >= 0.3 && red < 0.01 && [red, blue];
  }, { timeoutMs: 60000, what: 'Chromium to see blue and not red' });
  console.log(`Chromium sees red/blue shares ${webSees}`);
  await h.screenshot(page, 'webrtcbin-chromium-page');

  // Sound: each hears the other's tone, well above its own (mix-minus).
  const gstHears = await h.waitFor(() => {
    checkPeer(peer);
    const [own, other] = peer.last.stats.tones_db;
    return other > -40 && other - own > 20 && [own, other];
  }, { timeoutMs: 60000, intervalMs: 250, what: `webrtcbin to hear ${WEB.hz} Hz and not ${GST.hz} Hz` });
  console.log(`webrtcbin hears ${GST.hz} Hz at ${gstHears[0].toFixed(1)} dB, ${WEB.hz} Hz at ${gstHears[1].toFixed(1)} dB`);
  let heard = null;
  const webHears = await h.waitFor(async () => {
    heard = await page.evaluate(async (f) => {
      const out = { levels: window.wsClient.toneLevels ? window.wsClient.toneLevels(f) : null, ctx: window.wsClient.audioState && window.wsClient.audioState() };
      (await window.wsClient.pc.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'audio') Object.assign(out, { packets: r.packetsReceived, energy: r.totalAudioEnergy });
      });
      return out;
    }, [GST.hz, WEB.hz]);
    const lv = heard.levels;
    return lv && lv[0] > -70 && lv[0] - lv[1] > 20 && lv;
  }, { timeoutMs: 60000, intervalMs: 250, what: `Chromium to hear ${GST.hz} Hz and not ${WEB.hz} Hz` })
    .catch((e) => { throw new Error(`${e.message}; last ${JSON.stringify(heard)}`); });
  console.log(`Chromium hears ${GST.hz} Hz at ${webHears[0].toFixed(1)} dB, ${WEB.hz} Hz at ${webHears[1].toFixed(1)} dB`);

  // Leaving: {"bye": true} from the GStreamer peer removes it.
  await peer.stop();
  await h.waitFor(async () => (await server.status()).participants === 1, { what: 'the webrtcbin participant to leave' });
});
