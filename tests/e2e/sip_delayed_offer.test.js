/* An INVITE without SDP (RFC 3261 §13.2.1 "delayed offer", what Cisco CUCM and
 * many trunks send) from hand-written SIP callers over UDP: Debian's baresip 1.0
 * always offers in its INVITE, so it cannot play these callers. (1) Two callers
 * each send a bodiless INVITE; each 200 carries our offer (application/sdp; Opus,
 * PCMU 0, PCMA 8, telephone-event 0-15; VP8, H.264; real ports) and each ACK
 * answers it choosing PCMU on an RTP socket of the caller's, video rejected. Real
 * media then flows: both send a 440 Hz PCMU tone, counted as received bytes in
 * /metrics, and the first caller gets the mix (the second one's tone; a lone
 * caller hears nothing) as RTP from our offer's audio port with payload type 0
 * and 160-byte payloads. Both hang up with BYE. (2) An ACK without an answer ends
 * the call with our BYE carrying a 488 Reason, counted, and nobody stays in the
 * roster. */
'use strict';
const dgram = require('node:dgram');
const h = require('./lib/harness');
const sm = require('./lib/sip_media');
const { sipCaller } = require('./lib/sip_caller');

const ALIAS = 'e2e-delayed-offer';

/* The INVITE without a body and its 200: the offer's text and the dialog's tag. */
async function inviteWithoutSdp(caller, callId) {
  caller.request('INVITE', { callId, seq: 1 });
  const ok = await caller.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'm'),
    `the final answer to ${callId}`);
  h.assert.match(ok, /^SIP\/2\.0 200 /);
  h.assert.equal(caller.header(ok, 'Content-Type'), 'application/sdp');
  return { offer: ok.slice(ok.indexOf('\r\n\r\n') + 4), toTag: caller.toTag(ok), contact: caller.contact(ok) };
}

