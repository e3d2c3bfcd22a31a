/* One conference for all fronts (issue 7, "mixed conference"): a page running the
 * official Pexip SDK (tests/e2e/pexip/, red camera), an inLive-style page
 * (tests/e2e/pages/inlive_conference.html in tutorial mode, blue camera), the
 * native web client (green camera) and a plain WebSocket signalling page
 * (tests/e2e/pages/ws_client.html, yellow camera) join the same conference
 * "mixed". Each sees the other participants' fake-camera colours in its composite
 * and not its own, and the composites keep decoding. Then the inLive client
 * leaves and the other pictures lose blue. */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');
const il = require('./lib/inlive');
const { bundlePexip, sdkVersion } = require('./lib/pexip_bundle');

const ALIAS = 'mixed';
const PEXIP = { name: 'Pexip Pat', rgb: [220, 40, 40] };
const INLIVE = { name: 'inlive-ivy', rgb: [40, 70, 220] };
const NATIVE = { name: 'Native Nora', rgb: [40, 200, 60] };
const WS = { name: 'WebSocket Wes', rgb: [220, 200, 40] };
const PEOPLE = [PEXIP, INLIVE, NATIVE, WS];

/* The Pexip test page and its SDK bundle, from another origin than Tessera. */
function servePexip(bundleFile) {
  const dir = path.join(__dirname, 'pexip');
  return h.serveFiles({
    '/': [path.join(dir, 'index.html'), 'text/html'],
    '/app.js': [path.join(dir, 'app.js'), 'text/javascript'],
    '/pexip.js': [bundleFile, 'text/javascript'],
  });
}

/* Waits until `who`'s composite shows everyone in `want` and nobody in `not`. */
async function waitPicture(who, want, not) {
  let last = null;
  await h.waitFor(async () => {
    last = await h.colourShares(who.page, who.video, PEOPLE.map((p) => p.rgb));
    return want.every((p) => last[PEOPLE.indexOf(p)] >= 0.02) && not.every((p) => last[PEOPLE.indexOf(p)] < 0.005);
  }, {
    timeoutMs: 60000, intervalMs: 300,
    what: `${who.name}'s composite to show ${want.map((p) => p.name)} and not ${not.map((p) => p.name)} (shares ${last})`,
  });
}

