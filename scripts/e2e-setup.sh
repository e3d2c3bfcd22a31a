#!/usr/bin/env bash
# Installs the browser-test dependencies (playwright-core from npm) into
# tests/e2e/node_modules. Idempotent and quick: when the pinned version is
# already there it only checks and exits. The browser itself is Debian's
# chromium (scripts/deps.sh test); playwright-core never downloads one.
set -euo pipefail
cd "$(dirname "$0")/../tests/e2e"
if ! command -v npm >/dev/null 2>&1; then
  echo "e2e-setup: npm not found; install nodejs and npm (scripts/deps.sh test)" >&2
  exit 1
fi
want=$(node -p "require('./package.json').dependencies['playwright-core']")
have=$(node -p "try { require('./node_modules/playwright-core/package.json').version } catch (e) { '' }")
if [ "$want" = "$have" ]; then
  exit 0
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi
echo "e2e-setup: playwright-core $want installed in tests/e2e/node_modules"
