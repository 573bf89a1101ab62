#!/usr/bin/env bash
# Installs standardwebhooks (PyPI), the Standard Webhooks reference library for Python,
# into .venv: a test signs an HR event with it, so the webhook is checked against the
# specification as others implement it, not only against our own signing code. Pinned,
# so a new release cannot change what the test compares with.
set -euo pipefail
version=1.1.0
venv=.venv
if [ -x "$venv/bin/python" ] && "$venv/bin/pip" show standardwebhooks 2>/dev/null | grep -qx "Version: $version"; then
    exit 0
fi
if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
    else
        echo "==> python3 with venv is needed: sudo apt-get install -y python3-venv" >&2
        exit 1
    fi
fi
echo "==> installing standardwebhooks $version into $venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check "standardwebhooks==$version"
