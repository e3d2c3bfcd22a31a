/* Checks of recorded or streamed media with Debian's ffprobe/ffmpeg: streams,
 * the time span of the packets, whether everything decodes, colour shares of the
 * decoded pictures and the strength of given tones in the decoded audio. Inputs
 * are file paths or URLs (rtmp://…), anything ffmpeg opens. */
'use strict';
const { spawn } = require('node:child_process');

/* Runs a command; resolves {code, stdout (Buffer), stderr (string)}. */
function run(cmd, args, { timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

/* ffprobe's streams and format, plus per stream the first and last packet times. */
async function probe(input) {
  const r = await run('ffprobe', ['-v', 'error', '-show_streams', '-show_format',
    '-show_entries', 'packet=stream_index,pts_time', '-of', 'json', input]);
  if (r.code !== 0) throw new Error(`ffprobe ${input} failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout.toString());
  const span = {};
  for (const p of j.packets || []) {
    const t = Number(p.pts_time);
    if (!Number.isFinite(t)) continue;
    const s = span[p.stream_index] || (span[p.stream_index] = { first: t, last: t, packets: 0 });
    s.first = Math.min(s.first, t);
    s.last = Math.max(s.last, t);
    s.packets++;
  }
  return {
    streams: j.streams.map((s) => ({ type: s.codec_type, codec: s.codec_name, width: s.width, height: s.height, ...span[s.index] })),
    duration: Number(j.format.duration),
  };
}

/* Decodes everything; resolves {ok, errors} (ffmpeg's error lines). */
async function decodes(input, extra = []) {
  const r = await run('ffmpeg', ['-v', 'error', ...extra, '-i', input, '-f', 'null', '-'], { timeoutMs: 120000 });
  return { ok: r.code === 0, errors: r.stderr.trim() };
}

/* Per decoded picture (one a second, scaled to cols x rows), the fraction of
 * samples within RGB distance 70 of each palette colour. */
async function colourShares(input, palette, { cols = 48, rows = 27, extra = [] } = {}) {
  const r = await run('ffmpeg', ['-v', 'error', ...extra, '-i', input, '-an', '-vf',
    `fps=1,scale=${cols}:${rows}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { timeoutMs: 120000 });
  if (r.code !== 0) throw new Error(`ffmpeg ${input}: ${r.stderr}`);
  const size = cols * rows * 3;
  const frames = [];
  for (let off = 0; off + size <= r.stdout.length; off += size) {
    const counts = palette.map(() => 0);
    for (let i = off; i < off + size; i += 3) {
      const px = [r.stdout[i], r.stdout[i + 1], r.stdout[i + 2]];
      palette.forEach((c, k) => {
        if (Math.hypot(px[0] - c[0], px[1] - c[1], px[2] - c[2]) < 70) counts[k]++;
      });
    }
    frames.push(counts.map((n) => n / (cols * rows)));
  }
  return frames;
}

/* Goertzel power of `freq` in s (Int16 samples at `rate`), summed over 100 ms blocks. */
function tonePower(s, rate, freq) {
  const block = Math.round(rate / 10);
  const k = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let total = 0;
  for (let b = 0; b + block <= s.length; b += block) {
    let s1 = 0;
    let s2 = 0;
    for (let i = b; i < b + block; i++) {
      const s0 = s[i] / 32768 + k * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    total += s1 * s1 + s2 * s2 - k * s1 * s2;
  }
  return total;
}

/* Power of each of `freqs` in the decoded audio, and of `refs` (frequencies no one
 * sends) for comparison. */
async function tones(input, freqs, refs, { extra = [] } = {}) {
  const rate = 16000;
  const r = await run('ffmpeg', ['-v', 'error', ...extra, '-i', input, '-vn', '-ac', '1', '-ar', String(rate),
    '-f', 's16le', '-'], { timeoutMs: 120000 });
  if (r.code !== 0) throw new Error(`ffmpeg ${input}: ${r.stderr}`);
  const s = new Int16Array(r.stdout.buffer, r.stdout.byteOffset, Math.floor(r.stdout.length / 2));
  return {
    seconds: s.length / rate,
    tones: freqs.map((f) => tonePower(s, rate, f)),
    refs: refs.map((f) => tonePower(s, rate, f)),
  };
}

module.exports = { run, probe, decodes, colourShares, tones };
