"""examples/upload.py end to end, on CPython and on MicroPython with the core as .mpy (as a
board has it) in a small heap: 16 MiB uploads as a raw body (Content-Length), chunked and as a
multipart form give the right SHA-256 and file while the heap stays flat; 4 uploads at once;
a client that leaves mid-upload; bad names and methods; and --ota against a stand-in of the
esp32 module (tests/esp32_standin/esp32.py)."""
import hashlib
import os
import random
import shutil
import socket
import subprocess
import threading
import time

import pytest
import requests

from conftest import ROOT, require
from wire import request

SCRIPT = "examples/upload.py"
CURL = shutil.which("curl")
MiB = 1024 * 1024
# Heap flatness: the least of three readings of gc.mem_alloc() after a collection (the GC is
# conservative: a stale pointer on the C stack may keep one dead object alive). 16 MiB goes
# through the connection's buffer in some 4 000 pieces or more, so a leak of even one small
# object per piece would be tens of KiB: 1 KiB of margin only absorbs that one stale object.
MARGIN = 1024


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """16 MiB of random bytes (a period no buffer size divides) and their SHA-256."""
    data = random.Random(11).randbytes(16 * MiB)
    return data, hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory, big):
    path = tmp_path_factory.mktemp("big") / "big.bin"
    path.write_bytes(big[0])
    return str(path)


def start(serve, runtime, mpy_tree, updir, heap="104K", connections=4, extra=(), warm=True):
    args = ("--dir", str(updir), "--port", 0, "--status", "--connections", connections) + tuple(extra)
    if runtime == "micropython":
        srv = serve(*args, script=SCRIPT, cwd=mpy_tree, heap=heap)
    else:
        srv = serve(*args, script=SCRIPT)
    # Warm-up: a GET, then a chunked and a raw upload, so that what loads on first use
    # (upload.py, chunked.py) has loaded before the heap is measured. At 96K any order works
    # (test_cold_start_uploads_at_96k starts cold with a raw upload).
    assert request(srv.port, "/_status").status == 200
    if not warm:
        return srv
    assert put(srv, "warm", pieces(b"y" * 1000))[0] == 200
    assert put(srv, "warm", b"x" * 1000) == (200, "warm size=1000 sha256=%s" % hashlib.sha256(b"x" * 1000).hexdigest())
    os.remove(os.path.join(str(updir), "warm"))
    return srv


def heap(srv):
    return min(int(request(srv.port, "/_status").body) for _ in range(3))


def url(srv, path):
    return "http://127.0.0.1:%d%s" % (srv.port, path)


def pieces(data, size=65536):
    """The body as an iterator: requests then sends it chunked."""
    for i in range(0, len(data), size):
        yield data[i:i + size]


def put(srv, name, body):
    r = requests.put(url(srv, "/upload/" + name), data=body, timeout=120)
    return r.status_code, r.text


def sha_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# The issue asks for 96K with 4 connections. Measured on the unix port (64-bit, core as .mpy,
# gc.mem_alloc() after a collection): 75.3 KB after start, 78.9 KB after the first raw upload
# (upload.py), 82.5 KB after the first chunked one (chunked.py), of 97,024 bytes. What decides
# it is MicroPython's interned names: they grow in pools that double, and past 620 names the
# sixth pool takes 7.1 KB in one piece. The example stays under it: ~528 names after start,
# ~554 after a raw upload, ~574 after a chunked one (micropython.qstr_info() in the example);
# while looking up mhd.HTTP_POST_ENCODING_* loaded post_parser.py (~100 names, before 185c880)
# it crossed that step before the pools were even taken, and at 96K it did not start. After
# those uploads a malformed request's 400 (errors.py, strictness.py and features.py: 30 names,
# 6.5 KB) is answered; after a form (611 names) it crosses the step and is closed unanswered.
SMALL_HEAPS = [("cpython", None), ("micropython", "96K"), ("micropython", "104K")]


@pytest.mark.parametrize("runtime,heapsize", SMALL_HEAPS, indirect=["runtime"])
def test_raw_and_chunked_16mib_heap_flat(serve, runtime, heapsize, mpy_tree, tmp_path, big):
    data, want = big
    srv = start(serve, runtime, mpy_tree, tmp_path, heap=heapsize)
    before = heap(srv)
    assert put(srv, "raw.bin", data) == (200, "raw.bin size=%d sha256=%s" % (len(data), want))
    first = heap(srv)
    assert put(srv, "chunked.bin", pieces(data)) == (200, "chunked.bin size=%d sha256=%s" % (len(data), want))
    second = heap(srv)
    assert sha_file(tmp_path / "raw.bin") == want and sha_file(tmp_path / "chunked.bin") == want
    print("heap %s %s: before %d, after raw %d, after chunked %d" % (runtime, heapsize, before, first, second))
    if runtime == "micropython":
        assert first <= before + MARGIN and second <= first + MARGIN, (before, first, second)


