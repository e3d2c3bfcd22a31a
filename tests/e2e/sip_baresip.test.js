/* A real SIP endpoint, Debian's baresip 1.0, dials sip:ALIAS@127.0.0.1 (plain
 * RTP/AVP, Opus + H.264, symmetric RTP) while a Chromium participant is in the
 * same conference over the WebSocket page. Asserted on what each one really gets:
 * baresip's recording of what it hears has the browser's 660 Hz tone and not its
 * own 440 Hz one; baresip's snapshot of what it sees is the browser's red; the
 * browser's composite shows baresip's blue camera and it hears 440 Hz, not 660 Hz.
 * Then baresip hangs up (BYE) and leaves the roster. */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');
const bs = require('./lib/baresip');

const ALIAS = 'e2e-sip';
const SIP = { rgb: [40, 80, 220], hz: 440 };
const WEB = { name: 'Chromium Red', rgb: [220, 40, 40], hz: 660 };

h.run('sip_baresip', async ({ scratch, defer }) => {
  bs.requireBaresip();
  const sipPort = 20000 + 2 * Math.floor(Math.random() * 10000);
  const server = await h.startServer({
    sections: {
      mixer: { canvas_width: 320, canvas_height: 180, fps: 15 },
      sip: { enabled: 'true', listen: `127.0.0.1:${sipPort}`, transports: 'udp' },
    },
  });
  defer(() => server.stop());

  const browser = await h.launchBrowser(h.makeY4m(path.join(scratch, 'red.y4m'), WEB.rgb), {
    wav: h.makeToneWav(path.join(scratch, 'tone660.wav'), WEB.hz),
    args: ['--autoplay-policy=no-user-gesture-required'],
  });
  defer(() => browser.close());
  const page = browser.page;
  const html = fs.readFileSync(path.join(__dirname, 'pages', 'ws_client.html'), 'utf8');
  await page.goto(`${server.url}/healthz?alias=${ALIAS}&name=${encodeURIComponent(WEB.name)}&rawaudio=1`);
  await page.setContent(html);
  await page.waitForFunction(() => window.wsClient && ['answered', 'failed', 'closed'].includes(window.wsClient.state), null, { timeout: 30000 });
  h.assert.equal(await page.evaluate(() => window.wsClient.state), 'answered');

  const dir = path.join(scratch, 'baresip');
  const blue = h.makeY4m(path.join(scratch, 'blue.y4m'), SIP.rgb, { frames: 30 });
  const phone = await bs.startBaresip(dir, { hz: SIP.hz, y4m: blue });
  defer(() => phone.stop());
  phone.command('dial', `sip:${ALIAS}@127.0.0.1:${sipPort}`);
  await h.waitFor(() => phone.events.some((e) => e.type === 'CALL_ESTABLISHED'),
    { timeoutMs: 30000, what: `baresip's call to be established\n${phone.log().slice(-3000)}` });
  h.assert.equal((await server.status()).participants, 2);

  // Sound at baresip: the browser's tone, not its own (mix-minus), in what it decoded.
  const sipHears = await h.waitFor(() => {
    const heard = bs.lastHeard(dir, 1);
    if (!heard) return false;
    const own = bs.toneDb(heard, SIP.hz);
    const other = bs.toneDb(heard, WEB.hz);
    return other > -40 && other - own > 20 && [own, other];
  }, { timeoutMs: 60000, intervalMs: 500, what: `baresip to hear ${WEB.hz} Hz and not ${SIP.hz} Hz` });
  console.log(`baresip hears ${SIP.hz} Hz at ${sipHears[0].toFixed(1)} dB, ${WEB.hz} Hz at ${sipHears[1].toFixed(1)} dB`);

  // Picture at the browser: baresip's blue camera in the composite, not its own red.
  const webSees = await h.waitFor(async () => {
    const [red, b] = await h.colourShares(page, '#remote', [WEB.rgb, SIP.rgb]);
    return b >= 0.3 && red < 0.01 && [red, b];
  }, { timeoutMs: 60000, what: 'Chromium to see baresip blue and not its own red' });
  console.log(`Chromium sees red/blue shares ${webSees}`);
  await h.screenshot(page, 'sip_baresip-chromium');

  // Picture at baresip: a snapshot of what it decoded shows the browser's red.
  const sipSees = await h.waitFor(() => {
    phone.command('snapshot');
    const snap = bs.latestSnapshot(dir);
    if (!snap) return false;
    const [red, b] = bs.pngColourShares(snap, [WEB.rgb, SIP.rgb]);
    if (red >= 0.3 && b < 0.01) {
      fs.mkdirSync(h.artifactsDir, { recursive: true });
      fs.copyFileSync(snap, path.join(h.artifactsDir, 'sip_baresip-baresip-sees.png'));
      return [red, b];
    }
    fs.rmSync(snap);
    return false;
  }, { timeoutMs: 60000, intervalMs: 1000, what: 'baresip to see the browser red and not its own blue' });
  console.log(`baresip sees red/blue shares ${sipSees}`);

  // Sound at the browser: baresip's tone, not its own.
  const webHears = await h.waitFor(async () => {
    const lv = await page.evaluate((f) => window.wsClient.toneLevels && window.wsClient.toneLevels(f), [SIP.hz, WEB.hz]);
    return lv && lv[0] > -70 && lv[0] - lv[1] > 20 && lv;
  }, { timeoutMs: 60000, intervalMs: 250, what: `Chromium to hear ${SIP.hz} Hz and not ${WEB.hz} Hz` });
  console.log(`Chromium hears ${SIP.hz} Hz at ${webHears[0].toFixed(1)} dB, ${WEB.hz} Hz at ${webHears[1].toFixed(1)} dB`);

  // Hanging up: baresip's BYE takes it out of the conference.
  phone.command('hangup');
  await h.waitFor(async () => (await server.status()).participants === 1, { timeoutMs: 15000, what: 'baresip to leave after its BYE' });
});
