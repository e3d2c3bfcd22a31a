/* One conference for all fronts: the native web client (/c/mixed) and an
 * inLive-style page in inLive room "mixed" (the room id is the conference alias)
 * are in the same conference; each sees the other's colour in its composite and
 * the native roster lists the inLive client by its name. */
'use strict';
const path = require('node:path');
const h = require('./lib/harness');
const il = require('./lib/inlive');

const RED = [200, 40, 40]; // native client: the fake camera
const BLUE = [40, 70, 210]; // inLive page: a canvas stream

async function sampleNative(page) {
  return page.evaluate(() => {
    const v = document.querySelector('[data-testid=remote-video]');
    if (!v || !v.videoWidth) return null;
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0);
    const d = g.getImageData(c.width >> 1, c.height >> 1, 1, 1).data;
    return [d[0], d[1], d[2]];
  });
}

h.run('inlive_mixed', async ({ scratch, defer }) => {
  const server = await h.startServer({ sections: il.MIXER_SECTIONS });
  defer(() => server.stop());
  const pages = await il.startPageServer();
  defer(() => pages.close());
  h.assert.equal((await il.call(server.url, 'POST', '/rooms/create', { id: 'mixed', name: 'Mixed' })).status, 201);

  const cam = h.makeY4m(path.join(scratch, 'red.y4m'), RED);
  const b = await h.launchBrowser(cam);
  defer(() => b.close());
  const native = b.page;
  await native.goto(`${server.url}/c/mixed`);
  await h.waitForState(native, 'join');
  await native.fill('[data-testid=input-name]', 'Native Nora');
  await native.click('[data-testid=btn-join]');
  await h.waitForState(native, 'conference', 30000);

  const inlive = await b.context.newPage();
  await inlive.goto(`${pages.url}/inlive_conference.html?api=${encodeURIComponent(server.url)}&room=mixed&uid=ivan&mode=tutorial&colour=${BLUE.join(',')}`);
  await inlive.waitForFunction(() => window.inlive.events.includes('answer applied'), null, { timeout: 30000 });
  h.assert.equal((await server.status()).participants, 2);
  await native.waitForFunction(() => window.tessera.roster.some((p) => p.display_name === 'ivan'), null, { timeout: 10000 });

  let last = null;
  try {
    await h.waitFor(async () => {
      last = await sampleNative(native);
      return last && il.colourDistance(last, BLUE) < 60;
    }, { timeoutMs: 40000, what: `the native client sees blue (last ${last})` });
    await inlive.waitForFunction(() => window.inlive.framesDecoded > 20, null, { timeout: 40000 });
    await h.waitFor(async () => {
      last = await inlive.evaluate(() => window.inlive.sample(0.5, 0.5));
      return last && il.colourDistance(last, RED) < 60;
    }, { timeoutMs: 20000, what: `the inLive page sees red (last ${last})` });
  } finally {
    await h.screenshot(native, 'inlive_mixed-native');
    await h.screenshot(inlive, 'inlive_mixed-inlive');
  }
  // The inLive client leaves; the native roster loses it.
  await inlive.evaluate(() => window.inlive.leave());
  await native.waitForFunction(() => !window.tessera.roster.some((p) => p.display_name === 'ivan'), null, { timeout: 10000 });
});
