"""Smoke tests of the benchmark tools: the ceiling server and the microdot app answer like
hello.py (so the bench compares equal bytes) on both runtimes, bench_alloc.py counts a
request's allocations, the ROMFS image the in-place runs mount reads back as the bundle and
mounts on MicroPython, the charts are drawn, and tools/bench.py starts. The full bench
(minutes) is not run here."""
import json
import os
import re
import shutil
import subprocess
import sys

from conftest import ROOT, micropython_cmd, mpy_cross_cmd, require, start_server
from wire import Client, get

TOOLS = os.path.join(ROOT, "tools")
sys.path.insert(0, TOOLS)
import bench  # noqa: E402
import build  # noqa: E402

sys.path.remove(TOOLS)

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


def _bench_alloc(mpy_tree, tmp_path, case, warmup, n, every):
    """Run tools/bench_alloc.py on MicroPython for `case`, driven by bench.py --drive with
    warmup + n requests; returns its RESULT."""
    if not os.path.isdir(str(tmp_path / "mhd_micro")):
        shutil.copytree(os.path.join(mpy_tree, "mhd_micro"), str(tmp_path / "mhd_micro"))
        os.makedirs(str(tmp_path / "tools"))
        shutil.copy(os.path.join(ROOT, "tools", "bench_alloc.py"), str(tmp_path / "tools"))
    srv = start_server("micropython", "tools/bench_alloc.py",
                       ("--case", case, "--warmup", str(warmup), "--n", str(n), "--every", str(every)), cwd=str(tmp_path))
    try:
        drv = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench.py"), "--drive", str(srv.port),
                              str(warmup + n), case], capture_output=True, text=True, timeout=60)
        assert drv.returncode == 0, drv.stdout + drv.stderr
        out, _ = srv.proc.communicate(timeout=20)
    finally:
        if srv.alive():
            srv.stop()
    lines = [x for x in out.splitlines() if x.startswith("RESULT ")]
    assert lines, out
    return json.loads(lines[0][7:])


def test_bench_alloc_counts_requests(mpy_tree, tmp_path):
    """bench_alloc.py (MicroPython: it needs micropython.mem_total()) measures a short window,
    reports it and exits."""
    res = _bench_alloc(mpy_tree, tmp_path, "headers", 5, 20, 10)
    assert (res["seen"], res["n"], res["bad_values"]) == (25, 20, 0)
    assert res["bytes_per_request"] > 0 and res["callback_bytes_per_request"] > 0
    assert res["garbage_per_request"] >= 0 and res["live_first"] > 0


def test_plain_gets_allocate_nothing(mpy_tree, tmp_path):
    """A plain keep-alive GET, with the least head and with a browser's, allocates 0 bytes on
    MicroPython: engine and callback together (micropython.mem_total() over 40 requests)."""
    for case in ("plain", "browser"):
        res = _bench_alloc(mpy_tree, tmp_path, case, 10, 40, 20)
        assert (res["seen"], res["n"]) == (50, 40)
        assert (case, res["bytes_per_request"], res["garbage_per_request"]) == (case, 0, 0)


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


def _microdot_dir():
    try:
        import microdot
    except ImportError:
        require(False, "microdot is not installed (bash tools/setup.sh installs it with the test tools)")
    return os.path.dirname(microdot.__file__)


def test_microdot_app_answers_like_hello(serve, runtime, tmp_path):
    """tools/microdot_hello.py gives hello.py's status, body and Content-Type at / and its 404
    elsewhere; microdot as .mpy on MicroPython, as the bench runs it."""
    src = _microdot_dir()
    if runtime == "micropython":
        os.makedirs(str(tmp_path / "microdot"))
        for name in ("__init__", "microdot"):
            subprocess.check_call([mpy_cross_cmd(), "-o", str(tmp_path / "microdot" / (name + ".mpy")),
                                   os.path.join(src, name + ".py")])
        shutil.copy(bench.MICRODOT_APP, str(tmp_path))
        md = serve("--port", "0", script="microdot_hello.py", cwd=str(tmp_path))
    else:
        md = serve("--port", "0", script="tools/microdot_hello.py")
    hello = serve("--port", "0", script="examples/hello.py")
    for path in ("/", "/nope"):
        got = Client(md.port).exchange(get(path))
        want = Client(hello.port).exchange(get(path))
        assert (got.status, got.body) == (want.status, want.body)
    got, want = Client(md.port).exchange(get("/")), Client(hello.port).exchange(get("/"))
    assert got.header("content-type") == want.header("content-type") == "text/plain"
    assert got.body == b"Hello, world!"


