/* Recording and live streaming of a conference of three Chromium participants,
 * each with a camera of its own colour and a microphone of its own tone.
 *
 * 1. A host starts a recording by the native API; every page shows the indicator.
 * 2. The host starts an RTMP stream to a private nginx-rtmp (it shares the
 *    recording's encoder); pulled back with ffmpeg it holds the composite (all
 *    three colours) and the three tones.
 * 3. The recording is stopped: one H.264 + one Opus stream, the duration of the
 *    recording (± 1 s, around the span the client measured between the requests and
 *    their answers), all three colours in the pictures and the three tones.
 * 4. nginx is killed: the stream reports reconnecting; nginx comes back: the
 *    stream is active again and pulls again; the host removes it.
 * 5. A second recording runs while the server is SIGKILLed: the file still probes
 *    and decodes up to a few seconds before the kill.
 *
 * Everything waits for what it needs (states, pages, bytes on disk), never for a
 * time: on a loaded machine each step may take many seconds. A participant's
 * microphone can go quiet for seconds when its browser is starved, so a pull
 * without every tone is pulled again (up to three times); the colours must be
 * in every pull.
 *
 * Skipped (77) without media in the server, or without nginx and its RTMP module. */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');
const mc = require('./lib/media_check');
const rtmp = require('./lib/nginx_rtmp');

const PEOPLE = [
  { name: 'Red', rgb: [220, 40, 40], tone: 500 },
  { name: 'Green', rgb: [40, 200, 60], tone: 800 },
  { name: 'Blue', rgb: [40, 80, 230], tone: 1300 },
];
const REF_FREQS = [650, 1050, 1700]; // nobody sends these
const ALIAS = 'e2e-recording';
const PALETTE = PEOPLE.map((p) => p.rgb);

/* token(): the participant's current token (each refresh rotates it, and a
 * replaced one lapses at its own expiry: read it per call). */
