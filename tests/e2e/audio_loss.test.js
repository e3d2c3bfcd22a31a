/* Audio that survives loss (issue 17): two Chromium participants, one sending a
 * tone, while a share of the UDP packets to and from the server is dropped.
 * With RED (RFC 2198) negotiated both ways, the listener's browser must conceal
 * under 1 % of its received samples at 5 % loss and under 3 % at 15 % (its
 * getStats inbound-rtp audio: concealedSamples / totalSamplesReceived over a
 * 20 s window, as deltas), and its answer must carry red/48000/2.
 *
 * Loss: the test makes a network namespace of its own (tsr-loss-<pid>, loopback
 * only) and runs itself inside it, so server and browsers share a loopback
 * nothing else uses. There an nftables table of its own (inet tessera_loss_<pid>)
 * drops `numgen random mod 100 < N` of the UDP packets whose source or
 * destination port lies in the server's media range ([webrtc] rtp_port_min..max,
 * set to a range below the ephemeral ports the browsers use): every packet of
 * the media flow in both directions, counted once (one input-hook chain: on
 * loopback every packet passes it exactly once, and the sender does not notice). The table is deleted at the
 * end, on failure too (finally and an exit handler), and so is the namespace.
 *
 * The talker's uplink must survive too: the mixer may conceal (PLC) no more of
 * the talker's frames than those limits (Chromium sends RED with one copy; the
 * server's audio buffer fills gaps from the copies, then the mixer uses the
 * in-band FEC). Besides the asserted figures it prints the server's RED copies
 * used and slots still lost, the packets each side lost, and the tone level the
 * listener hears.
 *
 * Measured on the 2-core development machine, sanitizer build, the test alone
 * (README "Audio mixer"): with RED at distance 2 the listener concealed 0.03-0.09 %
 * at 5 % loss and 0-0.5 % at 15 %, the mixer 0-0.4 % of the talker's frames; the
 * limits are the issue's targets and leave a margin of 6x or more. A loaded
 * machine conceals on its own (22 % at load 20), hence RUN_SERIAL in CMake.
 *
 * TSR_LOSS_RED=0 runs the same measurement against a server with RED off
 * ([audio] red_distance = 0) and asserts nothing about the figures: that is how
 * the README's "without RED" numbers are taken. TSR_LOSS_RED=1 or 2 picks the
 * distance the server sends with (default: the server's default).
 * Needs root, ip and nft (scripts/deps.sh test); skipped (77) without them. */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');
const netloss = require('./lib/netloss');

const ALIAS = 'e2e-audio-loss';
/* Below the ephemeral range (32768-60999): a browser's own port never matches. */
const PORTS = [31000, 31099];
const TONE_HZ = 440;
const WINDOW_MS = 20000;
const SETTLE_MS = 4000;
/* Loss steps and the most concealment allowed at each (null: measured only). */
const STEPS = [
  { loss: 0, max: null },
  { loss: 5, max: 0.01 },
  { loss: 15, max: 0.03 },
];
const RED = process.env.TSR_LOSS_RED;

/* The listener's received audio: samples, concealed samples, packets. */
async function audioStats(page) {
  return page.evaluate(async () => {
    const out = { total: 0, concealed: 0, packets: 0, lost: 0, codec: null };
    const stats = await window.wsClient.pc.getStats();
    stats.forEach((r) => {
      if (r.type !== 'inbound-rtp' || r.kind !== 'audio') return;
      out.total += r.totalSamplesReceived || 0;
      out.concealed += r.concealedSamples || 0;
      out.packets += r.packetsReceived || 0;
      out.lost += r.packetsLost || 0;
      const c = r.codecId && stats.get(r.codecId);
      if (c) out.codec = c.mimeType;
    });
    return out;
  });
}

/* The talker's sent audio and what the server's receiver reports say of it. */
async function sentStats(page) {
  return page.evaluate(async () => {
    const out = { sent: 0, lost: 0, codec: null };
    const stats = await window.wsClient.pc.getStats();
    stats.forEach((r) => {
      if (r.kind !== 'audio') return;
      if (r.type === 'outbound-rtp') {
        out.sent += r.packetsSent || 0;
        const c = r.codecId && stats.get(r.codecId);
        if (c) out.codec = c.mimeType;
      }
      if (r.type === 'remote-inbound-rtp') out.lost += r.packetsLost || 0;
    });
    return out;
  });
}

