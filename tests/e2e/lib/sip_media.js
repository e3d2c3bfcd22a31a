/* A baresip caller and a Chromium participant in one conference, and what each
 * must get from the other: shared by the SIP tests that check media both ways
 * (sip_baresip: plain RTP; sip_dtls: DTLS-SRTP). The browser joins over the
 * WebSocket page (tests/e2e/pages/ws_client.html) with a solid-colour camera and a
 * tone; baresip sends its own colour and tone (lib/baresip.js). */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const bs = require('./baresip');

/* A server (h.startServer's opts) with SIP on a free even port of 127.0.0.1 (tests
 * run side by side; the port after it is free too, for TLS) and a small canvas.
 * Returns { server, uri(alias) }. */
async function startSipServer(defer, opts = {}) {
  const sipPort = await bs.freePortPair();
  const tls = opts.tls ? { certificate: opts.tls.cert, private_key: opts.tls.key, tls_port: sipPort + 1 } : {};
  const server = await h.startServer({
    ...opts,
    sections: {
      mixer: { canvas_width: 320, canvas_height: 180, fps: 15 },
      sip: { enabled: 'true', listen: `127.0.0.1:${sipPort}`, transports: 'udp', ...tls, ...(opts.sip || {}) },
      ...(opts.sections || {}),
    },
  });
  defer(() => server.stop());
  return {
    server,
    uri: (alias) => `sip:${alias}@127.0.0.1:${sipPort}`,
    tlsUri: (alias) => `sip:${alias}@127.0.0.1:${sipPort + 1};transport=tls`,
  };
}

/* Chromium joins `alias` as web.name sending web.rgb and a web.hz tone. */
async function joinChromium(server, scratch, defer, alias, web) {
  const browser = await h.launchBrowser(h.makeY4m(path.join(scratch, 'web.y4m'), web.rgb), {
    wav: h.makeToneWav(path.join(scratch, `tone${web.hz}.wav`), web.hz),
    args: ['--autoplay-policy=no-user-gesture-required'],
  });
  defer(() => browser.close());
  const page = browser.page;
  const html = fs.readFileSync(path.join(__dirname, '..', 'pages', 'ws_client.html'), 'utf8');
  await page.goto(`${server.url}/healthz?alias=${alias}&name=${encodeURIComponent(web.name)}&rawaudio=1`);
  await page.setContent(html);
  await page.waitForFunction(() => window.wsClient && ['answered', 'failed', 'closed'].includes(window.wsClient.state), null, { timeout: 30000 });
  h.assert.equal(await page.evaluate(() => window.wsClient.state), 'answered');
  return page;
}

/* baresip (sending sip.rgb, sip.hz; no sip.rgb: audio only) in `dir` dials `uri`
 * and the call is set up; opts go to startBaresip, opts.server (when given) puts the
 * server's log beside baresip's when the call does not come up. */
async function dialBaresip(scratch, defer, uri, sip, opts = {}) {
  const dir = path.join(scratch, 'baresip');
  const y4m = sip.rgb ? h.makeY4m(path.join(scratch, 'sip.y4m'), sip.rgb, { frames: 30 }) : null;
  const phone = await bs.startBaresip(dir, { hz: sip.hz, y4m, ...opts });
  defer(() => phone.stop());
  phone.command('dial', uri);
  const events = () => phone.events.filter((e) => e.type).map((e) => `${e.type} ${e.param || ''}`).join('\n');
  const serverTail = () => (opts.server ? `\nserver log:\n${fs.readFileSync(opts.server.logFile, 'utf8').slice(-3000)}` : '');
  const why = () => `${events()}\n${phone.log().slice(-3000)}${serverTail()}`;
  await h.waitFor(() => phone.events.some((e) => ['CALL_ESTABLISHED', 'CALL_CLOSED'].includes(e.type)),
    { timeoutMs: 30000, what: () => `baresip's call to be established\n${why()}` });
  if (!phone.events.some((e) => e.type === 'CALL_ESTABLISHED')) throw new Error(`baresip's call closed before it was set up:\n${why()}`);
  return { phone, dir };
}

