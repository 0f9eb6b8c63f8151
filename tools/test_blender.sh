#!/bin/bash
# test_blender.sh - run the test suite INSIDE a real Blender, against the built extension zip.
#
# Usage: tools/test_blender.sh [PYTEST ARGS...]        (default: tests)
#   BLENDER=/path/to/blender tools/test_blender.sh     # the user's own Blender (4.2+)
#
# 1. finds/provides Blender and checks that Eevee can render (tools/find_blender.sh --gl);
# 2. takes the zip from NNA_ZIP, else builds it (tools/extension.sh build);
# 3. installs it as an extension into a temporary BLENDER_USER_RESOURCES (no real configuration
#    is read or written): blender --command extension install-file -r user_default -e ZIP;
# 4. runs pytest from .venv with pytest-blender, which re-runs pytest inside Blender
#    (blender -b --python run_pytest.py -- ARGS), with NNA_ADDON_MODULE=bl_ext.user_default.nn_animator
#    so tests/conftest.py enables the installed extension instead of this checkout.
# Blender's Python needs pytest: Debian's Blender uses the system Python (python3-pytest); for a
# Blender with its own bundled Python and no pytest, pytest is installed once into
# .cache/blender-site/pyX.Y and handed over with PYTHONPATH + --python-use-system-env
# (Blender ignores PYTHONPATH without that option). NNA_BLENDER_OWN_PYTEST=1 does that even when
# Blender's Python has a pytest (e.g. to run the same pytest version as .venv).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
PYTEST_VERSION=${NNA_BLENDER_PYTEST:-9.2.0}
log() { echo "test-blender: $*" >&2; }
die() { echo "test-blender: $*" >&2; exit 2; }

[[ -x $PY ]] || die "$PY not found: run make setup"
"$PY" -c "import pytest_blender" 2>/dev/null || die "pytest-blender is not installed in $PY: run make setup"

B=$("$SCRIPT_DIR/find_blender.sh" --gl | tail -n1) || exit 2

ZIP=${NNA_ZIP:-}
[[ -n $ZIP ]] || ZIP=$("$SCRIPT_DIR/extension.sh" build | tail -n1) || die "building the zip failed"
[[ -f $ZIP ]] || die "no extension zip at $ZIP"
ZIP=$(cd "$(dirname "$ZIP")" && pwd)/$(basename "$ZIP")
ID=$(sed -n 's/^id *= *"\([^"]*\)".*/\1/p' "$ROOT/blender_manifest.toml" | head -n1)

USER_RES=$(mktemp -d "${TMPDIR:-/tmp}/nna-blender-user-XXXXXX")
cleanup() { rm -rf "$USER_RES"; }
trap cleanup EXIT
export BLENDER_USER_RESOURCES=$USER_RES

log "installing $(basename "$ZIP") into $USER_RES (repository user_default)"
"$B" -b -c extension install-file -r user_default -e "$ZIP" >&2 || die "installing $ZIP failed"
[[ -f $USER_RES/extensions/user_default/$ID/blender_manifest.toml ]] \
    || die "the extension is not in $USER_RES/extensions/user_default/$ID after install-file"

# Blender's Python: can it import pytest? (numpy comes with every Blender build.)
probe=$("$B" -b --factory-startup --python-exit-code 3 --python-expr \
    "import sys; import numpy; print('NNA_PY', '%d.%d' % sys.version_info[:2]); import pytest; print('NNA_PYTEST', pytest.__version__)" \
    2>&1 </dev/null || true)
pyver=$(printf '%s\n' "$probe" | sed -n 's/^NNA_PY \([0-9.]*\)$/\1/p' | head -n1)
[[ -n $pyver ]] || die "Blender's Python cannot import numpy: $(printf '%s\n' "$probe" | grep -m1 -i error || true)"
blender_args=()
if [[ -n ${NNA_BLENDER_OWN_PYTEST:-} ]] || ! grep -q '^NNA_PYTEST ' <<<"$probe"; then
    site=$ROOT/.cache/blender-site/py$pyver
    if [[ ! -d $site/_pytest ]]; then
        log "installing pytest==$PYTEST_VERSION for Blender's Python $pyver into $site"
        "$PY" -m pip install -q --target "$site" --python-version "$pyver" --only-binary=:all: \
            --implementation cp "pytest==$PYTEST_VERSION" >&2 || die "could not install pytest for Python $pyver into $site"
    fi
    export PYTHONPATH=$site${PYTHONPATH:+:$PYTHONPATH}
    blender_args=(-- --python-use-system-env)
fi

export NNA_ADDON_MODULE=bl_ext.user_default.$ID NNA_ZIP=$ZIP NNA_BLENDER=$B
log "pytest inside $B with $NNA_ADDON_MODULE"
[[ $# -gt 0 ]] || set -- tests
cd "$ROOT"
rc=0
# The -W hides pytest-blender 3.0.8's own deprecation warnings under pytest 9 (config.inicfg).
"$PY" -m pytest -p pytest-blender --blender-executable "$B" \
    -W "ignore:config.inicfg is deprecated:DeprecationWarning" "$@" "${blender_args[@]}" || rc=$?
exit $rc
