"""The dashboard (examples/dashboard.py) in a real browser: headless Chromium (Debian's
`chromium`), driven by playwright-core from npm (tests/dashboard_browser.cjs), loads the page
from the server running under MicroPython (the core as .mpy, as on a board) and under CPython,
sees at least 10 live updates over the page's WebSocket, clicks the LED button, sees the
answered command, and saves a screenshot in the test's tmp_path. tools/setup.sh installs
both tools; this test installs nothing (a missing one skips it, or fails it under CI=true)."""
import json
import os
import shutil
import subprocess

from conftest import ROOT, require

PLAYWRIGHT = os.path.join(os.path.expanduser("~"), ".cache", "mhd_micro", "playwright", "node_modules", "playwright-core")
CHROMIUM = "/usr/bin/chromium"


def test_dashboard_in_chromium(serve, runtime, mpy_tree, tmp_path):
    require(os.path.exists(CHROMIUM), "Debian's chromium is missing: bash tools/setup.sh installs it")
    require(shutil.which("node") is not None, "Node.js is missing: bash tools/setup.sh installs it")
    require(os.path.isdir(PLAYWRIGHT), "playwright-core is missing from %s: bash tools/setup.sh installs it" % PLAYWRIGHT)
    srv = serve("--port", 0, "--period", 200, script="examples/dashboard.py",
                cwd=mpy_tree if runtime == "micropython" else ROOT)
    shot = tmp_path / ("dashboard-%s.png" % runtime)
    p = subprocess.run(["node", os.path.join(ROOT, "tests", "dashboard_browser.cjs"), PLAYWRIGHT,
                        "http://127.0.0.1:%d/" % srv.port, str(shot), "10"],
                       capture_output=True, text=True, timeout=90)
    assert p.returncode == 0, p.stdout + p.stderr
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r["errors"] == [], r
    assert r["ws_url"] == "ws://127.0.0.1:%d/ws" % srv.port
    assert r["updates"] >= 12 and r["frames_received"] >= r["updates"], r  # 10, the click, 2 more
    assert r["frames_sent"] == 1 and r["led_before"] == "off" and r["led_after"] == "on", r
    assert r["ack"].startswith('command "toggle" answered: LED on'), r
    assert r["state"] == "live" and float(r["temp"]) > 0, r
    assert shot.stat().st_size > 5000  # a rendered page, not an empty one
