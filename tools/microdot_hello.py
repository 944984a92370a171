# examples/hello.py on microdot (PyPI `microdot`, https://microdot.readthedocs.io/), for
# tools/bench.py's side-by-side figures: "Hello, world!" (Content-Type: text/plain) at /,
# "Not found" with 404 elsewhere. Runs unchanged on CPython and MicroPython:
#
#   python3 tools/microdot_hello.py --port 8080
#   micropython tools/microdot_hello.py --port 8080     (microdot/ on sys.path, as .py or .mpy)
#
# Prints "listening on port N" once the socket listens (--port 0: a free port), as hello.py does.
# --alloc-warmup W --alloc-n N (MicroPython): prints the bytes allocated per request
# (micropython.mem_total()) between request W and W + N as "RESULT {json}" (and serves on).
# microdot answers one request per connection and then closes it (no keep-alive), and sends no
# Date header; otherwise the bytes are hello.py's.
import sys

sys.path.insert(0, ".")
import asyncio
import socket

from microdot import Microdot

HELLO = b"Hello, world!"
NOT_FOUND = b"Not found"
app = Microdot()


@app.route("/")
async def index(request):
    return HELLO, 200, {"Content-Type": "text/plain"}


@app.errorhandler(404)
async def not_found(request):
    return NOT_FOUND, 404, {}


OPTS = dict(zip(sys.argv[1::2], sys.argv[2::2]))  # --name value pairs


def arg(name, default):
    return int(OPTS.get(name, default))


def free_port():
    """A port nothing listens on: the kernel's pick where the socket tells it (CPython), else
    (MicroPython's socket has no getsockname) the first of some pseudo-random ports that binds."""
    import time
    start = int(time.time() * 1000) % 20000
    for i in range(200):
        s = socket.socket()
        try:
            port = 0 if hasattr(s, "getsockname") else 30000 + (start + 97 * i) % 20000
            s.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
            return s.getsockname()[1] if port == 0 else port
        except OSError:
            pass
        finally:
            s.close()
    raise OSError("no free port")


def count_allocations(warmup, n):
    import json
    import micropython
    seen = [0, 0]

    @app.before_request
    async def count(request):
        seen[0] += 1
        if seen[0] == warmup + 1:
            seen[1] = micropython.mem_total()
        elif seen[0] == warmup + n + 1:
            total = micropython.mem_total() - seen[1]
            print("RESULT " + json.dumps({"n": n, "warmup": warmup, "bytes_per_request": total / n}))
            flush = getattr(sys.stdout, "flush", None)
            if flush:
                flush()


async def announce(port):
    while getattr(app, "server", None) is None:
        await asyncio.sleep(0.01)
    print("listening on port", port)
    flush = getattr(sys.stdout, "flush", None)
    if flush:
        flush()


async def main(port):
    asyncio.create_task(announce(port))
    await app.start_server(host="0.0.0.0", port=port)


if arg("--alloc-n", 0):
    count_allocations(arg("--alloc-warmup", 100), arg("--alloc-n", 0))
asyncio.run(main(arg("--port", 8080) or free_port()))
