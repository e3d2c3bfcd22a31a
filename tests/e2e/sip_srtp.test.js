/* SDES-SRTP with real SIP endpoints: two Debian baresip 1.0 instances, each with
 * `mediaenc=srtp-mand` (RTP/SAVP, one a=crypto AES_CM_128_HMAC_SHA1_80 line per
 * medium, and nothing but SRTP accepted), dial the same conference. Each must
 * hear the other's tone and not its own: the mix-minus went in through our SRTP
 * unprotect and came out through our protect, both ways, for both callers. The
 * server's log says which offers were keyed, and no SRTP packet failed. Then both
 * hang up. Audio only (no video modules) to keep two cores free enough. */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');
const bs = require('./lib/baresip');
const sm = require('./lib/sip_media');

const ALIAS = 'e2e-srtp';
const A = { user: 'alice', hz: 440 };
const B = { user: 'bob', hz: 660 };

h.run('sip_srtp', async ({ scratch, defer }) => {
  bs.requireBaresip();
  const { server, uri } = await sm.startSipServer(defer);

  const phones = {};
  for (const who of [A, B]) {
    const dir = path.join(scratch, who.user);
    const phone = await bs.startBaresip(dir, { hz: who.hz, mediaenc: 'srtp-mand', user: who.user });
    defer(() => phone.stop());
    phone.command('dial', uri(ALIAS));
    await h.waitFor(() => phone.events.some((e) => e.type === 'CALL_ESTABLISHED'),
      { timeoutMs: 30000, what: `${who.user}'s SRTP call to be established\n${phone.log().slice(-3000)}` });
    phones[who.user] = { phone, dir, who };
  }
  h.assert.equal((await server.status()).participants, 2);

  // Each hears the other (decrypted by baresip from what we protected) and not itself.
  for (const [me, other] of [[A, B], [B, A]]) {
    const { dir } = phones[me.user];
    const lv = await bs.waitHears(dir, me.hz, other.hz, `${me.user} to hear ${other.hz} Hz over SRTP`);
    console.log(`${me.user} hears own ${me.hz} Hz at ${lv[0].toFixed(1)} dB, ${other.hz} Hz at ${lv[1].toFixed(1)} dB`);
  }

  // What was negotiated, as the server saw it: both calls keyed by SDES.
  const log = fs.readFileSync(server.logFile, 'utf8');
  const keyed = log.split('\n').filter((l) => l.includes('SDES-SRTP: audio'));
  h.assert.equal(keyed.length, 2, `two SDES-SRTP calls in the server log:\n${log.slice(-3000)}`);
  h.assert.equal(await sm.metric(server, 'tessera_srtp_errors_total{op="unprotect_rtp"}'), 0,
    'no SRTP packet from baresip failed authentication');

  for (const { phone } of Object.values(phones)) phone.command('hangup');
  await h.waitFor(async () => (await server.status()).participants === 0,
    { timeoutMs: 15000, what: 'both callers to leave after their BYE' });
});
