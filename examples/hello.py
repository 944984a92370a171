# "Hello, world!" at /, 404 elsewhere. Runs unchanged on CPython and MicroPython:
#
#   python3 examples/hello.py --port 8080
#   micropython examples/hello.py --port 8080
#
# Prints the port it listens on ("listening on port N"), then serves until interrupted.
import sys

sys.path.insert(0, ".")  # run from the repository root: find mhd_micro (as .py or .mpy) there
import mhd_micro as mhd

HELLO = b"Hello, world!"
NOT_FOUND = b"Not found"


def on_request(cls, request, path, method, upload_size):
    if path == "/":
        return mhd.action_from_response(request, cls)  # the reusable response made at start
    return not_found(request)


# Kept apart from on_request so that each function's frame stays on MicroPython's C stack
# (a frame needing more than 11 words comes from the heap at every call).
def not_found(request):
    return mhd.action_from_response(request, mhd.response_from_buffer_static(mhd.HTTP_STATUS_NOT_FOUND, NOT_FOUND))


def arg(name, default):
    argv = sys.argv
    for i in range(len(argv) - 1):
        if argv[i] == name:
            return int(argv[i + 1])
    return default


def main():
    hello = mhd.response_from_buffer_static(mhd.HTTP_STATUS_OK, HELLO)
    mhd.RESPONSE_SET_OPTIONS(hello, mhd.R_OPTION_REUSABLE(True))
    mhd.response_add_header(hello, "Content-Type", "text/plain")
    d = mhd.daemon_create(on_request, hello)
    rc = mhd.DAEMON_SET_OPTIONS(
        d,
        mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, arg("--port", 8080)),
        mhd.D_OPTION_DEFAULT_TIMEOUT(arg("--timeout", 30)),
    )
    if arg("--connections", 0):
        rc = rc or mhd.daemon_set_option(d, mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(arg("--connections", 0)))
    if arg("--conn-memory", 0):
        rc = rc or mhd.daemon_set_option(d, mhd.D_OPTION_CONN_MEMORY_LIMIT(arg("--conn-memory", 0)))
    if arg("--buffers", 0):  # fewer buffers than connections: lent to those with a request in progress
        rc = rc or mhd.daemon_set_option(d, mhd.D_OPTION_CONN_BUFFER_POOL_SIZE(arg("--buffers", 0)))
    if arg("--pool", 0):
        rc = rc or mhd.daemon_set_option(d, mhd.D_OPTION_RESPONSE_POOL_SIZE(arg("--pool", 0)))
    if arg("--log-memory", 0):  # boards/*/main.py: log what start took and the heap left
        rc = rc or mhd.daemon_set_option(d, mhd.D_OPTION_LOG_MEMORY(True))
    rc = rc or mhd.daemon_start(d)
    if rc != mhd.SC_OK:
        print("cannot start: status code", rc)  # names.py would need heap the start did not find
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
