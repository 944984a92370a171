# The MicroPython side of tools/tls_heap.py: a TLS server that reports what TLS costs in heap.
#
#   micropython tools/tls_heap_app.py CERT KEY COUNTER_FILE [plain]
#
# Two heaps: MicroPython's own (gc.mem_alloc, after a collection) and the C heap that mbedTLS
# takes its memory from on the unix port (malloc). The second is read from COUNTER_FILE, which
# tools/tls_heap.py's malloc-counting LD_PRELOAD shim keeps up to date: two little-endian
# int64, bytes in use and the peak since it was last reset (empty file: no shim, no numbers).
# On rp2 (and other bare-metal ports) mbedTLS allocates from the GC heap instead, so a board
# pays the sum of the two.
#
# Prints one JSON line of set-up costs, then "listening on port N", then serves; GET /heap
# answers the heaps now (with the connection that asks open) and their peaks since the last
# /heap, and resets the peaks. With "plain" the daemon serves plain HTTP: the control run,
# which tells TLS's cost from what any first request costs.
import gc
import json
import struct
import sys

sys.path.insert(0, ".")
import mhd_micro as mhd
from mhd_micro import lazy

CERT, KEY, COUNTER = sys.argv[1:4]
PLAIN = sys.argv[4:5] == ["plain"]
gc_peak = [0]


def c_heap():
    with open(COUNTER, "rb") as f:
        b = f.read(16)
    return struct.unpack("<qq", b) if len(b) == 16 else (0, 0)


def reset_c_peak():
    with open(COUNTER, "r+b") as f:
        b = f.read(8)
        if len(b) == 8:
            f.seek(8)
            f.write(b)


def gc_heap():
    gc.collect()
    return gc.mem_alloc()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def on_request(cls, request, path, method, upload_size):
    g, c = gc_heap(), c_heap()
    text = json.dumps({"gc": g, "gc_peak": max(g, gc_peak[0]), "c": c[0], "c_peak": c[1]})
    gc_peak[0] = 0
    reset_c_peak()
    return mhd.action_from_response(request, mhd.response_from_buffer_copy(200, text.encode()))


def main():
    cert, key = read(CERT), read(KEY)
    setup = {}
    g = gc_heap()
    tls = lazy.load("tls")  # the module alone
    setup["module_gc"] = gc_heap() - g
    g, c = gc_heap(), c_heap()[0]
    ctx = tls._context(cert, key, None)  # the context with the certificate and key loaded
    setup["context_gc"], setup["context_c"] = gc_heap() - g, c_heap()[0] - c
    del ctx
    d = mhd.daemon_create(on_request, None)
    tls = () if PLAIN else (mhd.D_OPTION_TLS(mhd.TLS_BACKEND_ANY), mhd.D_OPTION_TLS_CERT_KEY(cert, key, None))
    rc = mhd.DAEMON_SET_OPTIONS(d, mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, 0), mhd.D_OPTION_CONN_MEMORY_LIMIT(2048),
                                mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(4), *tls) or mhd.daemon_start(d)
    if rc:
        print("cannot start:", rc)
        sys.exit(1)
    port = mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT)[1]
    setup["base_gc"], setup["base_c"] = gc_heap(), c_heap()[0]  # started, no connection
    reset_c_peak()
    print(json.dumps(setup))
    print("listening on port", port)
    while True:
        mhd.daemon_process_blocking(d, 20000)
        gc_peak[0] = max(gc_peak[0], gc_heap())  # what a handshake keeps between poll rounds


main()
