# Static files from a directory, with response_from_fd: the files of a board's web page, or
# a firmware image to download. Runs unchanged on CPython and MicroPython:
#
#   mkdir -p www && echo '<h1>It works</h1>' > www/index.html
#   python3 examples/file_server.py --root www --port 8080
#   .venv/bin/micropython examples/file_server.py --root www --port 8080 --connections 4
#
# GET and HEAD only; "/" serves index.html; a missing file is 404, and so is any path with a
# part that starts with a dot (".git/", ".env", ".."): hidden files stay hidden, and no path
# leaves the root. The root (default "www") must be a directory: the server refuses to start
# without it. With --status, /_status answers the heap in use after a collection (MicroPython;
# 0 elsewhere), to watch a board's memory while it serves. --connections, --conn-memory and
# --buffers (the connections share that many buffers) size the pools. Prints "listening on
# port N".
import os
import sys

sys.path.insert(0, ".")  # run from the repository root: find mhd_micro (as .py or .mpy) there
import mhd_micro as mhd

TYPES = (("html", "text/html"), ("css", "text/css"), ("js", "text/javascript"), ("json", "application/json"),
         ("txt", "text/plain"), ("png", "image/png"), ("svg", "image/svg+xml"), ("ico", "image/x-icon"))
NOT_FOUND = b"Not found"


def on_request(root, request, path, method, upload_size):
    if method != mhd.HTTP_METHOD_GET and method != mhd.HTTP_METHOD_HEAD:
        return reply(request, mhd.response_from_empty(mhd.HTTP_STATUS_METHOD_NOT_ALLOWED), "Allow", "GET, HEAD")
    if path == "/_status" and STATUS:
        return status(request)
    if path == "/":
        path = "/index.html"
    if "/." in path:  # a dot-file, a dot-directory, "..": never served
        return not_found(request)
    return send_file(request, root + path)


def send_file(request, name):
    try:
        f = open(name, "rb")
    except (OSError, ValueError):  # ValueError: a NUL in the name (CPython)
        return not_found(request)
    r = mhd.response_from_fd(mhd.HTTP_STATUS_OK, f, 0, mhd.SIZE_UNKNOWN)  # closes f when done
    if r is None:  # a directory, or no response left in the pool
        return not_found(request)
    return reply(request, r, "Content-Type", content_type(name))


def content_type(name):
    ext = name[name.rfind(".") + 1:]
    for e, t in TYPES:
        if e == ext:
            return t
    return "application/octet-stream"


def reply(request, response, name, value):
    if response is not None:
        mhd.response_add_header(response, name, value)
    return mhd.action_from_response(request, response)


def not_found(request):
    return mhd.action_from_response(request, mhd.response_from_buffer_static(mhd.HTTP_STATUS_NOT_FOUND, NOT_FOUND))


def status(request):
    import gc
    gc.collect()
    used = gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0
    return mhd.action_from_response(request, mhd.response_from_buffer_copy(mhd.HTTP_STATUS_OK, b"%d" % used))


def arg(name, default):
    argv = sys.argv
    for i in range(len(argv) - 1):
        if argv[i] == name:
            return argv[i + 1]
    return default


STATUS = "--status" in sys.argv


def is_dir(path):
    try:
        return os.stat(path)[0] & 0o170000 == 0o040000  # S_IFDIR (MicroPython has no os.path)
    except OSError:
        return False


def main():
    root = arg("--root", "www").rstrip("/") or "/"
    if not is_dir(root):
        print("file_server.py: the root %r is not a directory: make it, or give --root DIR" % root)
        sys.exit(2)
    d = mhd.daemon_create(on_request, root)
    rc = mhd.DAEMON_SET_OPTIONS(
        d,
        mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, int(arg("--port", "8080"))),
        mhd.D_OPTION_DEFAULT_TIMEOUT(int(arg("--timeout", "30"))),
    )
    for option, name in ((mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT, "--connections"),
                         (mhd.D_OPTION_CONN_MEMORY_LIMIT, "--conn-memory"),
                         (mhd.D_OPTION_CONN_BUFFER_POOL_SIZE, "--buffers")):
        if arg(name, None):
            rc = rc or mhd.daemon_set_option(d, option(int(arg(name, None))))
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
