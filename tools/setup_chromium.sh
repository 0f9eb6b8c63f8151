#!/usr/bin/env bash
# Headless Chromium for the web page's tests and benchmark (tests/test_web.py, bench/bench_web.py).
# Installs the Debian package `chromium` when run as root on Debian/Ubuntu; otherwise says what to do.
# NNA_CHROMIUM=/path/to/chromium uses your own binary instead.
set -euo pipefail
bin="${NNA_CHROMIUM:-/usr/lib/chromium/chromium}"
[ -x "$bin" ] && exit 0
if [ -n "${NNA_CHROMIUM:-}" ]; then
  echo "setup: NNA_CHROMIUM=$NNA_CHROMIUM is not an executable" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing chromium (headless, for the web page's tests)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null
else
  echo "setup: the web page's tests need headless Chromium; run: sudo apt-get install chromium" >&2
  echo "setup: (or set NNA_CHROMIUM=/path/to/chromium)" >&2
  exit 1
fi
[ -x "$bin" ] || { echo "setup: chromium installed but $bin is missing" >&2; exit 1; }