/* Sums of the server's Prometheus series by name{labels}. */
async function metrics(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

const SERVER_SERIES = {
  redUsed: 'tessera_audio_red_frames_used_total',
  slotsLost: 'tessera_audio_buffer_lost_total',
  decoded: 'tessera_audio_frames_total{how="decoded"}',
  fec: 'tessera_audio_frames_total{how="fec"}',
  concealed: 'tessera_audio_frames_total{how="concealed"}',
};

async function join(page, url, name) {
  await page.goto(`${url}/healthz?alias=${ALIAS}&name=${encodeURIComponent(name)}&rawaudio=1`);
  await page.setContent(fs.readFileSync(path.join(__dirname, 'pages', 'ws_client.html'), 'utf8'));
  await page.waitForFunction(() => window.wsClient && ['answered', 'failed', 'closed'].includes(window.wsClient.state), null, { timeout: 60000 });
  const st = await page.evaluate(() => ({ state: window.wsClient.state, failure: window.wsClient.failure, errors: window.wsClient.errors }));
  h.assert.equal(st.state, 'answered', `${name}: ${JSON.stringify(st)}`);
}

/* One step: loss on, settle, then the window's deltas on the listener and server. */
async function measure(table, talker, listener, server, loss) {
  table.set(loss);
  await h.sleep(SETTLE_MS);
  const t0 = await sentStats(talker);
  const a0 = await audioStats(listener);
  const m0 = await metrics(server.url);
  const n0 = table.counts();
  await h.sleep(WINDOW_MS);
  const t1 = await sentStats(talker);
  const a1 = await audioStats(listener);
  const m1 = await metrics(server.url);
  const n1 = table.counts();
  const level = await listener.evaluate((f) => window.wsClient.toneLevels([f])[0], TONE_HZ);
  const d = (k) => (m1[SERVER_SERIES[k]] || 0) - (m0[SERVER_SERIES[k]] || 0);
  const talkerFrames = d('decoded') + d('fec') + d('concealed');
  const r = {
    loss,
    samples: a1.total - a0.total,
    concealed: a1.concealed - a0.concealed,
    packets: a1.packets - a0.packets,
    lost: a1.lost - a0.lost,
    up: { dropped: n1.up.dropped - n0.up.dropped, passed: n1.up.passed - n0.up.passed },
    down: { dropped: n1.down.dropped - n0.down.dropped, passed: n1.down.passed - n0.down.passed },
    codec: a1.codec,
    level,
    talker: { sent: t1.sent - t0.sent, lost: t1.lost - t0.lost, codec: t1.codec },
    server: { redUsed: d('redUsed'), slotsLost: d('slotsLost'), decoded: d('decoded'), fec: d('fec'), concealed: d('concealed') },
    uplinkConcealed: talkerFrames ? d('concealed') / talkerFrames : 0,
  };
  r.ratio = r.samples ? r.concealed / r.samples : 1;
  const pct = (x) => `${(100 * x).toFixed(2)} %`;
  const share = (x) => `${pct(x.dropped / Math.max(1, x.dropped + x.passed))} of ${x.dropped + x.passed}`;
  console.log(`loss ${loss} % (nft dropped ${share(r.up)} up, ${share(r.down)} down): ` +
    `listener concealed ${pct(r.ratio)} of ${r.samples} samples, lost ${r.lost} of ${r.packets + r.lost} packets (${r.codec}), ` +
    `tone ${level.toFixed(1)} dB; talker sent ${r.talker.sent} (${r.talker.codec}), server reports ${r.talker.lost} lost; ` +
    `server uplink: ${r.server.redUsed} RED copies used, ${r.server.slotsLost} slots lost, ` +
    `talker frames ${r.server.decoded} decoded / ${r.server.fec} FEC / ${r.server.concealed} concealed (${pct(r.uplinkConcealed)})`);
  return r;
}

async function inside() {
  await h.run('audio_loss', async ({ scratch, defer }) => {
    const table = netloss.lossTable(PORTS);
    defer(() => table.remove());
    table.set(0);
    const audio = RED === undefined ? {} : { red_distance: RED };
    const server = await h.startMediaServer(defer, {
      sections: {
        mixer: { canvas_width: 320, canvas_height: 180, fps: 10 },
        webrtc: { rtp_port_min: PORTS[0], rtp_port_max: PORTS[1], ice_tcp: 'false' },
        audio,
      },
    });
    const tone = h.makeToneWav(path.join(scratch, 'tone.wav'), TONE_HZ, { seconds: 2, amplitude: 0.4 });
    const quiet = h.makeToneWav(path.join(scratch, 'quiet.wav'), TONE_HZ, { seconds: 2, amplitude: 0 });
    const people = [{ name: 'Talker', rgb: [220, 40, 40], wav: tone }, { name: 'Listener', rgb: [40, 80, 230], wav: quiet }];
    const [talker, listener] = await h.launchPeople(people, scratch, defer, {
      camera: { width: 160, height: 120, fps: 10 },
      browser: (p) => ({ wav: p.wav, args: ['--allow-loopback-in-peer-connection'] }),
    });
    await join(talker.page, server.url, talker.name);
    await join(listener.page, server.url, listener.name);

    const sdp = await listener.page.evaluate(() => window.wsClient.pc.remoteDescription.sdp);
    const lines = sdp.split('\r\n');
    const mAudio = lines.find((l) => l.startsWith('m=audio'));
    const audioSection = lines.slice(lines.indexOf(mAudio), lines.findIndex((l) => l.startsWith('m=video')));
    console.log(`listener's answer: ${[mAudio, ...audioSection.filter((l) => /^a=(rtpmap|fmtp):/.test(l))].join('; ')}`);
    const redOn = RED !== '0';
    if (redOn) {
      h.assert.match(sdp, /a=rtpmap:(\d+) red\/48000\/2\r\n/, 'RED for Opus in the answer');
      const redPt = /a=rtpmap:(\d+) red\/48000\/2/.exec(sdp)[1];
      h.assert.match(mAudio, new RegExp(`SAVPF ${redPt} \\d+`), 'RED listed before Opus');
      h.assert.match(sdp, /a=fmtp:\d+ minptime=10;[^\r\n]*useinbandfec=1/, 'Opus keeps in-band FEC');
    } else {
      h.assert.doesNotMatch(sdp, /red\/48000/, 'no RED when the server has it off');
    }

    // The mix is flowing and carries the tone before any loss.
    await h.waitFor(async () => (await audioStats(listener.page)).total > 48000 * 3, { timeoutMs: 60000, what: 'three seconds of audio at the listener' });
    await h.waitFor(async () => (await listener.page.evaluate((f) => window.wsClient.toneLevels([f])[0], TONE_HZ)) > -60,
      { timeoutMs: 30000, intervalMs: 250, what: 'the tone in the listener\'s mix' });

    const results = [];
    for (const step of STEPS) results.push(await measure(table, talker.page, listener.page, server, step.loss));
    table.set(0);
    console.log(`summary (RED ${redOn ? `on, distance ${RED || 'default'}` : 'off'}): ` +
      results.map((r) => `${r.loss} % loss → listener ${(100 * r.ratio).toFixed(2)} % concealed, talker (server) ${(100 * r.uplinkConcealed).toFixed(2)} %`).join('; '));

    for (const [i, step] of STEPS.entries()) {
      const r = results[i];
      h.assert.ok(r.samples > 48000 * (WINDOW_MS / 1000) * 0.8, `${step.loss} %: the listener kept receiving (${r.samples} samples)`);
      if (step.loss > 0) h.assert.ok(r.up.dropped > 0 && r.down.dropped > 0, `${step.loss} %: nftables dropped packets both ways`);
      if (redOn && step.max !== null) {
        h.assert.ok(r.ratio < step.max, `${step.loss} % loss: ${(100 * r.ratio).toFixed(2)} % of the listener's samples concealed (limit ${100 * step.max} %)`);
        h.assert.ok(r.server.redUsed > 0, `${step.loss} % loss: the server filled gaps from the browsers' RED copies`);
        h.assert.ok(r.uplinkConcealed < step.max, `${step.loss} % loss: the mixer concealed ${(100 * r.uplinkConcealed).toFixed(2)} % of the talker's frames (limit ${100 * step.max} %)`);
      }
    }
  });
}

if (netloss.inNetns()) inside();
else netloss.runInNetns('audio_loss', __filename);
