/* The inLive Hub API conference tutorial flow in Chromium: two pages served from
 * another origin create/join a room with plain fetch + EventSource +
 * RTCPeerConnection (register → isallownegotiate → PUT offer → answer →
 * candidates → events), and each receives the composite: frames decode and the
 * other participant's colour is in the middle of the picture. Then leave, the
 * room outlives its last client (empty-room timeout), and end removes it. The
 * pages use the client ids register issued (never their uid), and ending the room
 * takes the secret create returned. */
'use strict';
const path = require('node:path');
const h = require('./lib/harness');
const il = require('./lib/inlive');

const RED = [200, 40, 40]; // page A: the fake camera
const BLUE = [40, 70, 210]; // page B: a canvas stream

async function waitComposite(page, want, who) {
  await page.waitForFunction(() => window.inlive.framesDecoded > 20, null, { timeout: 40000 });
  let last = null;
  await h.waitFor(async () => {
    last = await page.evaluate(() => window.inlive.sample(0.5, 0.5));
    return last && il.colourDistance(last, want) < 60;
  }, { timeoutMs: 20000, what: `${who} sees ${want} (last ${last})` });
}

h.run('inlive_tutorial', async ({ scratch, defer }) => {
  const t0 = Date.now();
  const mark = (what) => console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  const server = await h.startServer({ sections: il.MIXER_SECTIONS });
  defer(() => server.stop());
  const pages = await il.startPageServer();
  defer(() => pages.close());

  // The tutorial creates the room from the page's backend; here from node.
  const created = await il.call(server.url, 'POST', '/rooms/create', { name: 'Tutorial room' });
  h.assert.equal(created.status, 201);
  const roomId = created.json.data.id;
  h.assert.match(roomId, /^[0-9A-Za-z]{16}$/);
  h.assert.equal(created.json.data.name, 'Tutorial room');

  const cam = h.makeY4m(path.join(scratch, 'red.y4m'), RED);
  const b = await h.launchBrowser(cam);
  defer(() => b.close());
  const pageA = b.page;
  const pageB = await b.context.newPage();
  const url = (uid, extra) => `${pages.url}/inlive_conference.html?api=${encodeURIComponent(server.url)}&room=${roomId}&uid=${uid}&mode=tutorial${extra}`;
  await pageA.goto(url('client1', ''));
  await pageB.goto(url('client2', `&colour=${BLUE.join(',')}`));
  mark('pages loaded');
  for (const p of [pageA, pageB]) {
    await p.waitForFunction(() => window.inlive.state !== 'starting' && window.inlive.events.includes('answer applied'), null, { timeout: 30000 })
      .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await p.evaluate(() => window.inlive))}`); });
  }
  mark('both negotiated');
  try {
    await waitComposite(pageA, BLUE, 'page A');
    mark('page A sees page B');
    await waitComposite(pageB, RED, 'page B');
  } finally {
    await h.screenshot(pageA, 'inlive_tutorial-a');
    await h.screenshot(pageB, 'inlive_tutorial-b');
  }
  mark('page B sees page A');
  const st = await pageA.evaluate(() => window.inlive);
  h.assert.deepEqual(st.errors, []);
  const idA = st.clientId;
  const idB = await pageB.evaluate(() => window.inlive.clientId);
  for (const id of [idA, idB]) h.assert.match(id, /^[0-9A-Za-z]{22}$/); // not 'client1'/'client2'
  // Their uids name nobody: refused (403), and both stay.
  h.assert.equal((await il.call(server.url, 'DELETE', `/rooms/${roomId}/leave/client1`)).status, 403);
  for (const ev of ['sse:tracks_available', 'pc:connected']) h.assert.ok(st.events.includes(ev), `page A missed ${ev}: ${st.events}`);
  h.assert.equal(st.tracksAvailable.length, 2);
  h.assert.equal((await server.status()).participants, 2);

  // getClient, leave (DELETE), leave again → 404; the other client stays.
  h.assert.equal((await il.call(server.url, 'GET', `/rooms/${roomId}/client/${idA}`)).json.data.peer_connection_state, 'connected');
  await pageA.evaluate(() => window.inlive.leave());
  h.assert.equal((await il.call(server.url, 'GET', `/rooms/${roomId}/client/${idA}`)).status, 404);
  h.assert.equal((await il.call(server.url, 'DELETE', `/rooms/${roomId}/leave/${idA}`)).status, 404);
  await h.waitFor(async () => (await server.status()).participants === 1, { what: 'one participant left' });
  // The last client leaves by POST (sendBeacon); the room stays until its empty timeout.
  h.assert.equal((await il.call(server.url, 'POST', `/rooms/${roomId}/leave/${idB}`)).status, 200);
  await h.waitFor(async () => (await server.status()).participants === 0, { what: 'no participants' });
  h.assert.equal((await il.call(server.url, 'GET', `/rooms/${roomId}`)).status, 200);
  h.assert.equal((await il.call(server.url, 'PUT', `/rooms/${roomId}/end`)).status, 401);
  h.assert.equal((await il.call(server.url, 'GET', `/rooms/${roomId}`)).status, 200);
  h.assert.equal((await il.call(server.url, 'PUT', `/rooms/${roomId}/end`, undefined, { auth: created.json.data.room_secret })).status, 200);
  h.assert.equal((await il.call(server.url, 'GET', `/rooms/${roomId}`)).status, 404);
  mark('done');
});
