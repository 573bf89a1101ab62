#!/usr/bin/env bash
# The console's browser tests need Debian's Chromium and playwright-core (no browser
# download: playwright drives the system Chromium). Installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "Chromium is missing; install it with: sudo apt-get update && sudo apt-get install -y chromium" >&2
        exit 1
    fi
fi

if [ ! -d tests/browser/node_modules/playwright-core ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
