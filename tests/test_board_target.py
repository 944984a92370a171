"""The server tests on a board, in CI: the virtual board (tools/virtual_board.py: MicroPython's
unix port behind a TCP port) with the ESP32's heap budget is the target of `pytest --target
socket://127.0.0.1:PORT`, which builds the ESP32 bundle (the core as .mpy), deploys it with
mpremote (tools/deploy.py) with tests/apps/app.py as the app, starts it through main.py and
the board's config, reads its address from the console (tools/console.py) and runs the tests
marked `board` against it. About 40 s."""
import os
import re
import subprocess
import sys

from board_target import board_heap
from conftest import ROOT
from test_boards import VirtualBoard


def test_the_board_tests_pass_on_a_virtual_esp32(tmp_path):
    board = VirtualBoard(tmp_path, heap=board_heap("esp32"))
    try:
        p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--target", board.device,
                            "--target-board", "esp32", os.path.join(ROOT, "tests")],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    finally:
        board.stop()
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-6000:]
    m = re.search(r"(\d+) passed, (\d+) deselected", out)
    assert m and int(m.group(1)) >= 60, out[-3000:]  # the wire tests, the error replies, limits, strictness
    assert "failed" not in out and "skipped" not in out, out[-3000:]
    # the board ran the ESP32 config: the daemon logged its pools and the heap left
    log = board.output()
    assert re.search(r"mhd_micro on esp32: network host", log), log[-2000:]
    assert re.search(r"took 8 connections x 2048 bytes \(sharing 7 buffers\), 8 responses; heap free: \d+", log), log[-2000:]
