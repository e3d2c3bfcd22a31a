/* The join screen renders with a live camera preview: the conference name comes
 * from the URL, the device lists are filled, and the preview shows the fake
 * camera's colour (pixels read back from the <video>). */
'use strict';
const path = require('node:path');
const h = require('./lib/harness');

const COLOUR = [40, 200, 60]; // green

h.run('join_preview', async ({ scratch, defer }) => {
  const server = await h.startServer();
  defer(() => server.stop());
  const cam = h.makeY4m(path.join(scratch, 'green.y4m'), COLOUR);
  const b = await h.launchBrowser(cam);
  defer(() => b.close());
  const { page } = b;

  for (const [url, want] of [['/?conference=design-review', 'design-review'], ['/c/weekly.sync', 'weekly.sync']]) {
    await page.goto(server.url + url);
    await h.waitForState(page, 'join');
    h.assert.equal(await page.inputValue('[data-testid=input-conference]'), want);
  }
  // The files come with the right types (the browser would refuse a script otherwise).
  for (const [file, type] of [['/app.js', 'text/javascript'], ['/app.css', 'text/css'], ['/', 'text/html'], ['/icon.svg', 'image/svg+xml']]) {
    const r = await fetch(server.url + file);
    h.assert.equal(r.status, 200, file);
    h.assert.ok(r.headers.get('content-type').startsWith(type), `${file}: ${r.headers.get('content-type')}`);
  }
  h.assert.notEqual((await fetch(`${server.url}/..%2f..%2fetc%2fpasswd`)).status, 200);

  await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid=preview]');
    return v && v.videoWidth > 0 && v.readyState >= 2;
  }, null, { timeout: 15000 });
  // The first frames a fake camera delivers can still be black: wait for the
  // camera colour itself (the assertion is unchanged, only when it is read).
  const centre = () => page.evaluate(() => {
    const v = document.querySelector('[data-testid=preview]');
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0);
    const d = g.getImageData(c.width >> 1, c.height >> 1, 1, 1).data;
    return { rgb: [d[0], d[1], d[2]], w: v.videoWidth, h: v.videoHeight };
  });
  const distance = (rgb) => Math.hypot(...rgb.map((x, i) => x - COLOUR[i]));
  let sample = await centre();
  await h.waitFor(async () => {
    sample = await centre();
    return distance(sample.rgb) < 40;
  }, { timeoutMs: 15000, what: 'the preview to show the camera colour' }).catch(() => {});
  const dist = distance(sample.rgb);
  h.assert.ok(dist < 40, `preview centre ${sample.rgb} is not the camera colour ${COLOUR} (distance ${dist.toFixed(1)})`);
  h.assert.ok((await page.$$('[data-testid=select-camera] option')).length >= 1, 'camera list is empty');
  h.assert.ok((await page.$$('[data-testid=select-mic] option')).length >= 1, 'microphone list is empty');
  h.assert.equal(await page.isVisible('[data-testid=preview-empty]'), false);
  await page.fill('[data-testid=input-name]', 'Robin Example');
  await h.screenshot(page, 'join_preview-join-screen');
  await page.setViewportSize({ width: 390, height: 844 });
  await h.screenshot(page, 'join_preview-join-screen-phone');
});
