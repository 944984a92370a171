"""WebSocket over action_upgrade (examples/ws_echo.py, the codec in mhd_micro/websocket.py) on
both runtimes, judged by other people's code: the `websockets` client from PyPI (text, binary,
fragmented and 1 MiB messages, pings, a clean close) and Autobahn|Testsuite's fuzzing client,
cases 1 to 7 and 10, with no FAILED case. Bad handshakes get 400 or 426."""
import subprocess
import sys

from websockets.sync.client import connect as ws_connect

from conftest import ROOT, require
from wire import Client, build

APP = "examples/ws_echo.py"


def test_websockets_client(serve):
    srv = serve("--port", 0, script=APP)
    with ws_connect("ws://127.0.0.1:%d/" % srv.port, max_size=None, open_timeout=10) as c:
        c.send("hello, wörld")
        assert c.recv(timeout=10) == "hello, wörld"
        c.send(bytes(range(256)))
        assert c.recv(timeout=10) == bytes(range(256))
        c.send(["frag", "men", "ted"])  # one message in three frames
        assert c.recv(timeout=10) == "fragmented"
        big = bytes(range(256)) * 4096  # 1 MiB: through 4 KiB buffers, in pieces
        c.send(big)
        assert c.recv(timeout=30) == big
        c.ping(b"are you there").wait(10)
    assert c.close_code == 1000


def test_bad_handshakes(serve):
    srv = serve("--port", 0, script=APP)
    base = (("Host", "x"), ("Connection", "Upgrade"), ("Upgrade", "websocket"))
    with Client(srv.port) as c:
        r = c.exchange(build("GET", "/", base + (("Sec-WebSocket-Version", "13"),)))  # no key
        assert r.status == 400
        r = c.exchange(build("GET", "/", base + (("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                                                 ("Sec-WebSocket-Version", "8"))))
        assert r.status == 426 and r.header("sec-websocket-version") == "13"


def test_autobahn_cases_1_to_7_and_10(serve, tmp_path):
    srv = serve("--port", 0, script=APP)
    p = subprocess.run([sys.executable, "tools/autobahn.py", "ws://127.0.0.1:%d" % srv.port, "--outdir", str(tmp_path),
                        "--agent", "mhd_micro_" + srv.runtime, "--timeout", "120"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    require(p.returncode != 3, "Autobahn's wstest cannot be installed here (pyenv's Python 2.7.18 is missing): "
            + p.stderr.strip())
    assert p.returncode == 0, p.stdout + p.stderr
    assert "| OK |" in p.stdout and "FAILED" not in p.stdout, p.stdout
