/* Packet loss for e2e tests (issue 17): this kernel has no netem, so a test runs
 * itself inside a network namespace of its own (runInNetns) and drops packets
 * there with an nftables table of its own (lossTable) that matches only the
 * server's media port range; both are removed on exit, failure and signals. */
'use strict';
const { spawnSync } = require('node:child_process');
const h = require('./harness');

function run(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.error || '').toString().trim()}`);
  return r.stdout;
}

/* Outside: make a namespace of this process (loopback only), run `file` inside it
 * (as root, the same node), always delete it; exits with the inner run's status.
 * Skips (77) without root, ip or nft. */
function runInNetns(test, file) {
  if (process.getuid && process.getuid() !== 0) h.skip('needs root for a network namespace and nftables');
  for (const tool of ['ip', 'nft']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) h.skip(`${tool} not found (scripts/deps.sh test installs nftables)`);
  }
  const ns = `tsr-loss-${process.pid}`;
  try {
    run('ip', ['netns', 'add', ns]);
  } catch (e) {
    h.skip(`cannot create a network namespace here: ${e.message}`);
  }
  const cleanup = () => spawnSync('ip', ['netns', 'del', ns]);
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup(); process.exit(1); });
  let code = 1;
  try {
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, file], {
      stdio: 'inherit', env: { ...process.env, TSR_LOSS_NETNS: ns },
    });
    code = r.status === null ? 1 : r.status;
  } catch (e) {
    console.error(`FAIL ${test}: ${e.message}`);
  } finally {
    cleanup();
  }
  process.exit(code);
}

/* The nftables table of this process: a base chain on the input hook sends the
 * media range's packets to `up` (to the server) or `down` (from it), whose rules
 * (replaced per step) drop N % and count what they drop and pass. Input, not
 * output: a packet dropped on output fails the sender's sendmsg() with EPERM,
 * and Chromium then sends it again (its uplink lost almost nothing that way),
 * while a network loses packets silently. */
function lossTable(ports) {
  const name = `tessera_loss_${process.pid}`;
  const range = `${ports[0]}-${ports[1]}`;
  run('nft', ['-f', '-'], `table inet ${name} {
  chain up {
  }
  chain down {
  }
  chain out {
    type filter hook input priority 0; policy accept;
    udp dport ${range} jump up
    udp sport ${range} jump down
  }
}
`);
  let removed = false;
  const remove = () => {
    if (!removed) spawnSync('nft', ['delete', 'table', 'inet', name]);
    removed = true;
  };
  process.on('exit', remove);
  const count = (chain) => {
    const text = run('nft', ['list', 'chain', 'inet', name, chain]);
    const drop = /counter packets (\d+) bytes \d+ drop/.exec(text);
    const pass = /counter packets (\d+) bytes \d+ accept/.exec(text);
    return { dropped: drop ? Number(drop[1]) : 0, passed: pass ? Number(pass[1]) : 0 };
  };
  return {
    set(pct) {
      for (const chain of ['up', 'down']) {
        run('nft', ['flush', 'chain', 'inet', name, chain]);
        if (pct >= 100) run('nft', ['add', 'rule', 'inet', name, chain, 'counter', 'drop']);
        else if (pct > 0) run('nft', ['add', 'rule', 'inet', name, chain, 'numgen', 'random', 'mod', '100', '<', String(pct), 'counter', 'drop']);
        // accept: a packet that survives its draw is not drawn again by the
        // base chain's other rule (it could only match one of them anyway).
        run('nft', ['add', 'rule', 'inet', name, chain, 'counter', 'accept']);
      }
    },
    /* Packets dropped and passed each way since the last set(). */
    counts() {
      return { up: count('up'), down: count('down') };
    },
    remove,
  };
}

/* Whether this process is the inner run of runInNetns. */
function inNetns() {
  return Boolean(process.env.TSR_LOSS_NETNS);
}

module.exports = { runInNetns, inNetns, lossTable, run };
