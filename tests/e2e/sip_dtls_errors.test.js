/* DTLS-SRTP failures on the SIP wire, with a hand-written SIP caller (UDP) and
 * openssl's DTLS client as its media. (1) An offer whose only fingerprint is md5
 * is refused 488 with a Reason saying why, and counted. (2) An offer we can take
 * is answered 200 with our fingerprint and a=setup:passive; the DTLS client that
 * then connects presents a certificate other than the one the offer's
 * fingerprint names: the handshake is refused, counted as a fingerprint mismatch,
 * and the call ends with our BYE and a Reason header. */
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');
const sm = require('./lib/sip_media');
const { sipCaller } = require('./lib/sip_caller');

const ALIAS = 'e2e-dtls-errors';

function offer(fingerprint) {
  return 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n'
    + `a=setup:actpass\r\na=fingerprint:${fingerprint}\r\n`
    + 'm=audio 49170 UDP/TLS/RTP/SAVP 96\r\na=rtpmap:96 opus/48000/2\r\na=rtcp-mux\r\na=sendrecv\r\n';
}

h.run('sip_dtls_errors', async ({ scratch, defer }) => {
  if (spawnSync('openssl', ['version']).status !== 0) h.skip('openssl CLI missing');
  const { server, uri } = await sm.startSipServer(defer);
  const caller = await sipCaller(uri(ALIAS), { user: 'tester', name: 'DTLS test' });
  defer(() => caller.close());

  // 1. md5 only: 488 with the reason, counted.
  caller.request('INVITE', { callId: 'dtls-md5', body: offer('md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF') });
  const refused = await caller.next(/^SIP\/2\.0 [2-6]\d\d [\s\S]*Call-ID: dtls-md5/m, 'the answer to the md5 offer');
  h.assert.match(refused, /^SIP\/2\.0 488 /);
  h.assert.match(caller.header(refused, 'Reason'), /^SIP;cause=488;text="media: the audio section is UDP\/TLS\/RTP\/SAVP but no a=fingerprint is a sha-256\/1\/224\/384\/512 digest"$/);
  console.log(`md5 offer: ${refused.split('\r\n')[0]}; Reason: ${caller.header(refused, 'Reason')}`);
  caller.request('ACK', { callId: 'dtls-md5', toTag: /tag=([^;\s]+)/.exec(caller.header(refused, 'To'))[1], seq: 1 });

  // 2. A fingerprint that is not the DTLS client's certificate.
  const key = path.join(scratch, 'k.pem');
  const crt = path.join(scratch, 'c.pem');
  h.assert.equal(spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-subj', '/CN=impostor', '-days', '2', '-keyout', key, '-out', crt]).status, 0);
  const wrong = crypto.createHash('sha256').update(crypto.randomBytes(64)).digest('hex')
    .toUpperCase().match(/../g).join(':');
  const mismatch = () => sm.metric(server, 'tessera_dtls_errors_total{reason="fingerprint_mismatch"}');
  h.assert.equal(await mismatch(), 0);
  caller.request('INVITE', { callId: 'dtls-wrong', body: offer(`sha-256 ${wrong}`) });
  const ok = await caller.next(/^SIP\/2\.0 [2-6]\d\d [\s\S]*Call-ID: dtls-wrong/m, 'the answer to the DTLS offer');
  h.assert.match(ok, /^SIP\/2\.0 200 /);
  h.assert.match(ok, /a=setup:passive\r\n/);
  h.assert.match(ok, /a=fingerprint:sha-256 [0-9A-F:]{95}\r\n/);
  const [, addr] = /c=IN IP4 ([\d.]+)/.exec(ok);
  const [, port] = /m=audio (\d+) UDP\/TLS\/RTP\/SAVP 96/.exec(ok);
  const toTag = /tag=([^;\s]+)/.exec(caller.header(ok, 'To'))[1];
  caller.request('ACK', { callId: 'dtls-wrong', toTag, uri: /<([^>]+)>/.exec(caller.header(ok, 'Contact'))[1], seq: 2 });

  const client = spawn('openssl', ['s_client', '-dtls1_2', '-connect', `${addr}:${port}`, '-cert', crt, '-key', key,
    '-use_srtp', 'SRTP_AES128_CM_SHA1_80', '-quiet'], { stdio: ['pipe', 'ignore', 'pipe'] });
  defer(() => client.kill());
  const bye = await caller.next(/^BYE [\s\S]*Call-ID: dtls-wrong/m, 'our BYE after the failed handshake');
  caller.send(`SIP/2.0 200 OK\r\n${['Via', 'From', 'To', 'Call-ID', 'CSeq'].map((n) => `${n}: ${caller.header(bye, n)}`).join('\r\n')}\r\nContent-Length: 0\r\n\r\n`);
  const reason = caller.header(bye, 'Reason');
  console.log(`after the mismatched certificate: BYE with Reason: ${reason}`);
  h.assert.equal(reason, 'SIP;cause=500;text="media_failed"');
  h.assert.equal(await mismatch(), 1, 'the mismatch is counted');
  h.assert.equal(await sm.metric(server, 'tessera_sip_errors_total{code="media_failed"}'), 1, 'the BYE is counted');
  await h.waitFor(async () => (await server.status()).participants === 0, { what: 'the caller to be gone' });
  h.assert.match(fs.readFileSync(server.logFile, 'utf8'), /does not match the SDP's a=fingerprint/);
});
