/* Presentation (issue 14): three participants through the web client, each with a
 * fake camera of its own solid colour. Red shares its screen with the Share button
 * (Chromium's fake display capture: a dark-green 1280x720 picture with a moving
 * pattern). The other two get presentation_start, the "Red is presenting" banner,
 * and a composite whose largest part is the screen's green (the presentation
 * layout: content large, cameras in a strip) while the cameras still show, smaller.
 * Blue then takes over: Red is told (presentation_stop "taken_over") and its share
 * ends. Blue stops: everyone gets presentation_stop and the composite goes back to
 * the grid (no green, the cameras large again). The API's refusals are checked on
 * the way: someone else's presentation (403), no media (409), not presenting (409).
 *
 * Skipped (exit 77) while the server reports "media": false in /api/v1/status. */
'use strict';
const h = require('./lib/harness');

const PEOPLE = [
  { name: 'Red', rgb: [220, 40, 40] },
  { name: 'Blue', rgb: [40, 80, 230] },
  { name: 'Yellow', rgb: [230, 220, 40] },
];
const SCREEN = [0, 135, 0]; // the fake display capture's background
const ALIAS = 'e2e-present';
const PALETTE = [...PEOPLE.map((p) => p.rgb), SCREEN];

async function shares(page) {
  return h.colourShares(page, '[data-testid=remote-video]', PALETTE, { cols: 64, rows: 36 });
}

/* Waits until `page`'s composite satisfies `ok(shares)`; returns the shares. */
async function waitComposite(c, ok, what) {
  let last = null;
  await h.waitFor(async () => ok((last = await shares(c.page))), { timeoutMs: 120000, what: `${c.name}: ${what}` })
    .catch(async (e) => {
      await h.screenshot(c.page, `presentation-${c.name.toLowerCase()}-failed`);
      throw new Error(`${e.message}; colour shares ${JSON.stringify(last)}`);
    });
  return last;
}

