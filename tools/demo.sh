#!/usr/bin/env bash
# Sets up (tools/setup.sh) and runs the hello demo on MicroPython (RUNTIME=cpython for CPython).
# Open http://127.0.0.1:${PORT:-8080}/ ; Ctrl-C stops it.
set -eu
cd "$(dirname "$0")/.."
bash tools/setup.sh
if [ "${RUNTIME:-micropython}" = cpython ]; then
  exec .venv/bin/python -u examples/hello.py --port "${PORT:-8080}"
fi
exec .venv/bin/micropython examples/hello.py --port "${PORT:-8080}"