/* G.711 µ-law of one 16-bit sample (sign, 3-bit segment, 4-bit step, inverted). */
function ulaw(sample) {
  let s = Math.max(-32635, Math.min(32635, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  s = Math.abs(s) + 0x84;
  let seg = 7;
  while (seg > 0 && !(s & (0x4000 >> (7 - seg)))) seg--;
  return ~(sign | (seg << 4) | ((s >> (seg + 3)) & 0x0f)) & 0xff;
}

/* A 20 ms PCMU packet of a 440 Hz tone (packet k of the stream). */
function pcmuPacket(k, ssrc) {
  const b = Buffer.alloc(12 + 160);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE((1000 + k) & 0xffff, 2);
  b.writeUInt32BE((160 * k) >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  for (let i = 0; i < 160; i++) b[12 + i] = ulaw(8000 * Math.sin((2 * Math.PI * 440 * (160 * k + i)) / 8000));
  return b;
}

/* A caller on `alias` that sends no SDP and answers our offer with PCMU in its
 * ACK; its RTP socket keeps what arrives. Returns where we receive its audio. */
async function delayedCaller(uri, defer, callId, ssrc) {
  const caller = await sipCaller(uri, { user: 'gw', name: 'Gateway' });
  defer(() => caller.close());
  const rtp = dgram.createSocket('udp4');
  await new Promise((resolve) => rtp.bind(0, '127.0.0.1', resolve));
  defer(() => rtp.close());
  const received = [];
  rtp.on('message', (m, from) => received.push({ m, from }));
  const call = await inviteWithoutSdp(caller, callId);
  const [, addr] = /^c=IN IP4 ([\d.]+)$/m.exec(call.offer);
  const [, audioPort, afmts] = /^m=audio (\d+) RTP\/AVP ([\d ]+)$/m.exec(call.offer);
  const answer = 'v=0\r\no=gw 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n'
    + `m=audio ${rtp.address().port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n`
    + `a=ssrc:${ssrc} cname:gw\r\nm=video 0 RTP/AVP 97\r\n`;
  caller.request('ACK', { callId, toTag: call.toTag, uri: call.contact, body: answer, seq: 1 });
  let k = 0;
  const send = () => rtp.send(pcmuPacket(k++, ssrc), Number(audioPort), addr);
  const hangUp = async () => {
    caller.request('BYE', { callId, toTag: call.toTag, uri: call.contact, seq: 2 });
    await caller.next(/^SIP\/2\.0 200 [\s\S]*CSeq: 2 BYE/m, `the 200 to the BYE of ${callId}`);
  };
  return { call, addr, audioPort: Number(audioPort), afmts, received, send, sent: () => k, hangUp };
}

h.run('sip_delayed_offer', async ({ defer }) => {
  const { server, uri } = await sm.startSipServer(defer);

  // 1. Our offer in each 200, the callers' PCMU answers in their ACKs, media.
  const a = await delayedCaller(uri(ALIAS), defer, 'delayed-a', 0x5eed0001);
  const offer = a.call.offer;
  console.log(`our offer:\n${offer.trim()}`);
  h.assert.equal(a.afmts, '96 9 0 8 101');
  h.assert.match(offer, /^a=rtpmap:96 opus\/48000\/2$/m);
  h.assert.match(offer, /^a=rtpmap:9 G722\/8000$/m);
  h.assert.match(offer, /^a=rtpmap:0 PCMU\/8000$/m);
  h.assert.match(offer, /^a=rtpmap:8 PCMA\/8000$/m);
  h.assert.match(offer, /^a=rtpmap:101 telephone-event\/8000$/m);
  h.assert.match(offer, /^a=fmtp:101 0-15$/m);
  h.assert.match(offer, new RegExp(`^a=rtcp:${a.audioPort + 1}$`, 'm'));
  // [webrtc] video_codec orders the two.
  const [, videoPort] = /^m=video (\d+) RTP\/AVP (?:97 98|98 97)$/m.exec(offer);
  h.assert.notEqual(a.audioPort, 0);
  h.assert.notEqual(Number(videoPort), 0);
  h.assert.match(offer, /^a=rtcp-fb:98 nack pli$/m);
  h.assert.match(offer, /^a=rtcp-fb:97 ccm fir$/m);
  const b = await delayedCaller(uri(ALIAS), defer, 'delayed-b', 0x5eed0002);
  await h.waitFor(async () => (await server.status()).participants === 2, { what: 'both callers in the roster' });

  const inBefore = await sm.metric(server, 'tessera_media_bytes_total{direction="in"}');
  const timer = setInterval(() => { a.send(); b.send(); }, 20); // the media clock: 20 ms frames
  defer(() => clearInterval(timer));
  const fromUs = await h.waitFor(() => {
    const pkts = a.received.filter(({ m }) => m.length >= 12 && (m[1] & 0x7f) === 0);
    return pkts.length >= 25 && pkts;
  }, { timeoutMs: 20000, what: 'PCMU RTP from the server' });
  for (const { m, from } of fromUs) {
    h.assert.equal(from.port, a.audioPort, 'RTP comes from the audio port of our offer');
    h.assert.equal(m.length - 12 - (m[0] & 0x0f) * 4, 160, '20 ms of PCMU');
  }
  console.log(`caller A got ${fromUs.length} PCMU packets (PT 0, 160 bytes) from ${fromUs[0].from.address}:${fromUs[0].from.port} (offer: ${a.addr}:${a.audioPort})`);
  const inAfter = await h.waitFor(async () => {
    const v = await sm.metric(server, 'tessera_media_bytes_total{direction="in"}');
    return v >= inBefore + 2 * 25 * 172 && v;
  }, { what: 'the server to count the callers\' PCMU packets' });
  clearInterval(timer);
  console.log(`tessera_media_bytes_total{direction="in"}: ${inBefore} -> ${inAfter} after ${a.sent()} + ${b.sent()} packets sent`);
  await a.hangUp();
  await b.hangUp();
  await h.waitFor(async () => (await server.status()).participants === 0, { what: 'the callers to leave' });

  // 2. An ACK without an answer: our BYE with the Reason, counted, nobody left.
  const caller = await sipCaller(uri(ALIAS), { user: 'gw', name: 'Gateway' });
  defer(() => caller.close());
  const counted = () => sm.metric(server, 'tessera_sip_errors_total{code="answer_required"}');
  h.assert.equal(await counted(), 0);
  const bare = await inviteWithoutSdp(caller, 'delayed-2');
  caller.request('ACK', { callId: 'delayed-2', toTag: bare.toTag, uri: bare.contact, seq: 1 });
  const bye = await caller.next(/^BYE [\s\S]*Call-ID: delayed-2/m, 'our BYE after an ACK without an answer');
  caller.ok(bye);
  const reason = caller.header(bye, 'Reason');
  console.log(`ACK without an answer: BYE with Reason: ${reason}`);
  h.assert.equal(reason, 'SIP;cause=488;text="the ACK carries no SDP answer to the offer in our 200 OK"');
  h.assert.equal(await counted(), 1);
  await h.waitFor(async () => (await server.status()).participants === 0, { what: 'nobody in the roster' });
});