def test_romfs_image_round_trip_and_mount(tmp_path):
    """build.py's ROMFS image (tools/bench.py mounts it for the in-place runs) reads back as the
    bundle's .mpy files byte for byte, is the image `mpremote romfs build` makes of the same
    directory, and MicroPython mounts it from a bytearray and imports the core from it."""
    out = str(tmp_path / "rom")
    p = subprocess.run([sys.executable, os.path.join(TOOLS, "build.py"), "--board", "esp32", "--arch", "x64",
                        "--name", "rom", "--out", out], capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    with open(os.path.join(out, "bundle.json")) as f:
        info = json.load(f)
    with open(os.path.join(out, build.ROMFS_FILE), "rb") as f:
        image = f.read()
    assert info["romfs"] == len(image)
    files = build.read_romfs(image)
    want = {"mhd_micro/%s.mpy" % mod for mod in info["modules"]}
    assert {k for k, v in files.items() if v is not None} == want
    assert [k for k, v in files.items() if v is None] == ["mhd_micro/"]
    for name in want:
        with open(os.path.join(out, name), "rb") as f:
            assert files[name] == f.read()
    import contextlib
    import io

    from mpremote.romfs import make_romfs
    src = tmp_path / "romsrc"
    src.mkdir()
    shutil.copytree(os.path.join(out, "mhd_micro"), str(src / "mhd_micro"))
    with contextlib.redirect_stdout(io.StringIO()):
        assert make_romfs(str(src), mpy_cross=False) == image
    # mounted as the bench's in-place runner does, with nothing else on the path
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(os.path.join(out, build.ROMFS_FILE), str(run))
    runner = bench.INPLACE_RUNNER.replace("import hello\n", "import mhd_micro\nprint('FROM', mhd_micro.__file__)\n")
    r = subprocess.run([micropython_cmd(), "-c", runner], cwd=str(run), capture_output=True, text=True, timeout=60)
    assert "FROM /rom/mhd_micro/__init__.mpy" in r.stdout, r.stdout + r.stderr
    assert "IMAGE %d " % len(image) in r.stdout


def test_charts_are_drawn(tmp_path):
    """draw_charts writes both charts from a bench's results (here made up); without
    matplotlib it returns None and the bench goes on."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        require(False, "matplotlib is not installed (bash tools/setup.sh installs it with the test tools)")
    speed = [{"runtime": rt, "load": label, "conns": c, "keep_alive": True,
              "hello": {"rps": 1000.0 * c}, "ceiling": {"rps": 3000.0 * c}, "microdot": {"rps": 500.0}}
             for rt in ("cpython", "micropython") for label, c, head in bench.LOADS if head == "keep-alive"]
    heap = [{"what": "hello.mpy", "conn_memory": 1024, "kib": 86, "trials": []},
            {"what": "hello.inplace", "conn_memory": 1024, "kib": 64, "trials": []}]
    mach = {"rows": {(".mpy", "engine"): {"import": 46000}, ("in place", "engine"): {"import": 25000}}}
    split = bench.heap_split(heap, mach, {"connection": 700, "buffer": 3000, "response": 200})
    assert [name.split("\n")[0] for name, _ in split] == [
        "hello.py, core .mpy", "hello.py, core in place", "esp32 config, .mpy", "rp2040 config, .mpy"]
    assert sum(split[0][1].values()) == 86 * 1024  # the parts add up to the heap
    paths = bench.draw_charts(speed, split, str(tmp_path))
    assert [os.path.basename(p) for p in paths] == [bench.CHART_RPS, bench.CHART_HEAP]
    for p in paths:
        with open(p) as f:
            assert f.read(200).lstrip().startswith("<?xml")
