/* SIP over TLS with real endpoints: the server listens for `sips:` on [sip]
 * tls_port with a certificate of the test's own, and two Debian baresip 1.0
 * instances (trusting that certificate: `sip_cafile`) dial the same conference
 * with `;transport=tls` and SDES-SRTP (`mediaenc=srtp-mand`, keys that only travel
 * encrypted now). Each must hear the other's tone and not its own, the server must
 * have taken both INVITEs over TLS, and both leave when they hang up (their BYE
 * comes over the same TLS connection). Audio only. */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const h = require('./lib/harness');
const bs = require('./lib/baresip');
const sm = require('./lib/sip_media');

const ALIAS = 'e2e-tls';
const A = { user: 'alice', hz: 440 };
const B = { user: 'bob', hz: 660 };

h.run('sip_tls', async ({ scratch, defer }) => {
  bs.requireBaresip();
  if (spawnSync('openssl', ['version']).status !== 0) h.skip('openssl CLI missing');
  const key = path.join(scratch, 'sip-key.pem');
  const cert = path.join(scratch, 'sip-cert.pem');
  h.assert.equal(spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2',
    '-keyout', key, '-out', cert]).status, 0, 'openssl made the test certificate');
  const { server, tlsUri } = await sm.startSipServer(defer, { tls: { cert, key } });

  const phones = [];
  for (const who of [A, B]) {
    const dir = path.join(scratch, who.user);
    const phone = await bs.startBaresip(dir, { hz: who.hz, mediaenc: 'srtp-mand', user: who.user, tlsCafile: cert });
    defer(() => phone.stop());
    phone.command('dial', tlsUri(ALIAS));
    await h.waitFor(() => phone.events.some((e) => e.type === 'CALL_ESTABLISHED'),
      { timeoutMs: 30000, what: `${who.user}'s call over TLS to be established\n${phone.log().slice(-3000)}` });
    phones.push({ phone, dir, who });
  }
  h.assert.equal((await server.status()).participants, 2);
  const log = fs.readFileSync(server.logFile, 'utf8');
  const invites = log.split('\n').filter((l) => / INVITE from '(alice|bob)' over /.test(l));
  console.log(invites.join('\n'));
  h.assert.equal(invites.length, 2);
  for (const l of invites) h.assert.match(l, /over SIP\/2\.0\/TLS$/, 'the INVITE came over TLS');

  for (const [me, other] of [[A, B], [B, A]]) {
    const { dir } = phones.find((p) => p.who === me);
    const lv = await bs.waitHears(dir, me.hz, other.hz, `${me.user} to hear ${other.hz} Hz`);
    console.log(`${me.user} hears own ${me.hz} Hz at ${lv[0].toFixed(1)} dB, ${other.hz} Hz at ${lv[1].toFixed(1)} dB`);
  }

  for (const { phone } of phones) phone.command('hangup');
  await h.waitFor(async () => (await server.status()).participants === 0,
    { timeoutMs: 15000, what: 'both callers to leave after their BYE over TLS' });
});
