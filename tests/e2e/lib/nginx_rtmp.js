/* A private nginx with the RTMP module (Debian's nginx + libnginx-mod-rtmp) as a
 * streaming target: its own prefix, config and logs in a scratch directory, one
 * foreground process on a given port of 127.0.0.1; never the system service. */
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const NGINX = '/usr/sbin/nginx';
const MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

function available() {
  return fs.existsSync(NGINX) && fs.existsSync(MODULE);
}

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

/* Writes the config under dir; returns {start(), stop(), url(name)}. */
function create(dir, port) {
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, [
    `load_module ${MODULE};`,
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    `pid ${path.join(dir, 'nginx.pid')};`,
    `error_log ${path.join(dir, 'logs', 'error.log')} info;`,
    'events { worker_connections 64; }',
    'rtmp {',
    '  server {',
    `    listen 127.0.0.1:${port};`,
    '    chunk_size 4096;',
    // A player joining mid-stream starts at a keyframe, with audio and video.
    '    application live { live on; record off; wait_key on; wait_video on; }',
    '  }',
    '}',
    '',
  ].join('\n'));
  let child = null;
  return {
    url: (name) => `rtmp://127.0.0.1:${port}/live/${name}`,
    async start() {
      child = spawn(NGINX, ['-p', dir, '-c', conf], { stdio: 'ignore' });
      const deadline = Date.now() + 10000;
      while (!(await portOpen(port))) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`nginx did not start: ${fs.readFileSync(path.join(dir, 'logs', 'error.log'), 'utf8')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL'); // the server vanishes, as a crashed ingest does
      await done;
      child = null;
    },
  };
}

module.exports = { available, create };
