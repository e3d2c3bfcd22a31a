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
 * roster. (3) A PIN conference: each of two callers' bodiless INVITEs gets the
 * lobby's offer (the same codecs, video send-only), its ACK answers PCMU with
 * telephone-event 101, it hears the PCMU prompt from the lobby's port once it is
 * heard, types its PIN as RFC 4733 events, and gets a re-INVITE with the media
 * layer's offer under the lobby's o= session (version 2), answered PCMU in its
 * 200; both are then in the roster and the first hears the second's 440 Hz tone
 * from the join's audio port. */
'use strict';
const dgram = require('node:dgram');
const h = require('./lib/harness');
const sm = require('./lib/sip_media');
const { sipCaller } = require('./lib/sip_caller');
const { tonePacket, ulawDecode } = require('./lib/g711');

const ALIAS = 'e2e-delayed-offer';
const PIN_ALIAS = 'e2e-delayed-pin';

/* The INVITE without a body and its 200: the offer's text and the dialog's tag. */
async function inviteWithoutSdp(caller, callId) {
  caller.request('INVITE', { callId, seq: 1 });
  const ok = await caller.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'm'),
    `the final answer to ${callId}`);
  h.assert.match(ok, /^SIP\/2\.0 200 /);
  h.assert.equal(caller.header(ok, 'Content-Type'), 'application/sdp');
  return { offer: ok.slice(ok.indexOf('\r\n\r\n') + 4), toTag: caller.toTag(ok), contact: caller.contact(ok) };
}

/* A UDP socket on 127.0.0.1 that keeps what arrives ({ m, from }). */
async function rtpSocket(defer) {
  const rtp = dgram.createSocket('udp4');
  await new Promise((resolve) => rtp.bind(0, '127.0.0.1', resolve));
  defer(() => rtp.close());
  const received = [];
  rtp.on('message', (m, from) => received.push({ m, from }));
  return { rtp, received };
}

/* A caller on `alias` that sends no SDP and answers our offer with PCMU in its
 * ACK; its RTP socket keeps what arrives. Returns where we receive its audio. */
async function delayedCaller(uri, defer, callId, ssrc) {
  const caller = await sipCaller(uri, { user: 'gw', name: 'Gateway' });
  defer(() => caller.close());
  const { rtp, received } = await rtpSocket(defer);
  const call = await inviteWithoutSdp(caller, callId);
  const [, addr] = /^c=IN IP4 ([\d.]+)$/m.exec(call.offer);
  const [, audioPort, afmts] = /^m=audio (\d+) RTP\/AVP ([\d ]+)$/m.exec(call.offer);
  const answer = 'v=0\r\no=gw 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n'
    + `m=audio ${rtp.address().port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n`
    + `a=ssrc:${ssrc} cname:gw\r\nm=video 0 RTP/AVP 97\r\n`;
  caller.request('ACK', { callId, toTag: call.toTag, uri: call.contact, body: answer, seq: 1 });
  let k = 0;
  const send = () => rtp.send(tonePacket(k++, ssrc, 0, 440), Number(audioPort), addr);
  const hangUp = async () => {
    caller.request('BYE', { callId, toTag: call.toTag, uri: call.contact, seq: 2 });
    await caller.next(/^SIP\/2\.0 200 [\s\S]*CSeq: 2 BYE/m, `the 200 to the BYE of ${callId}`);
  };
  return { call, addr, audioPort: Number(audioPort), afmts, received, send, sent: () => k, hangUp };
}

/* Power of `hz` in 8 kHz samples (Goertzel), relative to a full-scale sine. */
function tonePower(pcm, hz) {
  const k = 2 * Math.cos((2 * Math.PI * hz) / 8000);
  let s1 = 0; let s2 = 0;
  for (const x of pcm) { const s0 = x / 32768 + k * s1 - s2; s2 = s1; s1 = s0; }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / ((pcm.length * pcm.length) / 4);
}

/* RFC 4733 events for `keys` (payload type 101, each key on its own timestamp: a
 * start packet, then the end packet three times). */
function eventPackets(keys, ssrc) {
  const out = [];
  let seq = 30000;
  [...keys].forEach((key, i) => {
    const code = key === '#' ? 11 : key === '*' ? 10 : Number(key);
    for (let j = 0; j < 4; j++) {
      const b = Buffer.alloc(16);
      b[0] = 0x80;
      b[1] = (j === 0 ? 0x80 : 0) | 101;
      b.writeUInt16BE(seq++, 2);
      b.writeUInt32BE(100000 + 1600 * i, 4);
      b.writeUInt32BE(ssrc, 8);
      b[12] = code;
      b[13] = (j > 0 ? 0x80 : 0) | 10;
      b.writeUInt16BE(j > 0 ? 800 : 160, 14);
      out.push(b);
    }
  });
  return out;
}

/* A PCMU answer from 127.0.0.1:port to our offer (audio, video rejected). */
function pcmuAnswer(port, ssrc, version) {
  return `v=0\r\no=gw 7 ${version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n`
    + `m=audio ${port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n`
    + `a=ptime:20\r\na=sendrecv\r\na=ssrc:${ssrc} cname:gw\r\nm=video 0 RTP/AVP 97\r\n`;
}

