/* PIN entry by DTMF with a real SIP endpoint: Debian's baresip 1.0 (plain RTP/AVP,
 * audio only) dials a PIN-protected conference, is answered into the lobby, and
 * types the PIN with `sndcode` (RFC 4733 telephone-events, payload type 101, '#'
 * to finish); it hears the lobby's prompt tones meanwhile. Right guest PIN: it appears in the roster (native API) as a guest.
 * Wrong then right host PIN: the wrong one is counted and the second try joins as
 * host. Three wrong PINs: baresip gets a BYE and the call closes; nobody joins.
 * An SDES-SRTP caller (mediaenc=srtp-mand) hears the prompt and joins with its PIN. */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const h = require('./lib/harness');
const bs = require('./lib/baresip');
const sm = require('./lib/sip_media');

const ALIAS = 'e2e-pin';

/* The share of a picture's pixels that are light (luma > 150): the lobby's text. */
function lightShare(png) {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', png, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
    { maxBuffer: 1 << 24 });
  if (r.status !== 0 || r.stdout.length === 0) return 0;
  let n = 0;
  for (const v of r.stdout) n += v > 150;
  return n / r.stdout.length;
}

h.run('sip_pin', async ({ scratch, defer }) => {
  bs.requireBaresip();
  const { server, uri } = await sm.startSipServer(defer, {
    allowAdhoc: false,
    conferences: [{ alias: ALIAS, name: 'Pin', host_pin: '1234', guest_pin: '5678' }],
  });
  const logText = () => fs.readFileSync(server.logFile, 'utf8');
  const count = (re) => (logText().match(re) || []).length;

  // A roster-only host watches the roster through the native API.
  const jr = await fetch(`${server.url}/api/v1/conferences/${ALIAS}/join`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ display_name: 'watcher', pin: '1234' }),
  });
  h.assert.equal(jr.status, 200);
  const { token } = await jr.json();
  const roster = async () => {
    const r = await fetch(`${server.url}/api/v1/conferences/${ALIAS}`,
      { headers: { authorization: `Bearer ${token}` } });
    return (await r.json()).participants || [];
  };
  const member = async (name) => (await roster()).find((p) => p.display_name === name);

  const dial = async (user, opts = {}) => {
    const phone = await bs.startBaresip(path.join(scratch, user), { hz: 440, user, ...opts });
    defer(() => phone.stop());
    phone.command('dial', uri(ALIAS));
    await h.waitFor(() => phone.events.some((e) => e.type === 'CALL_ESTABLISHED'),
      { timeoutMs: 30000, what: `${user}'s call to be answered into the lobby\n${phone.log().slice(-2000)}` });
    h.assert.equal(await member(user), undefined, `${user} is not in the roster before its PIN`);
    return phone;
  };
  const wrongPins = () => count(/wrong PIN \(\d of 3\)|PIN entry ends: 403 wrong PIN/g);

  // 1. The lobby's prompt: alice (with a camera, so her offer has video) hears the
  // 880 Hz beeps (two of 200 ms every 3 s) and sees the "enter PIN" picture (white
  // text on dark blue) before she types anything. Then the right guest PIN joins
  // her as a guest.
  const aliceDir = path.join(scratch, 'alice');
  const alice = await dial('alice', { y4m: h.makeY4m(path.join(scratch, 'alice.y4m'), [200, 40, 40], { frames: 30 }) });
  const picture = await h.waitFor(() => {
    alice.command('snapshot');
    const snap = bs.latestSnapshot(aliceDir);
    if (!snap) return false;
    const [blue] = bs.pngColourShares(snap, [[20, 40, 90]]);
    const white = lightShare(snap);
    if (blue > 0.6 && white > 0.005) {
      fs.mkdirSync(h.artifactsDir, { recursive: true });
      fs.copyFileSync(snap, path.join(h.artifactsDir, 'sip_pin-lobby-picture.png'));
      return [blue, white];
    }
    fs.rmSync(snap);
    return false;
  }, { timeoutMs: 30000, intervalMs: 1000, what: 'alice to see the "enter PIN" picture' });
  console.log(`alice sees the lobby picture: ${(picture[0] * 100).toFixed(0)} % blue, ${(picture[1] * 100).toFixed(1)} % light (text)`);
  const prompt = await h.waitFor(() => {
    const heard = bs.lastHeard(aliceDir, 3);
    return heard && bs.toneDb(heard, 880) > -40 && bs.toneDb(heard, 880);
  }, { timeoutMs: 20000, intervalMs: 500, what: 'alice to hear the PIN prompt (880 Hz)' });
  console.log(`alice hears the prompt: 880 Hz at ${prompt.toFixed(1)} dB over 3 s`);
  await alice.ask('sndcode', '5678#');
  const a = await h.waitFor(() => member('alice'),
    { timeoutMs: 20000, intervalMs: 300, what: `alice in the roster\n${logText().slice(-2000)}` });
  h.assert.equal(a.role, 'guest');

  // 2. A wrong PIN, then the right host PIN.
  const bob = await dial('bob');
  const before = wrongPins();
  await bob.ask('sndcode', '1111#');
  await h.waitFor(() => wrongPins() === before + 1, { timeoutMs: 20000, what: 'the wrong PIN to be refused' });
  h.assert.equal(await member('bob'), undefined);
  await bob.ask('sndcode', '1234#');
  const b = await h.waitFor(() => member('bob'),
    { timeoutMs: 20000, intervalMs: 300, what: `bob in the roster\n${logText().slice(-2000)}` });
  h.assert.equal(b.role, 'host');

  // 3. Three wrong PINs: BYE.
  const carol = await dial('carol');
  for (const [i, pin] of ['1#', '22#', '333#'].entries()) {
    const n = wrongPins();
    await carol.ask('sndcode', pin);
    await h.waitFor(() => wrongPins() === n + 1, { timeoutMs: 20000, what: `wrong PIN ${i + 1} to be refused` });
  }
  const closed = await h.waitFor(() => carol.events.find((e) => e.type === 'CALL_CLOSED'),
    { timeoutMs: 20000, what: `carol's call to be closed by our BYE\n${carol.log().slice(-2000)}` });
  console.log(`carol: CALL_CLOSED "${closed.param}"`);
  h.assert.match(logText(), /PIN entry ends: 403 wrong PIN/);
  h.assert.equal(await member('carol'), undefined, 'carol never joined');
  // 4. An SDES-SRTP caller (RTP/SAVP, srtp-mand): its lobby is keyed too; it hears
  // the prompt through SRTP, and its keys (RFC 4733 in SRTP) join it as a guest.
  const dave = await dial('dave', { mediaenc: 'srtp-mand' });
  await h.waitFor(() => {
    const heard = bs.lastHeard(path.join(scratch, 'dave'), 3);
    return heard && bs.toneDb(heard, 880) > -40;
  }, { timeoutMs: 20000, intervalMs: 500, what: 'dave to hear the PIN prompt over SRTP' });
  await dave.ask('sndcode', '5678#');
  const d = await h.waitFor(() => member('dave'),
    { timeoutMs: 20000, intervalMs: 300, what: `dave (SRTP) in the roster\n${logText().slice(-2000)}` });
  h.assert.equal(d.role, 'guest');

  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  h.assert.match(metrics, /tessera_sip_pin_entries_total\{result="right"\} 3/);
  h.assert.match(metrics, /tessera_sip_pin_entries_total\{result="wrong"\} 4/);
  h.assert.match(metrics, /tessera_sip_pin_entries_total\{result="hung_up"\} 1/);
  // Alice and bob are in with media: the call's media became the participant's.
  const roster2 = await roster();
  console.log('roster:', roster2.map((p) => `${p.display_name}/${p.role}`).join(', '));
});
