/* Bundles the official Pexip web SDK (@pexip/infinity, the version pinned in
 * package.json) for the browser with esbuild, as an app would: one IIFE that
 * exposes the package's exports as window.Pexip. Also finds the SDK's own JSON
 * response validators (@pexip/infinity-api dist/<area>/validation.js). */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const e2eDir = path.resolve(__dirname, '..');

function sdkVersion() {
  try {
    return require(path.join(e2eDir, 'node_modules/@pexip/infinity/package.json')).version;
  } catch (e) {
    return null;
  }
}

/* Writes the bundle to outFile. Throws when esbuild or the SDK is missing. */
async function bundlePexip(outFile) {
  const esbuild = require('esbuild');
  await esbuild.build({
    stdin: { contents: "export * from '@pexip/infinity';", resolveDir: e2eDir, loader: 'js' },
    bundle: true,
    format: 'iife',
    globalName: 'Pexip',
    platform: 'browser',
    target: 'es2020',
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    outfile: outFile,
    logLevel: 'error',
  });
  return fs.statSync(outFile).size;
}

/* The SDK's validator modules: { token, participant, conference, call }. */
async function loadValidators() {
  const base = path.join(e2eDir, 'node_modules/@pexip/infinity-api/dist');
  const out = {};
  for (const area of ['token', 'participant', 'conference', 'call']) {
    out[area] = await import(pathToFileURL(path.join(base, area, 'validation.js')).href);
  }
  return out;
}

module.exports = { bundlePexip, loadValidators, sdkVersion };
