#!/usr/bin/env bash
# Sets up (tools/setup.sh, once) and runs the whole test suite on both runtimes: two to three
# minutes on 2 cores. A test whose tool is missing is skipped with its reason in the summary
# (-rs), and fails under CI=true, where everything must be there.
set -eu
cd "$(dirname "$0")/.."
bash tools/setup.sh
exec .venv/bin/python -m pytest -q -rs "$@"