/* A caller without SDP into a PIN conference: the lobby's offer, PCMU in the ACK,
 * a 440 Hz tone from then on (to the lobby, then to the join's port), the prompt
 * heard, the PIN as RFC 4733 events, the re-INVITE's offer answered in a 200. */
async function pinCaller(uri, defer, callId, ssrc, pin) {
  const caller = await sipCaller(uri, { user: `gw${ssrc & 0xff}`, name: `Gateway ${ssrc & 0xff}` });
  defer(() => caller.close());
  const { rtp, received } = await rtpSocket(defer);
  const call = await inviteWithoutSdp(caller, callId);
  const lobby = call.offer;
  h.assert.match(lobby, /^m=audio \d+ RTP\/AVP 96 9 0 8 101$/m);
  h.assert.match(lobby, /^m=video \d+ RTP\/AVP 98 97$/m);
  h.assert.match(lobby.slice(lobby.indexOf('m=video')), /^a=sendonly$/m);
  const [, session] = /^o=tessera (\d+) 1 IN /m.exec(lobby);
  const [, addr] = /^c=IN IP4 ([\d.]+)$/m.exec(lobby);
  const lobbyPort = Number(/^m=audio (\d+) /m.exec(lobby)[1]);
  caller.request('ACK', { callId, toTag: call.toTag, uri: call.contact, body: pcmuAnswer(rtp.address().port, ssrc, 1), seq: 1 });
  let target = lobbyPort;
  let k = 0;
  const timer = setInterval(() => rtp.send(tonePacket(k++, ssrc, 0, 440), target, addr), 20);
  defer(() => clearInterval(timer));
  const prompt = await h.waitFor(() => {
    const pkts = received.filter(({ m, from }) => from.port === lobbyPort && (m[1] & 0x7f) === 0);
    return pkts.length >= 25 && pkts;
  }, { timeoutMs: 15000, what: `${callId}: the lobby's PCMU prompt` });
  h.assert.equal(prompt[0].m.length, 12 + 160);
  for (const pkt of eventPackets(pin, ssrc)) rtp.send(pkt, lobbyPort, addr);
  const reinvite = await caller.next(new RegExp(`^INVITE [\\s\\S]*Call-ID: ${callId}`, 'm'), `${callId}: the re-INVITE after the PIN`);
  const offer = reinvite.slice(reinvite.indexOf('\r\n\r\n') + 4);
  h.assert.match(offer, new RegExp(`^o=tessera ${session} 2 IN `, 'm'), 'the lobby\'s o= session, next version');
  h.assert.match(offer, /^m=audio \d+ RTP\/AVP 96 9 0 8 101$/m);
  const joinPort = Number(/^m=audio (\d+) /m.exec(offer)[1]);
  const body = pcmuAnswer(rtp.address().port, ssrc, 2);
  caller.send(`SIP/2.0 200 OK\r\n${['Via', 'From', 'To', 'Call-ID', 'CSeq'].map((n) => `${n}: ${caller.header(reinvite, n)}`).join('\r\n')}`
    + `\r\nContact: <sip:gw@127.0.0.1:${caller.port}>\r\nContent-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  target = joinPort;
  const hangUp = async () => {
    clearInterval(timer);
    caller.request('BYE', { callId, toTag: call.toTag, uri: call.contact, seq: 2 });
    await caller.next(/^SIP\/2\.0 200 [\s\S]*CSeq: 2 BYE/m, `the 200 to the BYE of ${callId}`);
  };
  return { received, joinPort, lobbyPort, prompt: prompt.length, hangUp };
}

h.run('sip_delayed_offer', async ({ defer }) => {
  const { server, uri } = await sm.startSipServer(defer, {
    conferences: [{ alias: PIN_ALIAS, name: 'Pin', host_pin: '1234', guest_pin: '5678' }],
  });

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

  // 3. A PIN conference: the lobby's offer, the answer in the ACK, RFC 4733 PINs, the join.
  const p = await pinCaller(uri(PIN_ALIAS), defer, 'delayed-pin-a', 0x5eed0003, '5678#');
  const q = await pinCaller(uri(PIN_ALIAS), defer, 'delayed-pin-b', 0x5eed0004, '1234#');
  console.log(`PIN callers: prompts of ${p.prompt} and ${q.prompt} PCMU packets, joined on ports ${p.joinPort} and ${q.joinPort}`);
  await h.waitFor(async () => (await server.status()).participants === 2,
    { what: 'both PIN callers in the roster' });
  const heard = await h.waitFor(() => {
    const pcm = p.received.filter(({ m, from }) => from.port === p.joinPort && (m[1] & 0x7f) === 0)
      .slice(-25).flatMap(({ m }) => [...m.subarray(12)].map(ulawDecode));
    return pcm.length >= 25 * 160 && tonePower(pcm, 440) > 0.001 && tonePower(pcm, 440);
  }, { timeoutMs: 20000, what: 'the first PIN caller to hear the second one\'s 440 Hz from the join\'s port' });
  console.log(`the first PIN caller hears 440 Hz at ${(10 * Math.log10(heard)).toFixed(1)} dB`);
  await p.hangUp();
  await q.hangUp();
});
