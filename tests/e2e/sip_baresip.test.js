/* A real SIP endpoint, Debian's baresip 1.0, dials sip:ALIAS@127.0.0.1 (plain
 * RTP/AVP, Opus + H.264, symmetric RTP) while a Chromium participant is in the
 * same conference over the WebSocket page. Asserted on what each one really gets
 * (lib/sip_media.js): baresip's recording of what it hears has the browser's
 * 660 Hz tone and not its own 440 Hz one; baresip's snapshot of what it sees is
 * the browser's red; the browser's composite shows baresip's blue camera and it
 * hears 440 Hz, not 660 Hz. Then baresip hangs up (BYE) and leaves the roster. */
'use strict';
const fs = require('node:fs');
const h = require('./lib/harness');
const bs = require('./lib/baresip');
const sm = require('./lib/sip_media');

const ALIAS = 'e2e-sip';
const SIP = { rgb: [40, 80, 220], hz: 440 };
const WEB = { name: 'Chromium Red', rgb: [220, 40, 40], hz: 660 };

h.run('sip_baresip', async ({ scratch, defer }) => {
  bs.requireBaresip();
  const { server, uri } = await sm.startSipServer(defer);
  const page = await sm.joinChromium(server, scratch, defer, ALIAS, WEB);
  const call = await sm.dialBaresip(scratch, defer, uri(ALIAS), SIP, { server });
  h.assert.equal((await server.status()).participants, 2);
  h.assert.match(fs.readFileSync(server.logFile, 'utf8'), /plain RTP: audio [\d.]+:\d+ \(opus\), video [\d.]+:\d+ \(H264\)/,
    'the call was answered with Opus and H.264');

  await sm.expectExchange('sip_baresip', { page, ...call }, SIP, WEB);

  // Hanging up: baresip's BYE takes it out of the conference.
  call.phone.command('hangup');
  await h.waitFor(async () => (await server.status()).participants === 1, { timeoutMs: 15000, what: 'baresip to leave after its BYE' });
});
