#!/usr/bin/env bash
# Bundle the web viewer (web/src) and three.js with esbuild into ONE classic script (an IIFE, no
# module): web/vendor/viewer.js, or the file given. Needs `npm ci` (make setup). Deterministic: the
# same sources give the same bytes (tests/test_web.py checks the vendored copy is up to date).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-web/vendor/viewer.js}"
three="$(node -p "require('./node_modules/three/package.json').version")"
node_modules/.bin/esbuild web/src/main.js --bundle --format=iife --minify --target=es2020 \
  --legal-comments=none --log-level=warning --outfile="$out" \
  --banner:js="/* Neural Network Animator web viewer (GPL-3.0-or-later, web/src) with three.js $three (MIT, LICENSE-three.txt), bundled by esbuild */"
if [ $# -eq 0 ]; then
  cp node_modules/three/LICENSE web/vendor/LICENSE-three.txt
fi
