/* Browser-test harness: fake cameras, a Tessera server on a free port, headless
 * Debian chromium through playwright-core, screenshots as artefacts.
 *
 * Each e2e test is a plain node script run by ctest: exit 0 pass, 1 fail,
 * 77 skipped (SKIP_RETURN_CODE), with the reason printed. */
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const SKIP = 77;
const sourceDir = process.env.TSR_SOURCE_DIR || path.resolve(__dirname, '../../..');
const buildDir = process.env.TSR_BUILD_DIR || path.join(sourceDir, 'build');
const artifactsDir = process.env.TSR_E2E_ARTIFACTS || path.join(buildDir, 'e2e-artifacts');
const chromiumPath = process.env.TSR_CHROMIUM || '/usr/bin/chromium';

const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--disable-background-networking',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  // Background tabs must keep decoding: several participants share one browser process.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

function skip(reason) {
  console.log(`SKIPPED: ${reason}`);
  process.exit(SKIP);
}

function loadPlaywright() {
  try {
    return require('playwright-core');
  } catch (e) {
    skip('playwright-core is not installed; run scripts/e2e-setup.sh (make test does)');
  }
  return null;
}

/* ---------- fake camera files ---------- */

/* BT.601 limited range, what Chromium assumes for I420 from a .y4m file. */
function rgbToYuv([r, g, b]) {
  const y = Math.round(16 + (65.738 * r + 129.057 * g + 25.064 * b) / 256);
  const u = Math.round(128 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256);
  const v = Math.round(128 + (112.439 * r - 94.154 * g - 18.285 * b) / 256);
  const clamp = (x) => Math.max(0, Math.min(255, x));
  return [clamp(y), clamp(u), clamp(v)];
}

/* A solid-colour YUV4MPEG2 clip (Chromium loops it), 320x240. A small white
 * square moves along the top edge, one step per frame: the server composes at
 * its full rate only while something moves (a still picture drops to 5 fps), and
 * the square covers under 1% of the frame so the colour still dominates. */
