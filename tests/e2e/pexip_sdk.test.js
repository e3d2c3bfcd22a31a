/* The official Pexip web SDK (@pexip/infinity, bundled from npm with esbuild) runs
 * its documented flow in Chromium against Tessera, from a page on another origin
 * (a static server in this test), so CORS is exercised too:
 *  - Alice (red camera) and Bob (blue camera) call() → 200 → onRemoteStream; each
 *    one's composite decodes (framesDecoded rising) and shows the other's colour;
 *  - roster, chat (message → onMessage), raise hand (onParticipantUpdated), layout
 *    (setLayout "1:7" → onLayoutUpdate view), renegotiation (setBandwidth → update),
 *    an ICE restart in the browser (restartIce → update with a new ufrag);
 *  - Bob disconnect() → Alice's onParticipantLeft and roster;
 *  - a PIN conference → 403 + onPinRequired → a wrong PIN → 403 + 'Invalid PIN'
 *    → the guest PIN → 200; an unknown alias (ad hoc off) → 404 + onError;
 *  - every JSON response of the run passes the SDK's own validators
 *    (@pexip/infinity-api), with Content-Type exactly application/json. */
'use strict';
const path = require('node:path');
const h = require('./lib/harness');
const { bundlePexip, loadValidators, sdkVersion } = require('./lib/pexip_bundle');

const RED = [220, 40, 40];
const BLUE = [40, 60, 220];

/* Serves the test page and the bundle from another origin than Tessera. */
function startStatic(dir, bundleFile) {
  return h.serveFiles({
    '/': [path.join(dir, 'index.html'), 'text/html'],
    '/app.js': [path.join(dir, 'app.js'), 'text/javascript'],
    '/pexip.js': [bundleFile, 'text/javascript'],
  });
}

