/* Drives Debian's baresip 1.0 as a SIP participant: a config directory of its own,
 * a tone (ausine), a camera (avformat playing a solid-colour clip), what it hears
 * recorded by sndfile (dump-*-dec.wav), what it sees saved by snapshot, all
 * controlled over ctrl_tcp (netstring JSON). Skips (77) when baresip is missing. */
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const dgram = require('node:dgram');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const h = require('./harness');

const BARESIP = '/usr/bin/baresip';
const MODULES = '/usr/lib/baresip/modules';

function requireBaresip() {
  if (!fs.existsSync(BARESIP)) h.skip(`${BARESIP} not found (Debian: baresip-core baresip-ffmpeg)`);
  for (const m of ['ausine', 'avformat', 'sndfile', 'snapshot', 'ctrl_tcp', 'opus', 'avcodec', 'vp8']) {
    if (!fs.existsSync(path.join(MODULES, `${m}.so`))) h.skip(`baresip module ${m} missing`);
  }
}

/* The lowest port the kernel hands out for outgoing connections: ports picked
 * below it are never taken between our probe and baresip's bind by some process's
 * ephemeral port (a ctrl_tcp port in that range once found itself in use). */
function ephemeralLow() {
  try {
    const low = parseInt(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'), 10);
    if (low > 12000) return low;
  } catch (e) { /* not Linux: the usual default */ }
  return 32768;
}

/* A port p free for TCP and UDP with p+1 free too, below the ephemeral range:
 * SIP listens on both, and baresip also on its SIP port + 1 (TLS). */
async function freePortPair() {
  const tryTcp = (port) => new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
  const tryUdp = (port) => new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', () => { try { sock.close(); } catch (e) { /* never bound */ } resolve(false); });
    sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
  });
  const free = async (port) => (await tryTcp(port)) && (await tryUdp(port));
  for (let i = 0; i < 50; i++) {
    const port = 10000 + 2 * Math.floor(Math.random() * ((ephemeralLow() - 10002) / 2));
    if ((await free(port)) && (await free(port + 1))) return port;
  }
  throw new Error('no free port pair for baresip');
}

/* Starts baresip in `dir` sending a `hz` tone and the `y4m` clip (no clip: audio
 * only, no video codecs loaded). `mediaenc` ('srtp', 'srtp-mand': the srtp module;
 * 'dtls_srtp': the dtls_srtp module) is the account's media encryption; `user` its
 * SIP user name (the display name others see); `audioCodecs` the audio codec
 * modules loaded (default ['opus']; ['g711'] offers only PCMU and PCMA);
 * `sourceWav` a WAV file sent instead of the ausine tone; `tlsCafile` adds the TLS
 * transport, trusting the server certificate in that PEM file; `answermode`
 * ('auto') makes it answer incoming calls by itself. b.uri is its own SIP address. */
