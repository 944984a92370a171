"""The core as .mpy under a board-sized heap (MicroPython only), and interop with outside
clients: wrk for load, curl for connection reuse and uploads."""
import os
import re
import shutil
import socket
import subprocess
import threading

import pytest

from conftest import micropython_cmd, require
from wire import Client, flood, get, parse_responses, read_until_close

HELLO = b"Hello, world!"
WRK = "/usr/bin/wrk" if os.path.exists("/usr/bin/wrk") else shutil.which("wrk")
CURL = shutil.which("curl")


def wrk_errors(port, connections=8, seconds=2):
    """Run wrk; returns (requests done, error lines). wrk prints "Socket errors" and
    "Non-2xx or 3xx responses" lines only when there were some."""
    p = subprocess.run([WRK, "-t2", "-c%d" % connections, "-d%ds" % seconds, "--timeout", "2s",
                        "http://127.0.0.1:%d/" % port], capture_output=True, text=True, timeout=seconds + 20)
    assert p.returncode == 0, p.stdout + p.stderr
    m = re.search(r"(\d+) requests in", p.stdout)
    assert m, p.stdout
    errors = []
    for line in p.stdout.splitlines():
        line = line.strip()
        if line.startswith("Non-2xx"):
            errors.append(line)
        elif line.startswith("Socket errors"):
            counts = [int(n) for n in re.findall(r"\d+", line)]
            if any(counts):
                errors.append(line)
    return int(m.group(1)), errors


def thread_load(port, clients=8, requests=200):
    """Fallback without wrk: keep-alive clients in threads. Returns (requests done, errors)."""
    done, errors = [0], []
    lock = threading.Lock()

    def one():
        try:
            with Client(port) as c:
                for _ in range(requests):
                    r = c.exchange(get("/"))
                    if (r.status, r.body) != (200, HELLO):
                        raise AssertionError(repr(r))
                    with lock:
                        done[0] += 1
        except (AssertionError, OSError) as e:
            with lock:
                errors.append(repr(e))

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return done[0], errors


# 48K is the board-sized target. On the 64-bit unix port the serving core as .mpy
# takes about 42 KiB just to import (37 KiB on a 32-bit MicroPython: tools/heap32.py), and
# 8 connections of 1 KiB take 23 KiB more, so hello.py starts from about 86K: the 48K case is
# an expected failure (strict: it turns red the day the footprint fits, so the docs get
# updated) and the 96K case runs the same load, flood included, with room to spare.
@pytest.mark.parametrize("heap", [
    pytest.param("48K", marks=pytest.mark.xfail(strict=True, reason="core footprint on the 64-bit unix port: docs/benchmarks.md")),
    "96K"])
def test_mpy_core_small_heap_under_load(serve, runtime, mpy_tree, heap):
    if runtime != "micropython":
        pytest.skip("the .mpy tree runs on MicroPython only")
    try:
        srv = serve("--port", 0, script="examples/hello.py", cwd=mpy_tree, heap=heap)
    except RuntimeError:
        # say why: run it again, capturing what it printed
        cmd = [micropython_cmd(), "-X", "heapsize=%s" % heap, "examples/hello.py", "--port", "0"]
        try:
            out = subprocess.run(cmd, cwd=mpy_tree, capture_output=True, text=True, timeout=5)
            out = out.stdout + out.stderr
        except subprocess.TimeoutExpired as e:
            out = "started on the second try: %r" % (e.stdout,)
        pytest.fail("hello.py (core as .mpy) does not start in a %s heap:\n%s" % (heap, out[-1000:]))
    assert not os.path.exists(os.path.join(mpy_tree, "mhd_micro", "daemon.py"))  # .mpy only
    with Client(srv.port) as c:
        r = c.exchange(get("/"))
        assert (r.status, r.body, r.header("content-type")) == (200, HELLO, "text/plain")
        assert c.exchange(get("/nope")).status == 404
    if WRK:
        n, errors = wrk_errors(srv.port)
    else:
        n, errors = thread_load(srv.port)
    assert not errors, errors
    assert n >= 200, n
    # 64 clients at once against the small-board default of 8 connections
    results = flood(srv.port, 64)
    bad = [r for r in results if r not in ("200", "503", "closed")]
    assert not bad, bad
    assert "200" in results
    # still serving, and without errors, after the flood
    if WRK:
        n, errors = wrk_errors(srv.port, seconds=1)
    else:
        n, errors = thread_load(srv.port, requests=50)
    assert not errors and n > 0, errors


def test_wrk_keep_alive_load(serve):
    require(WRK, "wrk is not installed (bash tools/setup.sh installs it from Debian)")
    srv = serve("--connections", 16)
    n, errors = wrk_errors(srv.port, connections=16, seconds=1)
    assert not errors and n >= 100, (n, errors)


def curl(*args):
    p = subprocess.run([CURL, "-sv", "--max-time", "10"] + list(args), capture_output=True, timeout=20)
    return p.returncode, p.stdout, p.stderr.decode("latin-1")


def test_curl_reuses_the_connection(serve):
    require(CURL, "curl is not installed (bash tools/setup.sh installs it from Debian)")
    srv = serve()
    base = "http://127.0.0.1:%d" % srv.port
    rc, out, err = curl("-w", "|%{http_code}|%{num_connects}\n", base + "/", base + "/echo?x=1", base + "/query?a=b")
    assert rc == 0, err
    assert out == b"Hello, world!|200|1\n/echo 1 0|200|0\na=b|200|0\n", out
    assert "Re-using existing connection" in err or "Reusing existing connection" in err, err


def test_curl_uploads_and_http10(serve, tmp_path):
    require(CURL, "curl is not installed (bash tools/setup.sh installs it from Debian)")
    srv = serve()
    base = "http://127.0.0.1:%d" % srv.port
    data = tmp_path / "body"
    data.write_bytes(b"d" * 5000)
    # curl asks `Expect: 100-continue` for this size: the final answer comes without the body
    rc, out, err = curl("--data-binary", "@%s" % data, base + "/echo")
    assert (rc, out) == (0, b"/echo 3 5000"), err
    # a chunked upload, then a GET on the same connection
    rc, out, err = curl("-H", "Transfer-Encoding: chunked", "-H", "Expect:", "--data-binary", "@%s" % data,
                        base + "/echo", "--next", base + "/")
    assert (rc, out) == (0, b"/echo 3 18446744073709551615Hello, world!"), err
    assert "Re-using existing connection" in err or "Reusing existing connection" in err, err
    rc, out, err = curl("--http1.0", base + "/", base + "/")
    assert (rc, out) == (0, HELLO + HELLO), err
    assert "Connection: close" in err


def test_half_close_still_answered(serve):
    # a client that sends its requests and shuts its sending side down still gets the replies
    srv = serve()
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
    try:
        s.sendall(get("/") + get("/echo"))
        s.shutdown(socket.SHUT_WR)
        data, closed = read_until_close(s, 3.0)
        assert closed
        assert [(r.status, r.body) for r in parse_responses(data)] == [(200, HELLO), (200, b"/echo 1 0")]
    finally:
        s.close()