/* Each hears and sees the other, not itself (mix-minus; composite without own tile). */
async function expectExchange(test, { page, phone, dir }, sip, web) {
  const sipHears = await bs.waitHears(dir, sip.hz, web.hz, `baresip to hear ${web.hz} Hz and not ${sip.hz} Hz`);
  console.log(`baresip hears ${sip.hz} Hz at ${sipHears[0].toFixed(1)} dB, ${web.hz} Hz at ${sipHears[1].toFixed(1)} dB`);

  const webSees = await h.waitFor(async () => {
    const [own, other] = await h.colourShares(page, '#remote', [web.rgb, sip.rgb]);
    return other >= 0.3 && own < 0.01 && [own, other];
  }, { timeoutMs: 60000, what: "Chromium to see baresip's colour and not its own" });
  console.log(`Chromium sees own/baresip colour shares ${webSees}`);
  await h.screenshot(page, `${test}-chromium`);

  const sipSees = await h.waitFor(() => {
    phone.command('snapshot');
    const snap = bs.latestSnapshot(dir);
    if (!snap) return false;
    const [other, own] = bs.pngColourShares(snap, [web.rgb, sip.rgb]);
    if (other >= 0.3 && own < 0.01) {
      fs.mkdirSync(h.artifactsDir, { recursive: true });
      fs.copyFileSync(snap, path.join(h.artifactsDir, `${test}-baresip-sees.png`));
      return [other, own];
    }
    fs.rmSync(snap);
    return false;
  }, { timeoutMs: 60000, intervalMs: 1000, what: "baresip to see the browser's colour and not its own" });
  console.log(`baresip sees browser/own colour shares ${sipSees}`);

  const webHears = await h.waitFor(async () => {
    const lv = await page.evaluate((f) => window.wsClient.toneLevels && window.wsClient.toneLevels(f), [sip.hz, web.hz]);
    return lv && lv[0] > -70 && lv[0] - lv[1] > 20 && lv;
  }, { timeoutMs: 60000, intervalMs: 250, what: `Chromium to hear ${sip.hz} Hz and not ${web.hz} Hz` });
  console.log(`Chromium hears ${sip.hz} Hz at ${webHears[0].toFixed(1)} dB, ${web.hz} Hz at ${webHears[1].toFixed(1)} dB`);
}

/* The value of a metric line (name plus exact labels, e.g. 'x{op="y"}'), 0 when absent. */
async function metric(server, nameWithLabels) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${nameWithLabels} `));
  return line ? Number(line.slice(nameWithLabels.length + 1)) : 0;
}

/* RTP bytes the server has sent (all participants). */
function sentBytes(server) {
  return metric(server, 'tessera_media_bytes_total{direction="out"}');
}

/* In `page`'s composite (#remote): the share of samples near `rgb` (the page's own
 * colour) and the count of near-white ones (an audio-only caller's placeholder
 * initial). null before the video plays. */
async function ownAndWhite(page, rgb) {
  return page.evaluate((red) => {
    const v = document.querySelector('#remote');
    if (!v || !v.videoWidth) return null;
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(v, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let own = 0, white = 0, n = 0;
    for (let i = 0; i < d.length; i += 8) {
      n++;
      if (Math.abs(d[i] - red[0]) + Math.abs(d[i + 1] - red[1]) + Math.abs(d[i + 2] - red[2]) < 60) own++;
      if (d[i] > 200 && d[i + 1] > 200 && d[i + 2] > 200) white++;
    }
    return { own: own / n, white };
  }, rgb);
}

module.exports = { ownAndWhite, startSipServer, joinChromium, dialBaresip, expectExchange, metric, sentBytes };
