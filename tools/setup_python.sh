#!/usr/bin/env bash
# Make sure Python 3.11 with venv is there (the bpy 4.2-5.0 wheels are built for CPython 3.11).
# On Debian/Ubuntu as root the missing packages are installed; otherwise it says what to install.
set -euo pipefail
py="${1:-python3.11}"
ok() { command -v "$py" >/dev/null 2>&1 && "$py" -c "import ensurepip, venv" >/dev/null 2>&1; }
ok && exit 0
if [ "$py" = python3.11 ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing python3.11 and python3.11-venv"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3.11 python3.11-venv >/dev/null || true
fi
ok && exit 0
echo "setup: $py with venv is needed (Blender's bpy 4.2-5.0 wheels are for Python 3.11)." >&2
echo "setup: on Debian/Ubuntu: sudo apt-get install python3.11 python3.11-venv (or set PYTHON=/path/to/python3.11)" >&2
exit 1
