#!/bin/bash
# get_blender.sh - provide a real Blender executable (Debian trixie's package) on a
# Debian 12 host without a display or GPU, via a debootstrap chroot.
#
# Usage:
#   tools/get_blender.sh [CACHE_DIR]      # default: <repo>/.cache/blender-chroot
#   BLENDER=$(tools/get_blender.sh)       # last stdout line is the wrapper path; logs go to stderr
#   "$BLENDER" --version
#   "$BLENDER" -b --python-expr 'import bpy; print(bpy.app.version_string)'
#   "$BLENDER" -b -c <command> ...        # extension CLI commands (register_cli_command)
#
# Creates CACHE_DIR/root (the chroot, ~1.7 GB, ~2 min) and the wrapper CACHE_DIR/blender.
# Idempotent: once CACHE_DIR/.complete exists it only prints the wrapper path.
# Needs root (mount namespaces, chroot). Mirror: the Debian mirror configured in
# /etc/apt/sources.list(.d) (override with DEBIAN_MIRROR=URL).
#
# The wrapper runs Blender in a private mount namespace (unshare --mount): /proc, /dev, /sys,
# /work, /tmp, the repo root and the caller's cwd are mounted into the chroot at the same paths
# only for that process; the mounts vanish with it and are never visible on the host. Extra host
# directories: NNA_BLENDER_BINDS=/a:/b. The environment (PYTHONPATH, BLENDER_USER_RESOURCES, ...)
# is passed through unchanged. Blender's Python is trixie's system python3 (3.13) with
# python3-pytest and python3-numpy installed.
#
# Removing the cache: `rm -rf --one-file-system CACHE_DIR` is safe when no wrapper is running
# (nothing is ever mounted in the chroot on the host side).
set -euo pipefail

SUITE=trixie
PACKAGES=blender,libegl1,libgl1,libegl-mesa0,libgl1-mesa-dri,python3-pytest,python3-numpy

log() { printf 'get_blender: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel 2>/dev/null || (cd "$SCRIPT_DIR/.." && pwd))

CACHE_DIR=${1:-$REPO_ROOT/.cache/blender-chroot}
mkdir -p "$CACHE_DIR"
CACHE_DIR=$(cd "$CACHE_DIR" && pwd)
ROOT=$CACHE_DIR/root
WRAPPER=$CACHE_DIR/blender
MARKER=$CACHE_DIR/.complete

if [[ -f $MARKER && -x $WRAPPER && -x $ROOT/usr/bin/blender ]]; then
    echo "$WRAPPER"
    exit 0
fi

if [[ $(id -u) != 0 ]]; then
    log "must run as root (debootstrap, chroot and mount namespaces need it)."
    command -v debootstrap >/dev/null || log "also install debootstrap: apt-get install debootstrap"
    exit 2
fi
for tool in unshare chroot mount flock; do
    command -v "$tool" >/dev/null || die "'$tool' not found (package util-linux / coreutils / mount)"
done

if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >&2 \
        || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >&2; } \
        || { log "could not install debootstrap; install it by hand: apt-get install debootstrap"; exit 2; }
fi
[[ -e /usr/share/debootstrap/scripts/$SUITE ]] \
    || die "this debootstrap does not know '$SUITE'; install a newer debootstrap"

# The Debian mirror configured for apt on this machine: the first http(s) URI whose path ends in
# /debian (so debian-security and third-party repositories are skipped).
find_mirror() {
    local f
    {
        [[ -f /etc/apt/sources.list ]] && cat /etc/apt/sources.list
        for f in /etc/apt/sources.list.d/*.list; do [[ -f $f ]] && cat "$f"; done
    } | sed -e 's/#.*//' | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\//) { print $i; break } }'
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        sed -e 's/#.*//' "$f" | awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }'
    done
}
if [[ -n ${DEBIAN_MIRROR:-} ]]; then
    MIRROR=$DEBIAN_MIRROR
else
    MIRROR=$(find_mirror | sed -e 's:/*$::' | grep -E '^https?://[^ ]*/debian$' | head -n1 || true)
    [[ -n $MIRROR ]] || die "no Debian mirror found in /etc/apt/sources.list(.d); set DEBIAN_MIRROR=URL"
fi

# Serialise concurrent setups of the same cache.
exec 9>"$CACHE_DIR/.setup.lock"
flock 9
if [[ -f $MARKER && -x $WRAPPER && -x $ROOT/usr/bin/blender ]]; then
    echo "$WRAPPER"
    exit 0
fi

mounts_under() { awk -v r="$1" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/self/mounts; }

# A partial chroot from an interrupted run: remove it, but never while anything is mounted in it
# (debootstrap mounts /proc and /sys in the target while it runs).
if [[ -e $ROOT ]]; then
    log "removing incomplete chroot $ROOT"
    if [[ -n $(mounts_under "$ROOT") ]]; then
        mounts_under "$ROOT" | sort -r | while read -r m; do umount -l "$m" || true; done
    fi
    [[ -z $(mounts_under "$ROOT") ]] || die "still mounted under $ROOT: $(mounts_under "$ROOT" | tr '\n' ' ')- not removing"
    rm -rf --one-file-system "$ROOT"
fi
rm -f "$MARKER" "$WRAPPER"

log "debootstrap $SUITE from $MIRROR into $ROOT (takes a few minutes)"
start=$SECONDS
cleanup_debootstrap_mounts() {
    # debootstrap unmounts on success; make sure nothing stays mounted if it fails half-way.
    mounts_under "$ROOT" | sort -r | while read -r m; do umount -l "$m" || true; done
}
trap cleanup_debootstrap_mounts EXIT
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT" "$MIRROR" >&2 \
    || die "debootstrap failed (see above; the log is in $ROOT/debootstrap/debootstrap.log)"
