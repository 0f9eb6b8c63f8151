#!/bin/bash
# extension.sh - build and validate the extension zip with Blender's own extension tool.
#
# Usage:
#   tools/extension.sh build      # dist/nn_animator-<version>.zip; prints its path (last line)
#   tools/extension.sh validate   # the manifest (source folder) and the built zip
#   tools/extension.sh script     # print the path of blender_ext.py shipped in the bpy wheel
#
# Without BLENDER: runs blender_ext.py, the script behind `blender --command extension`, which
# the bpy wheel ships at bpy.utils.system_resource('SCRIPTS')/addons_core/bl_pkg/cli/ - with
# plain Python (PY, default .venv/bin/python; importing bpy is only needed to find the script).
# With BLENDER=/path/to/blender: `blender --command extension build|validate` instead.
# The output folder is DIST (default dist/). Messages go to stderr.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
DIST=${DIST:-$ROOT/dist}
mkdir -p "$DIST"
DIST=$(cd "$DIST" && pwd)

die() { echo "extension: $*" >&2; exit 2; }

manifest_value() { sed -n "s/^$1 *= *\"\\([^\"]*\\)\".*/\\1/p" "$ROOT/blender_manifest.toml" | head -n1; }
ID=$(manifest_value id)
VERSION=$(manifest_value version)
[[ -n $ID && -n $VERSION ]] || die "blender_manifest.toml has no id/version"
ZIP=$DIST/$ID-$VERSION.zip

SCRIPTS=""
scripts_dir() {  # Blender's scripts folder inside the bpy wheel
    if [[ -z $SCRIPTS ]]; then
        [[ -x $PY ]] || die "$PY not found: run make setup (or give BLENDER=/path/to/blender)"
        SCRIPTS=$("$PY" -c "import bpy; print(bpy.utils.system_resource('SCRIPTS'))" 2>/dev/null | tail -n1) \
            || die "$PY cannot import bpy: run make setup (or give BLENDER=/path/to/blender)"
        [[ -f $SCRIPTS/addons_core/bl_pkg/cli/blender_ext.py ]] \
            || die "blender_ext.py not found in $SCRIPTS/addons_core/bl_pkg/cli"
    fi
    echo "$SCRIPTS"
}
ext_script() { echo "$(scripts_dir)/addons_core/bl_pkg/cli/blender_ext.py"; }

# ext ARGS...: blender_ext.py ARGS (plain Python) or blender --command extension ARGS
ext() {
    if [[ -n ${BLENDER:-} ]]; then
        local b
        b=$(BLENDER=$BLENDER "$SCRIPT_DIR/find_blender.sh" --quiet | tail -n1) || exit 2
        # --factory-startup: no user preferences or add-ons are read
        (cd "$ROOT" && "$b" -b --factory-startup --command extension "$@")
    else
        local scripts extra=()
        scripts=$(scripts_dir)
        # `blender --command extension` checks tags against Blender's list; the bare script only
        # does so when given the list (the same file Blender passes).
        case $1 in build | validate) extra=(--valid-tags "$scripts/modules/_bpy_internal/extensions/tags.py") ;; esac
        (cd "$ROOT" && "$PY" "$scripts/addons_core/bl_pkg/cli/blender_ext.py" "$@" "${extra[@]}")
    fi
}

case ${1:-} in
    build)
        rm -f "$DIST/$ID"-*.zip
        ext build --source-dir "$ROOT" --output-dir "$DIST" >&2 || die "build failed (see above)"
        [[ -f $ZIP ]] || die "the builder did not write $ZIP"
        echo "$ZIP"
        ;;
    validate)
        [[ -f $ZIP ]] || die "$ZIP not found: run make build first"
        echo "extension: validating the manifest in $ROOT" >&2
        ext validate "$ROOT" >&2 || die "the manifest does not validate (see above)"
        echo "extension: validating $ZIP" >&2
        ext validate "$ZIP" >&2 || die "$ZIP does not validate (see above)"
        # A repository listing (what an extensions server hosts) must also accept the zip.
        tmp=$(mktemp -d "${TMPDIR:-/tmp}/nna-repo-XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        cp "$ZIP" "$tmp/"
        echo "extension: server-generate (repository listing) for the zip" >&2
        ext server-generate --repo-dir "$tmp" >&2 || die "server-generate rejects $ZIP (see above)"
        [[ -s $tmp/index.json ]] || die "server-generate wrote no index.json"
        grep -q "\"id\": *\"$ID\"" "$tmp/index.json" || die "server-generate's index.json does not list $ID"
        echo "extension: $ZIP is valid" >&2
        ;;
    script)
        ext_script
        ;;
    *)
        sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
