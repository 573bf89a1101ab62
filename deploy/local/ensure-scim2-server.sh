#!/usr/bin/env bash
# Installs scim2-server (PyPI), an independent SCIM 2.0 server the SCIM connector's
# contract tests also run against, into .venv. Pinned, so a new release cannot change
# what the tests compare with.
set -euo pipefail
version=0.8.3
venv=.venv
if [ -x "$venv/bin/scim2-server" ] && "$venv/bin/pip" show scim2-server 2>/dev/null | grep -qx "Version: $version"; then
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
echo "==> installing scim2-server $version into $venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check "scim2-server==$version"