function api(server, token) {
  return async (method, rel, body) => {
    const r = await fetch(`${server.url}/api/v1/conferences/${ALIAS}${rel}`, {
      method,
      headers: { Authorization: `Bearer ${await token()}`, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };
}

/* Waits until the conference state satisfies pred (its recording / streams). */
async function waitState(call, pred, what, timeoutMs = 30000) {
  let last = null;
  await h.waitFor(async () => {
    last = (await call('GET', '')).body;
    return pred(last);
  }, { timeoutMs, intervalMs: 250, what: `${what} (state ${JSON.stringify(last && { recording: last.recording, streams: last.streams })})` });
  return last;
}

function assertColours(frames, what) {
  const full = frames.filter((f) => f.every((share) => share >= 0.02));
  console.log(`${what}: ${frames.length} pictures, ${full.length} with all three colours; last ${JSON.stringify(frames[frames.length - 1])}`);
  h.assert.ok(full.length >= Math.min(3, frames.length - 1), `${what}: all three colours in too few pictures`);
}

/* Names of the people whose tone is not clearly above the frequencies nobody sends. */
function tonesMissing(t) {
  const refMax = Math.max(...t.refs);
  return PEOPLE.filter((p, i) => !(t.tones[i] > 5 * refMax && t.tones[i] > 0.5)).map((p) => `${p.name}'s ${p.tone} Hz`);
}

function assertTones(t, what) {
  console.log(`${what}: ${t.seconds.toFixed(1)} s of audio, tone power ${t.tones.map((x) => x.toFixed(2))} vs off-tone ${t.refs.map((x) => x.toFixed(2))}`);
  const missing = tonesMissing(t);
  h.assert.equal(missing.length, 0, `${what}: ${missing.join(', ')} tone missing`);
}

async function joinAll(server, scratch, defer) {
  const clients = [];
  for (const p of PEOPLE) {
    const cam = h.makeY4m(path.join(scratch, `${p.name}.y4m`), p.rgb, { width: 160, height: 120 });
    const wav = h.makeToneWav(path.join(scratch, `${p.name}.wav`), p.tone, { amplitude: 0.4, beeps: true });
    const b = await h.launchBrowser(cam, { wav });
    defer(() => b.close());
    clients.push({ ...p, b, page: b.page });
  }
  for (const c of clients) {
    await c.page.goto(`${server.url}/c/${ALIAS}`, { timeout: 90000 });
    await c.page.fill('[data-testid=input-name]', c.name);
    await c.page.click('[data-testid=btn-join]');
    await h.waitForState(c.page, 'conference', 90000);
  }
  for (const c of clients) {
    await c.page.waitForFunction(() => {
      const v = document.querySelector('[data-testid=remote-video]');
      return v.videoWidth > 0 && v.readyState >= 2;
    }, null, { timeout: 90000 });
  }
  return clients;
}

/* Pulls `seconds` of the stream into a file and checks colours (and tones) in it;
 * a pull where a tone is missing is repeated, up to `attempts` pulls in all. */
async function pullAndCheck(url, file, seconds, what, { tones = true, attempts = 3 } = {}) {
  for (let i = 1; ; i++) {
    const r = await mc.run('ffmpeg', ['-v', 'error', '-rw_timeout', '15000000', '-i', url, '-t', String(seconds), '-c', 'copy', '-y', file], { timeoutMs: 120000 });
    h.assert.equal(r.code, 0, `${what}: pulling ${url} failed: ${r.stderr}`);
    const p = await mc.probe(file);
    console.log(`${what}: ${JSON.stringify(p.streams)}`);
    h.assert.deepEqual(p.streams.map((s) => `${s.type}:${s.codec}`).sort(), ['audio:aac', 'video:h264']);
    assertColours(await mc.colourShares(file, PALETTE), what);
    if (!tones) return;
    const t = await mc.tones(file, PEOPLE.map((x) => x.tone), REF_FREQS);
    if (i >= attempts || tonesMissing(t).length === 0) {
      assertTones(t, what);
      return;
    }
    console.log(`${what}: ${tonesMissing(t).join(', ')} not heard in pull ${i}; pulling again`);
  }
}

async function streamStart(call, scratch, defer) {
  const port = await h.freePort();
  const nginx = rtmp.create(path.join(scratch, 'nginx'), port);
  defer(() => nginx.stop());
  await nginx.start();
  const url = nginx.url('tessera');
  const r = await call('POST', '/streams', { url });
  h.assert.equal(r.status, 201, JSON.stringify(r.body));
  const id = r.body.id;
  await waitState(call, (s) => s.streams.some((x) => x.id === id && x.state === 'active'), 'the stream to be active');
  // nginx starts a player at a keyframe (wait_key), so the pull waits for one itself.
  await pullAndCheck(url, path.join(scratch, 'pull1.flv'), 8, 'RTMP pull');
  return { nginx, url, id };
}

async function streamRestart(call, scratch, { nginx, url, id }) {
  await nginx.stop();
  await waitState(call, (s) => s.streams.some((x) => x.id === id && x.state === 'reconnecting'), 'the stream to report reconnecting');
  await nginx.start();
  await waitState(call, (s) => s.streams.some((x) => x.id === id && x.state === 'active'), 'the stream to be active again', 60000);
  await pullAndCheck(url, path.join(scratch, 'pull2.flv'), 4, 'RTMP pull after nginx restarted', { tones: false });

  const d = await call('DELETE', `/streams/${id}`);
  h.assert.equal(d.status, 204);
  await waitState(call, (s) => s.streams.length === 0, 'the stream to be gone');
}

/* span: the recording ran at least `min` s (from the start's answer to the stop's
 * request) and at most `max` s (from the start's request to the stop's answer); on
 * an idle machine the two are milliseconds apart, on a starved one this client may
 * see an answer seconds after the server gave it. */
async function checkRecording(file, span) {
  const p = await mc.probe(file);
  console.log(`recording ${path.basename(file)}: duration ${p.duration} s (recorded ${span.min.toFixed(1)}..${span.max.toFixed(1)} s), ${JSON.stringify(p.streams)}`);
  h.assert.deepEqual(p.streams.map((s) => `${s.type}:${s.codec}`), ['video:h264', 'audio:opus']);
  h.assert.ok(p.duration >= span.min - 1 && p.duration <= span.max + 1, `duration ${p.duration} s, expected ${span.min.toFixed(1)} - 1 .. ${span.max.toFixed(1)} + 1 s`);
  const dec = await mc.decodes(file);
  h.assert.ok(dec.ok, `the recording does not decode: ${dec.errors}`);
  assertColours(await mc.colourShares(file, PALETTE), 'recording');
  assertTones(await mc.tones(file, PEOPLE.map((x) => x.tone), REF_FREQS), 'recording');
}

h.run('recording_streaming', async ({ scratch, defer }) => {
  if (!rtmp.available()) h.skip('nginx with the RTMP module is not installed (scripts/deps.sh test)');
  const recDir = path.join(scratch, 'recordings');
  const server = await h.startServer({
    sections: {
      mixer: { canvas_width: 320, canvas_height: 180, fps: 15 },
      recording: { dir: recDir },
      streaming: { retry_max_s: 2, connect_timeout_s: 5 },
    },
  });
  defer(() => server.stop());
  if (!(await server.status()).media) {
    await server.stop();
    h.skip('the server reports "media": false');
  }
  const clients = await joinAll(server, scratch, defer);
  const call = api(server, () => clients[0].page.evaluate(() => window.tessera.token));

  // 1. Recording starts; everyone sees it.
  const tStartAsked = Date.now();
  const started = await call('POST', '/recording', { action: 'start' });
  const tStarted = Date.now();
  h.assert.equal(started.status, 201, JSON.stringify(started.body));
  const file = path.join(recDir, started.body.recording.file);
  h.assert.match(path.basename(file), new RegExp(`^${ALIAS}-\\d{8}T\\d{6}Z\\.mkv$`));
  h.assert.equal((await call('POST', '/recording', { action: 'start' })).status, 409);
  await waitState(call, (s) => s.recording && s.recording.state === 'active', 'the recording to be active');
  for (const c of clients) {
    await c.page.waitForSelector('[data-testid=recording-indicator]', { state: 'visible', timeout: 15000 });
  }
  await h.screenshot(clients[1].page, 'recording-indicator');

  // 2. Streaming beside the recording.
  const stream = await streamStart(call, scratch, defer);

  // 3. Stop; check the file.
  const tStopAsked = Date.now();
  const stopped = await call('POST', '/recording', { action: 'stop' });
  const span = { min: (tStopAsked - tStarted) / 1000, max: (Date.now() - tStartAsked) / 1000 };
  h.assert.equal(stopped.status, 200);
  await waitState(call, (s) => s.recording === null, 'the recording to finish');
  for (const c of clients) {
    await c.page.waitForSelector('[data-testid=recording-indicator]', { state: 'hidden', timeout: 15000 });
  }
  await checkRecording(file, span);

  // 4. nginx goes away and comes back.
  await streamRestart(call, scratch, stream);

  // 5. SIGKILL during a recording.
  const again = await call('POST', '/recording', { action: 'start' });
  h.assert.equal(again.status, 201);
  const file2 = path.join(recDir, again.body.recording.file);
  await waitState(call, (s) => s.recording && s.recording.state === 'active', 'the second recording to be active');
  // Killed once the file on disk holds 6 s of pictures (what ffprobe reads of it then).
  let before = 0;
  await h.waitFor(async () => {
    const v = fs.existsSync(file2) && (await mc.probe(file2).catch(() => null));
    before = (v && (v.streams.find((s) => s.type === 'video') || {}).last) || 0;
    return before >= 6;
  }, { timeoutMs: 60000, intervalMs: 500, what: `6 s of video in ${file2} (last ${before} s)` });
  const t1 = Date.now();
  await server.kill();
  const killedAfter = before + (Date.now() - t1) / 1000;
  const p = await mc.probe(file2);
  const video = p.streams.find((s) => s.type === 'video');
  console.log(`killed with ${before.toFixed(1)} s of video on disk: ${fs.statSync(file2).size} bytes, ${JSON.stringify(p.streams)}`);
  h.assert.ok(video && p.streams.some((s) => s.type === 'audio'), 'the killed recording lacks a stream');
  h.assert.ok(video.last >= before && video.last >= killedAfter - 3, `the killed recording ends at ${video.last} s; ${before} s were on disk just before the kill`);
  const dec = await mc.decodes(file2);
  console.log(`killed recording decodes: ${dec.ok} ${dec.errors.split('\n').slice(0, 3).join(' | ')}`);
  h.assert.ok(dec.ok, `the killed recording does not decode: ${dec.errors}`);
  assertColours(await mc.colourShares(file2, PALETTE), 'killed recording');
});