cleanup_debootstrap_mounts
trap - EXIT
[[ -z $(mounts_under "$ROOT") ]] || die "something is still mounted under $ROOT"
[[ -x $ROOT/usr/bin/blender ]] || die "blender missing from the chroot"
# Downloaded .debs are not needed any more.
rm -f "$ROOT"/var/cache/apt/archives/*.deb
# Blender reads /etc/mtab (missing in minbase) for its file browser's volume list.
[[ -e $ROOT/etc/mtab || -L $ROOT/etc/mtab ]] || ln -s ../proc/self/mounts "$ROOT/etc/mtab"
log "debootstrap done in $((SECONDS - start)) s"

# Directories the wrapper will mount at the same paths inside the chroot.
mkdir -p "$ROOT/work" "$ROOT$REPO_ROOT"

cat >"$WRAPPER.tmp" <<'WRAPPER_EOF'
#!/bin/bash
# Blender from the Debian chroot next to this file (generated by tools/get_blender.sh).
# Runs in a private mount namespace: /proc, /dev, /sys, /work, /tmp, the repo root, the cwd and
# NNA_BLENDER_BINDS (colon-separated) are mounted into the chroot at the same paths for this
# process only. All arguments go to blender; the environment is passed through.
set -euo pipefail
HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
ROOT=$HERE/root
REPO_ROOT=@REPO_ROOT@

if [[ ${_NNA_BLENDER_STAGE:-} != inner ]]; then
    [[ -x $ROOT/usr/bin/blender ]] || { echo "blender wrapper: no chroot at $ROOT; run tools/get_blender.sh" >&2; exit 2; }
    [[ $(id -u) == 0 ]] || { echo "blender wrapper: must run as root (mount namespace + chroot)" >&2; exit 2; }
    export _NNA_BLENDER_STAGE=inner _NNA_BLENDER_CWD=$PWD
    export _NNA_BLENDER_OUTER_NS=$(readlink /proc/self/ns/mnt)
    # No --fork: unshare, this script, chroot and blender are all one process (the caller's pid),
    # so signals (Ctrl-C, timeout's SIGTERM) reach blender directly. The namespace and its mounts
    # disappear when blender (and anything it spawned) exits.
    exec unshare --mount --propagation private /bin/bash "$HERE/blender" "$@"
fi

# ---- inside the new mount namespace ----
CWD=$_NNA_BLENDER_CWD
OUTER_NS=$_NNA_BLENDER_OUTER_NS
unset _NNA_BLENDER_STAGE _NNA_BLENDER_CWD _NNA_BLENDER_OUTER_NS
# Never mount anything unless this really is a private namespace (mounts must not leak to the host).
[[ $(readlink /proc/self/ns/mnt) != "$OUTER_NS" ]] \
    || { echo "blender wrapper: not in a private mount namespace; refusing to mount" >&2; exit 1; }
mount --make-rprivate /

mount -t proc proc "$ROOT/proc"
mount --rbind /dev "$ROOT/dev"
mount --rbind /sys "$ROOT/sys"

bound=()
covered() {  # is $1 inside an already bound directory?
    local b
    for b in "${bound[@]}"; do
        [[ $1 == "$b" || $1 == "$b"/* ]] && return 0
    done
    return 1
}
bind_same() {  # mount host dir $1 at the same path inside the chroot
    local d
    d=$(readlink -f "$1" 2>/dev/null) || return 0
    [[ -d $d ]] || return 0
    covered "$d" && return 0
    case $d in
        / | /proc* | /sys* | /dev* | /usr | /usr/* | /etc | /etc/* | /bin* | /sbin* | /lib* | /var | /var/lib* | /boot* | /run*)
            return 0 ;;
    esac
    mkdir -p "$ROOT$d"
    # Not recursive: the chroot may itself live under a bound directory.
    mount --bind "$d" "$ROOT$d"
    bound+=("$d")
}
bind_same /work
bind_same /tmp
bind_same "$REPO_ROOT"
if [[ -n ${NNA_BLENDER_BINDS:-} ]]; then
    IFS=: read -r -a extra <<<"$NNA_BLENDER_BINDS"
    for d in "${extra[@]}"; do [[ -n $d ]] && bind_same "$d"; done
fi
bind_same "$CWD"
[[ -d $ROOT$CWD ]] || { echo "blender wrapper: cwd $CWD is not available inside the chroot; using /" >&2; CWD=/; }

exec chroot "$ROOT" /usr/bin/env --chdir="$CWD" /usr/bin/blender "$@"
WRAPPER_EOF
sed -i "s|@REPO_ROOT@|$(printf '%q' "$REPO_ROOT" | sed 's/[|&\\]/\\&/g')|" "$WRAPPER.tmp"
chmod 755 "$WRAPPER.tmp"
mv "$WRAPPER.tmp" "$WRAPPER"

log "checking: $WRAPPER --version"
version=$("$WRAPPER" --version 2>/dev/null | grep -m1 '^Blender ' || true)
[[ -n $version ]] || die "the wrapper does not run blender (try: $WRAPPER --version)"
python=$(chroot "$ROOT" python3 --version 2>&1 || true)
printf '%s\nsuite=%s\nmirror=%s\n%s\nsetup_seconds=%s\n' \
    "$version" "$SUITE" "$MIRROR" "$python" "$((SECONDS - start))" >"$MARKER"
log "ready: $version, $python ($((SECONDS - start)) s)"
echo "$WRAPPER"
