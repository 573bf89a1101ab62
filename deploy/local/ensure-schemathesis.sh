#!/usr/bin/env bash
# Installs schemathesis (PyPI), a property-based fuzzer of OpenAPI specifications, into
# .venv: a test runs it against the api with every check and its stateful phase, so the
# spec is held to the code by cases nobody wrote by hand. Pinned, so a new release (new
# checks, new generators) cannot change what the test finds between two runs.
set -euo pipefail
version=4.32.5
venv=.venv
if [ -x "$venv/bin/schemathesis" ] && "$venv/bin/pip" show schemathesis 2>/dev/null | grep -qx "Version: $version"; then
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
echo "==> installing schemathesis $version into $venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