function makeY4m(file, rgb, { width = 320, height = 240, frames = 15, fps = 30 } = {}) {
  const [y, u, v] = rgbToYuv(rgb);
  const ySize = width * height;
  const cSize = (width / 2) * (height / 2);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`, 'ascii');
  const parts = [header];
  const side = 16;
  for (let f = 0; f < frames; f++) {
    const frame = Buffer.alloc(6 + ySize + 2 * cSize);
    frame.write('FRAME\n', 0, 'ascii');
    frame.fill(y, 6, 6 + ySize);
    frame.fill(u, 6 + ySize, 6 + ySize + cSize);
    frame.fill(v, 6 + ySize + cSize);
    const x0 = Math.floor((f * (width - side)) / Math.max(1, frames - 1)) & ~1;
    for (let row = 4; row < 4 + side; row++) frame.fill(235, 6 + row * width + x0, 6 + row * width + x0 + side);
    for (let row = 2; row < 2 + side / 2; row++) {
      const off = row * (width / 2) + x0 / 2;
      frame.fill(128, 6 + ySize + off, 6 + ySize + off + side / 2);
      frame.fill(128, 6 + ySize + cSize + off, 6 + ySize + cSize + off + side / 2);
    }
    parts.push(frame);
  }
  fs.writeFileSync(file, Buffer.concat(parts));
  return file;
}

/* A 16-bit mono WAV (48 kHz unless `rate` says) of a sine at `hz`, `seconds` long:
 * a fake microphone (--use-file-for-fake-audio-capture loops it) whose tone a
 * listener can find in the mix. beeps: 0.6 s on, 0.4 s off, for a client whose
 * noise suppression would learn a steady tone as noise and remove it. */
function makeToneWav(file, hz, { seconds = 2, amplitude = 0.5, beeps = false, rate = 48000 } = {}) {
  const n = rate * seconds;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const on = !beeps || (i % rate) < 0.6 * rate;
    const v = on ? Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * hz * i) / rate)) : 0;
    data.writeInt16LE(v, i * 2);
  }
  const hdr = Buffer.alloc(44);
  hdr.write('RIFF', 0, 'ascii');
  hdr.writeUInt32LE(36 + data.length, 4);
  hdr.write('WAVEfmt ', 8, 'ascii');
  hdr.writeUInt32LE(16, 16);
  hdr.writeUInt16LE(1, 20); // PCM
  hdr.writeUInt16LE(1, 22); // mono
  hdr.writeUInt32LE(rate, 24);
  hdr.writeUInt32LE(rate * 2, 28);
  hdr.writeUInt16LE(2, 32);
  hdr.writeUInt16LE(16, 34);
  hdr.write('data', 36, 'ascii');
  hdr.writeUInt32LE(data.length, 40);
  fs.writeFileSync(file, Buffer.concat([hdr, data]));
  return file;
}

/* ---------- server ---------- */

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn, { timeoutMs = 10000, intervalMs = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(intervalMs);
  }
  const desc = typeof what === 'function' ? what() : what; // a function: the state at the timeout
  throw new Error(`timed out waiting for ${desc} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

/* Starts build/tessera with a temporary config. opts: {allowAdhoc, conferences,
 * sections: {mixer: {canvas_width: 640}, …} added verbatim, port: a fixed port (a
 * restart on the same address)}. */
async function startServer(opts = {}) {
  const bin = path.join(buildDir, 'tessera');
  if (!fs.existsSync(bin)) throw new Error(`${bin} does not exist; build first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-e2e-'));
  const port = opts.port || (await freePort());
  let conf = `[server]\nlisten = 127.0.0.1:${port}\n\n[log]\nlevel = info\n\n[conferences]\n`;
  conf += `allow_adhoc = ${opts.allowAdhoc === false ? 'false' : 'true'}\n`;
  if (opts.tokenTtlS) conf += `token_ttl_s = ${opts.tokenTtlS}\n`;
  if (opts.conferences) {
    const file = path.join(dir, 'conferences.json');
    fs.writeFileSync(file, JSON.stringify({ conferences: opts.conferences }));
    conf += `file = ${file}\n`;
  }
  // SIP listens on 0.0.0.0:5060 by default: off unless a test configures [sip] itself,
  // so tests running side by side do not fight over the port.
  const sections = { sip: { enabled: 'false' }, ...(opts.sections || {}) };
  // A browser starved on two loaded cores can go quiet for seconds; the "reconnecting"
  // placeholder ([mixer] media_timeout_s, 5 s) would then replace a camera that colour
  // checks expect. Tests wait 20 s unless they set it (e2e/media_timeout does).
  sections.mixer = { media_timeout_s: 20, ...(sections.mixer || {}) };
  for (const [section, keys] of Object.entries(sections)) {
    conf += `\n[${section}]\n`;
    for (const [k, v] of Object.entries(keys)) conf += `${k} = ${v}\n`;
  }
  fs.writeFileSync(path.join(dir, 'tessera.conf'), conf);
  const logFile = path.join(dir, 'tessera.log');
  let log = fs.openSync(logFile, 'w');
  // ASan's default fast unwinder: the slow one (fast_unwind_on_malloc=0) walks
  // DWARF on every malloc and free, which made the server so slow that a third
  // browser's ICE checks waited 15 s in the socket buffer. No library leak needs
  // a full stack to be suppressed any more (tests/lsan.supp).
  const env = { ...process.env };
  const child = spawn(bin, ['--config', path.join(dir, 'tessera.conf')], { stdio: ['ignore', log, log], env });
  let exited = null;
  let killed = false;
  const exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); }));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (exited) throw new Error(`tessera exited early: ${fs.readFileSync(logFile, 'utf8')}`);
      const r = await fetch(`${url}/healthz`);
      return r.ok;
    }, { what: 'tessera /healthz', timeoutMs: 20000 });
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    url,
    port,
    logFile,
    async status() {
      const r = await fetch(`${url}/api/v1/status`);
      return r.json();
    },
    pid: child.pid,
    /* SIGKILL (a crash): stop() afterwards only collects the log. */
    async kill() {
      killed = true;
      child.kill('SIGKILL');
      await exitPromise;
    },
    /* SIGTERM, then the exit status must be clean (ASan/LSan report leaks as 1). */
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const res = await Promise.race([exitPromise, sleep(15000).then(() => null)]);
      if (!res) {
        child.kill('SIGKILL');
        throw new Error('tessera did not stop within 15 s of SIGTERM');
      }
      if (log !== null) fs.closeSync(log);
      log = null;
      const text = fs.readFileSync(logFile, 'utf8');
      fs.mkdirSync(artifactsDir, { recursive: true });
      fs.writeFileSync(path.join(artifactsDir, `${path.basename(process.argv[1], '.js')}-server.log`), text);
      if (res.code !== 0 && !killed) throw new Error(`tessera exited with ${res.code ?? res.signal}:\n${text.slice(-4000)}`);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/* ---------- browser ---------- */

/* One headless chromium with its own fresh profile and fake camera `y4m`.
 * opts: {wav: fake microphone file (looped), args: more flags, executablePath}. */
async function launchBrowser(y4m, opts = {}) {
  if (!fs.existsSync(chromiumPath)) skip(`${chromiumPath} not found (install Debian's chromium)`);
  const { chromium } = loadPlaywright();
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-chromium-'));
  const args = [...CHROMIUM_FLAGS, ...(opts.args || [])];
  if (y4m) args.push(`--use-file-for-fake-video-capture=${y4m}`);
  if (opts.wav) args.push(`--use-file-for-fake-audio-capture=${opts.wav}`);
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: opts.executablePath || chromiumPath,
    headless: true,
    args,
    viewport: { width: 1280, height: 800 },
    permissions: ['camera', 'microphone', 'clipboard-read', 'clipboard-write'],
  });
  const page = context.pages()[0] || (await context.newPage());
  let crashed = false;
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
  return {
    context,
    page,
    consoleLines,
    async close() {
      if (!crashed) await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
    /* SIGKILL every process of this browser (a crash: nothing is said to the
     * server, no leave, no DTLS close). Matched by its own profile directory, so
     * no other browser is touched. */
    crash() {
      crashed = true;
      require('node:child_process').spawnSync('pkill', ['-KILL', '-f', `user-data-dir=${userDataDir}`]);
    },
  };
}

async function screenshot(page, name) {
  fs.mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`screenshot: ${file}`);
  return file;
}

/* Waits until the client shows `state` (window.tessera.state). */
async function waitForState(page, state, timeoutMs = 15000) {
  await page.waitForFunction((s) => window.tessera && window.tessera.state === s, state, { timeout: timeoutMs });
}

/* Runs `body` with a scratch dir; prints the failure and exits 1 on error. */
async function run(name, body) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `tessera-${name}-`));
  const cleanups = [];
  const t0 = Date.now();
  try {
    await body({ scratch, defer: (fn) => cleanups.unshift(fn) });
    for (const fn of cleanups.splice(0)) await fn();
    console.log(`PASS ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    fs.rmSync(scratch, { recursive: true, force: true });
    process.exit(0);
  } catch (e) {
    console.error(`FAIL ${name}: ${e.stack || e}`);
    for (const fn of cleanups) {
      try { await fn(); } catch (e2) { console.error(`cleanup: ${e2.message}`); }
    }
    process.exit(1);
  }
}

/* ---------- pictures and pages ---------- */

/* Fraction of a cols x rows grid of samples of the video `selector` (in `page`)
 * close (RGB distance < 70) to each colour of `palette`; zeros before the first frame. */
async function colourShares(page, selector, palette, { cols = 32, rows = 18 } = {}) {
  return page.evaluate(({ sel, pal, cols: nx, rows: ny }) => {
    const v = document.querySelector(sel);
    if (!v || !v.videoWidth) return pal.map(() => 0);
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(v, 0, 0);
    const counts = pal.map(() => 0);
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const d = g.getImageData(Math.floor(((x + 0.5) * c.width) / nx), Math.floor(((y + 0.5) * c.height) / ny), 1, 1).data;
        pal.forEach((p, i) => {
          if (Math.hypot(d[0] - p[0], d[1] - p[1], d[2] - p[2]) < 70) counts[i]++;
        });
      }
    }
    return counts.map((n) => n / (nx * ny));
  }, { sel: selector, pal: palette, cols, rows });
}

/* A server for a test that needs media: startServer(opts), stopped by `defer`;
 * the test is skipped (exit 77) while the server reports "media": false. */
async function startMediaServer(defer, opts = {}) {
  const server = await startServer(opts);
  defer(() => server.stop());
  if (!(await server.status()).media) {
    await server.stop();
    skip('the server reports "media": false in /api/v1/status');
  }
  return server;
}

/* One browser per person ({name, rgb, …}), each with a fake camera of its colour
 * (`camera`: makeY4m's size options) and browser(person)'s launchBrowser options
 * (a microphone file, flags). Closed by `defer`. Returns [{...person, b, page}]. */
async function launchPeople(people, scratch, defer, { camera = {}, browser = () => ({}) } = {}) {
  const clients = [];
  for (const p of people) {
    const cam = makeY4m(path.join(scratch, `${p.name}.y4m`), p.rgb, camera);
    const b = await launchBrowser(cam, browser(p));
    defer(() => b.close());
    clients.push({ ...p, b, page: b.page });
  }
  return clients;
}

/* Serves `files` ({'/path': [file, content-type]}) on another origin than Tessera
 * (a free port on 127.0.0.1), as apps embedding an SDK do. */
function serveFiles(files) {
  const srv = require('node:http').createServer((req, res) => {
    const f = files[new URL(req.url, 'http://x').pathname];
    if (!f) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': f[1], 'Cache-Control': 'no-store' });
    fs.createReadStream(f[0]).pipe(res);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${srv.address().port}/`,
    close: () => new Promise((r) => srv.close(r)),
  })));
}

module.exports = {
  assert, artifactsDir, buildDir, sourceDir, CHROMIUM_FLAGS, SKIP,
  makeY4m, makeToneWav, rgbToYuv, startServer, launchBrowser, screenshot, waitFor, waitForState, sleep, skip, run,
  colourShares, serveFiles, freePort, startMediaServer, launchPeople,
};
