"""Large files through response_from_fd to concurrent clients: every byte correct, and on
MicroPython (64 KiB heap) the heap does not grow."""
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


# The issue asks for 64 KiB; on the 64-bit unix port the core as .mpy takes about 50 KiB by
# itself (docs/benchmarks.md), so 64K is an expected failure (strict: it turns red when the
# footprint fits) and the same test runs in 128K, the smallest round size it fits today.
@pytest.mark.parametrize("runtime,heap", [
    ("cpython", None),
    pytest.param("micropython", "64K", marks=pytest.mark.xfail(strict=True, reason="core footprint on the 64-bit unix port: docs/benchmarks.md")),
    ("micropython", "128K")], indirect=["runtime"])
def test_big_file_to_four_clients(serve, runtime, heap, tmp_path, mpy_tree):
    size = (100 if runtime == "cpython" else 20) * 1024 * 1024
    path = tmp_path / "big.bin"
    block = bytes(range(251)) * 4177  # a period that does not divide the buffer sizes
    with open(path, "wb") as f:
        written = 0
        while written < size:
            part = block[:size - written]
            f.write(part)
            written += len(part)
    want = hashlib.sha256(path.read_bytes()).hexdigest()
    if runtime == "micropython":  # core and app as .mpy, as on a board
        srv = serve("--file", str(path), script="-m responses_app", cwd=mpy_tree, heap=heap)
    else:
        srv = serve("--file", str(path), script="tests/apps/responses_app.py")
    # warm up: the first file response loads fd.py and body.py (modules load on first use)
    assert request(srv.port, "/fd?off=0&size=100").status == 200
    heap_before = int(request(srv.port, "/heap").body)
    out = [None] * 4
    threads = [threading.Thread(target=fetch_digest, args=(srv.port, "/fd", out, i)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    for head, n, digest in out:
        assert b"Content-Length: %d" % size in head
        assert (n, digest) == (size, want)
    heap_after = int(request(srv.port, "/heap").body)
    if runtime == "micropython":
        assert heap_after <= heap_before + 512, (heap_before, heap_after)
