/* A page that speaks only the plain WebSocket signalling (tests/e2e/pages/
 * ws_client.html: {"sdp"} and {"candidate"} out, {"sdp"} back) joins a
 * conference next to the native web client. Each sees the other's fake-camera
 * colour in its composite and not its own; the WebSocket page decodes frames
 * steadily; no error message is sent. {"bye": true} removes it: the server closes
 * the socket (1000), the roster drops it and the other picture loses its colour. */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');

const ALIAS = 'e2e-ws';
const WS = { name: 'WS Red', rgb: [220, 40, 40] };
const WEB = { name: 'Web Green', rgb: [40, 200, 60] };
const SMALL_MIXER = { mixer: { canvas_width: 320, canvas_height: 180, fps: 15 } };

/* The WebSocket page's inbound video: frames decoded, packets, frame size. */
async function inboundVideo(page) {
  return page.evaluate(async () => {
    const out = { framesDecoded: 0, packetsReceived: 0, framesReceived: 0, keyFramesDecoded: 0, pliCount: 0 };
    (await window.wsClient.pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') {
        for (const k of Object.keys(out)) out[k] += r[k] || 0;
        out.size = `${r.frameWidth}x${r.frameHeight}`;
      }
    });
    return out;
  });
}

/* Display names in the web client's roster (kept current by its event stream). */
async function roster(page) {
  return page.evaluate(() => window.tessera.roster.map((p) => p.display_name).sort());
}

h.run('ws_signalling', async ({ scratch, defer }) => {
  const server = await h.startServer({ sections: SMALL_MIXER });
  defer(() => server.stop());
  if (!(await server.status()).media) {
    await server.stop();
    h.skip('the server reports "media": false in /api/v1/status');
  }
  const wsBrowser = await h.launchBrowser(h.makeY4m(path.join(scratch, 'red.y4m'), WS.rgb));
  defer(() => wsBrowser.close());
  const webBrowser = await h.launchBrowser(h.makeY4m(path.join(scratch, 'green.y4m'), WEB.rgb));
  defer(() => webBrowser.close());
  const wsPage = wsBrowser.page;
  const webPage = webBrowser.page;

  // The client page runs in the server's origin (a secure context on 127.0.0.1):
  // load a server URL carrying the page's parameters, then replace the document.
  // (A page fulfilled by page.route() counts as non-local to Chromium, whose
  // local-network-access checks then block its WebSocket to 127.0.0.1.)
  const html = fs.readFileSync(path.join(__dirname, 'pages', 'ws_client.html'), 'utf8');
  await wsPage.goto(`${server.url}/healthz?alias=${ALIAS}&name=${encodeURIComponent(WS.name)}&form=object`);
  await wsPage.setContent(html);
  await wsPage.waitForFunction(() => window.wsClient && ['answered', 'failed', 'closed'].includes(window.wsClient.state), null, { timeout: 30000 });
  const first = await wsPage.evaluate(() => ({ state: window.wsClient.state, failure: window.wsClient.failure, errors: window.wsClient.errors, form: window.wsClient.answerForm }));
  h.assert.equal(first.state, 'answered', `WebSocket page: ${JSON.stringify(first)}`);
  h.assert.equal(first.form, 'object', 'an object offer is answered with {"type":"answer","sdp"}');

  await webPage.goto(`${server.url}/c/${ALIAS}`);
  await webPage.fill('[data-testid=input-name]', WEB.name);
  await webPage.click('[data-testid=btn-join]');
  await h.waitForState(webPage, 'conference', 30000);
  await h.waitFor(async () => (await roster(webPage)).length === 2, { what: 'the roster to list both' });
  h.assert.deepEqual(await roster(webPage), [WEB.name, WS.name].sort());
  h.assert.equal((await server.status()).participants, 2);

  // Each sees the other's colour, not its own (the layout leaves the viewer out).
  await h.waitFor(async () => {
    const [red, green] = await h.colourShares(wsPage, '#remote', [WS.rgb, WEB.rgb]);
    return green >= 0.02 && red < 0.005 && [red, green];
  }, { timeoutMs: 40000, what: 'the WebSocket page to see green and not red' });
  await h.waitFor(async () => {
    const [red, green] = await h.colourShares(webPage, '[data-testid=remote-video]', [WS.rgb, WEB.rgb]);
    return red >= 0.02 && green < 0.005 && [red, green];
  }, { timeoutMs: 30000, what: 'the web client to see red and not green' });
  await h.screenshot(wsPage, 'ws_signalling-ws-page');
  await h.screenshot(webPage, 'ws_signalling-web-client');

  // Frames keep decoding (the composite flows at >= 5 fps even when still). The
  // wait is generous: on a loaded 2-core machine under ASan the mixer can stall
  // for seconds, which is not what this test is about.
  const v0 = await inboundVideo(wsPage);
  const t0 = Date.now();
  const v1 = await h.waitFor(async () => {
    const v = await inboundVideo(wsPage);
    return v.framesDecoded - v0.framesDecoded >= 10 && v;
  }, { timeoutMs: 30000, intervalMs: 250, what: `framesDecoded to rise by 10 from ${JSON.stringify(v0)}` });
  console.log(`WebSocket page decoded ${v1.framesDecoded - v0.framesDecoded} frames in ${Date.now() - t0} ms (${v1.size})`);
  h.assert.equal(v1.size, '320x180', 'the composite has the configured canvas size');

  // Only {"sdp"} and {"candidate"} went out, candidates were trickled, and the
  // only message back was the answer.
  const st = await wsPage.evaluate(() => ({ sent: window.wsClient.sent, received: window.wsClient.received, errors: window.wsClient.errors, trickled: window.wsClient.trickled || 0 }));
  h.assert.equal(st.sent[0], 'sdp');
  h.assert.ok(st.sent.every((t) => t === 'sdp' || t === 'candidate'), `sent ${st.sent}`);
  h.assert.ok(st.trickled >= 1, 'the page trickled no candidate');
  h.assert.deepEqual(st.received, ['sdp']);
  h.assert.deepEqual(st.errors, []);

  // {"bye": true}: the server leaves the participant and closes normally.
  await wsPage.evaluate(() => window.wsClient.bye());
  await wsPage.waitForFunction(() => window.wsClient.state === 'closed', null, { timeout: 10000 });
  h.assert.equal(await wsPage.evaluate(() => window.wsClient.close.code), 1000);
  await h.waitFor(async () => (await roster(webPage)).length === 1, { what: 'the roster to drop the WebSocket participant' });
  h.assert.deepEqual(await roster(webPage), [WEB.name]);
  h.assert.equal((await server.status()).participants, 1);
  await h.waitFor(async () => {
    const [red] = await h.colourShares(webPage, '[data-testid=remote-video]', [WS.rgb, WEB.rgb]);
    return red < 0.005;
  }, { timeoutMs: 20000, what: "the web client's picture to lose red" });
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  h.assert.ok(!/tessera_ws_signalling_errors_total\{/.test(metrics), 'no WebSocket error was counted');
  h.assert.match(metrics, /tessera_ws_signalling_sockets 0/);
});
