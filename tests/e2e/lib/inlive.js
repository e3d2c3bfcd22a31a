/* Helpers for the inLive Hub API browser tests: a second origin serving the
 * inLive-style page (so every API call is cross-origin, CORS included), and small
 * checks on the {code,message,data} envelope. */
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const h = require('./harness');

/* Small canvas, low frame rate: fast under ASan on 2 cores. */
const MIXER_SECTIONS = { mixer: { canvas_width: 320, canvas_height: 180, fps: 15 } };

/* Serves tests/e2e/pages/ on 127.0.0.1:<free port>: another origin than the API. */
async function startPageServer() {
  const dir = path.join(__dirname, '..', 'pages');
  const server = http.createServer((req, res) => {
    const file = path.join(dir, path.basename(new URL(req.url, 'http://x').pathname));
    if (!file.endsWith('.html') || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(fs.readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

/* fetch + the envelope checks every inLive response must pass. auth: a Bearer
 * token (a room's secret or its creator's token) for the routes that need one. */
async function call(base, method, route, body, { raw, auth } = {}) {
  const init = { method, headers: {} };
  if (auth) init.headers.Authorization = `Bearer ${auth}`;
  if (body !== undefined) {
    init.body = raw !== undefined ? raw : JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const resp = await fetch(`${base}/v1${route}`, init).catch((e) => {
    // undici's "fetch failed" hides the socket error: name it
    throw new Error(`${method} ${route}: ${e.message} (${e.cause ? e.cause.code || e.cause.message : 'no cause'})`);
  });
  h.assert.ok((resp.headers.get('content-type') || '').startsWith('application/json'),
    `${method} ${route}: content-type ${resp.headers.get('content-type')}`);
  h.assert.equal(resp.headers.get('access-control-allow-origin'), '*', `${method} ${route}: no CORS header`);
  h.assert.equal(resp.headers.get('x-access-token-expired'), null);
  const json = await resp.json();
  h.assert.equal(json.code, resp.status, `${method} ${route}: code ${json.code} vs status ${resp.status}`);
  h.assert.equal(typeof json.message, 'string');
  h.assert.ok('data' in json, `${method} ${route}: no data member`);
  return { status: resp.status, json };
}

/* Distance between two RGB triples. */
const colourDistance = (a, b) => Math.hypot(...a.map((x, i) => x - b[i]));

module.exports = { MIXER_SECTIONS, startPageServer, call, colourDistance };
