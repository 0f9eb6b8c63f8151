#!/bin/bash
# test_ui.sh - the real-window test (make test-ui): the built zip in a real Blender, in a window on a
# virtual X screen (Xvfb), driven by simulated mouse and keyboard events from Blender's factory
# startup file (tests/ui/driver.py), then checked (tests/ui/check.py). Screenshots and result.json
# go to NNA_UI_OUT (default out/ui).
#
# Usage: tools/test_ui.sh                       # the Blender of tools/find_blender.sh (a Debian chroot)
#        BLENDER=/path/to/blender tools/test_ui.sh
#        NNA_UI_BIG=1 tools/test_ui.sh          # also time a 64-32-16-10 build from a click
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
OUT=${NNA_UI_OUT:-$ROOT/out/ui}
log() { echo "test-ui: $*" >&2; }
die() { echo "test-ui: $*" >&2; exit 2; }

if ! command -v Xvfb >/dev/null 2>&1; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing xvfb (a virtual X screen)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xvfb >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xvfb >/dev/null; }
    else
        die "needs Xvfb: sudo apt-get install xvfb"
    fi
fi

B=$("$SCRIPT_DIR/find_blender.sh" --gl | tail -n1) || exit 2
ZIP=${NNA_ZIP:-}
[[ -n $ZIP ]] || ZIP=$(PY=$PY "$SCRIPT_DIR/extension.sh" build | tail -n1) || die "building the zip failed"
ZIP=$(cd "$(dirname "$ZIP")" && pwd)/$(basename "$ZIP")

mkdir -p "$OUT"
rm -rf "$OUT"/*.png "$OUT"/result.json "$OUT"/ui.mp4 "$OUT"/stills
USER_RES=$(mktemp -d "${TMPDIR:-/tmp}/nna-ui-user-XXXXXX")
XPID=
cleanup() {
    [[ -n $XPID ]] && kill "$XPID" 2>/dev/null || true
    rm -rf "$USER_RES"
}
trap cleanup EXIT

n=99
while [[ -e /tmp/.X11-unix/X$n || -e /tmp/.X$n-lock ]]; do n=$((n + 1)); done
Xvfb ":$n" -screen 0 1600x900x24 -nolisten tcp >/dev/null 2>&1 &
XPID=$!
for _ in $(seq 50); do [[ -e /tmp/.X11-unix/X$n ]] && break; sleep 0.1; done
[[ -e /tmp/.X11-unix/X$n ]] || die "Xvfb did not start on :$n"

log "installing $(basename "$ZIP") into a temporary user folder"
BLENDER_USER_RESOURCES=$USER_RES "$B" --command extension install-file -r user_default -e "$ZIP" >/dev/null

log "driving Blender in a 1600x900 window on :$n (screenshots in $OUT)"
set +e
DISPLAY=":$n" BLENDER_USER_RESOURCES=$USER_RES NNA_UI_OUT=$OUT timeout 900 \
    "$B" --enable-event-simulate -p 0 0 1600 900 --python "$ROOT/tests/ui/driver.py" >"$OUT/blender.log" 2>&1
code=$?
set -e
grep '^ui-driver:' "$OUT/blender.log" >&2 || true
[[ -f $OUT/result.json ]] || { tail -n 40 "$OUT/blender.log" >&2; die "the driver wrote no result (Blender exit $code)"; }
"$PY" "$ROOT/tests/ui/check.py" "$OUT"
