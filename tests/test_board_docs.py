"""The measured figures in boards/*/README.md (the parts marked as generated) are what the
tools measure on this commit: bundle sizes, the modules a started daemon keeps, the heap of
the core on 32 and 64 bits, and the budget table. When the code changes, refresh them with

    .venv/bin/python tools/build.py --update-docs
"""
import difflib
import os
import shutil
import sys

from conftest import ROOT, require

sys.path.insert(0, os.path.join(ROOT, "tools"))
import board_docs  # noqa: E402

REFRESH = ".venv/bin/python tools/build.py --update-docs"


def test_board_readmes_show_what_the_tools_measure(tmp_path):
    require(shutil.which("node") and shutil.which("npm"),
            "Node.js and npm are not installed: the 32-bit figures come from tools/heap32.py (bash tools/setup.sh "
            "installs them from Debian)")
    stale = []
    for board in board_docs.BOARDS:
        old, new = board_docs.render(board, str(tmp_path))
        if old != new:
            diff = difflib.unified_diff(old.splitlines(True), new.splitlines(True), "boards/%s/README.md" % board,
                                        "what the tools measure", n=0)
            stale.append("".join(diff))
    assert not stale, ("the boards' READMEs are behind the code; refresh them with `%s` and commit:\n%s"
                       % (REFRESH, "\n".join(stale)))
