"""Large files through response_from_fd (examples/file_server.py) to concurrent clients: every
byte correct, and on MicroPython (core as .mpy, a small heap) the heap does not grow."""
import hashlib
import socket
import threading

import pytest

from wire import request


def fetch_digest(port, target, out, idx):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % target).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    head, _, rest = head.partition(b"\r\n\r\n")
    h = hashlib.sha256(rest)
    n = len(rest)
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    s.close()
    out[idx] = (head, n, h.hexdigest())


def make_file(path, size):
    block = bytes(range(251)) * 4177  # a period that does not divide the buffer sizes
    with open(path, "wb") as f:
        written = 0
        while written < size:
            part = block[:size - written]
            f.write(part)
            written += len(part)
    return hashlib.sha256(path.read_bytes()).hexdigest()


# examples/file_server.py (response_from_fd), 4 clients at once, a file of 100 MB on CPython
# and 20 MB on MicroPython, core as .mpy and --connections 4 there, as a board would run it.
# The issue asks for a 64 KiB heap. On the 64-bit unix port the core as .mpy takes about
# 40 KiB by itself (docs/benchmarks.md), so 64K is an expected failure (strict: it turns red
# when the footprint fits) and the same test runs in 96K, the smallest heap it passes in
# (tools/bench.py measures it).
@pytest.mark.parametrize("runtime,heap", [
    ("cpython", None),
    pytest.param("micropython", "64K", marks=pytest.mark.xfail(strict=True, reason="core footprint on the 64-bit unix port: docs/benchmarks.md")),
    ("micropython", "96K")], indirect=["runtime"])
def test_big_file_to_four_clients(serve, runtime, heap, tmp_path, mpy_tree):
    size = (100 if runtime == "cpython" else 20) * 1024 * 1024
    want = make_file(tmp_path / "big.bin", size)
    (tmp_path / "small.txt").write_bytes(b"warm-up")
    args = ("--root", str(tmp_path), "--port", 0, "--status", "--connections", 4)
    if runtime == "micropython":
        srv = serve(*args, script="examples/file_server.py", cwd=mpy_tree, heap=heap)
    else:
        srv = serve(*args, script="examples/file_server.py")
    # warm up: the first file loads fd.py and body.py (modules load on first use)
    r = request(srv.port, "/small.txt")
    assert (r.status, r.body, r.header("content-type")) == (200, b"warm-up", "text/plain")
    heap_before = int(request(srv.port, "/_status").body)
    out = [None] * 4
    threads = [threading.Thread(target=fetch_digest, args=(srv.port, "/big.bin", out, i)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    for head, n, digest in out:
        assert b"Content-Length: %d" % size in head
        assert (n, digest) == (size, want)
    # MicroPython's GC is conservative: a stale pointer on the C stack can keep one dead
    # object alive through a collection, so the least of three readings counts. A leak per
    # read or per send would be far over the margin: each client's file takes some 20 000 reads.
    heap_after = min(int(request(srv.port, "/_status").body) for _ in range(3))
    if runtime == "micropython":
        assert heap_after <= heap_before + 1024, (heap_before, heap_after)


@pytest.mark.parametrize("runtime", ["cpython", "micropython"], indirect=True)
def test_file_server_answers(serve, runtime, tmp_path):
    (tmp_path / "index.html").write_bytes(b"<h1>board</h1>")
    (tmp_path / "app.js").write_bytes(b"let x = 1;")
    srv = serve("--root", str(tmp_path), "--port", 0, script="examples/file_server.py")
    r = request(srv.port, "/")
    assert (r.status, r.body, r.header("content-type")) == (200, b"<h1>board</h1>", "text/html")
    r = request(srv.port, "/app.js", method="HEAD")
    assert (r.status, r.body, r.header("content-length"), r.header("content-type")) == (200, b"", "10", "text/javascript")
    assert request(srv.port, "/missing.txt").status == 404
    assert request(srv.port, "/../etc/passwd").status == 404
    r = request(srv.port, "/", method="POST")
    assert (r.status, r.header("allow")) == (405, "GET, HEAD")
    assert request(srv.port, "/_status").status == 404  # only with --status
