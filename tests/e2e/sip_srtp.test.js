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

const ALIAS = 'e2e-srtp';
const A = { user: 'alice', hz: 440 };
const B = { user: 'bob', hz: 660 };

h.run('sip_srtp', async ({ scratch, defer }) => {
  bs.requireBaresip();
  if (!fs.existsSync('/usr/lib/baresip/modules/srtp.so')) h.skip('baresip module srtp missing');
  const sipPort = 20000 + 2 * Math.floor(Math.random() * 10000);
  const server = await h.startServer({
    sections: { sip: { enabled: 'true', listen: `127.0.0.1:${sipPort}`, transports: 'udp' } },
  });
  defer(() => server.stop());

  const phones = {};
  for (const who of [A, B]) {
    const dir = path.join(scratch, who.user);
    const phone = await bs.startBaresip(dir, { hz: who.hz, mediaenc: 'srtp-mand', user: who.user });
    defer(() => phone.stop());
    phone.command('dial', `sip:${ALIAS}@127.0.0.1:${sipPort}`);
    await h.waitFor(() => phone.events.some((e) => e.type === 'CALL_ESTABLISHED'),
      { timeoutMs: 30000, what: `${who.user}'s SRTP call to be established\n${phone.log().slice(-3000)}` });
    phones[who.user] = { phone, dir, who };
  }
  h.assert.equal((await server.status()).participants, 2);

  // Each hears the other (decrypted by baresip from what we protected) and not itself.
  for (const [me, other] of [[A, B], [B, A]]) {
    const { dir } = phones[me.user];
    const lv = await h.waitFor(() => {
      const heard = bs.lastHeard(dir, 1);
      if (!heard) return false;
      const own = bs.toneDb(heard, me.hz);
      const theirs = bs.toneDb(heard, other.hz);
      return theirs > -40 && theirs - own > 20 && [own, theirs];
    }, { timeoutMs: 60000, intervalMs: 500, what: `${me.user} to hear ${other.hz} Hz over SRTP` });
    console.log(`${me.user} hears own ${me.hz} Hz at ${lv[0].toFixed(1)} dB, ${other.hz} Hz at ${lv[1].toFixed(1)} dB`);
  }

  // What was negotiated, as the server saw it: both calls keyed by SDES.
  const log = fs.readFileSync(server.logFile, 'utf8');
  const keyed = log.split('\n').filter((l) => l.includes('SDES-SRTP: audio'));
  h.assert.equal(keyed.length, 2, `two SDES-SRTP calls in the server log:\n${log.slice(-3000)}`);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  const failed = metrics.split('\n').filter((l) => /^tessera_srtp_errors_total\{op="unprotect_rtp"\} [1-9]/.test(l));
  h.assert.deepEqual(failed, [], 'no SRTP packet from baresip failed authentication');

  for (const { phone } of Object.values(phones)) phone.command('hangup');
  await h.waitFor(async () => (await server.status()).participants === 0,
    { timeoutMs: 15000, what: 'both callers to leave after their BYE' });
});
