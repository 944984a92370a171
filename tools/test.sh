#!/usr/bin/env bash
# Sets up (tools/setup.sh) and runs the whole test suite on both runtimes.
set -eu
cd "$(dirname "$0")/.."
bash tools/setup.sh
exec .venv/bin/python -m pytest -q "$@"