h.run('mixed_conference', async ({ scratch, defer }) => {
  if (!sdkVersion()) h.skip('@pexip/infinity is not installed; run scripts/e2e-setup.sh');
  const bundle = path.join(scratch, 'pexip.js');
  await bundlePexip(bundle);
  const pexipSite = await servePexip(bundle);
  defer(() => pexipSite.close());
  const inliveSite = await il.startPageServer();
  defer(() => inliveSite.close());
  const server = await h.startServer({ sections: il.MIXER_SECTIONS });
  defer(() => server.stop());
  if (!(await server.status()).media) h.skip('the server reports "media": false');

  const browsers = {};
  for (const p of PEOPLE) {
    const b = await h.launchBrowser(h.makeY4m(path.join(scratch, `${p.name}.y4m`), p.rgb));
    defer(() => b.close());
    browsers[p.name] = b;
  }
  const pexip = { name: PEXIP.name, page: browsers[PEXIP.name].page, video: '#remote' };
  const inlive = { name: INLIVE.name, page: browsers[INLIVE.name].page, video: '#remote' };
  const native = { name: NATIVE.name, page: browsers[NATIVE.name].page, video: '[data-testid=remote-video]' };
  const ws = { name: WS.name, page: browsers[WS.name].page, video: '#remote' };

  // The native web client.
  await native.page.goto(`${server.url}/c/${ALIAS}`);
  await h.waitForState(native.page, 'join');
  await native.page.fill('[data-testid=input-name]', NATIVE.name);
  await native.page.click('[data-testid=btn-join]');
  await h.waitForState(native.page, 'conference', 30000);

  // The Pexip SDK's call() on the same alias.
  await pexip.page.goto(pexipSite.url);
  const res = await pexip.page.evaluate((o) => window.join(o), { host: server.url, alias: ALIAS, name: PEXIP.name });
  h.assert.equal(res && res.status, 200, `Pexip call(): ${JSON.stringify(res)}`);
  await pexip.page.waitForFunction(() => window.rec.connected && window.rec.remote, null, { timeout: 30000 });

  // The inLive-style page in room "mixed" (the room id is the conference alias),
  // sending its camera (no colour parameter).
  h.assert.equal((await il.call(server.url, 'POST', '/rooms/create', { id: ALIAS, name: 'Mixed' })).status, 201);
  await inlive.page.goto(`${inliveSite.url}/inlive_conference.html?api=${encodeURIComponent(server.url)}&room=${ALIAS}&uid=${INLIVE.name}&mode=tutorial`);
  await inlive.page.waitForFunction(() => window.inlive.events.includes('answer applied'), null, { timeout: 30000 });

  // The plain WebSocket page ({"sdp"} / {"candidate"} only), run in the server's
  // origin as in ws_signalling.test.js.
  const html = fs.readFileSync(path.join(__dirname, 'pages', 'ws_client.html'), 'utf8');
  await ws.page.goto(`${server.url}/healthz?alias=${ALIAS}&name=${encodeURIComponent(WS.name)}`);
  await ws.page.setContent(html);
  await ws.page.waitForFunction(() => window.wsClient && ['answered', 'failed', 'closed'].includes(window.wsClient.state), null, { timeout: 30000 });
  h.assert.equal(await ws.page.evaluate(() => window.wsClient.state), 'answered');

  await h.waitFor(async () => (await server.status()).participants === 4, { what: 'four participants', timeoutMs: 15000 });
  await native.page.waitForFunction((names) => names.every((n) => window.tessera.roster.some((p) => p.display_name === n)),
    [PEXIP.name, INLIVE.name, WS.name], { timeout: 15000 });

  // Everyone sees the other colours and not its own.
  const others = (me) => PEOPLE.filter((p) => p !== me);
  try {
    await waitPicture(pexip, others(PEXIP), [PEXIP]);
    await waitPicture(inlive, others(INLIVE), [INLIVE]);
    await waitPicture(native, others(NATIVE), [NATIVE]);
    await waitPicture(ws, others(WS), [WS]);
  } finally {
    for (const who of [pexip, inlive, native, ws]) await h.screenshot(who.page, `mixed_conference-${who.name.toLowerCase().replace(/\W+/g, '-')}`);
  }
  // The pictures are live, not one frame: frames keep decoding on the SDK pages.
  const p0 = await pexip.page.evaluate(() => window.framesDecoded());
  await h.waitFor(async () => (await pexip.page.evaluate(() => window.framesDecoded())) >= p0 + 10,
    { timeoutMs: 30000, what: "the Pexip page's framesDecoded to rise" });
  const i0 = await inlive.page.evaluate(() => window.inlive.framesDecoded);
  await h.waitFor(async () => (await inlive.page.evaluate(() => window.inlive.framesDecoded)) >= i0 + 10,
    { timeoutMs: 30000, what: "the inLive page's framesDecoded to rise" });

  // The inLive client leaves: the others lose blue, the Pexip roster and the native one drop it.
  await inlive.page.evaluate(() => window.inlive.leave());
  await waitPicture(pexip, [NATIVE, WS], [INLIVE, PEXIP]);
  await waitPicture(native, [PEXIP, WS], [INLIVE, NATIVE]);
  await waitPicture(ws, [PEXIP, NATIVE], [INLIVE, WS]);
  await native.page.waitForFunction((n) => !window.tessera.roster.some((p) => p.display_name === n), INLIVE.name, { timeout: 15000 });
  await pexip.page.waitForFunction((n) => window.rec.left.includes(n), INLIVE.name, { timeout: 15000 });
  await pexip.page.evaluate(() => window.leave());
  await ws.page.evaluate(() => window.wsClient.bye());
  await h.waitFor(async () => (await server.status()).participants === 1, { what: 'only the native client left', timeoutMs: 15000 });
  h.assert.deepEqual(await ws.page.evaluate(() => window.wsClient.errors), []);
});
