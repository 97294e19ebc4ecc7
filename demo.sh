#!/bin/sh
# Sets up the bot in .venv beside this script (once) and starts `aurum demo`; arguments go to `aurum demo`
# (e.g. `sh demo.sh -c "/kpi latency 90d"`). Needs Python 3.11 or newer; works where only Debian's python3 exists.
set -eu
cd "$(dirname "$0")"
venv=.venv
stamp="$venv/.aurum-installed"

find_python() {
  for candidate in python3 python3.13 python3.12 python3.11 python; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
  python=$(find_python) || { echo "Aurum needs Python 3.11 or newer: install it (Debian/Ubuntu: apt-get install python3)." >&2; exit 1; }
  if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    package="python3-venv"
    version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "Installing $package (Python's venv module is missing)..."
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" "python$version-venv" >/dev/null
    else
      echo "Python's venv module is missing. Install it, then run this again:" >&2
      echo "  sudo apt-get install $package python$version-venv" >&2
      exit 1
    fi
  fi
  rm -rf "$venv"
  echo "Creating $venv with $python ($("$python" --version 2>&1))..."
  "$python" -m venv "$venv"
fi

# Install (again) only when pyproject.toml changed since the last install: a second run starts in seconds.
wanted=$(cksum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "Installing Aurum and its dependencies into $venv (a minute or two the first time)..."
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install -q -e . || {
    echo "Installing failed (above). Check the network to PyPI, then run this again." >&2; exit 1; }
  echo "$wanted" > "$stamp"
fi

exec "$venv/bin/aurum" demo "$@"
