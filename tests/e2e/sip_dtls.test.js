/* DTLS-SRTP with a real SIP endpoint: Debian's baresip 1.0 with
 * `mediaenc=dtls_srtp` offers UDP/TLS/RTP/SAVPF audio and video with a=setup:actpass
 * and its SHA-256 fingerprint at session level, no rtcp-mux, no ICE. We answer
 * a=setup:passive with our fingerprint; baresip, the DTLS client, runs four
 * handshakes on its media sockets (RTP and RTCP of audio and of video), each
 * keying its own SRTP. A Chromium participant is in the same conference, and each
 * must hear and see the other (lib/sip_media.js), which only works when what we
 * protected baresip could check and the other way round. The server's metrics
 * show the four associations keyed and no DTLS or SRTP failure. Then baresip holds
 * and resumes (two re-INVITEs): the answers keep our fingerprint and role, so the
 * associations stay (no fifth handshake) and its SRTP still checks afterwards.
 * Then it hangs up. The server prefers VP8 here ([webrtc] video_codec), so this
 * test covers a VP8 SIP call (sip_baresip covers H.264). */
'use strict';
const fs = require('node:fs');
const h = require('./lib/harness');
const bs = require('./lib/baresip');
const sm = require('./lib/sip_media');

const ALIAS = 'e2e-dtls';
const SIP = { rgb: [40, 200, 60], hz: 440 };
const WEB = { name: 'Chromium Magenta', rgb: [200, 40, 200], hz: 660 };

const count = (text, re) => (text.match(re) || []).length;

h.run('sip_dtls', async ({ scratch, defer }) => {
  bs.requireBaresip();
  const { server, uri } = await sm.startSipServer(defer, { sections: { webrtc: { video_codec: 'vp8' } } });
  const serverLog = () => fs.readFileSync(server.logFile, 'utf8');
  const page = await sm.joinChromium(server, scratch, defer, ALIAS, WEB);
  const call = await sm.dialBaresip(scratch, defer, uri(ALIAS), SIP, { mediaenc: 'dtls_srtp', server });
  h.assert.equal((await server.status()).participants, 2);
  h.assert.match(serverLog(), /DTLS-SRTP: audio [\d.]+:\d+ \(opus\), video [\d.]+:\d+ \(VP8\)/, 'the call was answered for DTLS-SRTP with Opus and VP8');

  // Four associations: RTP and RTCP of audio and video, each keyed on both sides.
  await h.waitFor(async () => (await sm.metric(server, 'tessera_rtp_dtls_associations_total')) === 4,
    { timeoutMs: 20000, what: `four DTLS-SRTP associations keyed\n${serverLog().slice(-3000)}` });
  await h.waitFor(() => count(call.phone.log(), /DTLS-SRTP complete/g) === 4,
    { timeoutMs: 10000, what: `baresip to complete four handshakes\n${call.phone.log().slice(-3000)}` });
  h.assert.equal(count(call.phone.log(), /verified sha-256 fingerprint OK/gi), 4, 'baresip checked our fingerprint');
  for (const c of ['audio RTP', 'audio RTCP', 'video RTP', 'video RTCP']) {
    h.assert.ok(serverLog().includes(`${c}: DTLS-SRTP keyed`), `${c} keyed in the server log`);
  }

  await sm.expectExchange('sip_dtls', { page, ...call }, SIP, WEB);

  const failures = async () => [
    await sm.metric(server, 'tessera_dtls_errors_total{reason="fingerprint_mismatch"}'),
    await sm.metric(server, 'tessera_dtls_errors_total{reason="handshake"}'),
    await sm.metric(server, 'tessera_srtp_errors_total{op="unprotect_rtp"}'),
  ];
  h.assert.deepEqual(await failures(), [0, 0, 0], 'no DTLS failure and no SRTP packet from baresip failed');

  // Hold and resume keep the associations: the re-answers repeat our fingerprint and role.
  call.phone.command('hold');
  await h.waitFor(() => /re-INVITE answered \(version 2\): audio held, video held/.test(serverLog()),
    { timeoutMs: 15000, what: `the hold re-INVITE to be answered\n${serverLog().slice(-2000)}` });
  call.phone.command('resume');
  await h.waitFor(() => /re-INVITE answered \(version 3\): audio sent, video sent/.test(serverLog()),
    { timeoutMs: 15000, what: `the resume re-INVITE to be answered\n${serverLog().slice(-2000)}` });
  const inBytes = () => sm.metric(server, 'tessera_media_bytes_total{direction="in"}');
  const after = await inBytes();
  await h.waitFor(async () => (await inBytes()) > after + 20000,
    { timeoutMs: 20000, intervalMs: 500, what: 'baresip media to keep arriving after resume' });
  h.assert.equal(await sm.metric(server, 'tessera_rtp_dtls_associations_total'), 4, 'no new handshake');
  h.assert.equal(count(call.phone.log(), /dtls connect to/g), 4, 'baresip started no new handshake');
  h.assert.deepEqual(await failures(), [0, 0, 0], 'the keys still check after resume');
  h.assert.ok(!call.phone.events.some((e) => e.type === 'CALL_CLOSED'), 'the call went on');

  call.phone.command('hangup');
  await h.waitFor(async () => (await server.status()).participants === 1,
    { timeoutMs: 15000, what: 'baresip to leave after its BYE' });
});
