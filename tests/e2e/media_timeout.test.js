/* A crashed browser does not haunt the composite: Red and Blue join; Blue's
 * browser is killed (SIGKILL: no leave, no DTLS close, its ICE consent simply
 * stops). Within [mixer] media_timeout_s Red's picture replaces Blue's frozen
 * camera with Blue's placeholder (its initial large in the middle, "Blue ·
 * reconnecting…" in the name band) while Blue is still in the roster: removal waits
 * for the consent timeout, set long here so the two cannot be confused.
 *
 * Skipped (exit 77) while the server reports "media": false in /api/v1/status. */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');

const BLUE = [40, 80, 230];

/* Share of Red's picture near Blue's colour, and the near-white samples in its
 * middle third (an initial on a placeholder; the cameras are flat colours). */
async function picture(page) {
  return page.evaluate((blue) => {
    const v = document.querySelector('[data-testid=remote-video]');
    if (!v || !v.videoWidth) return { blue: 0, white: 0 };
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(v, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let near = 0, white = 0, n = 0;
    for (let y = 0; y < c.height; y += 2) {
      for (let x = 0; x < c.width; x += 2) {
        const i = (y * c.width + x) * 4;
        n++;
        if (Math.hypot(d[i] - blue[0], d[i + 1] - blue[1], d[i + 2] - blue[2]) < 60) near++;
        const middle = x > c.width / 3 && x < (2 * c.width) / 3 && y > c.height / 4 && y < (3 * c.height) / 4;
        if (middle && d[i] > 215 && d[i + 1] > 215 && d[i + 2] > 215) white++;
      }
    }
    return { blue: near / n, white };
  }, BLUE);
}

h.run('media_timeout', async ({ scratch, defer }) => {
  const server = await h.startServer({
    sections: { mixer: { canvas_width: 640, canvas_height: 360, media_timeout_s: 3, consent_timeout_s: 120 } },
  });
  defer(() => server.stop());
  if (!(await server.status()).media) {
    await server.stop();
    h.skip('the server reports "media": false in /api/v1/status (WebRTC media not wired yet)');
  }
  const clients = {};
  for (const [name, rgb] of [['Red', [220, 40, 40]], ['Blue', BLUE]]) {
    const b = await h.launchBrowser(h.makeY4m(path.join(scratch, `${name}.y4m`), rgb, { width: 160, height: 120 }));
    defer(() => b.close());
    await b.page.goto(`${server.url}/c/e2e-timeout`, { timeout: 90000 });
    await b.page.fill('[data-testid=input-name]', name);
    await b.page.click('[data-testid=btn-join]');
    await h.waitForState(b.page, 'conference', 90000);
    clients[name] = b;
  }
  const red = clients.Red.page;
  let last = null;
  await h.waitFor(async () => (last = await picture(red)).blue > 0.5,
    { timeoutMs: 60000, what: "Blue's camera in Red's picture" }).catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(last)}`); });
  h.assert.equal(last.white, 0, "Blue's live camera has no initials over it");

  clients.Blue.crash();
  await h.waitFor(async () => {
    last = await picture(red);
    return last.blue < 0.02 && last.white >= 30;
  }, { timeoutMs: 30000, what: "Blue's tile to become its placeholder" }).catch(async (e) => {
    await h.screenshot(red, 'media_timeout-failed');
    throw new Error(`${e.message}: ${JSON.stringify(last)}`);
  });
  await h.screenshot(red, 'media_timeout-reconnecting');
  // Still in the conference: only the picture changed; removal is the consent timeout's.
  const roster = await red.evaluate(() => window.tessera.roster.map((p) => p.display_name));
  h.assert.deepEqual(roster.sort(), ['Blue', 'Red']);
  const log = fs.readFileSync(server.logFile, 'utf8');
  h.assert.match(log, /no packets: shown as reconnecting/);
});
