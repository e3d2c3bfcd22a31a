/* The conference view against a real server, one browser: alone card, mic and
 * camera buttons reach the API, the host's layout picker and lock, roster updates
 * over SSE when someone joins, the host removes them, the token rotates at each
 * refresh (the old one lapses, the client carries on), hang up. Needs media (the
 * browser joins with its offer); skipped (exit 77) when /api/v1/status says
 * "media": false. */
'use strict';
const path = require('node:path');
const h = require('./lib/harness');

const ALIAS = 'ui-room';

h.run('conference_ui', async ({ scratch, defer }) => {
  // A STUN server for clients ([webrtc] turn_servers): loopback, nothing answers there.
  // An 18 s token TTL: the client refreshes every 6 s, each refresh a new token.
  const server = await h.startServer({ tokenTtlS: 18, sections: { mixer: { canvas_width: 320, canvas_height: 180 },
    webrtc: { turn_servers: 'stun:127.0.0.1:3478' } } });
  defer(() => server.stop());
  if (!(await server.status()).media) {
    await server.stop();
    h.skip('the server reports "media": false in /api/v1/status (WebRTC media not wired)');
  }
  // A silent microphone: the server's answer asks for DTX ([audio] client_dtx), so
  // Chromium sends its silence as a packet every 400 ms or so, not 50 a second.
  const b = await h.launchBrowser(h.makeY4m(path.join(scratch, 'cam.y4m'), [220, 40, 40]),
    { wav: h.makeToneWav(path.join(scratch, 'silence.wav'), 440, { amplitude: 0 }) });
  defer(() => b.close());
  const { page } = b;
  const api = async (method, p, body, token) => {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await fetch(`${server.url}/api/v1${p}`, { method, headers, body: body && JSON.stringify(body) });
    return { status: r.status, data: r.status === 204 ? null : await r.json() };
  };

  await page.goto(`${server.url}/c/${ALIAS}`);
  await page.fill('[data-testid=input-name]', 'Quinn');
  await page.click('[data-testid=btn-join]');
  await h.waitForState(page, 'conference', 90000);
  const token = await page.evaluate(() => window.tessera.token);
  const me = await page.evaluate(() => window.tessera.participantId);
  h.assert.equal(await page.evaluate(() => window.tessera.role), 'host');
  // the web client configured its peer connection with the server's ICE servers
  h.assert.deepEqual(await page.evaluate(() => window.tessera.pc.getConfiguration().iceServers.map((s) => [].concat(s.urls))),
    [['stun:127.0.0.1:3478']]);
  h.assert.equal(await page.textContent('[data-testid=topbar-conference] #topbar-name'), ALIAS);
  await page.waitForSelector('[data-testid=stage-alone]', { state: 'visible' });
  h.assert.match(await page.evaluate(() => window.tessera.pc.remoteDescription.sdp), /a=fmtp:\d+ [^\r\n]*usedtx=1/);
  const audioSent = () => page.evaluate(async () => {
    let n = 0;
    (await window.tessera.pc.getStats()).forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'audio') n = s.packetsSent; });
    return n;
  });
  const sent0 = await audioSent();
  const t0 = Date.now();
  await h.waitFor(async () => Date.now() - t0 >= 4000, { what: '4 s of silence' });
  const silentRate = ((await audioSent()) - sent0) / ((Date.now() - t0) / 1000);
  h.assert.ok(silentRate < 15, `a silent microphone under DTX sent ${silentRate.toFixed(1)} packets/s`);
  await h.screenshot(page, 'conference_ui-alone');

  const current = () => page.evaluate(() => window.tessera.token);
  const self = async () => (await api('GET', `/conferences/${ALIAS}`, null, await current())).data.participants.find((p) => p.id === me);
  await page.click('[data-testid=btn-mic]');
  h.assert.equal(await page.getAttribute('[data-testid=btn-mic]', 'aria-pressed'), 'true');
  await h.waitFor(async () => (await self()).muted === true, { what: 'muted on the server' });
  await page.click('[data-testid=btn-camera]');
  await h.waitFor(async () => (await self()).video_muted === true, { what: 'video muted on the server' });
  await page.click('[data-testid=btn-camera]');
  await h.waitFor(async () => (await self()).video_muted === false, { what: 'video unmuted on the server' });

  // Host tools: layout and lock.
  await page.click('[data-testid=btn-participants]');
  await page.selectOption('[data-testid=layout-picker]', 'speaker');
  await h.waitFor(async () => (await api('GET', `/conferences/${ALIAS}`)).data.layout === 'speaker', { what: 'layout speaker' });
  await page.check('[data-testid=lock-toggle]');
  await h.waitFor(async () => (await api('GET', `/conferences/${ALIAS}`)).data.locked === true, { what: 'locked' });
  h.assert.equal((await api('POST', `/conferences/${ALIAS}/join`, { display_name: 'Late' })).status, 409);
  await page.uncheck('[data-testid=lock-toggle]');
  await h.waitFor(async () => (await api('GET', `/conferences/${ALIAS}`)).data.locked === false, { what: 'unlocked' });

  // Someone joins (roster only): the page's roster grows over SSE; the host removes them.
  const other = await api('POST', `/conferences/${ALIAS}/join`, { display_name: 'Visitor' });
  h.assert.equal(other.status, 200);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=roster-item]').length === 2);
  h.assert.equal(await page.isVisible('[data-testid=stage-alone]'), false);
  await h.screenshot(page, 'conference_ui-roster');
  await page.click(`[data-participant-id="${other.data.participant_id}"] [data-testid=btn-kick]`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=roster-item]').length === 1);
  h.assert.equal((await api('POST', `/participants/${other.data.participant_id}/refresh`, null, other.data.token)).status, 401);

  // Token rotation: the client took a new token at a refresh; the join's token
  // cannot refresh, and lapses at its own expiry while the client stays in.
  await h.waitFor(async () => (await current()) !== token, { timeoutMs: 30000, what: 'a refresh rotated the token' });
  h.assert.equal((await api('POST', `/participants/${me}/refresh`, null, token)).status, 401);
  await h.waitFor(async () => (await api('POST', `/participants/${me}/candidates`, { sdpMid: '0' }, token)).status === 401,
    { timeoutMs: 30000, what: "the join's token lapsed" });
  h.assert.equal((await api('POST', `/participants/${me}/candidates`, { sdpMid: '0' }, await current())).status, 400);
  h.assert.equal(await page.evaluate(() => window.tessera.state), 'conference');
  const late = await api('POST', `/conferences/${ALIAS}/join`, { display_name: 'Late' });
  h.assert.equal(late.status, 200);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=roster-item]').length === 2);
  h.assert.equal((await api('POST', `/participants/${late.data.participant_id}/leave`, null, late.data.token)).status, 204);

  // Hang up: the left screen, and the server forgets us.
  await page.click('[data-testid=btn-hangup]');
  await h.waitForState(page, 'left');
  await h.waitFor(async () => (await server.status()).participants === 0, { what: 'no participants left' });
  await h.screenshot(page, 'conference_ui-left');
});