# A multipart form loads post.py, post_parser.py and upload.py (not post_pairs.py: urlencoded
# and text/plain only, nor post_fields.py: no field is kept): 16.1 KB with their interned
# names, 83 of them (611 after the form, under the 620 step). With 4 connections the heap
# holds 91.4 KB after a form (75.3 KB after start) of 97,024 bytes at 96K: upload.py 3.8 KB,
# post_parser.py 7.4 KB, post.py 3.9 KB, the form's state 0.8 KB. Before (the same example):
# 139 names (687 after the form: the sixth pool, 7.1 KB) and 27.3 KB, 104.5 KB after a form,
# 112K the smallest heap it passed in. What is left is cut into pieces (the largest free run
# after start is ~3 KB): a load that grows a dict needs its table in one piece, so the form's
# state and the modules' dicts are kept small (PostParser: 17 attributes; post.py's table of
# kept fields is made whole only once a second field is kept). Passed 25 runs of 25 at 96K.
@pytest.mark.parametrize("runtime,heapsize", [("cpython", None), ("micropython", "96K"), ("micropython", "112K")],
                         indirect=["runtime"])
def test_multipart_16mib_heap_flat(serve, runtime, heapsize, mpy_tree, tmp_path, big, big_file):
    require(CURL, "curl is not installed")
    data, want = big
    srv = start(serve, runtime, mpy_tree, tmp_path, heap=heapsize, warm=False)
    got = []
    for name in ("form.bin", "form2.bin"):
        out = subprocess.run([CURL, "-sS", "-F", "note=not a file: ignored", "-F", "file=@%s;filename=%s" % (big_file, name),
                              url(srv, "/upload")], capture_output=True, timeout=120)
        assert out.stdout.decode() == "%s size=%d sha256=%s" % (name, len(data), want), out
        assert sha_file(tmp_path / name) == want
        got.append(heap(srv))
    print("heap %s %s: after form 1 %d, after form 2 %d" % (runtime, heapsize, got[0], got[1]))
    if runtime == "micropython":
        assert got[1] <= got[0] + MARGIN, got


# examples/upload.py parses a form with a 512-byte buffer, which must fit in the connection's
# buffer behind the request head with 256 bytes to spare for reading (post.py _MIN_READ). With
# MicroPython's default 1 KiB buffer that leaves 256 bytes for the head: curl's (~200) fits,
# requests' (~280: User-Agent, Accept-Encoding, a 32-digit boundary) does not, and the form
# gets 400 "form: 61" (POST_PARSE_RES_FAILED_NO_LARGE_BUF_MEM: no large pool either).
def test_form_from_requests_with_default_buffer(mpy_tree, tmp_path):
    from conftest import start_server
    srv = start_server("micropython", SCRIPT, ("--dir", str(tmp_path), "--port", 0, "--connections", 4), cwd=mpy_tree,
                       heap="136K")
    try:
        r = requests.post(url(srv, "/upload"), files={"file": ("small.bin", b"s" * 1000)}, timeout=20)
    finally:
        srv.stop()
    assert (r.status_code, r.text) == (200, "small.bin size=1000 sha256=%s" % hashlib.sha256(b"s" * 1000).hexdigest())


@pytest.mark.parametrize("runtime,heapsize", SMALL_HEAPS, indirect=["runtime"])
def test_four_uploads_at_once(serve, runtime, heapsize, mpy_tree, tmp_path, big):
    data, want = big
    srv = start(serve, runtime, mpy_tree, tmp_path, heap=heapsize)
    out = [None] * 4
    # two raw and two chunked, each on its own connection
    bodies = [data, data, None, None]

    def one(i):
        out[i] = put(srv, "p%d.bin" % i, bodies[i] if bodies[i] is not None else pieces(data))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    for i in range(4):
        assert out[i] == (200, "p%d.bin size=%d sha256=%s" % (i, len(data), want))
        assert sha_file(tmp_path / ("p%d.bin" % i)) == want


