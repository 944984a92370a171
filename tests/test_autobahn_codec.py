"""Autobahn|Testsuite's fuzzing client, cases 1 to 7 and 10, against the WebSocket codec
(mhd_micro/websocket.py) in a plain-socket echo server (tests/apps/ws_codec_echo.py), on both
runtimes: no case may be FAILED. About 10 s per runtime; wstest is installed once into a cache
by tools/setup_autobahn.sh (it needs pyenv's Python 2.7.18: without it the test fails under
CI=true and is skipped elsewhere)."""
import subprocess
import sys

from conftest import ROOT, require


def test_autobahn_cases_1_to_7_and_10(serve, tmp_path):
    srv = serve(script="tests/apps/ws_codec_echo.py")
    p = subprocess.run([sys.executable, "tools/autobahn.py", "ws://127.0.0.1:%d" % srv.port, "--outdir", str(tmp_path),
                        "--agent", "ws_codec_echo_" + srv.runtime, "--timeout", "120"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    require(p.returncode != 3, "Autobahn's wstest cannot be installed here (pyenv's Python 2.7.18 is missing): "
            + p.stderr.strip())
    assert p.returncode == 0, p.stdout + p.stderr
    assert "| OK |" in p.stdout and "FAILED" not in p.stdout, p.stdout
