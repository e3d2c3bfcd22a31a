/* ICE-TCP (RFC 6544): a Chromium participant whose UDP to the server is dropped
 * joins over TCP and receives the composite.
 *
 * The test makes a network namespace of its own (tsr-sdp-ice-tcp-<pid>, loopback
 * only), drops UDP to and from the server's media ports there with an nftables
 * rule, and runs itself inside it: server and browser live on that loopback, so
 * nothing outside the namespace is touched, and the namespace (rule included) is
 * deleted at the end. The server listens on 127.0.0.1, so it gathers on loopback
 * ([webrtc] media_addresses empty); Chromium is allowed loopback candidates. The
 * drop counter proves UDP was tried; the selected candidate pair is TCP.
 * Needs root, ip and nft (scripts/deps.sh test); skipped (77) without them. */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');

const ALIAS = 'e2e-ice-tcp';
const PORTS = [41500, 41599];
const RULES = `table inet tsr_sdp {
  chain out {
    type filter hook output priority 0; policy accept;
    udp dport ${PORTS[0]}-${PORTS[1]} counter drop
    udp sport ${PORTS[0]}-${PORTS[1]} counter drop
  }
}
`;

function run(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.error || '').toString().trim()}`);
  return r.stdout;
}

/* Outside: make the namespace, run this file inside it, always delete it. */
function outside() {
  if (process.getuid && process.getuid() !== 0) h.skip('needs root for a network namespace');
  for (const tool of ['ip', 'nft']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) h.skip(`${tool} not found (scripts/deps.sh test installs nftables)`);
  }
  const ns = `tsr-sdp-ice-tcp-${process.pid}`;
  let code = 1;
  try {
    run('ip', ['netns', 'add', ns]);
  } catch (e) {
    h.skip(`cannot create a network namespace here: ${e.message}`);
  }
  try {
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], RULES);
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, __filename], {
      stdio: 'inherit', env: { ...process.env, TSR_ICE_TCP_NETNS: ns },
    });
    code = r.status === null ? 1 : r.status;
  } catch (e) {
    console.error(`FAIL ice_tcp: ${e.message}`);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
  process.exit(code);
}

/* The selected pair's local and remote candidate protocols, and frames decoded. */
async function transportStats(page) {
  return page.evaluate(async () => {
    const stats = await window.wsClient.pc.getStats();
    const out = { framesDecoded: 0, pair: null, size: null };
    let pairId = null;
    stats.forEach((r) => { if (r.type === 'transport' && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId; });
    stats.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') {
        out.framesDecoded += r.framesDecoded || 0;
        out.size = `${r.frameWidth}x${r.frameHeight}`;
      }
      if (r.type === 'candidate-pair' && r.id === pairId) {
        const l = stats.get(r.localCandidateId), rm = stats.get(r.remoteCandidateId);
        out.pair = { state: r.state, local: l && `${l.protocol} ${l.address}:${l.port} ${l.tcpType || ''}`,
          remote: rm && `${rm.protocol} ${rm.address}:${rm.port} ${rm.tcpType || ''}` };
      }
    });
    return out;
  });
}

function dropped() {
  const text = run('nft', ['list', 'table', 'inet', 'tsr_sdp']);
  return [...text.matchAll(/counter packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

async function inside() {
  await h.run('ice_tcp', async ({ scratch, defer }) => {
    const server = await h.startServer({
      sections: {
        mixer: { canvas_width: 320, canvas_height: 180, fps: 15 },
        webrtc: { rtp_port_min: PORTS[0], rtp_port_max: PORTS[1], ice_tcp: 'true' },
      },
    });
    defer(() => server.stop());
    if (!(await server.status()).media) {
      await server.stop();
      h.skip('the server reports "media": false in /api/v1/status');
    }
    const browser = await h.launchBrowser(h.makeY4m(path.join(scratch, 'red.y4m'), [220, 40, 40]), {
      args: ['--allow-loopback-in-peer-connection'],
    });
    defer(() => browser.close());
    const page = browser.page;
    const html = fs.readFileSync(path.join(__dirname, 'pages', 'ws_client.html'), 'utf8');
    await page.goto(`${server.url}/healthz?alias=${ALIAS}&name=TCP`);
    await page.setContent(html);
    await page.waitForFunction(() => window.wsClient && ['answered', 'failed', 'closed'].includes(window.wsClient.state), null, { timeout: 30000 });
    const st = await page.evaluate(() => ({ state: window.wsClient.state, failure: window.wsClient.failure, errors: window.wsClient.errors, sdp: window.wsClient.pc.remoteDescription && window.wsClient.pc.remoteDescription.sdp }));
    h.assert.equal(st.state, 'answered', `page: ${JSON.stringify({ ...st, sdp: undefined })}`);
    const cands = st.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
    console.log(`the answer's candidates:\n  ${cands.join('\n  ')}`);
    h.assert.ok(cands.some((c) => / 127\.0\.0\.1 \d+ typ host tcptype passive/.test(c)), 'a passive TCP candidate on loopback');

    const v = await h.waitFor(async () => {
      const s = await transportStats(page);
      return s.framesDecoded >= 10 && s.pair && s;
    }, { timeoutMs: 60000, intervalMs: 250, what: 'the composite to be decoded over TCP' });
    console.log(`selected pair ${JSON.stringify(v.pair)}; ${v.framesDecoded} frames decoded (${v.size})`);
    h.assert.match(v.pair.local, /^tcp /, 'the browser reached the server over TCP');
    h.assert.match(v.pair.remote, /^tcp 127\.0\.0\.1:/);
    h.assert.equal(v.size, '320x180');
    const n = dropped();
    console.log(`UDP packets dropped by the namespace's rule: ${n}`);
    h.assert.ok(n > 0, 'UDP to the server was tried and dropped');
    await h.screenshot(page, 'ice_tcp-page');
  });
}

if (process.env.TSR_ICE_TCP_NETNS) inside();
else outside();
