/* Host control of the layout with three web clients, each with a fake camera of its
 * own solid colour. Green's microphone beeps (a talker), Red and Blue send silence.
 *
 * - Everyone's roster shows everyone's microphone and camera state, and Green as
 *   talking; every composite shows each other participant's name in its tile's
 *   bottom band and an amber border round Green's tile only (the talker); when Red
 *   mutes its microphone, every page shows it muted.
 * - Red (a host: ad hoc conferences have no PINs) picks the speaker layout and
 *   spotlights Blue from Blue's roster entry: every page marks Blue spotlighted, and
 *   the large tile of Red's and Green's composite is Blue's colour although Green is
 *   the one talking.
 * - Blue itself receives a picture without itself (self-view off, the default), so
 *   its large tile is not blue; the host turns self-view on and Blue's large tile
 *   becomes blue.
 * - The host removes the spotlight: every page shows it gone.
 *
 * Skipped (exit 77) while the server reports "media": false in /api/v1/status. */
'use strict';
const path = require('node:path');
const h = require('./lib/harness');

const PEOPLE = [
  { name: 'Red', rgb: [220, 40, 40], talks: false },
  { name: 'Green', rgb: [40, 200, 60], talks: true },
  { name: 'Blue', rgb: [40, 80, 230], talks: false },
];
const PALETTE = PEOPLE.map((p) => p.rgb);
const ALIAS = 'e2e-spotlight';
// The speaker layout's large tile covers the canvas above a strip one seventh high;
// sample well inside it, away from its edges and any name label at its foot.
const BIG_TILE = { x0: 0.15, x1: 0.85, y0: 0.1, y1: 0.65 };

/* Share of samples in `rect` (fractions of the picture) near each palette colour. */
async function regionShares(page, rect) {
  return page.evaluate(({ pal, r }) => {
    const v = document.querySelector('[data-testid=remote-video]');
    if (!v || !v.videoWidth) return pal.map(() => 0);
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(v, 0, 0);
    const counts = pal.map(() => 0);
    const nx = 16, ny = 8;
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const px = Math.floor((r.x0 + ((x + 0.5) * (r.x1 - r.x0)) / nx) * c.width);
        const py = Math.floor((r.y0 + ((y + 0.5) * (r.y1 - r.y0)) / ny) * c.height);
        const d = g.getImageData(px, py, 1, 1).data;
        pal.forEach((p, i) => {
          if (Math.hypot(d[0] - p[0], d[1] - p[1], d[2] - p[2]) < 70) counts[i]++;
        });
      }
    }
    return counts.map((n) => n / (nx * ny));
  }, { pal: PALETTE, r: rect });
}

/* Names and the speaker border on c's composite: for each other participant, the
 * box its camera colour fills, the near-white (text) pixels in the box's bottom fifth
 * (its name band: cameras are flat colours, so white is the label) and the amber
 * pixels in a ring just outside the box (the border is drawn over the tile's edge). */
