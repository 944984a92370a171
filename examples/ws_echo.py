# A WebSocket echo server on mhd_micro's WebSocket layer (mhd_micro/ws.py: the handshake,
# RFC 6455 frames with the sans-I/O codec mhd_micro/websocket.py, and a send queue over the
# upgraded connection). Every connection is served from the daemon's one loop: nothing
# blocks, and a message larger than the buffers goes back in pieces as it comes. Runs on
# CPython and MicroPython:
#
#   python3 examples/ws_echo.py --port 9001 [--connections N] [--buffer BYTES] [--pool N]
#       [--conn-memory BYTES] [--responses N]
#       [--cert PEM --key PEM]   (wss://: TLS with that certificate and key)
#
# Prints "listening on port N". ws://host:port/ echoes; GET /heap answers the heap in use
# (gc.mem_alloc() after gc.collect(), "-1" where the runtime has no mem_alloc), any other path
# a short text. --buffer: each WebSocket connection's read buffer (its send queue holds one
# piece of that size and its header, or a control frame); --pool: how many HTTP buffers the
# connection slots share (D_OPTION_CONN_BUFFER_POOL_SIZE); --conn-memory: their size
# (D_OPTION_CONN_MEMORY_LIMIT); --responses: the response pool (D_OPTION_RESPONSE_POOL_SIZE).
# Autobahn|Testsuite's fuzzing client is run against it (tools/autobahn.py,
# tests/test_websocket_server.py), and 32 clients at once (tests/test_websocket_load.py).
import gc
import sys

sys.path.insert(0, ".")  # run from the repository root: find mhd_micro (as .py or .mpy) there
import mhd_micro as mhd
from mhd_micro import ws


def arg(name, default):
    argv = sys.argv
    for i in range(len(argv) - 1):
        if argv[i] == name:
            return argv[i + 1]
    return default


def on_open(conn):
    conn.on_message = on_message


def on_message(conn, data, first, last, text):
    conn.send_piece(data, first, last, not text)  # a piece back as it came: the queue has room


def on_request(cls, request, path, method, upload_size):
    # cls: the read buffer's size (--buffer). (Under MicroPython every name in this file is
    # interned for good when it is compiled: few names, and no global that a value can spare.)
    if path == "/":
        # the echo sends only from on_message, and the layer calls that (and answers a ping or
        # a close) only once the queue is empty: the queue needs room for one piece and its
        # header, or for a control frame (127 bytes); accept's default has room for both
        return ws.accept(request, on_open, None, max_message=16 * 1024 * 1024, buffer=cls, queue=max(cls + 10, 127))
    if path == "/heap":
        gc.collect()
        body = b"%d\n" % (gc.mem_alloc() if hasattr(gc, "mem_alloc") else -1)
        return mhd.action_from_response(request, mhd.response_from_buffer_copy(200, body))
    return mhd.action_from_response(request, mhd.response_from_buffer_static(200, b"Hello, world!\n"))


def main():
    d = mhd.daemon_create(on_request, int(arg("--buffer", "4096")))
    rc = mhd.DAEMON_SET_OPTIONS(d, mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, int(arg("--port", "9001"))))
    if arg("--connections", None):
        rc = rc or mhd.daemon_set_option(d, mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(int(arg("--connections", None))))
    if arg("--pool", None):
        rc = rc or mhd.daemon_set_option(d, mhd.D_OPTION_CONN_BUFFER_POOL_SIZE(int(arg("--pool", None))))
    if arg("--conn-memory", None):
        rc = rc or mhd.daemon_set_option(d, mhd.D_OPTION_CONN_MEMORY_LIMIT(int(arg("--conn-memory", None))))
    if arg("--responses", None):
        rc = rc or mhd.daemon_set_option(d, mhd.D_OPTION_RESPONSE_POOL_SIZE(int(arg("--responses", None))))
    if arg("--cert", None):  # wss://: PEM files of the certificate and its key (docs/tls.md)
        with open(arg("--cert", None), "rb") as f:
            cert = f.read()
        with open(arg("--key", None), "rb") as f:
            rc = rc or mhd.DAEMON_SET_OPTIONS(d, mhd.D_OPTION_TLS(mhd.TLS_BACKEND_ANY),
                                              mhd.D_OPTION_TLS_CERT_KEY(cert, f.read(), None))
    rc = rc or mhd.daemon_start(d)
    if rc != mhd.SC_OK:
        print("cannot start: status code", rc)
        sys.exit(1)
    print("listening on port", mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT)[1])
    flush = getattr(sys.stdout, "flush", None)
    if flush:
        flush()
    try:
        while True:
            mhd.daemon_process_blocking(d, mhd.WAIT_INDEFINITELY)
    except KeyboardInterrupt:
        pass
    mhd.daemon_destroy(d)


main()
