#!/usr/bin/env python3
"""Python function calls per keep-alive GET: the engine's own functions and the request
callback, counted with sys.setprofile on CPython, which runs the same code as MicroPython.
The CPython port's wrappers (port_cpython/: ticks_diff, recv_into, send, ipoll), which are C
functions on MicroPython, are left out; so are the test client's.

    .venv/bin/python tools/count_calls.py                          # the working tree, minimal head
    .venv/bin/python tools/count_calls.py --head browser --rev c861977 --list

A server like examples/hello.py (one reusable response) runs in this process; a client thread
sends --n requests one at a time on one keep-alive connection after a few unprofiled ones.
"""
import argparse
import collections
import os
import socket
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench_instructions import HEADS  # noqa: E402

WARMUP = 5


def count(head, n):
    import mhd_micro as mhd
    hello = mhd.response_from_buffer_static(mhd.HTTP_STATUS_OK, b"Hello, world!")
    mhd.RESPONSE_SET_OPTIONS(hello, mhd.R_OPTION_REUSABLE(True))
    mhd.response_add_header(hello, "Content-Type", "text/plain")

    def on_request(cls, request, path, method, upload_size):
        return mhd.action_from_response(request, cls)

    d = mhd.daemon_create(on_request, hello)
    mhd.DAEMON_SET_OPTIONS(d, mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, 0))
    if mhd.daemon_start(d) != mhd.SC_OK:
        sys.exit("cannot start")
    port = mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT)[1]
    engine = os.path.dirname(mhd.__file__)
    calls = collections.Counter()
    on = [False]
    done = threading.Event()

    def profile(frame, event, arg):
        if on[0] and event == "call":
            code = frame.f_code
            if code.co_filename.startswith(engine) or code is on_request.__code__:
                calls[code.co_name] += 1

    def client():
        s = socket.create_connection(("127.0.0.1", port))
        for i in range(WARMUP + n):
            on[0] = i >= WARMUP
            s.sendall(head)
            data = b""
            while not data.endswith(b"Hello, world!"):
                data += s.recv(4096)
        on[0] = False
        s.close()
        done.set()

    threading.Thread(target=client).start()
    sys.setprofile(profile)
    while not done.is_set():
        mhd.daemon_process_blocking(d, 100000)
    sys.setprofile(None)
    mhd.daemon_destroy(d)
    return calls


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--head", choices=sorted(HEADS), default="minimal")
    p.add_argument("--rev", help="count a git revision's engine instead of the working tree's")
    p.add_argument("--n", type=int, default=50, help="requests counted (default 50)")
    p.add_argument("--list", action="store_true", help="also list the calls per function")
    a = p.parse_args()
    tmp = None
    if a.rev:
        tmp = tempfile.TemporaryDirectory(prefix="mhd-calls-")
        arch = subprocess.run(["git", "-C", ROOT, "archive", a.rev, "mhd_micro", "port_cpython"],
                              capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", tmp.name], input=arch.stdout, check=True)
        sys.path.insert(0, tmp.name)
    else:
        sys.path.insert(0, ROOT)
    calls = count(HEADS[a.head], a.n)
    print("%s, %s head: %.1f Python calls per keep-alive GET" % (a.rev or "working tree", a.head,
                                                                 sum(calls.values()) / a.n))
    if a.list:
        for name, k in calls.most_common():
            print("  %-28s %.1f" % (name, k / a.n))


if __name__ == "__main__":
    main()
