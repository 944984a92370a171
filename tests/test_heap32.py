"""tools/heap32.py: the core's heap on a 32-bit MicroPython (WebAssembly port) next to the
64-bit unix port, and the boards' budgets held to that measurement."""
import json
import os
import shutil
import subprocess
import sys

from conftest import ROOT, require


def test_board_budgets_cover_the_measured_32_bit_core():
    require(shutil.which("node") and shutil.which("npm"),
            "Node.js and npm are not installed (bash tools/setup.sh installs them from Debian)")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "heap32.py"), "--conn-memory", "2048", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout)
    wide, narrow = r["64-bit (unix port)"], r["32-bit (WebAssembly port)"]
    assert wide["64-bit"] and not narrow["64-bit"]
    # objects shrink with the pointers, bytecode does not: both less on 32-bit, the core only a little
    assert narrow["core"] < wide["core"] and narrow["response"] < wide["response"]
    # (a connection is all pointers and ints; a buffer's bytes do not shrink, and on the
    # WebAssembly port a buffer with its objects measures a little more than on 64-bit)
    assert narrow["connection"] < wide["connection"]
    assert narrow["core"] > wide["core"] * 0.7
    for board in ("esp32", "rp2040"):
        with open(os.path.join(ROOT, "boards", board, "config.json")) as f:
            budget = json.load(f)["budget"]
        assert budget["code"] >= narrow["core"], (board, budget["code"], narrow["core"])
        assert budget["connection_bytes"] >= narrow["connection"], (board, narrow["connection"])
        assert 2048 + 2048 // 3 + budget["buffer_objects"] >= narrow["buffer"], (board, narrow["buffer"])
        assert budget["response_bytes"] >= narrow["response"], (board, narrow["response"])


def test_board_budgets_cover_their_default_app():
    # a board whose default app loads more of the library (the Pico W's dashboard: upgrade and
    # WebSocket) states that app's cost in budget.app_code: at least what it measures on 32-bit
    require(shutil.which("node") and shutil.which("npm"),
            "Node.js and npm are not installed (bash tools/setup.sh installs them from Debian)")
    checked = 0
    for board in ("esp32", "rp2040"):
        with open(os.path.join(ROOT, "boards", board, "config.json")) as f:
            cfg = json.load(f)
        if not cfg.get("default_app"):
            assert "app_code" not in cfg["budget"], board
            continue
        out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "heap32.py"), "--app",
                              os.path.join(ROOT, cfg["default_app"]), "--json"], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        narrow = json.loads(out.stdout)["32-bit (WebAssembly port)"]
        assert narrow["app"] > 0 and "ws" in narrow["modules"], narrow
        assert cfg["budget"]["app_code"] >= narrow["app"], (board, cfg["budget"]["app_code"], narrow)
        checked += 1
    assert checked  # the Pico W has one
