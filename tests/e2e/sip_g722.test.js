/* A G.722-only SIP caller: Debian's baresip with only its g722 module (no opus, no
 * g711, audio only) dials a conference where a Chromium participant sends a 660 Hz
 * tone. The server answers `a=rtpmap:9 G722/8000`; baresip sends a 5 kHz tone
 * (above anything G.711 could carry: the path is wideband end to end) from a
 * 16 kHz WAV. Asserted on what each really gets: baresip's recording (sndfile) has
 * the browser's tone and not its own 5 kHz; the browser hears 5 kHz and not its own;
 * three RFC 4733 keys baresip types after the join are counted
 * (tessera_sip_dtmf_keys_total) and the browser still hears the tone; the browser's
 * composite shows baresip as a placeholder tile (no camera: white initial, none
 * of the browser's own red); then BYE takes baresip out. */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');
const bs = require('./lib/baresip');
const sm = require('./lib/sip_media');

const ALIAS = 'e2e-g722';
const SIP = { hz: 5000 };
const WEB = { name: 'Chromium Red', rgb: [220, 40, 40], hz: 660 };

h.run('sip_g722', async ({ scratch, defer }) => {
  bs.requireBaresip();
  const { server, uri } = await sm.startSipServer(defer);
  const page = await sm.joinChromium(server, scratch, defer, ALIAS, WEB);
  const call = await sm.dialBaresip(scratch, defer, uri(ALIAS), SIP, {
    audioCodecs: ['g722'], sourceWav: h.makeToneWav(path.join(scratch, 'tone5k-16k.wav'), SIP.hz, { seconds: 120, rate: 16000 }),
  });
  h.assert.equal((await server.status()).participants, 2);

  const heard = await bs.waitHears(call.dir, SIP.hz, WEB.hz, `baresip to hear ${WEB.hz} Hz and not ${SIP.hz} Hz`);
  console.log(`baresip (G.722) hears ${SIP.hz} Hz at ${heard[0].toFixed(1)} dB, ${WEB.hz} Hz at ${heard[1].toFixed(1)} dB`);
  const webHears = await h.waitFor(async () => {
    const lv = await page.evaluate((f) => window.wsClient.toneLevels && window.wsClient.toneLevels(f), [SIP.hz, WEB.hz]);
    return lv && lv[0] > -70 && lv[0] - lv[1] > 20 && lv;
  }, { timeoutMs: 60000, intervalMs: 250, what: `Chromium to hear ${SIP.hz} Hz and not ${WEB.hz} Hz` });
  console.log(`Chromium hears ${SIP.hz} Hz at ${webHears[0].toFixed(1)} dB, ${WEB.hz} Hz at ${webHears[1].toFixed(1)} dB`);

  // RFC 4733 keys after the join: telephone-event was answered, so baresip sends
  // them as events; the server counts the three keys and none reaches the mix.
  await call.phone.ask('sndcode', '42#');
  await h.waitFor(async () => (await sm.metric(server, 'tessera_sip_dtmf_keys_total')) === 3,
    { timeoutMs: 15000, what: 'three RFC 4733 keys counted' });
  const after = await page.evaluate((f) => window.wsClient.toneLevels(f), [SIP.hz, WEB.hz]);
  console.log(`after 3 keys: Chromium hears ${SIP.hz} Hz at ${after[0].toFixed(1)} dB, ${WEB.hz} Hz at ${after[1].toFixed(1)} dB`);
  h.assert.ok(after[0] > -70 && after[0] - after[1] > 20, 'the tone goes on unchanged after the keys');

  let last = null;
  await h.waitFor(async () => (last = await sm.ownAndWhite(page, WEB.rgb)) && last.own < 0.01 && last.white >= 30,
    { timeoutMs: 30000, what: "baresip's placeholder tile in Chromium's composite" })
    .catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(last)}`); });
  await h.screenshot(page, 'sip_g722-chromium');

  const log = fs.readFileSync(server.logFile, 'utf8');
  console.log(log.split('\n').filter((l) => /sip|SIP/.test(l)).slice(0, 8).join('\n'));
  const phoneLog = call.phone.log();
  console.log(phoneLog.split('\n').filter((l) => /G722|audio/i.test(l)).slice(0, 10).join('\n'));
  h.assert.ok(/G722/.test(phoneLog), 'baresip names G722 as its audio codec');

  call.phone.command('hangup');
  await h.waitFor(async () => (await server.status()).participants === 1, { timeoutMs: 15000, what: 'baresip to leave after its BYE' });
});
