# A WebSocket echo server on mhd_micro's WebSocket layer (mhd_micro/ws.py: the handshake,
# RFC 6455 frames with the sans-I/O codec mhd_micro/websocket.py, and a send queue over the
# upgraded connection). Every connection is served from the daemon's one loop: nothing
# blocks, and a message larger than the buffers goes back in pieces as it comes. Runs on
# CPython and MicroPython:
#
#   python3 examples/ws_echo.py --port 9001 [--connections N] [--buffer BYTES] [--pool N]
#       [--cert PEM --key PEM]   (wss://: TLS with that certificate and key)
#
# Prints "listening on port N". ws://host:port/ echoes; GET /heap answers the heap in use
# (gc.mem_alloc() after gc.collect(), "-1" where the runtime has no mem_alloc), any other path
# a short text. --buffer: each WebSocket connection's read buffer (its send queue holds one
# piece of that size more); --pool: how many HTTP buffers the connection slots share
# (D_OPTION_CONN_BUFFER_POOL_SIZE). Autobahn|Testsuite's fuzzing client is run against it
# (tools/autobahn.py, tests/test_websocket_server.py), and 32 clients at once
# (tests/test_websocket_load.py).
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


BUFFER = int(arg("--buffer", "4096"))


def on_open(conn):
    conn.on_message = on_message


def on_message(conn, data, first, last, is_text):
    conn.send_piece(data, first, last, not is_text)  # a piece back as it came: the queue has room


def on_request(cls, request, path, method, upload_size):
    if path == "/":
        return ws.accept(request, on_open, None, max_message=16 * 1024 * 1024, buffer=BUFFER)
    if path == "/heap":
        return mhd.action_from_response(request, mhd.response_from_buffer_copy(mhd.HTTP_STATUS_OK, heap()))
    return mhd.action_from_response(request, mhd.response_from_buffer_static(mhd.HTTP_STATUS_OK, b"Hello, world!\n"))


def heap():
    gc.collect()
    alloc = getattr(gc, "mem_alloc", None)
    return b"%d\n" % (alloc() if alloc else -1)


def main():
    d = mhd.daemon_create(on_request)
    rc = mhd.DAEMON_SET_OPTIONS(d, mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, int(arg("--port", "9001"))))
    if arg("--connections", None):
        rc = rc or mhd.daemon_set_option(d, mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(int(arg("--connections", None))))
    if arg("--pool", None):
        rc = rc or mhd.daemon_set_option(d, mhd.D_OPTION_CONN_BUFFER_POOL_SIZE(int(arg("--pool", None))))
    if arg("--cert", None):  # wss://: PEM files of the certificate and its key (docs/tls.md)
        with open(arg("--cert", None), "rb") as f, open(arg("--key", None), "rb") as g:
            rc = rc or mhd.DAEMON_SET_OPTIONS(d, mhd.D_OPTION_TLS(mhd.TLS_BACKEND_ANY),
                                              mhd.D_OPTION_TLS_CERT_KEY(f.read(), g.read(), None))
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
