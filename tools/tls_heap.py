"""What one TLS connection costs in heap under MicroPython (docs/tls.md has the figures).

    python3 tools/tls_heap.py [--kind ec|rsa] [--tree DIR] [--plain]

Runs tools/tls_heap_app.py on the MicroPython unix port with a certificate made now, and with
tools/malloc_counter.c (compiled here with gcc) preloaded: on the unix port mbedTLS takes its
memory from malloc, which gc.mem_alloc does not see; on rp2 and other bare-metal ports it comes
from the GC heap. Then, as a client: one TLS connection asks /heap, a second one while the
first is open, and after both have closed a third. Prints the set-up costs (tls.py, the context
with its certificate and key) and per connection: the C heap (mbedTLS) and the GC heap
(MicroPython objects) an open connection holds after its handshake, and the C-heap peak of the
handshake. --tree runs a built bundle (a directory with mhd_micro/*.mpy: tools/build.py's
output) instead of the checkout's sources. --plain serves plain HTTP instead: the control, for
what a connection and a first request cost without TLS.
"""
import argparse
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def micropython():
    for cand in (os.path.join(os.path.dirname(sys.executable), "micropython"), shutil.which("micropython")):
        if cand and os.path.exists(cand):
            return cand
    raise SystemExit("micropython (the unix port) is not installed")


def make_cert(d, kind):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    newkey = ["-newkey", "rsa:2048"] if kind == "rsa" else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    subprocess.run(["openssl", "req", "-x509"] + newkey + ["-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=localhost"], check=True, capture_output=True)
    return cert, key


def heap(port, ctx):
    """A new TLS connection (ctx None: plain) that asks /heap (kept alive): (socket, the numbers)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    if ctx is not None:
        s = ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(b"GET /heap HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        data += s.recv(4096)
        head, _, body = data.partition(b"\r\n\r\n")
        if body.endswith(b"}"):
            return s, json.loads(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", choices=("ec", "rsa"), default="ec", help="the certificate's key (default: EC P-256)")
    ap.add_argument("--tree", default=ROOT, help="the directory holding the mhd_micro package to run (default: the checkout)")
    ap.add_argument("--plain", action="store_true", help="the control: plain HTTP, no TLS")
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="tls_heap.")
    cert, key = make_cert(d, args.kind)
    counter = os.path.join(d, "counter")
    env = dict(os.environ)
    if shutil.which("gcc"):
        shim = os.path.join(d, "malloc_counter.so")
        subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", shim, os.path.join(ROOT, "tools", "malloc_counter.c")],
                       check=True)
        env.update(LD_PRELOAD=shim, MALLOC_COUNTER_FILE=counter)
    else:
        open(counter, "wb").close()
        print("no gcc: the C heap (mbedTLS on the unix port) is not counted")
    p = subprocess.Popen([micropython(), os.path.join(ROOT, "tools", "tls_heap_app.py"), cert, key, counter]
                         + (["plain"] if args.plain else []),
                         cwd=os.path.abspath(args.tree), env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        setup = json.loads(p.stdout.readline())
        port = int(p.stdout.readline().split()[-1])
        ctx = None
        if not args.plain:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        a, one = heap(port, ctx)
        b, two = heap(port, ctx)
        a.close()
        b.close()
        time.sleep(1)
        c, again = heap(port, ctx)
        c.close()
    finally:
        p.kill()
        p.communicate()
    print("MicroPython unix port, %s; bytes" % ("plain HTTP (the control): the TLS lines read 'connection'" if args.plain
                                                else "RSA 2048 certificate" if args.kind == "rsa" else "EC P-256 certificate"))
    print("tls.py loaded (GC heap)                          %6d" % setup["module_gc"])
    print("context with certificate and key: GC heap         %6d, C heap %6d" % (setup["context_gc"], setup["context_c"]))
    print("one open TLS connection after its handshake: GC %6d, C heap %6d" % (one["gc"] - setup["base_gc"],
                                                                              one["c"] - setup["base_c"]))
    print("  its handshake's peak (C heap)                           %6d" % (one["c_peak"] - setup["base_c"]))
    print("  the GC heap's peak between poll rounds          %6d" % (one["gc_peak"] - setup["base_gc"]))
    print("a second one, the first still open: GC           %6d, C heap %6d" % (two["gc"] - one["gc"], two["c"] - one["c"]))
    print("  its handshake's peak over the first (C heap)            %6d" % (two["c_peak"] - one["c"]))
    print("after both closed, a third one: GC               %6d, C heap %6d (vs the first: GC %+d, C %+d)" % (
        again["gc"] - setup["base_gc"], again["c"] - setup["base_c"], again["gc"] - one["gc"], again["c"] - one["c"]))


if __name__ == "__main__":
    main()
