/* The web client comes back by itself after a server restart: one participant is
 * in a conference; the server is killed (SIGKILL) and a new one starts on the same
 * address. The page shows "Reconnecting" meanwhile, then joins again (a new
 * participant id, with camera and microphone kept) and receives the composite from
 * the new server. A kick stays final (checked at the end: no rejoin).
 *
 * Skipped (exit 77) while the server reports "media": false in /api/v1/status. */
'use strict';
const path = require('node:path');
const h = require('./lib/harness');

const SECTIONS = { mixer: { canvas_width: 320, canvas_height: 180 } };

function videoPlaying(page) {
  return page.waitForFunction(() => {
    const v = document.querySelector('[data-testid=remote-video]');
    return v && v.videoWidth > 0 && v.readyState >= 2 && !v.paused;
  }, null, { timeout: 90000 });
}

h.run('rejoin', async ({ scratch, defer }) => {
  let server = await h.startServer({ sections: SECTIONS });
  const port = server.port;
  if (!(await server.status()).media) {
    await server.stop();
    h.skip('the server reports "media": false in /api/v1/status');
  }
  const b = await h.launchBrowser(h.makeY4m(path.join(scratch, 'cam.y4m'), [220, 40, 40], { width: 160, height: 120 }));
  defer(() => b.close());
  const { page } = b;
  await page.goto(`${server.url}/c/e2e-rejoin`, { timeout: 90000 });
  await page.fill('[data-testid=input-name]', 'Robin');
  await page.click('[data-testid=btn-join]');
  await h.waitForState(page, 'conference', 90000);
  await videoPlaying(page);
  const first = await page.evaluate(() => window.tessera.participantId);

  // The server dies and comes back on the same address.
  await server.kill();
  await server.stop(); // collects the log only
  await h.waitForState(page, 'reconnecting', 60000);
  h.assert.match(await page.textContent('#connecting-step'), /Reconnecting/);
  server = await h.startServer({ sections: SECTIONS, port });
  defer(() => server.stop());
  await h.waitForState(page, 'conference', 120000);
  const second = await page.evaluate(() => window.tessera.participantId);
  h.assert.ok(second && second !== first, `a fresh join: ${first} -> ${second}`);
  h.assert.ok(await page.evaluate(() => window.tessera.rejoins >= 1));
  await videoPlaying(page);
  const status = await server.status();
  h.assert.equal(status.participants, 1, JSON.stringify(status));
  await h.screenshot(page, 'rejoin-back');

  // A kick is final: the page shows it and does not come back.
  const host = await (await fetch(`${server.url}/api/v1/conferences/e2e-rejoin/join`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ display_name: 'Host' }),
  })).json();
  const kick = await fetch(`${server.url}/api/v1/participants/${second}`, { method: 'DELETE', headers: { Authorization: `Bearer ${host.token}` } });
  h.assert.equal(kick.status, 204);
  await h.waitForState(page, 'error', 30000);
  h.assert.equal(await page.evaluate(() => window.tessera.error.code), 'kicked');
});
