#!/bin/bash
# find_blender.sh - find a usable Blender executable for the Makefile targets; print its path.
#
# Usage: tools/find_blender.sh [--gl] [--quiet]
#   BLENDER=/path/to/blender tools/find_blender.sh    # check the user's own Blender
#   tools/find_blender.sh                              # the provided one (tools/get_blender.sh)
#
# Which Blender:
#   1. $BLENDER, when set (a path or a command name on PATH);
#   2. otherwise the Debian chroot Blender of tools/get_blender.sh (created on first use, ~100 s,
#      1.4 GB, needs root);
#   3. otherwise (not root) `blender` on PATH.
# Checks: it runs, `blender --version` says 4.2 or newer (blender_version_min in the manifest);
# with --gl also that Eevee can render (EGL/OpenGL present), cached per executable in
# .cache/find_blender/. The last stdout line is the executable's absolute path; every failure is
# one line on stderr starting with "find_blender:" and exit status 2.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
CACHE=$ROOT/.cache/find_blender
CHECK_GL=0
QUIET=0
for a in "$@"; do
    case $a in
        --gl) CHECK_GL=1 ;;
        --quiet) QUIET=1 ;;
        -h | --help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "find_blender: unknown option $a (try --help)" >&2; exit 2 ;;
    esac
done

fail() { echo "find_blender: $*" >&2; exit 2; }
note() { [[ $QUIET == 1 ]] || echo "find_blender: $*" >&2; }

min_version=$(sed -n 's/^blender_version_min *= *"\([0-9.]*\)".*/\1/p' "$ROOT/blender_manifest.toml")
min_version=${min_version:-4.2.0}

# ---- 1. which executable --------------------------------------------------------------------
if [[ -n ${BLENDER:-} ]]; then
    if [[ $BLENDER == */* ]]; then
        exe=$BLENDER
    else
        exe=$(command -v "$BLENDER" 2>/dev/null) || fail "BLENDER=$BLENDER: no such command on PATH"
    fi
    [[ -e $exe ]] || fail "BLENDER=$BLENDER: no such file"
    [[ -d $exe ]] && { [[ -x $exe/blender ]] && exe=$exe/blender || fail "BLENDER=$BLENDER is a folder without a blender executable"; }
    [[ -x $exe ]] || fail "BLENDER=$BLENDER is not executable"
    exe=$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")
elif [[ $(id -u) == 0 ]]; then
    command -v unshare >/dev/null || fail "no Blender found: give BLENDER=/path/to/blender (4.2 or newer); tools/get_blender.sh needs 'unshare' (util-linux)"
    exe=$("$SCRIPT_DIR/get_blender.sh" | tail -n1) \
        || fail "no Blender found: tools/get_blender.sh failed (see above); give BLENDER=/path/to/blender (4.2 or newer) instead"
elif exe=$(command -v blender 2>/dev/null); then
    note "using $exe from PATH (not root, so tools/get_blender.sh cannot provide one)"
else
    fail "no Blender found: give BLENDER=/path/to/blender (4.2 or newer; https://www.blender.org/download/), or run as root so tools/get_blender.sh can provide one"
fi

# ---- 2. does it run, which version ------------------------------------------------------------
if ! out=$("$exe" --version 2>&1 </dev/null); then
    first=$(printf '%s\n' "$out" | grep -m1 -i -E 'error|cannot|not found' || printf '%s\n' "$out" | head -n1)
    hint=""
    case $first in
        *"shared librar"*) hint=" (missing system libraries; on Debian/Ubuntu: apt-get install libx11-6 libxi6 libxxf86vm1 libxfixes3 libxrender1 libxkbcommon0 libsm6 libgl1 libegl1)" ;;
    esac
    fail "$exe --version failed: ${first:-no output}$hint"
fi
version=$(printf '%s\n' "$out" | sed -n 's/^Blender \([0-9][0-9]*\.[0-9][0-9]*\(\.[0-9][0-9]*\)\{0,1\}\).*/\1/p' | head -n1)
[[ -n $version ]] || fail "$exe --version printed no 'Blender X.Y' line; is it Blender? (it printed: $(printf '%s' "$out" | head -n1))"
older() {  # is version $1 older than $2?
    [[ $1 != "$2" && $(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1) == "$1" ]]
}
if older "$version" "$min_version"; then
    fail "$exe is Blender $version; Neural Network Animator needs Blender $min_version or newer (blender_version_min in blender_manifest.toml)"
fi

# ---- 3. can Eevee render (EGL / OpenGL) ------------------------------------------------------------
if [[ $CHECK_GL == 1 ]]; then
    mkdir -p "$CACHE"
    real=$(readlink -f "$exe")
    key=$(printf '%s %s %s' "$real" "$version" "$(stat -c %Y "$real")" | md5sum | cut -c1-16)
    if [[ ! -f $CACHE/gl-$key.ok ]]; then
        tmp=$(mktemp -d "${TMPDIR:-/tmp}/nna-glcheck-XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        # A 16x16 Eevee render of one cube, in a throwaway user folder.
        expr="
import bpy, sys
sc = bpy.context.scene
ids = [i.identifier for i in sc.render.bl_rna.properties['engine'].enum_items]
sc.render.engine = 'BLENDER_EEVEE_NEXT' if 'BLENDER_EEVEE_NEXT' in ids else 'BLENDER_EEVEE'
sc.render.resolution_x = sc.render.resolution_y = 16
sc.render.resolution_percentage = 100
sc.eevee.taa_render_samples = 1
sc.render.filepath = '$tmp/gl.png'
bpy.ops.render.render(write_still=True)
print('NNA_GL_OK')
"
        rc=0
        gl_out=$(cd "$tmp" && BLENDER_USER_RESOURCES=$tmp timeout 300 "$exe" -b --factory-startup \
            --python-exit-code 3 --python-expr "$expr" 2>&1 </dev/null) || rc=$?
        if [[ $rc != 0 || $gl_out != *NNA_GL_OK* || ! -s $tmp/gl.png ]]; then
            reason=$(printf '%s\n' "$gl_out" | grep -m1 -i -E 'egl|opengl|gpu|display|context|error' || true)
            pkgs="libegl1 libegl-mesa0 libgl1-mesa-dri"
            if [[ $real == "$ROOT"/.cache/blender-chroot/* ]]; then
                fix="the chroot lacks Mesa's EGL ($pkgs): recreate it with rm -rf --one-file-system .cache/blender-chroot && make blender"
            else
                fix="install EGL and Mesa's software OpenGL (Debian/Ubuntu: apt-get install $pkgs; Fedora: dnf install mesa-libEGL mesa-dri-drivers)"
            fi
            fail "Eevee cannot render with $exe (no usable EGL/OpenGL${reason:+: ${reason:0:160}}); $fix"
        fi
        touch "$CACHE/gl-$key.ok"
    fi
fi

note "Blender $version: $exe"
echo "$exe"
