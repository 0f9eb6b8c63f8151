#!/usr/bin/env bash
# Make sure the Debian packages Eevee needs for software OpenGL (Mesa EGL) are present.
# Installs them when run as root on Debian/Ubuntu; otherwise says what to install.
set -euo pipefail
pkgs=(libegl1 libegl-mesa0 libgl1-mesa-dri)
command -v dpkg-query >/dev/null 2>&1 || { echo "setup: not a Debian/Ubuntu system; make sure EGL and Mesa's software OpenGL are installed for Eevee"; exit 0; }
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "setup: installing ${missing[*]} (software OpenGL for Eevee)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: Eevee needs these Debian packages: ${missing[*]}" >&2
  echo "setup: run: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