async function startBaresip(dir, { hz, y4m, mediaenc, user = 'baresip', audioCodecs = ['opus'], sourceWav, tlsCafile, answermode }) {
  requireBaresip();
  for (const m of audioCodecs) {
    if (!fs.existsSync(path.join(MODULES, `${m}.so`))) h.skip(`baresip module ${m} missing`);
  }
  if (mediaenc && !fs.existsSync(path.join(MODULES, `${mediaenc === 'dtls_srtp' ? 'dtls_srtp' : 'srtp'}.so`))) {
    h.skip(`baresip module for mediaenc=${mediaenc} missing`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const sipPort = await freePortPair();
  const ctrlPort = await freePortPair();
  const mods = y4m ? [...audioCodecs, 'vp8', 'avcodec', 'ausine', 'avformat', 'fakevideo', 'sndfile', 'snapshot']
    : [...audioCodecs, 'ausine', 'sndfile'];
  if (mediaenc) mods.push(mediaenc === 'dtls_srtp' ? 'dtls_srtp' : 'srtp');
  const conf = [
    'poll_method epoll',
    `sip_listen 127.0.0.1:${sipPort}`,
    tlsCafile ? 'sip_transports udp,tls' : 'sip_transports udp',
    ...(tlsCafile ? [`sip_cafile ${tlsCafile}`] : []),
    // ausine makes only 48 kHz and aufile only the codec's rate: an 8 kHz codec
    // plays `sourceWav` (a tone file at 8 kHz) instead.
    sourceWav ? `audio_source aufile,${sourceWav}` : `audio_source ausine,${hz}`,
    `audio_player aufile,${path.join(dir, 'player.wav')}`,
    `audio_alert aufile,${path.join(dir, 'alert.wav')}`,
    ...(y4m ? [`video_source avformat,${y4m}`, 'video_display fakevideo,nil'] : []),
    `module_path ${MODULES}`,
    ...mods.map((m) => `module ${m}.so`),
    'module aufile.so',
    'module_app account.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
    `snd_path ${dir}`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'config'), conf);
  const enc = mediaenc ? `;mediaenc=${mediaenc}` : '';
  const answer = answermode ? `;answermode=${answermode}` : '';
  fs.writeFileSync(path.join(dir, 'accounts'), `<sip:${user}@127.0.0.1:${sipPort}>;regint=0${enc}${answer}\n`);
  const log = fs.openSync(path.join(dir, 'baresip.log'), 'w');
  // Line-buffered through stdbuf, so the log is current when a test reads it.
  const child = spawn('stdbuf', ['-oL', '-eL', BARESIP, '-f', dir], { cwd: dir, stdio: ['ignore', log, log] }); // snapshots land in cwd
  const b = { child, dir, exited: null, events: [], uri: `sip:${user}@127.0.0.1:${sipPort}` };
  b.done = new Promise((resolve) => child.on('exit', (code) => { b.exited = code; resolve(code); }));
  b.log = () => fs.readFileSync(path.join(dir, 'baresip.log'), 'utf8');
  b.sock = await h.waitFor(() => new Promise((resolve) => {
    const s = net.connect(ctrlPort, '127.0.0.1', () => resolve(s));
    s.once('error', () => resolve(null));
  }), { what: 'baresip ctrl_tcp', timeoutMs: 15000 });
  let buf = '';
  b.sock.on('data', (d) => {
    buf += d.toString('utf8');
    for (;;) { // netstrings: LEN:JSON,
      const colon = buf.indexOf(':');
      const len = colon > 0 ? parseInt(buf.slice(0, colon), 10) : NaN;
      if (Number.isNaN(len) || buf.length < colon + 2 + len) break;
      try { b.events.push(JSON.parse(buf.slice(colon + 1, colon + 1 + len))); } catch (e) { /* ignore */ }
      buf = buf.slice(colon + 2 + len);
    }
  });
  // Commands go in once baresip says it is ready (every module, account and
  // user agent set up), not merely once its ctrl_tcp socket accepts.
  await h.waitFor(() => /baresip is ready\./.test(b.log()) || (b.exited !== null && 'exited'),
    { what: () => `baresip to be ready\n${b.log().slice(-2000)}`, timeoutMs: 15000 });
  if (b.exited !== null) throw new Error(`baresip exited (${b.exited}) while starting:\n${b.log().slice(-2000)}`);
  let tokens = 0;
  b.command = (command, params = '') => {
    const token = `${Date.now()}-${++tokens}`;
    const json = JSON.stringify({ command, params, token });
    b.sock.write(`${Buffer.byteLength(json)}:${json},`);
    return token;
  };
  /* A command's response text (ctrl_tcp answers {response, ok, data, token}). */
  b.ask = async (command, params = '') => {
    const token = b.command(command, params);
    const r = await h.waitFor(() => b.events.find((e) => e.response && e.token === token),
      { timeoutMs: 10000, what: `baresip's answer to ${command}` });
    return r.data || '';
  };
  b.stop = async () => {
    if (b.exited === null) b.command('quit');
    const code = await Promise.race([b.done, h.sleep(10000).then(() => 'timeout')]);
    if (code === 'timeout') child.kill('SIGKILL');
    b.sock.destroy();
    fs.mkdirSync(h.artifactsDir, { recursive: true });
    const test = path.basename(process.argv[1], '.test.js');
    fs.copyFileSync(path.join(dir, 'baresip.log'), path.join(h.artifactsDir, `${test}-${path.basename(dir)}.log`));
  };
  return b;
}

/* The decoded audio baresip recorded (sndfile's dump-*-dec.wav): its last `seconds`
 * as mono floats (channels averaged), or null before there is enough. */
function lastHeard(dir, seconds = 1) {
  const f = fs.readdirSync(dir).filter((n) => /^dump-.*-dec\.wav$/.test(n)).sort().pop();
  if (!f) return null;
  const data = fs.readFileSync(path.join(dir, f));
  const at = data.indexOf('data');
  if (at < 0) return null;
  const channels = data.readUInt16LE(22);
  const rate = data.readUInt32LE(24);
  const pcm = data.subarray(at + 8);
  const frames = Math.floor(pcm.length / (2 * channels));
  const want = Math.floor(rate * seconds);
  if (frames < want) return null;
  const out = new Float32Array(want);
  for (let i = 0; i < want; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += pcm.readInt16LE(((frames - want + i) * channels + c) * 2);
    out[i] = s / channels / 32768;
  }
  return { samples: out, rate };
}

/* Level (dBFS of a full-scale sine) of tone `hz` in `samples` (Goertzel). */
function toneDb({ samples, rate }, hz) {
  const w = (2 * Math.PI * hz) / rate;
  const k = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s0 = samples[i] + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  const amp = (2 * Math.sqrt(Math.max(power, 1e-20))) / samples.length;
  return 20 * Math.log10(amp);
}

/* Waits until what baresip in `dir` decoded has the `otherHz` tone (above −40 dB)
 * at least 20 dB over its own `ownHz` one (mix-minus); returns [own, other] dB. */
function waitHears(dir, ownHz, otherHz, what) {
  return h.waitFor(() => {
    const heard = lastHeard(dir, 1);
    if (!heard) return false;
    const own = toneDb(heard, ownHz);
    const other = toneDb(heard, otherHz);
    return other > -40 && other - own > 20 && [own, other];
  }, { timeoutMs: 60000, intervalMs: 500, what });
}

/* Asks for a snapshot ("snapshot": the next decoded and sent frames become
 * snapshot-recv-*.png / snapshot-send-*.png in its directory); the newest received
 * one, or null. */
function latestSnapshot(dir) {
  const f = fs.readdirSync(dir).filter((n) => /^snapshot-recv-.*\.png$/.test(n)).sort().pop();
  return f ? path.join(dir, f) : null;
}

/* Shares of `palette` colours in a PNG (decoded by ffmpeg to 32x18 RGB samples). */
function pngColourShares(file, palette) {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-vf', 'scale=32:18', '-f', 'rawvideo',
    '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 20 });
  if (r.status !== 0 || r.stdout.length < 32 * 18 * 3) return palette.map(() => 0);
  const counts = palette.map(() => 0);
  for (let i = 0; i < 32 * 18; i++) {
    const px = [r.stdout[3 * i], r.stdout[3 * i + 1], r.stdout[3 * i + 2]];
    palette.forEach((p, j) => {
      if (Math.hypot(px[0] - p[0], px[1] - p[1], px[2] - p[2]) < 70) counts[j]++;
    });
  }
  return counts.map((n) => n / (32 * 18));
}

module.exports = { freePortPair, requireBaresip, startBaresip, lastHeard, toneDb, waitHears, latestSnapshot, pngColourShares };
