/* Presentation through the official Pexip web SDK (@pexip/infinity) in Chromium:
 * two SDK participants join with callType AudioVideoPresentation, so each offer
 * carries the slides m-line (a=content:slides, inactive) in its BUNDLE.
 *  - Alice (red camera) presents with the SDK's own present(): take_floor, then an
 *    update with slides sendonly, answered recvonly; her screen is Chromium's fake
 *    display capture (dark green with a moving pattern).
 *  - Bob (blue camera) gets presentation_start: the SDK reports recv 'connecting'
 *    then 'connected' and sends an update with slides recvonly, answered inactive
 *    (an MCU sends the presentation inside the composite); his composite shows
 *    the presentation layout: the green screen large, Alice's camera smaller.
 *  - Alice's stopPresenting(): release_floor and slides inactive; Bob's SDK gets
 *    presentation_stop (recv 'disconnected') and the grid comes back.
 * Every response of the run passes the SDK's own validators where one exists. */
'use strict';
const path = require('node:path');
const h = require('./lib/harness');
const { bundlePexip, sdkVersion } = require('./lib/pexip_bundle');

const RED = [220, 40, 40];
const BLUE = [40, 60, 220];
const SCREEN = [0, 135, 0]; // the fake display capture's background

async function shares(page) {
  const [red, screen] = await h.colourShares(page, '#remote', [RED, SCREEN], { cols: 64, rows: 36 });
  return { red, screen };
}

async function waitComposite(page, ok, what) {
  let last = null;
  await h.waitFor(async () => ok((last = await shares(page))), { timeoutMs: 60000, intervalMs: 300, what })
    .catch(async (e) => {
      await h.screenshot(page, 'pexip_present-failed');
      throw new Error(`${e.message}; colour shares ${JSON.stringify(last)}`);
    });
  return last;
}

const lastPreso = (page) => page.evaluate(() => window.rec.preso[window.rec.preso.length - 1] || null);

