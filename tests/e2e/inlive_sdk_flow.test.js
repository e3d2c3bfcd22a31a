/* The inLive JS SDK's publish flow in Chromium: SSE opened before negotiating,
 * camera and mic on *sendonly* transceivers, isallownegotiate → PUT offer → answer
 * (our lines recvonly), then once connected the server's SSE `offer` keeps m-lines
 * 0 and 1 and adds sendonly audio + video lines (one msid stream), the page answers
 * over PUT negotiate, and the composite arrives on the added lines: frames decode
 * and the other participant's (a tutorial-style page's) colour is in the picture.
 * While the offer is outstanding, isallownegotiate is refused (403) and
 * `allowed_renegotation` follows the answer (spec §5). A later re-offer from the
 * page is answered on the running session and the composite keeps flowing. */
'use strict';
const path = require('node:path');
const h = require('./lib/harness');
const il = require('./lib/inlive');

const GREEN = [40, 190, 60]; // the tutorial page's fake camera
const PURPLE = [150, 50, 190]; // the SDK-style page's canvas

function mlines(sdp) {
  return sdp.split('\r\nm=').slice(1).map((sec) => {
    const lines = sec.split('\r\n');
    const attr = (name) => (lines.find((l) => l.startsWith(`a=${name}`)) || '').slice(name.length + 3) || null;
    const dir = ['sendrecv', 'sendonly', 'recvonly', 'inactive'].find((d) => lines.includes(`a=${d}`));
    return { kind: lines[0].split(' ')[0], port: Number(lines[0].split(' ')[1]), mid: attr('mid'), dir, msid: attr('msid') };
  });
}

h.run('inlive_sdk_flow', async ({ scratch, defer }) => {
  const server = await h.startServer({ sections: il.MIXER_SECTIONS });
  defer(() => server.stop());
  const pages = await il.startPageServer();
  defer(() => pages.close());
  const created = await il.call(server.url, 'POST', '/rooms/create', { id: 'sdk-room', name: 'SDK room', options: { empty_room_timeout_ns: 300e9 } });
  h.assert.equal(created.status, 201);
  h.assert.equal(created.json.data.options.empty_room_timeout_ns, 300e9);

  const cam = h.makeY4m(path.join(scratch, 'green.y4m'), GREEN);
  const b = await h.launchBrowser(cam);
  defer(() => b.close());
  const tutorial = b.page;
  const sdk = await b.context.newPage();
  const url = (uid, extra) => `${pages.url}/inlive_conference.html?api=${encodeURIComponent(server.url)}&room=sdk-room&uid=${uid}${extra}`;
  await tutorial.goto(url('tutorial', '&mode=tutorial'));
  await sdk.goto(url('sdk', `&mode=sdk&hold=1&colour=${PURPLE.join(',')}`));

  // The server offer comes once the SDK page is connected. While it is unanswered
  // the client may not negotiate; after the answer it is told it may.
  await sdk.waitForFunction(() => !!window.inlive.answerOffer, null, { timeout: 30000 })
    .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await sdk.evaluate(() => window.inlive))}`); });
  const sdkId = await sdk.evaluate(() => window.inlive.clientId); // issued by the server
  const refused = await il.call(server.url, 'POST', `/rooms/sdk-room/isallownegotiate/${sdkId}`);
  h.assert.equal(refused.status, 403);
  h.assert.equal(refused.json.ok, false);
  await sdk.evaluate(() => window.inlive.answerOffer());
  await sdk.waitForFunction(() => window.inlive.events.includes('sse:allowed_renegotation'), null, { timeout: 10000 });
  await sdk.waitForFunction(() => window.inlive.offersAnswered === 1, null, { timeout: 30000 })
    .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await sdk.evaluate(() => window.inlive))}`); });
  const st = await sdk.evaluate(() => window.inlive);
  h.assert.deepEqual(st.errors, []);
  const offer = mlines(st.serverOffer);
  h.assert.deepEqual(offer.map((m) => [m.kind, m.mid, m.dir]),
    [['audio', '0', 'recvonly'], ['video', '1', 'recvonly'], ['audio', '2', 'sendonly'], ['video', '3', 'sendonly']],
    `server offer m-lines: ${JSON.stringify(offer)}`);
  h.assert.equal(offer[2].msid, 'tessera tessera-audio');
  h.assert.equal(offer[3].msid, 'tessera tessera-video');
  h.assert.ok(offer.every((m) => m.port !== 0));
  h.assert.ok(st.serverOffer.includes('a=group:BUNDLE 0 1 2 3'));

  // The composite arrives on the added video m-line and shows the other page.
  await sdk.waitForFunction(() => window.inlive.events.includes('track:video:3'), null, { timeout: 10000 });
  await sdk.waitForFunction(() => window.inlive.framesDecoded > 20, null, { timeout: 40000 });
  h.assert.deepEqual(await sdk.evaluate(() => window.inlive.decodingMids), ['3']);
  let last = null;
  try {
    await h.waitFor(async () => {
      last = await sdk.evaluate(() => window.inlive.sample(0.5, 0.5));
      return last && il.colourDistance(last, GREEN) < 60;
    }, { timeoutMs: 20000, what: `the SDK page sees green (last ${last})` });
    // And the tutorial page sees the SDK page's canvas.
    await tutorial.waitForFunction(() => window.inlive.framesDecoded > 20, null, { timeout: 40000 });
    await h.waitFor(async () => {
      last = await tutorial.evaluate(() => window.inlive.sample(0.5, 0.5));
      return last && il.colourDistance(last, PURPLE) < 60;
    }, { timeoutMs: 20000, what: `the tutorial page sees purple (last ${last})` });
  } finally {
    await h.screenshot(sdk, 'inlive_sdk_flow-sdk');
    await h.screenshot(tutorial, 'inlive_sdk_flow-tutorial');
  }
  h.assert.ok(st.events.includes('sse:tracks_available'));

  // The client re-offers on the running session: the added lines stay sendonly on
  // our side and the composite keeps decoding.
  const framesBefore = await sdk.evaluate(() => window.inlive.framesDecoded);
  const re = await sdk.evaluate(() => window.inlive.reoffer());
  h.assert.equal(re.status, 200);
  h.assert.equal(re.signaling, 'stable');
  h.assert.deepEqual(mlines(re.sdp).map((m) => [m.mid, m.dir]),
    [['0', 'recvonly'], ['1', 'recvonly'], ['2', 'sendonly'], ['3', 'sendonly']]);
  await sdk.waitForFunction((n) => window.inlive.framesDecoded > n + 15, framesBefore, { timeout: 20000 });

  // An answer with no offer outstanding is refused and changes nothing.
  const stray = await il.call(server.url, 'PUT', `/rooms/sdk-room/negotiate/${sdkId}`, { type: 'answer', sdp: 'v=0\r\n' });
  h.assert.equal(stray.status, 409);
  h.assert.equal((await server.status()).participants, 2);
  await sdk.evaluate(() => window.inlive.leave());
  await tutorial.evaluate(() => window.inlive.leave());
  await h.waitFor(async () => (await server.status()).participants === 0, { what: 'everyone left' });
});