async function apiAs(server, token, method, rel, body) {
  const res = await fetch(`${server.url}/api/v1${rel}`, {
    method,
    // a page's token is read per call: each refresh rotates it
    headers: { Authorization: `Bearer ${typeof token === 'function' ? await token() : token}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, data: res.status === 204 ? null : await res.json() };
}

/* The presentation events a page received, in order. */
async function presentationEvents(page) {
  return page.evaluate(() => window.tessera.events.filter((e) => e.startsWith('presentation_')));
}

h.run('presentation', async ({ scratch, defer }) => {
  const server = await h.startMediaServer(defer, { sections: { mixer: { canvas_width: 640, canvas_height: 360, fps: 15 } } });
  // getDisplayMedia picks the (fake) entire screen without a picker.
  const clients = await h.launchPeople(PEOPLE, scratch, defer, {
    browser: () => ({ args: ['--auto-select-desktop-capture-source=Entire screen'] }),
  });
  for (const c of clients) {
    await c.page.goto(`${server.url}/c/${ALIAS}`);
    await c.page.fill('[data-testid=input-name]', c.name);
    await c.page.click('[data-testid=btn-join]');
    await h.waitForState(c.page, 'conference', 90000);
    c.id = await c.page.evaluate(() => window.tessera.participantId);
    c.token = () => c.page.evaluate(() => window.tessera.token);
  }
  const [red, blue, yellow] = clients;
  const others = (c) => PEOPLE.filter((p) => p.name !== c.name).map((p) => PEOPLE.indexOf(p));

  // Before: the grid shows the other two cameras and no screen.
  const before = {};
  for (const c of clients) {
    before[c.name] = await waitComposite(c, (s) => others(c).every((i) => s[i] >= 0.1) && s[3] < 0.01,
      'the other two cameras in the grid');
  }

  // Refusals. Someone else's presentation: 403.
  let r = await apiAs(server, red.token, 'POST', `/participants/${blue.id}/presentation`, { sdp: 'v=0\r\n' });
  h.assert.equal(r.status, 403, JSON.stringify(r.data));
  r = await apiAs(server, red.token, 'DELETE', `/participants/${blue.id}/presentation`);
  h.assert.equal(r.status, 403, JSON.stringify(r.data));
  // Not presenting: stop and candidates are 409.
  r = await apiAs(server, red.token, 'DELETE', `/participants/${red.id}/presentation`);
  h.assert.equal(r.status, 409, JSON.stringify(r.data));
  h.assert.equal(r.data.error, 'not_presenting');
  r = await apiAs(server, red.token, 'POST', `/participants/${red.id}/presentation/candidates`, { candidate: '' });
  h.assert.equal(r.status, 409, JSON.stringify(r.data));
  // A participant without media cannot present: 409 no_media.
  const res = await fetch(`${server.url}/api/v1/conferences/${ALIAS}/join`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ display_name: 'Roster only' }),
  });
  const lurker = await res.json();
  h.assert.equal(res.status, 200, JSON.stringify(lurker));
  r = await apiAs(server, lurker.token, 'POST', `/participants/${lurker.participant_id}/presentation`, { sdp: 'v=0\r\n' });
  h.assert.equal(r.status, 409, JSON.stringify(r.data));
  h.assert.equal(r.data.error, 'no_media');
  // No sdp: 400.
  r = await apiAs(server, red.token, 'POST', `/participants/${red.id}/presentation`, {});
  h.assert.equal(r.status, 400, JSON.stringify(r.data));
  r = await apiAs(server, lurker.token, 'POST', `/participants/${lurker.participant_id}/leave`);
  h.assert.equal(r.status, 204);

  // Red shares its screen.
  await red.page.click('[data-testid=btn-share]');
  await red.page.waitForFunction(() => window.tessera.sharing === true, null, { timeout: 30000 });
  h.assert.equal((await red.page.textContent('[data-testid=btn-share]')).trim(), 'Stop sharing');
  for (const c of [blue, yellow]) {
    await c.page.waitForFunction((id) => window.tessera.presenter && window.tessera.presenter.participant_id === id,
      red.id, { timeout: 30000 });
    h.assert.equal((await c.page.textContent('[data-testid=presenting-banner]')).trim(), 'Red is presenting');
    h.assert.ok(await c.page.evaluate((id) => window.tessera.roster.find((p) => p.id === id).is_presenting, red.id));
    // The screen is the largest thing on the canvas; the cameras are still there,
    // each smaller than its grid tile was (a strip).
    const s = await waitComposite(c, (x) => x[3] >= 0.3 && others(c).every((i) => x[i] >= 0.005 && x[i] < before[c.name][i] / 2),
      'the presentation layout (screen large, cameras in a strip)');
    console.log(`${c.name} sees during Red's presentation: ${JSON.stringify(s)}`);
    await h.screenshot(c.page, `presentation-${c.name.toLowerCase()}-red-presents`);
  }

  // Blue takes over: Red is told and its share ends; Yellow sees Blue presenting.
  await blue.page.click('[data-testid=btn-share]');
  await blue.page.waitForFunction(() => window.tessera.sharing === true, null, { timeout: 30000 });
  await red.page.waitForFunction(() => window.tessera.sharing === false && window.tessera.sharePc === null, null, { timeout: 30000 });
  await yellow.page.waitForFunction((id) => window.tessera.presenter && window.tessera.presenter.participant_id === id,
    blue.id, { timeout: 30000 });
  h.assert.deepEqual(await presentationEvents(yellow.page),
    ['presentation_start', 'presentation_stop', 'presentation_start']);
  await waitComposite(yellow, (x) => x[3] >= 0.3, 'the screen of the new presenter');
  const conf = await apiAs(server, yellow.token, 'GET', `/conferences/${ALIAS}`);
  h.assert.deepEqual(conf.data.participants.filter((p) => p.is_presenting).map((p) => p.id), [blue.id]);

  // Blue stops: everyone goes back to the grid.
  await blue.page.click('[data-testid=btn-share]');
  await blue.page.waitForFunction(() => window.tessera.sharing === false, null, { timeout: 30000 });
  for (const c of clients) {
    await c.page.waitForFunction(() => window.tessera.presenter === null, null, { timeout: 30000 });
    h.assert.ok(await c.page.isHidden('[data-testid=presenting-banner]'));
    const s = await waitComposite(c, (x) => x[3] < 0.01 && others(c).every((i) => x[i] >= before[c.name][i] * 0.7),
      'the grid again after the presentation');
    console.log(`${c.name} sees after the presentation: ${JSON.stringify(s)}`);
  }
  await h.screenshot(yellow.page, 'presentation-yellow-after');
});