async function tileMarks(page) {
  return page.evaluate((pal) => {
    const v = document.querySelector('[data-testid=remote-video]');
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(v, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const at = (x, y) => d.subarray((y * c.width + x) * 4, (y * c.width + x) * 4 + 3);
    return pal.map((p) => {
      let x0 = c.width, y0 = c.height, x1 = -1, y1 = -1, n = 0;
      for (let y = 0; y < c.height; y += 2) {
        for (let x = 0; x < c.width; x += 2) {
          const q = at(x, y);
          if (Math.hypot(q[0] - p[0], q[1] - p[1], q[2] - p[2]) < 60) {
            n++; x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
          }
        }
      }
      if (n < 200) return null; // not on this picture
      let white = 0, amber = 0;
      for (let y = Math.max(0, y0 - 10); y <= Math.min(c.height - 1, y1 + 10); y++) {
        for (let x = Math.max(0, x0 - 10); x <= Math.min(c.width - 1, x1 + 10); x++) {
          const q = at(x, y);
          const inside = x >= x0 && x <= x1 && y >= y0 && y <= y1;
          if (inside && y >= y1 - (y1 - y0) / 5 && q[0] > 200 && q[1] > 200 && q[2] > 200) white++;
          if (!inside && q[0] > 180 && q[1] > 110 && q[1] < 225 && q[2] < 110) amber++;
        }
      }
      return { box: [x0, y0, x1, y1], white, amber };
    });
  }, PALETTE);
}

/* Waits until `c`'s large tile is mostly `want`'s colour (or mostly not, with `not`). */
async function waitBigTile(c, want, { not = false } = {}) {
  const i = PEOPLE.findIndex((p) => p.name === want.name);
  let last = null;
  await h.waitFor(async () => {
    last = await regionShares(c.page, BIG_TILE);
    return not ? last[i] < 0.2 : last[i] >= 0.6;
  }, { timeoutMs: 45000, what: `${c.name}'s large tile to ${not ? 'not ' : ''}show ${want.name}` }).catch(async (e) => {
    await h.screenshot(c.page, `spotlight3-${c.name.toLowerCase()}-failed`);
    throw new Error(`${e.message}; large-tile colour shares ${JSON.stringify(last)}`);
  });
}

/* Waits until roster entry `id` on c's page has data attribute `attr` = `value`. */
function waitRoster(c, id, attr, value, timeout = 30000) {
  return c.page.waitForFunction(({ pid, a, v }) => {
    const li = document.querySelector(`[data-testid=roster-item][data-participant-id="${pid}"]`);
    return li && li.dataset[a] === v;
  }, { pid: id, a: attr, v: value }, { timeout });
}

h.run('spotlight3', async ({ scratch, defer }) => {
  const server = await h.startMediaServer(defer, { sections: { mixer: { canvas_width: 640, canvas_height: 360, fps: 24 } } });
  const clients = await h.launchPeople(PEOPLE, scratch, defer, {
    camera: { width: 160, height: 120 },
    browser: (p) => ({ wav: h.makeToneWav(path.join(scratch, `${p.name}.wav`), 440, { amplitude: p.talks ? 0.5 : 0, beeps: true }) }),
  });
  for (const c of clients) {
    await c.page.goto(`${server.url}/c/${ALIAS}`, { timeout: 90000 });
    await c.page.fill('[data-testid=input-name]', c.name);
    await c.page.click('[data-testid=btn-join]');
    await h.waitForState(c.page, 'conference', 90000);
    c.id = await c.page.evaluate(() => window.tessera.participantId);
  }
  for (const c of clients) {
    await c.page.waitForFunction(() => {
      const v = document.querySelector('[data-testid=remote-video]');
      return v.videoWidth > 0 && v.readyState >= 2;
    }, null, { timeout: 90000 });
    await c.page.waitForFunction(() => window.tessera.roster.length === 3, null, { timeout: 15000 });
    await c.page.click('[data-testid=btn-participants]'); // the roster panel stays open
  }
  const [red, green, blue] = clients;

  // Everyone sees everyone's microphone and camera state, and Green talking.
  for (const c of clients) {
    for (const o of clients) {
      const icons = await c.page.$$eval(`[data-participant-id="${o.id}"] [data-testid$=-indicator]`,
        (els) => els.map((e) => e.dataset.testid));
      for (const want of ['talking-indicator', 'mic-indicator', 'cam-indicator']) {
        h.assert.ok(icons.includes(want), `${c.name}'s roster entry of ${o.name} lacks ${want}: ${icons}`);
      }
    }
    await waitRoster(c, green.id, 'talking', 'true', 45000);
  }
  // Names on the tiles, and the amber border on the talker's (Green's) tile only.
  for (const c of clients) {
    let last = null;
    await h.waitFor(async () => {
      last = await tileMarks(c.page);
      // The ring round a quiet tile may catch the edge of the talker's border across
      // the gap between them, so "no border" means far less amber than the talker's
      // (on the talker's own picture, which leaves it out, hardly any amber at all).
      const talker = last[PEOPLE.findIndex((p) => p.talks)];
      return PEOPLE.every((p, i) => {
        const m = last[i];
        if (p.name === c.name) return true; // its own picture leaves it out
        return m && m.white >= 15 && (p.talks ? m.amber >= 200 : m.amber * 3 < (talker ? talker.amber : 60));
      });
    }, { timeoutMs: 45000, what: `${c.name}'s composite to show names and Green's border` }).catch(async (e) => {
      await h.screenshot(c.page, `spotlight3-${c.name.toLowerCase()}-names-failed`);
      throw new Error(`${e.message}; ${JSON.stringify(last)}`);
    });
    await h.screenshot(c.page, `spotlight3-${c.name.toLowerCase()}-names`);
  }

  await red.page.click('[data-testid=btn-mic]');
  for (const c of clients) {
    await waitRoster(c, red.id, 'muted', 'true');
    const red_ = await c.page.$eval(`[data-participant-id="${red.id}"] [data-testid=mic-indicator]`, (e) => e.classList.contains('red'));
    h.assert.ok(red_, `${c.name} does not show Red's microphone as muted`);
  }

  // The speaker layout: Green talks, so it takes the large tile of the others.
  await red.page.selectOption('[data-testid=layout-picker]', 'speaker');
  for (const c of clients) await c.page.waitForFunction(() => window.tessera.layout === 'speaker', null, { timeout: 10000 });
  await waitBigTile(red, green);

  // Red spotlights Blue from Blue's roster entry.
  await red.page.click(`[data-participant-id="${blue.id}"] [data-testid=btn-spotlight]`);
  for (const c of clients) await waitRoster(c, blue.id, 'spotlight', 'true');
  for (const c of [red, green]) {
    await waitBigTile(c, blue);
    await h.screenshot(c.page, `spotlight3-${c.name.toLowerCase()}-pinned`);
  }
  h.assert.equal(await red.page.$eval(`[data-participant-id="${blue.id}"] [data-testid=btn-spotlight]`, (b) => b.textContent), 'Remove spotlight');
  // Green is still the talker: the pin, not speech, holds the tile.
  h.assert.ok(await green.page.evaluate((id) => window.tessera.talkers.includes(id), green.id) ||
              await red.page.evaluate((id) => window.tessera.talkers.includes(id), green.id),
              'Green stopped talking: the test no longer tells pin from speech');

  // Blue's own picture leaves Blue out (self-view off) until the host turns it on.
  await waitBigTile(blue, blue, { not: true });
  await red.page.check('[data-testid=self-view-toggle]');
  for (const c of clients) await c.page.waitForFunction(() => window.tessera.selfView === true, null, { timeout: 10000 });
  await waitBigTile(blue, blue);
  await h.screenshot(blue.page, 'spotlight3-blue-self-view');
  h.assert.equal(await blue.page.$eval('[data-testid=self-view-toggle]', (e) => e.checked), true);

  // The spotlight comes off: every page shows it.
  await red.page.click(`[data-participant-id="${blue.id}"] [data-testid=btn-spotlight]`);
  for (const c of clients) await waitRoster(c, blue.id, 'spotlight', 'false');
  const res = await fetch(`${server.url}/api/v1/conferences/${ALIAS}`, { headers: { Authorization: `Bearer ${await red.page.evaluate(() => window.tessera.token)}` } });
  const conf = await res.json();
  h.assert.equal(res.status, 200);
  h.assert.equal(conf.self_view, true);
  h.assert.ok(conf.participants.every((p) => p.spotlight === 0), JSON.stringify(conf.participants));
});
