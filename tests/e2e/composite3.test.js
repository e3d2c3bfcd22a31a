/* Three participants through the web client, each with a fake camera of its own
 * solid colour and Chromium's fake microphone. For each: its remote video (the
 * composite) shows the other two colours in tiles, framesDecoded keeps rising and
 * audio packets keep arriving (rates printed; tessera-load measures them). One leaves: the others' pictures change (its
 * colour disappears) and the API no longer lists it. Screenshots are kept.
 *
 * Skipped (exit 77) while the server reports "media": false in /api/v1/status,
 * i.e. when the WebRTC media layer is not wired into the conference core. */
'use strict';
const h = require('./lib/harness');

const PEOPLE = [
  { name: 'Red', rgb: [220, 40, 40] },
  { name: 'Green', rgb: [40, 200, 60] },
  { name: 'Blue', rgb: [40, 80, 230] },
];
const ALIAS = 'e2e-composite';

async function inboundStats(page) {
  return page.evaluate(async () => {
    const out = { frames: 0, audioPackets: 0, t: performance.now() };
    const stats = await window.tessera.pc.getStats();
    stats.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') out.frames += r.framesDecoded || 0;
      if (r.type === 'inbound-rtp' && r.kind === 'audio') out.audioPackets += r.packetsReceived || 0;
    });
    return out;
  });
}

h.run('composite3', async ({ scratch, defer }) => {
  // A 640x360 canvas: the test is about tiles, rates and roster, not resolution,
  // and CI has two cores for the server and three browsers.
  const server = await h.startMediaServer(defer, { sections: { mixer: { canvas_width: 640, canvas_height: 360, fps: 24 } } });
  const clients = await h.launchPeople(PEOPLE, scratch, defer);
  for (const c of clients) {
    await c.page.goto(`${server.url}/c/${ALIAS}`);
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
  }

  // Everyone has the full roster.
  for (const c of clients) {
    await c.page.waitForFunction(() => window.tessera.roster.length === 3, null, { timeout: 15000 });
  }

  // Everyone sees the other two colours.
  for (const c of clients) {
    let last = null;
    await h.waitFor(async () => {
      last = await h.colourShares(c.page, '[data-testid=remote-video]', PEOPLE.map((p) => p.rgb), { cols: 48, rows: 27 });
      return PEOPLE.every((p, i) => p.name === c.name || last[i] >= 0.02);
    }, { timeoutMs: 45000, what: `${c.name} to see the other two colours` }).catch(async (e) => {
      await h.screenshot(c.page, `composite3-${c.name.toLowerCase()}-failed`);
      throw new Error(`${e.message}; colour shares ${JSON.stringify(last)}`);
    });
    await h.screenshot(c.page, `composite3-${c.name.toLowerCase()}-three`);
  }

  // Frames and audio keep arriving on every page, over the same 6 s. The rates are
  // printed, not asserted: three Chromiums and the sanitizer build share two cores
  // here, so a rate would measure the machine (DESIGN.md: timing targets live in
  // bench/, where tessera-load measures fps per receiver with the server on its own
  // core). What is asserted is that nobody's composite or mix stops.
  const before = await Promise.all(clients.map((c) => inboundStats(c.page)));
  await h.sleep(6000);
  const after = await Promise.all(clients.map((c) => inboundStats(c.page)));
  clients.forEach((c, i) => {
    const secs = (after[i].t - before[i].t) / 1000;
    const frames = after[i].frames - before[i].frames;
    const packets = after[i].audioPackets - before[i].audioPackets;
    console.log(`${c.name}: ${(frames / secs).toFixed(1)} fps decoded, ${packets} audio packets in ${secs.toFixed(1)} s`);
    h.assert.ok(frames >= 6, `${c.name} decoded only ${frames} frames in ${secs.toFixed(1)} s`);
    h.assert.ok(packets >= 50, `${c.name} received ${packets} audio packets in ${secs.toFixed(1)} s`);
  });

  // A host changes the layout with the picker: every page hears it over SSE.
  await clients[0].page.click('[data-testid=btn-participants]');
  for (const layout of ['speaker', 'grid']) {
    await clients[0].page.selectOption('[data-testid=layout-picker]', layout);
    for (const c of clients) {
      await c.page.waitForFunction((l) => window.tessera.layout === l, layout, { timeout: 10000 });
    }
  }
  await clients[0].page.click('[data-testid=btn-participants]');

  // Blue leaves: the others' pictures lose blue, the API no longer lists it.
  const leaver = clients[2];
  await leaver.page.click('[data-testid=btn-hangup]');
  await h.waitForState(leaver.page, 'left');
  const token = await clients[0].page.evaluate(() => window.tessera.token);
  const res = await fetch(`${server.url}/api/v1/conferences/${ALIAS}`, { headers: { Authorization: `Bearer ${token}` } });
  const conf = await res.json();
  h.assert.equal(res.status, 200);
  h.assert.deepEqual(conf.participants.map((p) => p.id).sort(), [clients[0].id, clients[1].id].sort());
  for (const c of clients.slice(0, 2)) {
    let last = null;
    await h.waitFor(async () => {
      last = await h.colourShares(c.page, '[data-testid=remote-video]', PEOPLE.map((p) => p.rgb), { cols: 48, rows: 27 });
      return last[2] < 0.005;
    }, { timeoutMs: 15000, what: `${c.name}'s layout to drop the leaver` }).catch((e) => {
      throw new Error(`${e.message}; colour shares ${JSON.stringify(last)}`);
    });
    await c.page.waitForFunction((id) => !window.tessera.roster.some((p) => p.id === id), leaver.id);
    await c.page.click('[data-testid=btn-participants]');
    await c.page.waitForFunction(() => document.querySelectorAll('[data-testid=roster-item]').length === 2);
    await h.screenshot(c.page, `composite3-${c.name.toLowerCase()}-two`);
  }
});
