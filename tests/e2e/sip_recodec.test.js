/* A codec change by re-INVITE (RFC 3264 §8.3.2: a new offer in the dialog may
 * choose other codecs), with two hand-written SIP callers and real media:
 * (1) A and B call in with PCMU only; A sends a 440 Hz tone, B 660 Hz, and A
 * gets B's tone as PCMU (payload type 0). (2) A re-INVITEs offering only PCMA:
 * the 200 answers PCMA (8) on the same port with the next o= version; A sends
 * A-law from then on, and what A gets is PCMA carrying B's tone while B still
 * hears A's tone at the level it had before (A-law bytes decoded as µ-law would
 * be about 11 dB louder, and the tone alone cannot tell). (3) A
 * re-INVITE that adds video (VP8) is answered with our video port: we send A
 * VP8 with a keyframe first, ask A for a keyframe, and decode the VP8 A sends
 * (frames encoded by ffmpeg, packetized here) and ask for A's camera bitrate by
 * TMMBR, which A's offer named (no REMB to a SIP caller); audio goes on as PCMA. (4) A
 * re-INVITE that drops video again goes back to audio only: no more video to A.
 * Node callers, because baresip 1.0 cannot be told to re-offer another codec or
 * add a medium. */
'use strict';
const dgram = require('node:dgram');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const h = require('./lib/harness');
const sm = require('./lib/sip_media');
const { sipCaller } = require('./lib/sip_caller');
const { alawDecode, ulawDecode, tonePacket, toneShare } = require('./lib/g711');

const ALIAS = 'e2e-recodec';

/* The payloads of the packets with payload type `pt` decoded, from index `from`. */
function decoded(received, pt, from = 0) {
  const dec = pt === 8 ? alawDecode : ulawDecode;
  const out = [];
  for (const { m } of received.slice(from)) {
    if (m.length < 12 || (m[1] & 0x7f) !== pt) continue;
    for (let i = 12 + (m[0] & 0x0f) * 4; i < m.length; i++) out.push(dec(m[i]));
  }
  return out;
}

function audioOffer(port, version, pt, { video = false } = {}) {
  const name = pt === 8 ? 'PCMA' : 'PCMU';
  return `v=0\r\no=gw 7 ${version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n`
    + `m=audio ${port} RTP/AVP ${pt}\r\na=rtpmap:${pt} ${name}/8000\r\na=ptime:20\r\na=sendrecv\r\n`
    + (video ? `m=video ${port + 2} RTP/AVP 97\r\na=rtpmap:97 VP8/90000\r\na=sendrecv\r\n` : '');
}

/* VP8 frames (an IVF file from ffmpeg) as RTP payloads (RFC 7741: a one-byte
 * descriptor, S on the first of a frame) of at most 1000 bytes each. */
function vp8Frames(dir) {
  const ivf = path.join(dir, 'alice.ivf');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x96:rate=10',
    '-frames:v', '20', '-c:v', 'libvpx', '-g', '10', '-f', 'ivf', ivf]);
  const b = fs.readFileSync(ivf);
  const frames = [];
  for (let at = b.readUInt16LE(6); at + 12 <= b.length;) {
    const size = b.readUInt32LE(at);
    const data = b.subarray(at + 12, at + 12 + size);
    const parts = [];
    for (let i = 0; i < data.length; i += 1000) {
      parts.push(Buffer.concat([Buffer.from([i === 0 ? 0x10 : 0x00]), data.subarray(i, i + 1000)]));
    }
    frames.push(parts);
    at += 12 + size;
  }
  return frames;
}

/* Each RTCP packet of a compound: [pt, fmt, offset, length in bytes]. */
function rtcpPackets(m) {
  const out = [];
  for (let at = 0; at + 4 <= m.length;) {
    const len = 4 * (m.readUInt16BE(at + 2) + 1);
    out.push([m[at + 1], m[at] & 0x1f, at, len]);
    at += len;
  }
  return out;
}

/* The first TMMBR (RTPFB FMT 3) entry for `ssrc` in what arrived, decoded. */
function findTmmbr(received, ssrc) {
  for (const m of received) {
    for (const [pt, fmt, at, len] of rtcpPackets(m)) {
      if (pt !== 205 || fmt !== 3 || len < 20 || m.readUInt32BE(at + 12) !== ssrc) continue;
      const v = m.readUInt32BE(at + 16);
      const exp = v >>> 26;
      const mantissa = (v >>> 9) & 0x1ffff;
      return { ssrc, bps: mantissa * 2 ** exp, overhead: v & 0x1ff };
    }
  }
  return null;
}

