#!/usr/bin/env bash
# Node.js tools used by the tests (the Khronos glTF validator), from the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing nodejs and npm (for the glTF validator)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  else
    echo "setup: the glTF tests need Node.js and npm; run: sudo apt-get install nodejs npm" >&2
    exit 1
  fi
fi
# reinstall only when package-lock.json changed
stamp=node_modules/.nna-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
