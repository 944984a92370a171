#!/usr/bin/env bash
# Sets up (tools/setup.sh, once) and runs the dashboard demo (live readings pushed over a
# WebSocket, a button that toggles an LED) on MicroPython (RUNTIME=cpython for
# CPython) on port ${PORT:-8080}. The server listens on every interface (0.0.0.0), as on a
# board, so other machines can reach it too; from this one open http://127.0.0.1:PORT/ .
set -eu
cd "$(dirname "$0")/.."
bash tools/setup.sh
PORT=${PORT:-8080}
if [ "${RUNTIME:-micropython}" = cpython ]; then
  run=(.venv/bin/python -u)
else
  run=(.venv/bin/micropython)
fi
echo "demo: examples/dashboard.py on ${RUNTIME:-micropython}: open http://127.0.0.1:$PORT/ (Ctrl-C stops)"
exec "${run[@]}" examples/dashboard.py --port "$PORT"
