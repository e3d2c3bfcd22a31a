/* A recording into a directory on a tiny filesystem (a tmpfs the test mounts, almost
 * filled up beforehand) runs out of space: the recording stops with the disk-full
 * reason (event, state, log line, /metrics counter) while the conference goes on
 * (the participant keeps receiving pictures; the conference is still live).
 *
 * Skipped (77) without media, or where the test may not mount a tmpfs (not root). */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');

const ALIAS = 'e2e-disk-full';

function mountTiny(dir) {
  fs.mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    return false;
  }
  // Leave 24 KB free: even a still composite (a few kB/s) fills it within seconds.
  fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(4 * 1024 * 1024 - 24 * 1024));
  return true;
}

async function framesDecoded(page) {
  return page.evaluate(async () => {
    let n = 0;
    (await window.tessera.pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') n += r.framesDecoded || 0;
    });
    return n;
  });
}

h.run('recording_disk_full', async ({ scratch, defer }) => {
  const mnt = path.join(scratch, 'tiny');
  if (!mountTiny(mnt)) h.skip('cannot mount a tmpfs here (needs root)');
  defer(() => execFileSync('umount', [mnt]));
  const server = await h.startServer({
    sections: { mixer: { canvas_width: 640, canvas_height: 360, fps: 24, video_bitrate_bps: 2000000 }, recording: { dir: mnt } },
  });
  defer(() => server.stop());
  if (!(await server.status()).media) h.skip('the server reports "media": false');
  const b = await h.launchBrowser(h.makeY4m(path.join(scratch, 'cam.y4m'), [220, 40, 40]));
  defer(() => b.close());
  const page = b.page;
  await page.goto(`${server.url}/c/${ALIAS}`);
  await page.fill('[data-testid=input-name]', 'Solo');
  await page.click('[data-testid=btn-join]');
  await h.waitForState(page, 'conference', 90000);
  await page.waitForFunction(() => document.querySelector('[data-testid=remote-video]').readyState >= 2, null, { timeout: 90000 });

  // The host starts recording from the web client's host menu.
  await page.click('[data-testid=btn-participants]');
  await page.click('[data-testid=btn-record]');
  await page.waitForSelector('[data-testid=recording-indicator]', { state: 'visible', timeout: 15000 });
  const failed = await page.waitForFunction(() => window.tessera.outputEvents.find((e) => e.kind === 'recording' && e.state === 'failed'), null, { timeout: 90000 });
  const ev = await failed.jsonValue();
  console.log(`recording event: ${JSON.stringify(ev)}`);
  h.assert.equal(ev.reason, 'disk full');
  await page.waitForSelector('[data-testid=recording-indicator]', { state: 'hidden', timeout: 15000 });

  // The conference goes on: pictures keep coming, the state is live, no recording.
  const before = await framesDecoded(page);
  await h.waitFor(async () => (await framesDecoded(page)) >= before + 10, { timeoutMs: 20000, what: 'frames to keep arriving after the disk filled' });
  const token = await page.evaluate(() => window.tessera.token);
  const r = await fetch(`${server.url}/api/v1/conferences/${ALIAS}`, { headers: { Authorization: `Bearer ${token}` } });
  const conf = await r.json();
  h.assert.equal(conf.live, true);
  h.assert.equal(conf.recording, null);
  h.assert.equal(conf.participants.length, 1);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  h.assert.match(metrics, /tessera_output_failures_total\{kind="recording",reason="disk_full"\} 1/);
  h.assert.match(fs.readFileSync(server.logFile, 'utf8'), /recording .*cannot write: disk full; it is stopped/);
  const files = fs.readdirSync(mnt).filter((f) => f.endsWith('.mkv'));
  h.assert.equal(files.length, 1, `files on the tiny filesystem: ${files}`);
  await page.click('[data-testid=btn-hangup]');
});
