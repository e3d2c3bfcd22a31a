/* A G.711-only SIP caller: Debian's baresip with only its g711 module (no opus,
 * audio only) dials a conference where a Chromium participant sends a 660 Hz tone.
 * The server answers PCMU (baresip lists PCMU first); what it sent is logged. Asserted
 * on what each really gets: baresip's recording (sndfile) has the browser's tone
 * and not its own 440 Hz; the browser hears 440 Hz and not its own; the browser's
 * composite shows baresip as a placeholder tile (no camera: white initial, none
 * of the browser's own red); then BYE takes baresip out. */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');
const bs = require('./lib/baresip');
const sm = require('./lib/sip_media');

const ALIAS = 'e2e-g711';
const SIP = { hz: 440 };
const WEB = { name: 'Chromium Red', rgb: [220, 40, 40], hz: 660 };

h.run('sip_g711', async ({ scratch, defer }) => {
  bs.requireBaresip();
  const { server, uri } = await sm.startSipServer(defer);
  const page = await sm.joinChromium(server, scratch, defer, ALIAS, WEB);
  const call = await sm.dialBaresip(scratch, defer, uri(ALIAS), SIP, {
    audioCodecs: ['g711'], sourceWav: h.makeToneWav(path.join(scratch, 'tone440-8k.wav'), SIP.hz, { seconds: 120, rate: 8000 }),
  });
  h.assert.equal((await server.status()).participants, 2);

  const heard = await bs.waitHears(call.dir, SIP.hz, WEB.hz, `baresip to hear ${WEB.hz} Hz and not ${SIP.hz} Hz`);
  console.log(`baresip (G.711) hears ${SIP.hz} Hz at ${heard[0].toFixed(1)} dB, ${WEB.hz} Hz at ${heard[1].toFixed(1)} dB`);
  const webHears = await h.waitFor(async () => {
    const lv = await page.evaluate((f) => window.wsClient.toneLevels && window.wsClient.toneLevels(f), [SIP.hz, WEB.hz]);
    return lv && lv[0] > -70 && lv[0] - lv[1] > 20 && lv;
  }, { timeoutMs: 60000, intervalMs: 250, what: `Chromium to hear ${SIP.hz} Hz and not ${WEB.hz} Hz` });
  console.log(`Chromium hears ${SIP.hz} Hz at ${webHears[0].toFixed(1)} dB, ${WEB.hz} Hz at ${webHears[1].toFixed(1)} dB`);

  let last = null;
  await h.waitFor(async () => (last = await sm.ownAndWhite(page, WEB.rgb)) && last.own < 0.01 && last.white >= 30,
    { timeoutMs: 30000, what: "baresip's placeholder tile in Chromium's composite" })
    .catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(last)}`); });
  await h.screenshot(page, 'sip_g711-chromium');

  const log = fs.readFileSync(server.logFile, 'utf8');
  console.log(log.split('\n').filter((l) => /sip|SIP/.test(l)).slice(0, 8).join('\n'));
  console.log(call.phone.log().split('\n').filter((l) => /PCM|G711|audio/i.test(l)).slice(0, 10).join('\n'));

  call.phone.command('hangup');
  await h.waitFor(async () => (await server.status()).participants === 1, { timeoutMs: 15000, what: 'baresip to leave after its BYE' });
});