h.run('pexip_present', async ({ scratch, defer }) => {
  if (!sdkVersion()) h.skip('@pexip/infinity is not installed; run scripts/e2e-setup.sh');
  const bundle = path.join(scratch, 'pexip.js');
  await bundlePexip(bundle);
  const dir = path.join(__dirname, 'pexip');
  const web = await h.serveFiles({
    '/': [path.join(dir, 'index.html'), 'text/html'],
    '/app.js': [path.join(dir, 'app.js'), 'text/javascript'],
    '/pexip.js': [bundle, 'text/javascript'],
  });
  defer(() => web.close());
  const server = await h.startServer({
    allowAdhoc: false,
    conferences: [{ alias: 'meet', name: 'Meet' }],
    sections: { mixer: { canvas_width: 320, canvas_height: 180, fps: 15, video_bitrate_bps: 300000 } },
  });
  defer(() => server.stop());
  if (!(await server.status()).media) h.skip('the server has no media engine');
  const host = server.url;

  // getDisplayMedia picks the (fake) entire screen without a picker.
  const screenArgs = { args: ['--auto-select-desktop-capture-source=Entire screen'] };
  const a = await h.launchBrowser(h.makeY4m(path.join(scratch, 'red.y4m'), RED), screenArgs);
  defer(() => a.close());
  const b = await h.launchBrowser(h.makeY4m(path.join(scratch, 'blue.y4m'), BLUE));
  defer(() => b.close());
  await a.page.goto(web.url);
  await b.page.goto(web.url);

  for (const [pg, name] of [[a.page, 'Alice'], [b.page, 'Bob']]) {
    const r = await pg.evaluate((o) => window.join(o), { host, alias: 'meet', name, callType: 'AudioVideoPresentation' });
    h.assert.equal(r && r.status, 200, `${name} call(): ${JSON.stringify(r)}`);
    await pg.waitForFunction(() => window.rec.connected && window.rec.remote, null, { timeout: 30000 });
    // The offer's third m-line is the slides line; the answer accepts it in the
    // BUNDLE, echoes its content and, with nothing presented yet, keeps it inactive.
    const local = await pg.evaluate(() => window.slidesSection('local'));
    const remote = await pg.evaluate(() => window.slidesSection('remote'));
    h.assert.ok(local && /^m=video [1-9]/.test(remote || ''), `${name}: slides line accepted: ${remote}`);
    h.assert.match(remote, /a=inactive/);
    // The browser drops a=content from the description; the wire answer has it.
    const calls = await pg.evaluate(() => window.__pexLog.find((e) => e.url.endsWith('/calls')));
    const answer = JSON.parse(calls.body).result.sdp;
    h.assert.match(answer, /a=content:slides\r\n/);
  }
  const before = await waitComposite(b.page, (s) => s.red > 0.3 && s.screen < 0.01, "Alice's camera in Bob's grid");

  // Alice presents with the SDK's present().
  await a.page.click('#present');
  await h.waitFor(async () => { const p = await lastPreso(a.page); return p && p.send === 'connected'; },
    { timeoutMs: 30000, what: "Alice's SDK: presentation send 'connected'" });
  await h.waitFor(async () => /a=recvonly/.test((await a.page.evaluate(() => window.slidesSection('remote'))) || ''),
    { timeoutMs: 30000, what: "Alice's slides line answered recvonly" });
  h.assert.match(await a.page.evaluate(() => window.slidesSection('local')), /a=sendonly/);
  const log = await a.page.evaluate(() => window.__pexLog.map((e) => `${new URL(e.url).pathname.split('/').pop()} ${e.status}`));
  h.assert.ok(log.includes('take_floor 200'), JSON.stringify(log));

  // Bob's SDK is told and asks for the slides; the composite he already receives
  // carries them: the screen large, Alice's camera in the strip.
  await h.waitFor(async () => { const p = await lastPreso(b.page); return p && p.recv === 'connected'; },
    { timeoutMs: 30000, what: "Bob's SDK: presentation recv 'connected'" });
  await h.waitFor(async () => /a=inactive/.test((await b.page.evaluate(() => window.slidesSection('remote'))) || '') &&
    /a=recvonly/.test((await b.page.evaluate(() => window.slidesSection('local'))) || ''),
  { timeoutMs: 30000, what: "Bob's recvonly slides answered inactive" });
  // Nothing flows on Bob's slides line: the presentation is in his composite.
  h.assert.equal(await b.page.evaluate(() => window.rec.remotePresentation), false);
  const during = await waitComposite(b.page, (s) => s.screen >= 0.3 && s.red >= 0.005 && s.red < before.red / 2,
    "the presentation layout in Bob's composite (Alice's screen large, her camera small)");
  console.log(`Bob sees before ${JSON.stringify(before)}, during ${JSON.stringify(during)}`);
  await h.screenshot(b.page, 'pexip_present-bob-during');

  // Alice stops: Bob's SDK hears presentation_stop; the grid comes back.
  await a.page.click('#present');
  await h.waitFor(async () => { const p = await lastPreso(b.page); return p && p.recv === 'disconnected'; },
    { timeoutMs: 30000, what: "Bob's SDK: presentation recv 'disconnected'" });
  const after = await waitComposite(b.page, (s) => s.screen < 0.01 && s.red >= before.red * 0.7,
    "Bob's grid again after Alice stops");
  console.log(`Bob sees after ${JSON.stringify(after)}`);
  await h.waitFor(async () => /a=inactive/.test((await a.page.evaluate(() => window.slidesSection('local'))) || ''),
    { timeoutMs: 30000, what: "Alice's slides line inactive again" });
  for (const pg of [a.page, b.page]) {
    h.assert.deepEqual(await pg.evaluate(() => window.rec.errors), []);
  }
  const pageErrors = [...a.consoleLines, ...b.consoleLines]
    .filter((l) => l.startsWith('[pageerror]') && l !== '[pageerror] Async Timeout');
  h.assert.deepEqual(pageErrors, []);
  await a.page.evaluate(() => window.leave());
  await b.page.evaluate(() => window.leave());
});
