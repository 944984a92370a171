#!/usr/bin/env python3
"""Instructions per request, counted by valgrind (callgrind): a figure that does not move with
the load on a shared machine, for comparing two versions of the engine on MicroPython.

    .venv/bin/python tools/bench_instructions.py                 # the working tree
    .venv/bin/python tools/bench_instructions.py --rev 2618b9a   # and a commit, side by side
    .venv/bin/python tools/bench_instructions.py --head browser  # a browser's request head
    .venv/bin/python tools/bench_instructions.py --native        # the request path as x64 machine code

examples/hello.py (core and hello.py as .mpy) serves N keep-alive GETs on one connection, once
with N = --few and once with N = --many, under `valgrind --tool=callgrind`; the difference of
the two totals divided by the difference of N is what one request costs the server process
(the MicroPython VM running in it), start-up and shut-down cancelling out. About a minute per
version. Needs valgrind (Debian's package).
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import build  # tools/: the one mpy-cross step

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the request heads (--head): the least a client sends, and what a browser sends for a page
# (Firefox's navigation request: 12 fields, 440 bytes), and the least with a real request target
# (34 bytes, which hello.py answers with its 404 page: the parser's per-byte target check shows)
HEADS = {
    "minimal": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "path": b"GET /api/v1/sensors/temperature?unit=c HTTP/1.1\r\nHost: x\r\n\r\n",
    "browser": (b"GET / HTTP/1.1\r\n"
                b"Host: 192.168.4.1:8080\r\n"
                b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
                b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                b"Accept-Language: en-US,en;q=0.5\r\n"
                b"Accept-Encoding: gzip, deflate, br, zstd\r\n"
                b"Connection: keep-alive\r\n"
                b"Upgrade-Insecure-Requests: 1\r\n"
                b"Sec-Fetch-Dest: document\r\n"
                b"Sec-Fetch-Mode: navigate\r\n"
                b"Sec-Fetch-Site: none\r\n"
                b"Sec-Fetch-User: ?1\r\n"
                b"Cache-Control: max-age=0\r\n"
                b"\r\n"),
}


def tree(rev, out, native=False):
    """mhd_micro/ and hello.py as .mpy, from the working tree or a git revision."""
    src = os.path.join(out, "src")
    os.makedirs(src)
    if rev:
        arch = subprocess.run(["git", "-C", ROOT, "archive", rev, "mhd_micro", "examples"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", src], input=arch.stdout, check=True)
    else:
        shutil.copytree(os.path.join(ROOT, "mhd_micro"), os.path.join(src, "mhd_micro"))
        shutil.copytree(os.path.join(ROOT, "examples"), os.path.join(src, "examples"))
    mpyc = build.mpy_cross_cmd()
    dst = os.path.join(out, "mpy")
    build.compile_core(mpyc, os.path.join(src, "mhd_micro"), os.path.join(dst, "mhd_micro"), "x64" if native else "host", native)
    build.compile_mpy(mpyc, os.path.join(src, "examples", "hello.py"), os.path.join(dst, "hello.mpy"), "hello.py")
    return dst


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(mpy, n, head):
    """Total instructions of the server process serving n keep-alive GETs."""
    port = free_port()
    out = os.path.join(mpy, "cg.out")
    mp = os.path.join(os.path.dirname(sys.executable), "micropython")
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, sys.executable, mp, "-m", "hello",
           "--port", str(port), "--connections", "8"]
    proc = subprocess.Popen(cmd, cwd=mpy, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=60)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not start: " + proc.stderr.read().decode()[-2000:])
            time.sleep(0.5)
    for _ in range(n):  # one at a time: the same path for every request
        s.sendall(head)
        data = b""
        while not data.endswith(b"Hello, world!") and not data.endswith(b"Not found"):  # hello.py's 200 or 404
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError("closed after %r" % data)
            data += chunk
    s.close()
    proc.send_signal(2)  # KeyboardInterrupt: hello.py ends its loop, valgrind writes its counts
    _, err = proc.communicate(timeout=120)
    m = re.search(rb"Collected : (\d+)", err)
    if not m:
        raise RuntimeError("no count from callgrind: " + err.decode()[-2000:])
    return int(m.group(1))


def measure(rev, few, many, head, native=False):
    with tempfile.TemporaryDirectory(prefix="mhd-instr-") as tmp:
        mpy = tree(rev, tmp, native)
        a = run(mpy, few, head)
        b = run(mpy, many, head)
    return (b - a) / (many - few)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rev", action="append", default=[], help="also measure this git revision (repeatable)")
    p.add_argument("--few", type=int, default=200, help="requests in the short run (default 200)")
    p.add_argument("--many", type=int, default=1200, help="requests in the long run (default 1200)")
    p.add_argument("--head", choices=sorted(HEADS), default="minimal",
                   help="the request head: minimal (GET / with Host, the default), browser (12 fields, 440 bytes) "
                        "or path (minimal with a 34-byte target; hello.py's 404)")
    p.add_argument("--native", action="store_true", help="also measure each version with the request path's modules "
                   "as x64 machine code (tools/build.py --native)")
    a = p.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind is missing: apt-get install valgrind")
    print("| version | instructions per keep-alive GET, %s head (MicroPython, hello.py) |" % a.head)
    print("|---|---:|")
    for rev in a.rev + [None]:
        for native in (False, True) if a.native else (False,):
            print("| %s%s | %d |" % (rev or "working tree", ", request path native" if native else "",
                                     measure(rev, a.few, a.many, HEADS[a.head], native)))
            sys.stdout.flush()


if __name__ == "__main__":
    import _venv
    _venv.enter()  # MicroPython and mpy-cross are in .venv
    main()
