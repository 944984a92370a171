"""tools/build.py --native: the modules of the request path as machine code (mpy-cross -X
emit=native) on MicroPython's unix port, which runs x64 code. A differential test: the same
app (tests/apps/app.py) from a bytecode tree and from a native bundle, at three strictness
levels, must send the same bytes (but the Date line) for every request of the smuggling
corpus (tests/test_smuggling.py) and for ordinary ones, and close the connection alike."""
import os
import platform
import re
import shutil
import subprocess
import sys

import pytest

import test_smuggling as smuggling
from conftest import ROOT, start_server
from wire import build, exchange

sys.path.insert(0, os.path.join(ROOT, "tools"))
from bench_instructions import HEADS  # noqa: E402  (a browser's head, a long target)

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason="the native bundle is built for x64, the unix port's code on this machine")
NATIVE = ("__init__", "action", "connection", "daemon", "framing", "parser", "request", "response")
DATE = re.compile(rb"Date: [^\r\n]*\r\n")
ORDINARY = [
    HEADS["browser"], HEADS["path"], build("HEAD", "/"), build("GET", "/query?a=1&b=%41+c&d"),
    build("GET", "/header?name=X-Test", (("Host", "x"), ("X-Test", "  spaced  value "))),
    build("POST", "/echo", (("Host", "x"), ("Content-Length", "5")), b"hello"),
    build("POST", "/echo", (("Host", "x"), ("Transfer-Encoding", "chunked")), b"3\r\nabc\r\n0\r\nT: v\r\n\r\n"),
    build("GET", "/big?n=5000"), build("GET", "/chunked"), build("GET", "/notfound"), build("GET", "/empty"),
    build("GET", "/echo", (("Host", "x"), ("Expect", "100-continue"))),
    build("GET", "/info", version="1.0"), b"\r\n\r\n" + build("GET", "/"), b"GET / HTTP/1.1\nHost: x\n\n",
    build("GET", "/", ()) + build("GET", "/"),  # no Host, then one pipelined
]


@pytest.fixture(scope="module")
def native_tree(tmp_path_factory):
    out = tmp_path_factory.mktemp("native")
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "build.py"), "--arch", "x64", "--native",
                        "--name", "native", "--out", str(out / "bundle")], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "machine code (--native): " + ", ".join(NATIVE) in p.stdout, p.stdout
    tree = out / "tree"
    shutil.copytree(str(out / "bundle" / "mhd_micro"), str(tree / "mhd_micro"))
    shutil.copytree(os.path.join(ROOT, "tests", "apps"), str(tree / "tests" / "apps"))
    return str(tree)


def test_the_native_modules_are_machine_code(native_tree, mpy_tree):
    # what mpy-cross made, not what build.py says: machine code is several times the bytecode
    for name in os.listdir(os.path.join(native_tree, "mhd_micro")):
        native = os.path.getsize(os.path.join(native_tree, "mhd_micro", name))
        plain = os.path.getsize(os.path.join(mpy_tree, "mhd_micro", name))
        if name[:-4] in NATIVE:
            assert native > 2 * plain, name
        elif name != "features.mpy":  # the generated flags differ in form, not in kind
            assert native < plain * 1.1, name


@pytest.mark.parametrize("level", smuggling.LEVELS)
def test_native_and_bytecode_send_the_same_bytes(native_tree, mpy_tree, level):
    servers = [start_server("micropython", "tests/apps/app.py", ("--port", 0, "--strict", level), cwd=cwd)
               for cwd in (mpy_tree, native_tree)]
    try:
        cases = [c.values if hasattr(c, "values") else c for c in smuggling.CASES]
        raws = [c[1] + smuggling.SMUGGLED + smuggling.AFTER for c in cases] + [r + smuggling.AFTER for r in ORDINARY]
        for raw in raws:
            got = []
            for srv in servers:
                data, closed = exchange(srv.port, raw, timeout=1.0)
                got.append((DATE.sub(b"", data), closed))
            assert got[0] == got[1], raw
    finally:
        for srv in servers:
            out = srv.stop()
            assert "Traceback" not in out, out
