"""Smoke tests of the benchmark tools: the ceiling server answers like hello.py (so the bench
compares equal bytes) on both runtimes, bench_alloc.py counts a request's allocations, and
tools/bench.py starts. The full bench (minutes) is not run here."""
import json
import os
import re
import shutil
import subprocess
import sys

from conftest import ROOT, start_server
from wire import Client, get

DATE = re.compile(rb"^Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n", re.M)


def _masked(raw):
    assert len(DATE.findall(raw)) == 1, raw
    return DATE.sub(b"Date: (date)\r\n", raw)


def _replies(port):
    """Two keep-alive requests on one connection, then one with Connection: close."""
    c = Client(port)
    first = c.exchange(get("/"))
    second = c.exchange(get("/"))
    last = c.exchange(get("/", ("Connection", "close")))
    assert c.closed()
    return first, second, last


def test_ceiling_answers_like_hello(serve):
    ceiling = serve("--port", "0", script="tools/ceiling.py")
    hello = serve("--port", "0", script="examples/hello.py")
    got = _replies(ceiling.port)
    want = _replies(hello.port)
    for g, w in zip(got, want):
        assert (g.status, g.body) == (200, b"Hello, world!")
        assert _masked(g.raw) == _masked(w.raw)  # same bytes but the date: the bench compares like with like
        assert len(g.raw) == len(w.raw)
    assert got[0].header("connection") is None
    assert got[2].header("connection") == "close"


def test_ceiling_serves_many_connections_and_pipelining(serve):
    srv = serve("--port", "0", script="tools/ceiling.py")
    clients = [Client(srv.port) for _ in range(20)]
    for c in clients:
        c.send(get("/") + get("/"))  # two requests in one write
    for c in clients:
        assert c.response().status == 200
        assert c.response().status == 200
    for c in clients:
        c.sock.close()
    assert Client(srv.port).exchange(get("/")).status == 200  # still serving after the closes


def test_bench_alloc_counts_requests(mpy_tree, tmp_path):
    """bench_alloc.py (MicroPython: it needs micropython.mem_total()) measures a short window,
    reports it and exits."""
    shutil.copytree(os.path.join(mpy_tree, "mhd_micro"), str(tmp_path / "mhd_micro"))
    os.makedirs(str(tmp_path / "tools"))
    shutil.copy(os.path.join(ROOT, "tools", "bench_alloc.py"), str(tmp_path / "tools"))
    srv = start_server("micropython", "tools/bench_alloc.py",
                       ("--case", "headers", "--warmup", "5", "--n", "20", "--every", "10"), cwd=str(tmp_path))
    try:
        drv = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench.py"), "--drive", str(srv.port),
                              "25", "headers"], capture_output=True, text=True, timeout=60)
        assert drv.returncode == 0, drv.stdout + drv.stderr
        out, _ = srv.proc.communicate(timeout=20)
    finally:
        if srv.alive():
            srv.stop()
    lines = [x for x in out.splitlines() if x.startswith("RESULT ")]
    assert lines, out
    res = json.loads(lines[0][7:])
    assert (res["seen"], res["n"], res["bad_values"]) == (25, 20, 0)
    assert res["bytes_per_request"] > 0 and res["callback_bytes_per_request"] > 0
    assert res["garbage_per_request"] >= 0 and res["live_first"] > 0


def test_bench_help():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench.py"), "--help"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    assert "--quick" in r.stdout and "benchmarks.md" in r.stdout


def test_mpy_frames_lists_heap_frames(mpy_tree, tmp_path):
    """tools/mpy_frames.py reads mpy-cross output: a 12-local function's frame is on the heap."""
    src = tmp_path / "m.py"
    src.write_text("def small(a):\n    return a\n\n\ndef big(a):\n"
                   "    b = a; c = b; d = c; e = d; f = e; g = f; h = g; i = h; j = i; k = j; m = k\n    return m\n")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "mpy_frames.py"), str(src)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rows = {line.split("|")[2].strip(): line for line in r.stdout.splitlines()[2:]}
    assert rows["small"].split("|")[6].strip() == "-"
    assert rows["big"].split("|")[6].strip() == "144"  # 5 header words + 13 state words, 64-bit