function hasRemb(m) {
  return rtcpPackets(m).some(([pt, fmt, at, len]) => pt === 206 && fmt === 15 && len >= 16 && m.toString('latin1', at + 12, at + 16) === 'REMB');
}

/* A caller with an RTP socket that offers PCMU, sends its tone every 20 ms in
 * whatever codec it runs (c.pt), and keeps what arrives. */
async function g711Caller(uri, defer, user, callId, ssrc, hz) {
  const caller = await sipCaller(uri, { user, name: user });
  defer(() => caller.close());
  const rtp = dgram.createSocket('udp4');
  await new Promise((resolve) => rtp.bind(0, '127.0.0.1', resolve));
  defer(() => rtp.close());
  const c = { caller, callId, pt: 0, port: rtp.address().port, received: [], seq: 1 };
  rtp.on('message', (m) => c.received.push({ m }));
  caller.request('INVITE', { callId, body: audioOffer(c.port, 1, 0), seq: c.seq });
  const ok = await caller.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'm'), `the answer to ${user}`);
  h.assert.match(ok, /^SIP\/2\.0 200 /);
  c.toTag = caller.toTag(ok);
  c.contact = caller.contact(ok);
  const answer = ok.slice(ok.indexOf('\r\n\r\n') + 4);
  c.serverPort = Number(/^m=audio (\d+) RTP\/AVP 0\b/m.exec(answer)[1]);
  caller.request('ACK', { callId, toTag: c.toTag, uri: c.contact, seq: c.seq });
  let k = 0;
  c.send = () => rtp.send(tonePacket(k++, ssrc, c.pt, hz), c.serverPort, '127.0.0.1');
  /* A re-INVITE with `body`: the final response. */
  c.reinvite = async (body) => {
    const seq = ++c.seq;
    caller.request('INVITE', { callId, toTag: c.toTag, uri: c.contact, body, seq });
    const res = await caller.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*CSeq: ${seq} INVITE`, 'm'), `the answer to ${user}'s re-INVITE ${seq}`);
    caller.request('ACK', { callId, toTag: c.toTag, uri: c.contact, seq });
    return res;
  };
  c.hangUp = async () => {
    const seq = ++c.seq;
    caller.request('BYE', { callId, toTag: c.toTag, uri: c.contact, seq });
    await caller.next(new RegExp(`^SIP/2\\.0 200 [\\s\\S]*CSeq: ${seq} BYE`, 'm'), `the 200 to ${user}'s BYE`);
  };
  return c;
}

/* Waits until `c` has received 50 packets of `pt` after index `from` carrying
 * `hz` as most of their power; returns that share and their level (dBFS). */
async function hearsTone(c, pt, hz, from, what) {
  return waitTone(c, pt, hz, from, what).catch((e) => {
    throw new Error(`${e.message}; packets by payload type since: ${JSON.stringify(ptCounts(c.received.slice(from)))}`);
  });
}

function waitTone(c, pt, hz, from, what) {
  return h.waitFor(() => {
    const s = decoded(c.received, pt, from);
    if (s.length < 160 * 50) return false;
    const last = s.slice(-160 * 50);
    const share = toneShare(last, hz);
    const rms = Math.sqrt(last.reduce((sum, x) => sum + x * x, 0) / last.length);
    return share > 0.5 && { share, db: 20 * Math.log10(rms / 32768) };
  }, { timeoutMs: 20000, what });
}

function ptCounts(received) {
  const n = {};
  for (const { m } of received) n[m[1] & 0x7f] = (n[m[1] & 0x7f] || 0) + 1;
  return n;
}

