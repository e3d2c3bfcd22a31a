#!/usr/bin/env bash
# Installs the browser-test dependencies (playwright-core, and for the Pexip SDK
# test @pexip/infinity + @pexip/infinity-api + esbuild, all pinned in
# tests/e2e/package.json) into tests/e2e/node_modules with `npm ci`. Idempotent
# and quick: when every pinned version is already there it only checks and exits.
# The browser itself is Debian's chromium (scripts/deps.sh test); playwright-core
# never downloads one. The Pexip test bundles the SDK itself (esbuild, ~1 s).
set -euo pipefail
cd "$(dirname "$0")/../tests/e2e"
if ! command -v npm >/dev/null 2>&1; then
  echo "e2e-setup: npm not found; install nodejs and npm (scripts/deps.sh test)" >&2
  exit 1
fi
# Every pinned dependency installed at its pinned version?
missing=$(node -e "
const pkg = require('./package.json');
const all = { ...pkg.dependencies, ...pkg.devDependencies };
const bad = Object.entries(all).filter(([n, v]) => {
  try { return require('./node_modules/' + n + '/package.json').version !== v; } catch (e) { return true; }
});
console.log(bad.map(([n, v]) => n + '@' + v).join(' '));
")
if [ -z "$missing" ]; then
  exit 0
fi
want="$missing"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi
echo "e2e-setup: installed $want in tests/e2e/node_modules"
