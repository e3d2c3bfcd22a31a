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
const { ulawDecode, tonePacket, toneShare } = require('./lib/g711');

const ALIAS = 'e2e-offer-srtp';

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
    alice.send(srtp.protect(toServer, tonePacket(k, 0x5eed0a11, 0, 440, 2000)));
    bob.send(tonePacket(k, 0x5eed0b0b, 0, 660, 2000));
    k++;
  }, 20);
  defer(() => clearInterval(timer));

  const samples = (pkts) => pkts.flatMap((p) => [...p.subarray(12)].map(ulawDecode));
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
