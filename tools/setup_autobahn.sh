#!/usr/bin/env bash
# Installs Autobahn|Testsuite's wstest once, for tools/autobahn.py (the WebSocket conformance
# run). autobahntestsuite is still Python 2 code and Debian 12 has no python2, so it goes into
# a virtualenv over pyenv's Python 2.7.18 (../shared/reference/conformance-tools.md section 3):
#   python3 -m venv V3 && V3/bin/pip install 'virtualenv<20.22'   (the last to create 2.7 envs)
#   V3/bin/virtualenv -p $(pyenv root)/versions/2.7.18/bin/python AB27 && AB27/bin/pip install autobahntestsuite
# Both live in a cache directory outside the repository: $AUTOBAHN_HOME, default
# ~/.cache/mhd_micro-autobahn. A second run with wstest present does nothing.
# Prints the path of wstest on its last line. Exit status 3: pyenv or its Python 2.7.18 is
# missing (the caller fails under CI=true and skips otherwise); 1: an install failed.
#     bash tools/setup_autobahn.sh
set -eu
HOME_AB=${AUTOBAHN_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/mhd_micro-autobahn}
WSTEST=$HOME_AB/ab27/bin/wstest
if [ -x "$WSTEST" ]; then
  echo "$WSTEST"
  exit 0
fi

PYENV=$(command -v pyenv || true)
[ -n "$PYENV" ] || [ ! -x "$HOME/.pyenv/bin/pyenv" ] || PYENV=$HOME/.pyenv/bin/pyenv
if [ -z "$PYENV" ]; then
  echo "setup_autobahn: pyenv is missing (wstest needs pyenv's Python 2.7.18)" >&2
  exit 3
fi
PY27=$("$PYENV" root)/versions/2.7.18/bin/python
if [ ! -x "$PY27" ]; then
  echo "setup_autobahn: $PY27 is missing (pyenv install 2.7.18)" >&2
  exit 3
fi

mkdir -p "$HOME_AB"
LOG=$HOME_AB/setup.log
echo "setup_autobahn: installing wstest into $HOME_AB (about 30 s; log in $LOG)" >&2
if ! {
  { [ -x "$HOME_AB/v3/bin/virtualenv" ] || { python3 -m venv "$HOME_AB/v3" && "$HOME_AB/v3/bin/pip" install -q 'virtualenv<20.22'; }; } &&
  rm -rf "$HOME_AB/ab27" &&
  "$HOME_AB/v3/bin/virtualenv" -q -p "$PY27" "$HOME_AB/ab27" &&
  "$HOME_AB/ab27/bin/pip" install -q autobahntestsuite
} >"$LOG" 2>&1; then
  tail -n 20 "$LOG" >&2
  echo "setup_autobahn: the install failed; the whole log is in $LOG" >&2
  exit 1
fi
echo "$WSTEST"
