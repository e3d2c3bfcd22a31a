/* Error screens in a real browser: PIN required → PIN prompt, wrong PIN → the
 * PIN error, unknown conference with ad-hoc creation off → not-found screen, the
 * right PIN gets past the PIN check, and a server that went away → unreachable. */
'use strict';
const path = require('node:path');
const h = require('./lib/harness');

h.run('join_errors', async ({ scratch, defer }) => {
  const server = await h.startServer({
    allowAdhoc: false,
    conferences: [{ alias: 'board', name: 'Board', host_pin: '1234', guest_pin: '5678' }],
  });
  let serverStopped = false;
  defer(async () => { if (!serverStopped) await server.stop(); });
  const status = await server.status();
  const cam = h.makeY4m(path.join(scratch, 'cam.y4m'), [40, 80, 230]);
  const b = await h.launchBrowser(cam);
  defer(() => b.close());
  const { page } = b;

  // PIN required: the join screen leads to the PIN prompt without an error line.
  await page.goto(`${server.url}/c/board`);
  h.assert.equal(await page.inputValue('[data-testid=input-conference]'), 'board');
  await page.fill('[data-testid=input-name]', 'Pat');
  await page.click('[data-testid=btn-join]');
  await h.waitForState(page, 'pin');
  h.assert.equal(await page.getAttribute('[data-testid=screen-pin]', 'data-error'), 'pin_required');
  h.assert.equal(await page.isVisible('[data-testid=pin-error]'), false);
  h.assert.equal(await page.isVisible('[data-testid=input-pin]'), true);
  await h.screenshot(page, 'join_errors-pin-required');

  // Wrong PIN: the same prompt, now with the error shown.
  await page.fill('[data-testid=input-pin]', '0000');
  await page.click('[data-testid=btn-pin-join]');
  await page.waitForFunction(() => window.tessera.error && window.tessera.error.code === 'wrong_pin');
  await h.waitForState(page, 'pin');
  h.assert.equal(await page.getAttribute('[data-testid=screen-pin]', 'data-error'), 'wrong_pin');
  h.assert.equal(await page.isVisible('[data-testid=pin-error]'), true);
  h.assert.match(await page.textContent('[data-testid=pin-error]'), /not correct/);
  await h.screenshot(page, 'join_errors-wrong-pin');

  // The right PIN passes the PIN check: without media the server says so; with it we are in.
  await page.fill('[data-testid=input-pin]', '5678');
  await page.click('[data-testid=btn-pin-join]');
  if (status.media) {
    await h.waitForState(page, 'conference');
    h.assert.equal(await page.evaluate(() => window.tessera.role), 'guest');
    await page.click('[data-testid=btn-hangup]');
  } else {
    await h.waitForState(page, 'error');
    h.assert.equal(await page.getAttribute('[data-testid=screen-error]', 'data-error'), 'media_unavailable');
  }

  // Unknown conference, ad hoc off: the not-found screen.
  await page.goto(`${server.url}/?conference=nowhere`);
  h.assert.equal(await page.inputValue('[data-testid=input-conference]'), 'nowhere');
  h.assert.equal(await page.inputValue('[data-testid=input-name]'), 'Pat'); // remembered
  await page.click('[data-testid=btn-join]');
  await h.waitForState(page, 'error');
  h.assert.equal(await page.getAttribute('[data-testid=screen-error]', 'data-error'), 'no_such_conference');
  h.assert.equal(await page.textContent('[data-testid=error-title]'), 'Meeting not found');
  h.assert.match(await page.textContent('[data-testid=error-message]'), /nowhere/);
  await h.screenshot(page, 'join_errors-not-found');

  // The server goes away: joining says it is unreachable.
  await page.click('[data-testid=btn-error-back]');
  await h.waitForState(page, 'join');
  await server.stop();
  serverStopped = true;
  await page.fill('[data-testid=input-conference]', 'board');
  await page.click('[data-testid=btn-join]');
  await h.waitForState(page, 'error');
  h.assert.equal(await page.getAttribute('[data-testid=screen-error]', 'data-error'), 'server_unreachable');
  await h.screenshot(page, 'join_errors-unreachable');
  const errors = b.consoleLines.filter((l) => l.startsWith('[pageerror]'));
  h.assert.deepEqual(errors, []);
});