/* Which SDK validator checks a response: [area, name] for the endpoint. */
function validatorFor(method, url) {
  const p = new URL(url).pathname.replace(/^\/api\/client\/v2\/conferences\/[^/]+\//, '');
  const seg = p.split('/');
  const conf = {
    request_token: ['token', 'RequestToken'], refresh_token: ['token', 'RefreshToken'],
    release_token: ['token', 'ReleaseToken'], message: ['conference', 'MessageConference'],
    transform_layout: ['conference', 'TransformLayout'], lock: ['conference', 'Lock'],
    unlock: ['conference', 'Unlock'], disconnect: ['conference', 'Disconnect'],
    clearallbuzz: ['conference', 'ClearAllBuzz'], participants: ['conference', 'Participants'],
    'theme': ['conference', 'Theme'],
  };
  if (seg.length <= 2) return conf[seg[0]];
  if (seg[0] !== 'participants') return null;
  if (seg.length === 5 && seg[2] === 'calls') {
    return { ack: ['call', 'Ack'], new_candidate: ['call', 'NewCandidate'], update: ['call', 'Update'],
      disconnect: ['call', 'DisconnectCall'] }[seg[4]];
  }
  return { calls: ['participant', 'CallsWebrtcParticipant'], mute: ['participant', 'MuteParticipant'],
    unmute: ['participant', 'UnmuteParticipant'], video_muted: ['participant', 'VideoMuteParticipant'],
    video_unmuted: ['participant', 'VideoUnmuteParticipant'], buzz: ['participant', 'BuzzParticipant'],
    clearbuzz: ['participant', 'ClearbuzzParticipant'], disconnect: ['participant', 'DisconnectParticipant'],
    message: ['participant', 'MessageParticipant'] }[seg[2]];
}

function validateLog(validators, log) {
  const problems = [];
  const seen = new Set();
  for (const e of log) {
    const v = validatorFor(e.method, e.url);
    const where = `${e.method} ${new URL(e.url).pathname} → ${e.status}`;
    if (!v) { problems.push(`${where}: no validator known for this endpoint`); continue; }
    seen.add(v[1]);
    if (e.status === 204) continue; // theme: no body, and 204 is one of its statuses
    const fn = validators[v[0]][`validate${v[1]}${e.status}`];
    if (!fn) { problems.push(`${where}: the SDK does not accept status ${e.status} here`); continue; }
    if (e.contentType !== 'application/json') problems.push(`${where}: Content-Type ${e.contentType}`);
    let body;
    try { body = JSON.parse(e.body); } catch (err) { problems.push(`${where}: not JSON: ${e.body.slice(0, 80)}`); continue; }
    if (!fn(body)) problems.push(`${where}: ${JSON.stringify(fn.errors)} in ${e.body.slice(0, 200)}`);
  }
  return { problems, seen };
}

async function waitColour(page, rgb, what) {
  await h.waitFor(() => page.evaluate((c) => window.colourShare(c, 45) > 0.3, rgb),
    { timeoutMs: 45000, intervalMs: 300, what });
}

async function waitFramesRising(page, what) {
  // Generous: ctest runs this beside other heavy tests on 2 cores under ASan.
  const first = await h.waitFor(() => page.evaluate(() => window.framesDecoded()), { timeoutMs: 45000, what });
  await h.waitFor(async () => (await page.evaluate(() => window.framesDecoded())) >= first + 5,
    { timeoutMs: 45000, what: `${what} rising` });
}

h.run('pexip_sdk', async ({ scratch, defer }) => {
  if (!sdkVersion()) h.skip('@pexip/infinity is not installed; run scripts/e2e-setup.sh');
  h.assert.equal(sdkVersion(), '20.0.0');
  const bundle = path.join(scratch, 'pexip.js');
  await bundlePexip(bundle);
  const web = await startStatic(path.join(__dirname, 'pexip'), bundle);
  defer(() => web.close());
  const server = await h.startServer({
    allowAdhoc: false,
    conferences: [{ alias: 'meet', name: 'Meet' }, { alias: 'board', name: 'Board', host_pin: '1234', guest_pin: '5678' }],
    sections: { mixer: { canvas_width: 320, canvas_height: 180, fps: 15, video_bitrate_bps: 300000 } },
  });
  defer(() => server.stop());
  const status = await server.status();
  if (!status.media) h.skip('the server has no media engine');
  const host = server.url;

  const a = await h.launchBrowser(h.makeY4m(path.join(scratch, 'red.y4m'), RED));
  defer(() => a.close());
  const b = await h.launchBrowser(h.makeY4m(path.join(scratch, 'blue.y4m'), BLUE));
  defer(() => b.close());
  await a.page.goto(web.url);
  await b.page.goto(web.url);

  // Both join the open conference through the SDK's call().
  const ra = await a.page.evaluate((o) => window.join(o), { host, alias: 'meet', name: 'Alice' });
  h.assert.equal(ra && ra.status, 200, `Alice call(): ${JSON.stringify(ra)}`);
  const rb = await b.page.evaluate((o) => window.join(o), { host, alias: 'meet', name: 'Bob' });
  h.assert.equal(rb && rb.status, 200, `Bob call(): ${JSON.stringify(rb)}`);
  for (const [pg, who] of [[a.page, 'Alice'], [b.page, 'Bob']]) {
    await pg.waitForFunction(() => window.rec.connected && window.rec.remote, null, { timeout: 30000 });
    await waitFramesRising(pg, `${who}'s composite frames`);
  }
  await waitColour(a.page, BLUE, "Bob's blue camera in Alice's composite");
  await waitColour(b.page, RED, "Alice's red camera in Bob's composite");
  await h.screenshot(a.page, 'pexip_sdk-alice');
  await a.page.waitForFunction(() => window.rec.participants.length === 2, null, { timeout: 10000 });
  h.assert.deepEqual((await a.page.evaluate(() => window.rec.participants)).sort(), ['Alice', 'Bob']);
  h.assert.equal(await a.page.evaluate(() => window.rec.me && window.rec.me.isHost), true);

  // Chat, raise hand, layout, renegotiation, all through the SDK.
  const sent = await a.page.evaluate(() => window.sdk().sendMessage({ type: 'text/plain', payload: 'hello from Alice' }));
  h.assert.equal(sent && sent.status, 200);
  await b.page.waitForFunction(() => window.rec.messages.some((m) => m.message === 'hello from Alice' && m.from === 'Alice' && !m.direct), null, { timeout: 10000 });
  h.assert.equal((await a.page.evaluate(() => window.rec.messages)).length, 0); // not echoed to the sender
  await b.page.evaluate(() => window.sdk().raiseHand({ raise: true }));
  await a.page.waitForFunction(() => window.rec.updated.some((u) => u.name === 'Bob' && u.raisedHand), null, { timeout: 10000 });
  const lay = await a.page.evaluate(() => window.sdk().setLayout({ transforms: { layout: '1:7' } }));
  h.assert.equal(lay && lay.data && lay.data.result, true);
  await b.page.waitForFunction(() => window.rec.layout && window.rec.layout.view === '1:7', null, { timeout: 10000 });
  await a.page.evaluate(() => window.sdk().setBandwidth(256));
  await h.waitFor(() => a.page.evaluate(() => window.__pexLog.some((e) => e.url.endsWith('/update') && e.status === 200)),
    { timeoutMs: 45000, what: "the SDK's update (renegotiation) answered" });
  await waitFramesRising(a.page, "Alice's composite after renegotiation");
  // A real ICE restart in the browser (what the SDK does on a stall or ICE failure):
  // new local ufrag → negotiationneeded → the SDK's update; media carries on.
  const iceOf = () => a.page.evaluate(() => {
    const pc = window.__pcs.find((x) => x.connectionState !== 'closed');
    return pc && pc.localDescription ? (pc.localDescription.sdp.match(/a=ice-ufrag:(\S+)/) || [])[1] : null;
  });
  const ufragBefore = await iceOf();
  const updatesBefore = await a.page.evaluate(() => window.__pexLog.filter((e) => e.url.endsWith('/update')).length);
  await a.page.evaluate(() => window.__pcs.filter((pc) => pc.connectionState !== 'closed').forEach((pc) => pc.restartIce()));
  await h.waitFor(() => a.page.evaluate((n) => window.__pexLog.filter((e) => e.url.endsWith('/update') && e.status === 200).length > n, updatesBefore),
    { timeoutMs: 45000, what: 'the update carrying the ICE restart' });
  await h.waitFor(async () => { const u = await iceOf(); return u && u !== ufragBefore; }, { what: 'a new local ufrag', timeoutMs: 20000 });
  await waitFramesRising(a.page, "Alice's composite after the ICE restart");
  await waitColour(a.page, BLUE, "Bob's camera after the ICE restart");
  h.assert.equal(await a.page.evaluate(() => window.__pcs.find((x) => x.connectionState !== 'closed').connectionState), 'connected');
  h.assert.equal(await a.page.evaluate(() => window.rec.errors.length), 0, JSON.stringify(await a.page.evaluate(() => window.rec.errors)));

  // Bob hangs up: Alice sees him leave.
  await b.page.evaluate(() => window.leave());
  await a.page.waitForFunction(() => window.rec.left.includes('Bob'), null, { timeout: 15000 });
  await a.page.waitForFunction(() => window.rec.participants.length === 1, null, { timeout: 10000 });
  h.assert.deepEqual(await a.page.evaluate(() => window.rec.participants), ['Alice']);

  // PIN flow on Bob's page: challenge, wrong PIN, guest PIN.
  const r403 = await b.page.evaluate((o) => window.join(o), { host, alias: 'board', name: 'Bob' });
  h.assert.equal(r403 && r403.status, 403);
  h.assert.deepEqual(await b.page.evaluate(() => window.rec.pinRequired), [{ hasHostPin: true, hasGuestPin: true }]);
  const rWrong = await b.page.evaluate((o) => window.join(o), { host, alias: 'board', name: 'Bob', pin: '0000' });
  h.assert.equal(rWrong && rWrong.status, 403);
  await b.page.waitForFunction(() => window.rec.errors.some((e) => e.error === 'Invalid PIN'), null, { timeout: 5000 });
  const rGuest = await b.page.evaluate((o) => window.join(o), { host, alias: 'board', name: 'Bob', pin: '5678' });
  h.assert.equal(rGuest && rGuest.status, 200);
  h.assert.equal(rGuest.data.result.role, 'GUEST');
  await b.page.waitForFunction(() => window.rec.connected && window.rec.remote, null, { timeout: 30000 });
  await b.page.evaluate(() => window.leave());

  // Unknown alias with ad hoc off.
  const r404 = await b.page.evaluate((o) => window.join(o), { host, alias: 'nowhere', name: 'Bob' });
  h.assert.equal(r404 && r404.status, 404);
  await b.page.waitForFunction(() => window.rec.errors.some((e) => e.error === 'Neither conference nor gateway found'), null, { timeout: 5000 });

  await a.page.evaluate(() => window.leave());
  await h.waitFor(async () => (await server.status()).participants === 0, { what: 'everyone gone', timeoutMs: 10000 });

  // Every response the SDK got passes the SDK's own validators.
  const log = [...await a.page.evaluate(() => window.__pexLog), ...await b.page.evaluate(() => window.__pexLog)];
  const { problems, seen } = validateLog(await loadValidators(), log);
  h.assert.deepEqual(problems, []);
  for (const must of ['RequestToken', 'CallsWebrtcParticipant', 'Ack', 'NewCandidate', 'Update', 'DisconnectCall',
    'ReleaseToken', 'MessageConference', 'TransformLayout', 'BuzzParticipant']) {
    h.assert.ok(seen.has(must), `no ${must} response was seen (${[...seen].join(', ')})`);
  }
  console.log(`validated ${log.length} responses from ${seen.size} endpoints`);
  // "Async Timeout" is the SDK's own job queue (@pexip/utils asyncQueue, 5 s per
  // job) rejecting unhandled when the browser is starved of CPU (ctest -j2 under
  // ASan); the call recovers and everything above was still checked.
  const pageErrors = [...a.consoleLines, ...b.consoleLines]
    .filter((l) => l.startsWith('[pageerror]') && l !== '[pageerror] Async Timeout');
  h.assert.deepEqual(pageErrors, []);
});
