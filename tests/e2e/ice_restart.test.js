/* The web client survives a network blip with an ICE restart, not a new join
 * (issue 17): one participant in a conference; every UDP packet of the server's
 * media ports is dropped (nftables, in a network namespace of the test's own) for
 * about ten seconds. The browser's connection goes 'disconnected'; after 3 s the
 * client restarts ICE (createOffer({iceRestart}) → POST /participants/{id}/sdp →
 * the server restarts its ICE agent on the same transport); once packets pass
 * again the media comes back on the same participant: same id, no rejoin, one
 * restart, the composite playing again and the server still holding one
 * participant. A fresh join is the fallback only (e2e/rejoin covers it).
 *
 * Needs root, ip and nft (skipped, 77, without them) and media. */
'use strict';
const path = require('node:path');
const h = require('./lib/harness');
const netloss = require('./lib/netloss');

/* Below the ephemeral range and apart from audio_loss's 31000-31099. */
const PORTS = [31100, 31199];

/* Frames the page's composite has decoded so far. */
function framesDecoded(page) {
  return page.evaluate(async () => {
    let n = 0;
    (await window.tessera.pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') n = s.framesDecoded || 0;
    });
    return n;
  });
}

async function inside() {
  await h.run('ice_restart', async ({ scratch, defer }) => {
    const table = netloss.lossTable(PORTS);
    defer(() => table.remove());
    table.set(0);
    const server = await h.startMediaServer(defer, {
      sections: {
        mixer: { canvas_width: 320, canvas_height: 180, fps: 10 },
        webrtc: { rtp_port_min: PORTS[0], rtp_port_max: PORTS[1], ice_tcp: 'false' },
      },
    });
    const [me] = await h.launchPeople([{ name: 'Nomad', rgb: [220, 40, 40] }], scratch, defer, {
      camera: { width: 160, height: 120, fps: 10 },
      browser: () => ({ args: ['--allow-loopback-in-peer-connection'] }),
    });
    const { page } = me;
    await page.goto(`${server.url}/c/e2e-ice-restart`, { timeout: 90000 });
    await page.fill('[data-testid=input-name]', me.name);
    await page.click('[data-testid=btn-join]');
    await h.waitForState(page, 'conference', 90000);
    await h.waitFor(async () => (await framesDecoded(page)) > 5, { timeoutMs: 60000, what: 'the composite decoding' });
    const id = await page.evaluate(() => window.tessera.participantId);

    table.set(100); // the network goes away
    await h.waitFor(async () => (await page.evaluate(() => window.tessera.iceRestarts || 0)) >= 1,
      { timeoutMs: 60000, what: 'the client restarting ICE' });
    const before = await framesDecoded(page);
    const dropped = table.counts();
    table.set(0); // and comes back
    h.assert.ok(dropped.up.dropped + dropped.down.dropped > 0, 'nftables dropped the media');
    await h.waitFor(async () => (await page.evaluate(() => window.tessera.pc.connectionState)) === 'connected',
      { timeoutMs: 60000, what: 'the media connected again' });
    await h.waitFor(async () => (await framesDecoded(page)) > before + 10, { timeoutMs: 60000, what: 'the composite playing again' });
    h.assert.equal(await page.evaluate(() => window.tessera.state), 'conference');
    h.assert.equal(await page.evaluate(() => window.tessera.participantId), id, 'the same participant');
    h.assert.ok(!(await page.evaluate(() => window.tessera.rejoins)), 'no fresh join');
    h.assert.equal(await page.evaluate(() => window.tessera.iceRestarts), 1);
    h.assert.equal((await server.status()).participants, 1);
    await h.screenshot(page, 'ice_restart-back');
  });
}

if (netloss.inNetns()) inside();
else netloss.runInNetns('ice_restart', __filename);