h.run('sip_recodec', async ({ scratch, defer }) => {
  const { server, uri } = await sm.startSipServer(defer);
  const a = await g711Caller(uri(ALIAS), defer, 'alice', 'recodec-a', 0x5eed00a1, 440);
  const b = await g711Caller(uri(ALIAS), defer, 'bob', 'recodec-b', 0x5eed00b2, 660);
  await h.waitFor(async () => (await server.status()).participants === 2, { what: 'both callers in the roster' });
  const timer = setInterval(() => { a.send(); b.send(); }, 20);
  defer(() => clearInterval(timer));

  // 1. PCMU both ways.
  const before = await hearsTone(a, 0, 660, 0, "Alice to hear Bob's 660 Hz as PCMU");
  console.log(`PCMU: Alice hears 660 Hz as ${(100 * before.share).toFixed(1)} % of what she gets`);
  const bobBefore = await hearsTone(b, 0, 440, 0, "Bob to hear Alice's µ-law 440 Hz");
  console.log(`Bob hears Alice's µ-law tone at ${bobBefore.db.toFixed(1)} dBFS`);

  // 2. Alice changes to PCMA.
  const ok = await a.reinvite(audioOffer(a.port, 2, 8));
  h.assert.match(ok, /^SIP\/2\.0 200 /, `the re-INVITE to PCMA is accepted:\n${ok}`);
  const answer = ok.slice(ok.indexOf('\r\n\r\n') + 4);
  console.log(`answer to the PCMA re-offer:\n${answer.trim()}`);
  h.assert.match(answer, new RegExp(`^m=audio ${a.serverPort} RTP/AVP 8\\b`, 'm'), 'PCMA on the same port');
  h.assert.match(answer, /^a=rtpmap:8 PCMA\/8000$/m);
  h.assert.match(answer, /^o=\S+ \d+ 2 IN IP4 /m, 'the next o= version');
  const mark = a.received.length;
  const bobMark = b.received.length;
  a.pt = 8;
  const after = await hearsTone(a, 8, 660, mark, "Alice to hear Bob's 660 Hz as PCMA");
  console.log(`PCMA: Alice hears 660 Hz as ${(100 * after.share).toFixed(1)} % of what she gets`);
  const bobAfter = await hearsTone(b, 0, 440, bobMark + 100, "Bob to hear Alice's A-law 440 Hz");
  console.log(`Bob hears Alice's A-law tone at ${bobAfter.db.toFixed(1)} dBFS (${(100 * bobAfter.share).toFixed(1)} % of what he gets)`);
  h.assert.ok(Math.abs(bobAfter.db - bobBefore.db) < 2, 'the A-law tone reaches Bob at the level the µ-law one had');
  // Once PCMA flows, nothing of the old codec comes any more.
  const firstPcma = a.received.findIndex(({ m }, i) => i >= mark && (m[1] & 0x7f) === 8);
  const lateUlaw = a.received.slice(firstPcma).filter(({ m }) => (m[1] & 0x7f) === 0).length;
  h.assert.equal(lateUlaw, 0, 'no PCMU packet after the first PCMA one');
  // The same stream goes on in the new codec: its SSRC kept and the sequence
  // numbers continuing (a new stream under the old SSRC would reuse SRTP keystream).
  const isAudio = ({ m }) => m.length >= 12 && [0, 8].includes(m[1] & 0x7f);
  const lastUlaw = a.received.slice(0, firstPcma).filter(isAudio).pop().m;
  const pcma = a.received[firstPcma].m;
  h.assert.equal(pcma.readUInt32BE(8), lastUlaw.readUInt32BE(8), 'the PCMA stream keeps the SSRC');
  h.assert.equal(pcma.readUInt16BE(2), (lastUlaw.readUInt16BE(2) + 1) & 0xffff, 'its sequence numbers go on from the PCMU ones');

  // 3. A re-offer we cannot take (no codec in common) gets 488 with the reason,
  // and the call goes on as it was.
  const refused = await a.reinvite(audioOffer(a.port, 3, 8).replace(/RTP\/AVP 8\r\na=rtpmap:8 PCMA/, 'RTP/AVP 18\r\na=rtpmap:18 G729'));
  h.assert.match(refused, /^SIP\/2\.0 488 /);
  console.log(`a re-INVITE with G.729 only: ${refused.split('\r\n')[0]}; Reason: ${a.caller.header(refused, 'Reason')}`);
  const mark2 = a.received.length;
  await hearsTone(a, 8, 660, mark2, 'Alice to keep hearing Bob as PCMA after the refusal');
  h.assert.equal((await server.status()).participants, 2);

  // 3b. Adding video on a plain call: our answer, our VP8, its VP8 decoded.
  const video = dgram.createSocket('udp4');
  await new Promise((resolve) => video.bind(a.port + 2, '127.0.0.1', resolve));
  defer(() => video.close());
  const vin = [];
  video.on('message', (m) => vin.push(m));
  const vrtcp = dgram.createSocket('udp4');
  await new Promise((resolve) => vrtcp.bind(a.port + 3, '127.0.0.1', resolve));
  defer(() => vrtcp.close());
  const rtcpIn = [];
  vrtcp.on('message', (m) => rtcpIn.push(m));
  const added = await a.reinvite(audioOffer(a.port, 4, 8, { video: true }).replace(/a=rtpmap:97 VP8\/90000\r\n/, '$&a=rtcp-fb:97 ccm tmmbr\r\n'));
  h.assert.match(added, /^SIP\/2\.0 200 /, `a re-INVITE adding VP8 is accepted:\n${added}`);
  const vAnswer = added.slice(added.indexOf('\r\n\r\n') + 4);
  console.log(`answer adding video:\n${vAnswer.trim()}`);
  h.assert.match(vAnswer, new RegExp(`^m=audio ${a.serverPort} RTP/AVP 8\\b`, 'm'), 'audio stays PCMA on its port');
  const [, serverVideoPort] = /^m=video (\d+) RTP\/AVP 97\b/m.exec(vAnswer) || [];
  h.assert.ok(Number(serverVideoPort) > 0, 'video accepted on a port of ours');
  const isVp8 = (m) => m.length > 13 && (m[1] & 0x7f) === 97;
  const firstVp8 = await h.waitFor(() => vin.find(isVp8), { timeoutMs: 20000, what: 'VP8 RTP to Alice\'s video port' });
  // The first VP8 packet starts a keyframe (descriptor S bit, then the frame tag's P bit clear).
  const desc = firstVp8[12 + (firstVp8[0] & 0x0f) * 4];
  const hdrLen = 12 + (firstVp8[0] & 0x0f) * 4 + 1 + (desc & 0x80 ? 1 : 0);
  h.assert.ok(desc & 0x10, 'the first VP8 packet starts a partition');
  h.assert.equal(firstVp8[hdrLen + (desc & 0x80 ? 1 : 0)] & 0x01, 0, 'the first VP8 frame is a keyframe');
  const decodeBefore = await sm.metric(server, 'tessera_decode_microseconds_total');
  const frames = vp8Frames(scratch);
  let seq = 1;
  frames.forEach((parts, f) => parts.forEach((payload, i) => {
    const hdr = Buffer.alloc(12);
    hdr[0] = 0x80;
    hdr[1] = 97 | (i === parts.length - 1 ? 0x80 : 0);
    hdr.writeUInt16BE(seq++, 2);
    hdr.writeUInt32BE(9000 * f, 4);
    hdr.writeUInt32BE(0x5eed00a3, 8);
    video.send(Buffer.concat([hdr, payload]), Number(serverVideoPort), '127.0.0.1');
  }));
  const decodeAfter = await h.waitFor(async () => {
    const v = await sm.metric(server, 'tessera_decode_microseconds_total');
    return v > decodeBefore && v;
  }, { timeoutMs: 20000, what: "the server to decode Alice's VP8" });
  console.log(`VP8 to Alice: ${vin.filter(isVp8).length} packets; Alice's ${frames.length} VP8 frames decoded (decode µs ${decodeBefore} -> ${decodeAfter})`);
  await hearsTone(a, 8, 660, a.received.length, 'Alice to keep hearing Bob as PCMA with video added');
  // Alice offered `ccm tmmbr`: her camera's bitrate is asked for by TMMBR (not REMB).
  h.assert.match(vAnswer, /^a=rtcp-fb:97 ccm tmmbr$/m);
  const tmmbr = await h.waitFor(() => findTmmbr(rtcpIn, 0x5eed00a3), { timeoutMs: 20000, what: 'a TMMBR for Alice\'s camera' });
  console.log(`TMMBR to Alice: ${tmmbr.bps} b/s for SSRC ${tmmbr.ssrc.toString(16)}, overhead ${tmmbr.overhead}`);
  h.assert.ok(tmmbr.bps > 0);
  h.assert.ok(!rtcpIn.some((m) => hasRemb(m)), 'no REMB to a SIP caller');

  // 4. Dropping video again: audio only, no more video to Alice.
  const dropped = await a.reinvite(audioOffer(a.port, 5, 8).replace(/$/, 'm=video 0 RTP/AVP 97\r\n'));
  h.assert.match(dropped, /^SIP\/2\.0 200 /, `a re-INVITE dropping video is accepted:\n${dropped}`);
  h.assert.match(dropped, /^m=video 0 /m, 'the answer rejects the video line');
  await hearsTone(a, 8, 660, a.received.length, 'Alice to hear Bob after dropping video');
  const vCount = vin.filter(isVp8).length;
  await hearsTone(a, 8, 660, a.received.length, 'another second of Bob');
  h.assert.ok(vin.filter(isVp8).length - vCount <= 2, 'no more video to Alice after dropping it');

  clearInterval(timer);
  await a.hangUp();
  await b.hangUp();
  await h.waitFor(async () => (await server.status()).participants === 0, { what: 'the callers to leave' });
});
