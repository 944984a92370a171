"""32 WebSocket clients and ordinary HTTP traffic served together by one daemon: the echo on
mhd_micro's WebSocket layer (examples/ws_echo.py on mhd_micro/ws.py) under
MicroPython with the core as .mpy (as on a board), and under CPython.

The server runs with 33 connection slots (--connections 33: the 32 WebSockets and a keep-alive
HTTP client) sharing one HTTP buffer of 512 bytes (--pool 1 --conn-memory 512: an upgraded
connection gives its buffer back, and the handshakes and GETs come one at a time), 2 pooled
responses (--responses 2) and 128-byte WebSocket read buffers (--buffer 128; ws_echo's send
queue is one piece and its header, 138 bytes). Under MicroPython that fits -X heapsize=128K on
this 64-bit unix port (test_32_websockets_at_128k: idle at 88.8 KB, ~1,050-1,100 B per
WebSocket; 136K before ws.Conn went from 23 attributes to 16 and from four buffers to two,
160K with 2 HTTP buffers and 269-byte queues before the names and attributes were cut); the
first test gives 192K.
One asyncio client opens the 32 connections, reads the server's heap in use before and after
(ws_echo answers any other path with gc.mem_alloc() after a collection), then every client
exchanges messages (send one, wait for its echo) for a few seconds while a thread sends
keep-alive GETs. It prints the heap per upgraded connection and the round-trip rate
(`pytest -s`); docs/benchmarks.md's notes quote them."""
import asyncio
import http.client
import threading
import time

from websockets.asyncio.client import connect

import pytest

from conftest import ROOT, start_server

CLIENTS = 32
SECONDS = 3.0
ARGS = ("--connections", 33, "--pool", 1, "--conn-memory", 512, "--responses", 2, "--buffer", 128)
HEAP = "192K"  # a multiple of 32K that holds them on the 64-bit unix port with room (128K does)


def heap_in_use(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/heap")
    r = c.getresponse()
    body = r.read()
    c.close()
    assert r.status == 200
    return int(body)


def http_load(port, stop, counts):
    """Keep-alive GETs on one connection until `stop` is set."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while not stop.is_set():
        c.request("GET", "/hello")
        r = c.getresponse()
        counts.append(r.status if r.read() == b"Hello, world!\n" else 0)
    c.close()


async def exchange(port):
    before = heap_in_use(port)
    conns = [await connect("ws://127.0.0.1:%d/" % port, open_timeout=10, max_size=None) for _ in range(CLIENTS)]
    after = await asyncio.to_thread(heap_in_use, port)
    stop = threading.Event()
    gets = []
    t = threading.Thread(target=http_load, args=(port, stop, gets))
    t.start()

    async def client(i, ws):
        n = 0
        msg = ("client %d says hello " % i) * 4  # 80-odd bytes
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            await ws.send(msg + str(n))
            assert await asyncio.wait_for(ws.recv(), 10) == msg + str(n)
            n += 1
        big = bytes(range(256)) * 8  # 2 KiB: through 256-byte buffers, in pieces
        await ws.send(big)
        assert await asyncio.wait_for(ws.recv(), 10) == big
        return n

    t0 = time.monotonic()
    counts = await asyncio.gather(*[client(i, ws) for i, ws in enumerate(conns)])
    elapsed = time.monotonic() - t0
    stop.set()
    await asyncio.to_thread(t.join)
    for ws in conns:
        await ws.close()
    assert all(ws.close_code == 1000 for ws in conns)
    return before, after, counts, elapsed, gets


def run_load(srv):
    before, after, counts, elapsed, gets = asyncio.run(exchange(srv.port))
    assert min(counts) > 0, counts  # every client was served
    assert gets and all(s == 200 for s in gets)  # and the HTTP client all along
    rate = sum(counts) / elapsed
    per = (after - before) // CLIENTS if before >= 0 else None
    print("\n%s: heap per upgraded connection %s bytes; %.0f round trips/s over %d WebSockets; %d GETs (%.0f/s)"
          % (srv.runtime, per, rate, CLIENTS, len(gets), len(gets) / elapsed))
    assert heap_in_use(srv.port) >= -1  # still serving after the 32 closed
    return per


def test_32_websockets_and_http_together(serve, runtime, mpy_tree):
    if runtime == "micropython":
        srv = serve("--port", 0, *ARGS, script="examples/ws_echo.py", cwd=mpy_tree, heap=HEAP)
    else:
        srv = serve("--port", 0, *ARGS, script="examples/ws_echo.py", cwd=ROOT)
    per = run_load(srv)
    if runtime == "micropython":
        assert 0 < per < 1536, per  # ~1.1 KB on the 64-bit port (2.6 KB before ws.Conn took in its decoder)


def test_32_websockets_at_128k(mpy_tree):
    """The 32 and the HTTP client in 128K: the server idles at 88.8 KB in use, each upgraded
    connection takes ~1,050-1,100 B (ws.Conn, its own decoder, 800 B in 32-byte blocks: the
    object, a 17-entry attribute table for its 16 attributes, a 128-byte read buffer and one
    of 139 + 138 bytes for the decoder's header and control payload and the send queue, each
    buffer a memoryview; the slot's Upgraded handle ~100 B; the socket and its poll entry).
    With 23 attributes and four buffers (~1,300 B each) 28 fitted, and the rest of the heap was
    in holes of at most 224 B."""
    srv = start_server("micropython", "examples/ws_echo.py", ("--port", 0) + ARGS, cwd=mpy_tree, heap="128K")
    try:
        run_load(srv)
    finally:
        srv.stop()
