/* SDES-SRTP in our own offer ([sip] offer_srtp = optional; off by default): the 200
 * to an INVITE without SDP offers RTP/AVP sections with a=crypto lines (the
 * "best effort" SRTP of Asterisk, FreeSWITCH and baresip). Two hand-written
 * callers: Alice answers in her ACK with a=crypto and her own key, Bob with plain
 * RTP/AVP. Alice's 440 Hz goes out under SRTP (lib/srtp.js, written from RFC 3711,
 * not libsrtp) and Bob hears it: the server decrypted it with her key, and nothing
 * failed authentication. What Alice gets is SRTP that checks and decrypts under
 * the key our offer gave her, carrying Bob's 660 Hz; Bob gets plain PCMU. */
'use strict';
const crypto = require('node:crypto');
const dgram = require('node:dgram');
const h = require('./lib/harness');
const sm = require('./lib/sip_media');
const srtp = require('./lib/srtp');
const { sipCaller } = require('./lib/sip_caller');

const ALIAS = 'e2e-offer-srtp';

/* G.711 µ-law of one 16-bit sample, and back. */
function ulaw(sample) {
  let s = Math.max(-32635, Math.min(32635, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  s = Math.abs(s) + 0x84;
  let seg = 7;
  while (seg > 0 && !(s & (0x4000 >> (7 - seg)))) seg--;
  return ~(sign | (seg << 4) | ((s >> (seg + 3)) & 0x0f)) & 0xff;
}

function unulaw(byte) {
  const u = ~byte & 0xff;
  const seg = (u >> 4) & 7;
  const mag = ((((u & 0x0f) << 3) + 0x84) << seg) - 0x84;
  return u & 0x80 ? -mag : mag;
}

function pcmuPacket(k, ssrc, hz) {
  const b = Buffer.alloc(12 + 160);
  b[0] = 0x80;
  b.writeUInt16BE((2000 + k) & 0xffff, 2);
  b.writeUInt32BE((160 * k) >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  for (let i = 0; i < 160; i++) b[12 + i] = ulaw(8000 * Math.sin((2 * Math.PI * hz * (160 * k + i)) / 8000));
  return b;
}

/* The share of the samples' power at `hz` (Goertzel). */
function toneShare(samples, hz) {
  const w = (2 * Math.PI * hz) / 8000;
  let s1 = 0;
  let s2 = 0;
  let total = 0;
  for (const x of samples) {
    const s0 = x + 2 * Math.cos(w) * s1 - s2;
    s2 = s1;
    s1 = s0;
    total += x * x;
  }
  const p = s1 * s1 + s2 * s2 - 2 * Math.cos(w) * s1 * s2;
  return total > 0 ? (2 * p) / (samples.length * total) : 0;
}

/* A caller that sends no SDP and answers our offer with PCMU in its ACK, keyed
 * with a key of its own when `key` is given. */
async function caller(uri, defer, callId, ssrc, key) {
  const c = await sipCaller(uri, { user: callId, name: callId });
  defer(() => c.close());
  const rtp = dgram.createSocket('udp4');
  await new Promise((resolve) => rtp.bind(0, '127.0.0.1', resolve));
  defer(() => rtp.close());
  const received = [];
  rtp.on('message', (m) => received.push(m));
  c.request('INVITE', { callId, seq: 1 });
  const ok = await c.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'm'), `the answer to ${callId}`);
  h.assert.match(ok, /^SIP\/2\.0 200 /);
  const offer = ok.slice(ok.indexOf('\r\n\r\n') + 4);
  const port = rtp.address().port;
  const answer = `v=0\r\no=${callId} 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n`
    + `m=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n`
    + (key ? `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}\r\n` : '')
    + 'm=video 0 RTP/AVP 97\r\n';
  c.request('ACK', { callId, toTag: c.toTag(ok), uri: c.contact(ok), body: answer, seq: 1 });
  const serverPort = Number(/^m=audio (\d+) /m.exec(offer)[1]);
  return { offer, received, send: (pkt) => rtp.send(pkt, serverPort, '127.0.0.1') };
}

h.run('sip_offer_srtp', async ({ defer }) => {
  const { server, uri } = await sm.startSipServer(defer, { sip: { offer_srtp: 'optional' } });
  const aliceKey = crypto.randomBytes(30).toString('base64');
  const alice = await caller(uri(ALIAS), defer, 'alice-srtp', 0x5eed0a11, aliceKey);
  const bob = await caller(uri(ALIAS), defer, 'bob-plain', 0x5eed0b0b, null);
  console.log(`our offer:\n${alice.offer.trim()}`);
  for (const kind of ['audio', 'video']) {
    const section = alice.offer.slice(alice.offer.indexOf(`m=${kind} `)).split(/\r\nm=/)[0];
    h.assert.match(section, new RegExp(`^m=${kind} \\d+ RTP/AVP `), `best effort: ${kind} stays RTP/AVP`);
    h.assert.match(section, /^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}$/m);
    h.assert.match(section, /^a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:[A-Za-z0-9+/]{40}$/m);
  }
  const ourKey = /^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:(\S+)$/m.exec(alice.offer)[1];
  await h.waitFor(async () => (await server.status()).participants === 2, { what: 'both callers in the roster' });
  h.assert.match(require('node:fs').readFileSync(server.logFile, 'utf8'), /answer to our offer \(SDES-SRTP\)/);

  const toServer = srtp.context(aliceKey);
  const fromServer = srtp.context(ourKey);
  let k = 0;
  const timer = setInterval(() => {
    alice.send(srtp.protect(toServer, pcmuPacket(k, 0x5eed0a11, 440)));
    bob.send(pcmuPacket(k, 0x5eed0b0b, 660));
    k++;
  }, 20);
  defer(() => clearInterval(timer));

  const samples = (pkts) => pkts.flatMap((p) => [...p.subarray(12)].map(unulaw));
  const aliceGot = await h.waitFor(() => {
    const open = alice.received.map((m) => srtp.unprotect(fromServer, m)).filter(Boolean);
    const share = open.length >= 50 ? toneShare(samples(open.slice(-50)), 660) : 0;
    return share > 0.5 && { share, n: open.length, sealed: alice.received.length };
  }, { timeoutMs: 20000, what: "Alice's SRTP from the server to check and carry Bob's 660 Hz" });
  console.log(`Alice: ${aliceGot.n} of ${aliceGot.sealed} packets check under our offer's key; 660 Hz is ${(100 * aliceGot.share).toFixed(1)} % of them`);
  h.assert.equal(alice.received[0].length, 12 + 160 + 10, 'SRTP: a 10-byte tag after 20 ms of PCMU');
  const bobGot = await h.waitFor(() => {
    const plain = bob.received.filter((m) => m.length === 12 + 160 && (m[1] & 0x7f) === 0);
    const share = plain.length >= 50 ? toneShare(samples(plain.slice(-50)), 440) : 0;
    return share > 0.5 && share;
  }, { timeoutMs: 20000, what: "Bob's plain PCMU to carry Alice's SRTP-sent 440 Hz" });
  console.log(`Bob (plain RTP): Alice's 440 Hz is ${(100 * bobGot).toFixed(1)} % of what he gets`);
  h.assert.equal(await sm.metric(server, 'tessera_srtp_errors_total{op="unprotect_rtp"}'), 0,
    'every SRTP packet of Alice checked');
});