@pytest.mark.parametrize("runtime", ["cpython", "micropython"], indirect=True)
def test_client_leaves_mid_upload(serve, runtime, mpy_tree, tmp_path):
    # one connection slot, so the next upload takes the slot the broken one left
    srv = start(serve, runtime, mpy_tree, tmp_path, connections=1)
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(b"PUT /upload/part.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"p" * 300000)
    time.sleep(0.3)
    s.close()
    deadline = time.time() + 5
    while True:  # until the server has seen the close and freed the slot (else 503)
        r = request(srv.port, "/upload/next.bin", method="PUT", body=b"n" * 5000)
        if r.status != 503 or time.time() > deadline:
            break
        time.sleep(0.1)
    assert (r.status, r.body) == (200, b"next.bin size=5000 sha256=%s" % hashlib.sha256(b"n" * 5000).hexdigest().encode())
    assert sorted(os.listdir(tmp_path)) == ["next.bin"]  # no partial part.bin


@pytest.mark.parametrize("runtime", ["cpython", "micropython"], indirect=True)
def test_bad_names_and_methods(serve, runtime, mpy_tree, tmp_path):
    # no upload before the 404 and 405: their status lines load status.py (see the end)
    srv = start(serve, runtime, mpy_tree, tmp_path, warm=False)
    for target in ("/upload/.x", "/upload/a/b", "/upload/", "/elsewhere/x"):
        assert request(srv.port, target, method="PUT", body=b"data").status == 404, target
    assert request(srv.port, "/upload/x").status == 405
    assert request(srv.port, "/upload/x", method="DELETE").status == 405
    assert os.listdir(tmp_path) == []
    assert put(srv, "ok.txt", b"fine")[0] == 200  # and it still serves


@pytest.mark.parametrize("runtime", ["cpython", "micropython"], indirect=True)
def test_ota_to_the_next_partition(serve, runtime, mpy_tree, tmp_path, monkeypatch):
    """--ota writes whole 4096-byte blocks to esp32.Partition(RUNNING).get_next_update(), the
    last one padded with 0xFF, and then calls set_boot()."""
    standin = os.path.join(ROOT, "tests", "esp32_standin")
    monkeypatch.setenv("ESP32_STANDIN_DIR", str(tmp_path))
    monkeypatch.setenv("MICROPYPATH", standin + ":.frozen")
    monkeypatch.setenv("PYTHONPATH", standin)
    srv = start(serve, runtime, mpy_tree, tmp_path, heap="256K", extra=("--ota",), warm=False)
    body = random.Random(5).randbytes(MiB + 123)  # not a whole number of blocks
    r = requests.put(url(srv, "/upload/firmware.bin"), data=body, timeout=60)
    assert (r.status_code, r.text) == (200, "firmware.bin size=%d sha256=%s" % (len(body), hashlib.sha256(body).hexdigest()))
    nblocks = (len(body) + 4095) // 4096
    log = (tmp_path / "log.txt").read_text().split("\n")
    assert log == ["writeblocks %d 4096" % i for i in range(nblocks)] + ["set_boot ota_1", ""]
    assert (tmp_path / "image.bin").read_bytes() == body + b"\xff" * (nblocks * 4096 - len(body))


# At 96K with 4 connections, started cold: a raw PUT first (upload.py loads), then a chunked
# one (chunked.py), then a 404. Before 185c880 the example did not start at 96K; before that,
# with ~5 KB left after start, one of the first-use loads failed in about half the cold starts
# and kept failing. The runs differ only in timing (how the head and body arrive), so 5 cold
# starts all passing is the bar.
def test_cold_start_uploads_at_96k(mpy_tree, tmp_path):
    from conftest import start_server
    for run in range(5):
        srv = start_server("micropython", SCRIPT, ("--dir", str(tmp_path), "--port", 0, "--status",
                                                   "--connections", 4), cwd=mpy_tree, heap="96K")
        try:
            got = [put(srv, "raw", b"x" * 1000)[0], put(srv, "chunked", pieces(b"y" * 1000))[0],
                   put(srv, ".bad", b"z")[0]]
        except requests.ConnectionError:
            got = "connection closed unanswered"
        finally:
            srv.stop()
        assert got == [200, 200, 404], "cold start %d: %s" % (run, got)


# Found in examples/upload.py (the example's, not the engine's): a broken upload's Sink stays
# until the next upload on its slot, which then removes the file by its name. If meanwhile
# another upload of the same name has finished on another slot, that good file is removed.
# (And when two broken uploads of one name wait on two slots, the second removal meets no file:
# OSError ENOENT out of on_request, and that new upload is closed unanswered.)
@pytest.mark.parametrize("runtime", ["cpython", "micropython"], indirect=True)
def test_a_broken_upload_does_not_remove_a_newer_file(serve, runtime, mpy_tree, tmp_path):
    srv = start(serve, runtime, mpy_tree, tmp_path, connections=2, warm=False)
    head = b"PUT /upload/x.bin HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
    broken = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    broken.sendall(head % 100000 + b"b" * 3000)
    time.sleep(0.3)
    broken.close()  # its slot keeps a stale Sink for x.bin
    time.sleep(0.3)
    good = socket.create_connection(("127.0.0.1", srv.port), timeout=10)  # one slot or the other
    good.sendall(head % 5000 + b"g" * 5000)
    assert b"x.bin size=5000" in good.recv(4096)
    assert (tmp_path / "x.bin").read_bytes() == b"g" * 5000
    # `good` stays open: the next client takes the other slot, whichever it is
    other = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    other.sendall(head.replace(b"x.bin", b"y.bin") % 10 + b"y" * 10)
    assert b"y.bin size=10" in other.recv(4096)
    other.close()
    good.close()
    assert (tmp_path / "x.bin").read_bytes() == b"g" * 5000
