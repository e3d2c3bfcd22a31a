/* Hold and resume by re-INVITE with a real SIP endpoint: Debian's baresip 1.0
 * (plain RTP/AVP, audio only) dials a conference, then `hold` (its re-INVITE
 * carries a=sendonly) and `resume` (a=sendrecv). What the server sends it is
 * counted as it goes out of our sockets (tessera_media_bytes_total{direction="out"},
 * one caller in the conference): it grows while the call runs, stops while the call
 * is held (the caller stays in the roster) and grows again after resume.
 * (baresip's own evidence is not usable here: baresip 1.0 stops decoding, and its
 * sndfile dump, at hold and does not restart them at resume, even when media keeps
 * coming, which was tried.) */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');
const bs = require('./lib/baresip');
const sm = require('./lib/sip_media');

const ALIAS = 'e2e-hold';

h.run('sip_hold', async ({ scratch, defer }) => {
  bs.requireBaresip();
  const { server, uri } = await sm.startSipServer(defer);
  const dir = path.join(scratch, 'carol');
  const phone = await bs.startBaresip(dir, { hz: 440, user: 'carol' });
  defer(() => phone.stop());
  phone.command('dial', uri(ALIAS));
  await h.waitFor(() => phone.events.some((e) => e.type === 'CALL_ESTABLISHED'),
    { timeoutMs: 30000, what: `the call to be established\n${phone.log().slice(-3000)}` });
  const rx = () => sm.sentBytes(server);
  const logHas = (re) => re.test(fs.readFileSync(server.logFile, 'utf8'));

  const first = await rx();
  await h.waitFor(async () => (await rx()) > first + 50 * 20,
    { timeoutMs: 20000, intervalMs: 500, what: 'audio to go to baresip before hold' });

  phone.command('hold');
  await h.waitFor(() => logHas(/audio RTP held: not sending/) && logHas(/re-INVITE answered \(version 2\): audio held/),
    { timeoutMs: 15000, what: 'the server to hold the call after the re-INVITE' });
  await h.sleep(1000); // packets already in flight when the hold took effect
  const held = await rx();
  await h.sleep(3000);
  const stillHeld = await rx();
  console.log(`held: ${held} bytes sent, 3 s later ${stillHeld}`);
  h.assert.equal(stillHeld, held, 'no RTP goes to baresip while it holds the call');
  h.assert.equal((await server.status()).participants, 1, 'a held caller stays in the roster');

  phone.command('resume');
  await h.waitFor(() => logHas(/audio RTP resumed/),
    { timeoutMs: 15000, what: 'the server to resume after the re-INVITE' });
  await h.waitFor(async () => (await rx()) > stillHeld + 50 * 20,
    { timeoutMs: 20000, intervalMs: 500, what: 'audio to go to baresip again after resume' });
  console.log(`resumed: ${await rx()} bytes sent`);
});
