# The server of the low-memory and fault tests (tests/test_low_memory.py) and of the soak
# (tools/soak.py), on CPython and on MicroPython alike.
#
#   <python> tests/apps/fault_app.py [--port N] [--connections N] [--conn-memory B]
#       [--buffers N] [--pool N] [--timeout S] [--no-inject]
#
# Prints "listening on port N", then serves until killed. MemoryError is injected two ways:
#
# - Core points: at start the app replaces functions of the core's modules (the names the
#   engine calls them by: connection._read, connection.parse_head, connection.load, ...;
#   off the sweep: Daemon._format_date, daemon.accept, the poll set's register, the daemon's
#   load of the log) with wrappers (install() lists them). GET /arm?point=P&n=N arms them: once /arm's own
#   connection has closed, the N-th call of point P (or of any sweep point, for P = "*")
#   raises MemoryError, once. /arm?point=trace records the names of the wrapped calls instead.
#   Arming stops at the first connection closed after it (the victim's).
# - Application points, by path: /oom/callback (the request callback raises),
#   /oom/dyn?at=K[&unknown=1] (the dyn_cont callback raises at its K-th call), /oom/upload
#   (the incremental upload callback raises at its first piece), /oom/full (the full upload
#   callback), /form?stream=1&raise=stream|done (the POST stream reader or done callback),
#   /oom/free (the response's free callback), /oom/ended (the termination callback).
#
# Other routes: /  "Hello, world!" (reusable)     /echo  path, method, upload size
#   /big?n=N  N bytes of "x"    /dyn?n=N  N bytes from a dyn_cont callback (chunked if unknown=1)
#   /inc  an incremental upload: "size=N"    /form  a POST form: "fields=N"
#   /stats  what the app saw: "fired=P sent=N escapes=N oom=N calls=a,b,c pool=N buffers=N/M log=N heap=N"
#           (sent: the writes of the reply before the injected MemoryError; oom: real MemoryErrors
#           in /alloc; log: messages logged)
#           (heap: gc.mem_alloc() after gc.collect() on MicroPython; on CPython the number of
#           objects the collector tracks, len(gc.get_objects()), after gc.collect())
#   /alloc?n=N  a reply of N zero bytes, made for it (memory pressure)
#
# daemon_process_blocking is called in a try: anything that escapes it is counted in
# /stats' "escapes" and printed as "ESCAPED", and the app goes on.
import gc
import sys

sys.path.insert(0, ".")
import mhd_micro as mhd
from mhd_micro import lazy

try:
    from sys import print_exception
except ImportError:
    import traceback

    def print_exception(e):
        traceback.print_exception(type(e), e, e.__traceback__)


def opt(name, default=None):
    argv = sys.argv
    for i in range(len(argv)):
        if argv[i] == name:
            if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                return argv[i + 1]
            return True
    return default


# the injection state: armed[0] the point ("*" for any sweep point, "trace"), armed[1] the
# countdown; pending: what /arm asked, armed when its connection has closed
armed = [None, 0]
pending = [None, 0]
seen = {"fired": "-", "escapes": 0, "calls": [], "log": 0, "writes": 0, "sent": 0, "oom": 0}
DAEMON = []
X = b"x" * 1024
BIG = bytearray(0)


def hit(name, sweep):
    """A wrapped call named `name`: raise MemoryError if it is the armed one."""
    p = armed[0]
    if p is None:
        return
    if p == "trace":
        if sweep:
            seen["calls"].append(name)
        return
    if p == name or (p == "*" and sweep):
        armed[1] -= 1
        if armed[1] <= 0:
            armed[0] = None
            seen["fired"] = name
            seen["sent"] = seen["writes"]
            raise MemoryError("injected: " + name)
    if name == "_write":
        seen["writes"] += 1  # the reply has started


def wrap(name, fn, sweep=True):
    def w(*a):
        hit(name, sweep)
        return fn(*a)
    return w


def wrap_load(prefix, fn, sweep=True):
    def w(name):
        hit(prefix + name, sweep)
        return fn(name)
    return w


class Poller:
    """The daemon's poll set with a register that can fail: on MicroPython the set is a
    select.poll, whose methods cannot be replaced."""

    def __init__(self, p):
        self.register = wrap("poll.register", p.register, False)
        self.modify = p.modify
        self.unregister = p.unregister
        self.ipoll = p.ipoll


def install():
    """Replace the core's functions by their wrappers, where the engine looks them up."""
    conn = lazy.load("connection")
    for n in ("_read", "_write", "parse_head", "request_path", "plan", "write_head", "body_inline"):
        setattr(conn, n, wrap(n, getattr(conn, n)))
    conn.load = wrap_load("load:", conn.load)
    daemon = lazy.load("daemon")
    daemon.load = wrap_load("daemon.load:", daemon.load, False)  # the log (a fault's own path)
    daemon.Daemon._format_date = wrap("date", daemon.Daemon._format_date, False)  # once a second
    daemon.accept = wrap("accept", daemon.accept, False)  # a new client's socket
    DAEMON[0].poller = Poller(DAEMON[0].poller)  # its poll set (MicroPython's takes heap for each socket)
    resp = lazy.load("response")
    resp._new = wrap("response", resp._new)
    req = lazy.load("request")
    req._new_path = wrap("path", req._new_path)
    for mod, names in (("framing", ("status_line",)), ("errors", ("write_error",)),
                       ("upload", ("start", "read_body", "load")), ("chunked", ("chunk_step",)),
                       ("body", ()), ("post", ("start", "give", "finish")), ("values", ("_text", "_find_arg")),
                       ("post_parser", ())):
        m = lazy.load(mod)
        for n in names:
            setattr(m, n, wrap(mod + "." + n, getattr(m, n)))
    bw = lazy.load("body").BodyWriter
    for n in ("start", "next", "_produce"):
        setattr(bw, n, wrap("body." + n, getattr(bw, n)))
    pp = lazy.load("post_parser").PostParser
    pp.step = wrap("post_parser.step", pp.step)


def arg(request, name, default=None):
    v = mhd.request_get_value(request, mhd.VK_GET_ARGUMENT, name)
    return default if v is None else v


def respond(request, body, sc=200, *options):
    r = mhd.response_from_buffer_copy(sc, body)
    for o in options:
        mhd.response_set_option(r, o)
    return mhd.action_from_response(request, r)


def upload_reply(request, body):
    return mhd.upload_action_from_response(request, mhd.response_from_buffer_copy(200, body))


def produce(cls, ctx, pos, buf, maximum):
    """dyn_cont: cls = [total, raise at call K (0: never), calls]."""
    cls[2] += 1
    if cls[2] == cls[1]:
        raise MemoryError("dyn_cont, call %d" % cls[2])
    if pos >= cls[0]:
        return mhd.dcc_action_finish(ctx)
    n = min(maximum, cls[0] - pos, 512)
    buf[0:n] = X[0:n]
    return mhd.dcc_action_continue(ctx, n)


def on_inc(cls, request, size, data):
    if cls[1] and size:
        raise MemoryError("upload callback")
    cls[0] += size
    if size == 0:
        return upload_reply(request, b"size=%d" % cls[0])
    return mhd.upload_action_continue(request)


def on_full(cls, request, size, data):
    raise MemoryError("full upload callback")


def on_stream(request, cls, name, filename, ctype, enc, size, data, off, final):
    if cls == "stream":
        raise MemoryError("stream reader")
    return mhd.upload_action_continue(request)


def on_done(request, cls, result):
    if cls == "done":
        raise MemoryError("done callback")
    n = []
    mhd.request_get_post_data_cb(request, lambda c, *f: n.append(1))
    return upload_reply(request, b"fields=%d" % len(n))


def raising_free(cls):
    raise MemoryError("free callback")


def raising_ended(cls, request, code, app_context):
    raise MemoryError("termination callback")


def stats():
    d = DAEMON[0]
    gc.collect()
    heap = gc.mem_alloc() if hasattr(gc, "mem_alloc") else len(gc.get_objects())
    return ("fired=%s sent=%d escapes=%d oom=%d calls=%s pool=%d buffers=%d/%d log=%d heap=%d" % (
        seen["fired"], seen["sent"], seen["escapes"], seen["oom"], ",".join(seen["calls"]), lazy.load("response").pool_available(),
        d.nfree, len(d.leases), seen["log"], heap)).encode()


def on_request(hello, request, path, method, upload_size):
    if path == "/":
        return mhd.action_from_response(request, hello)
    if path == "/arm":
        pending[0] = arg(request, "point")
        pending[1] = int(arg(request, "n", "1"))
        seen["fired"] = "-"
        seen["calls"] = []
        seen["writes"] = seen["sent"] = 0
        return respond(request, b"armed", 200, mhd.R_OPTION_CONN_CLOSE(True))
    if path == "/stats":
        forget_paths()
        return respond(request, stats())
    if path == "/alloc":  # a temporary of n bytes for this reply: the heap tests' pressure
        n = int(arg(request, "n", "1000"))
        try:
            body = bytes(n)
        except MemoryError:
            seen["oom"] += 1  # a real one: /stats counts them
            raise
        return mhd.action_from_response(request, mhd.response_from_buffer(200, body))
    if path == "/echo":
        return respond(request, b"%s %d %d" % (path.encode(), method, upload_size))
    if path == "/big":
        global BIG
        n = int(arg(request, "n", "1000"))
        if len(BIG) < n:
            BIG = bytearray(0)
            BIG = bytearray(b"x" * n)
        return mhd.action_from_response(request, mhd.response_from_buffer(200, memoryview(BIG)[:n]))
    if path == "/dyn" or path == "/oom/dyn":
        n = int(arg(request, "n", "2000"))
        at = int(arg(request, "at", "0")) if path == "/oom/dyn" else 0
        size = mhd.SIZE_UNKNOWN if arg(request, "unknown") else n
        return mhd.action_from_response(request, mhd.response_from_callback(200, size, produce, [n, at, 0]))
    if path == "/inc" or path == "/oom/upload":
        return mhd.action_process_upload_inc(request, on_inc, [0, path == "/oom/upload"])
    if path == "/oom/full":
        return mhd.action_process_upload_full(request, 4096, on_full)
    if path == "/form":
        how = arg(request, "raise")
        return mhd.action_parse_post(request, 512, 16, mhd.HTTP_POST_ENCODING_OTHER,
                                     on_stream if arg(request, "stream") else None, how, on_done, how)
    if path == "/oom/callback":
        raise MemoryError("request callback")
    if path == "/oom/free":
        return mhd.action_from_response(request, mhd.response_from_buffer(200, b"freed", raising_free))
    if path == "/oom/ended":
        r = mhd.response_from_buffer_static(200, b"ended")
        mhd.response_set_option(r, mhd.R_OPTION_TERMINATION_CALLBACK(raising_ended, None))
        return mhd.action_from_response(request, r)
    return respond(request, b"not found", 404)


def forget_paths():
    """Each request state keeps its last path (request.request_path): forget them, so that a
    victim request makes its path string as a first request does, and the heap figure does
    not depend on which paths the last requests of each buffer had."""
    d = DAEMON[0]
    for r in [lease[3] for lease in d.leases if lease is not None] + [c.req for c in d.slots if c.req is not None]:
        r.path_key = r.path = None


def on_notify(cls, conn, code):
    if code == mhd.CONNECTION_NOTIFY_CLOSED:
        if pending[0] is not None:  # /arm's connection: arm now
            armed[0], armed[1] = pending
            pending[0] = None
            forget_paths()
        elif armed[0] is not None:  # the victim's: stop (not fired: stats say "-")
            armed[0] = None


def on_log(cls, sc, msg):
    seen["log"] += 1


def main():
    hello = mhd.response_from_buffer_static(mhd.HTTP_STATUS_OK, b"Hello, world!")
    mhd.response_set_option(hello, mhd.R_OPTION_REUSABLE(True))
    d = mhd.daemon_create(on_request, hello)
    opts = [mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, int(opt("--port", "0"))),
            mhd.D_OPTION_NOTIFY_CONNECTION(on_notify), mhd.D_OPTION_LOG_CALLBACK(on_log)]
    for name, option in (("--connections", mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT),
                         ("--conn-memory", mhd.D_OPTION_CONN_MEMORY_LIMIT),
                         ("--buffers", mhd.D_OPTION_CONN_BUFFER_POOL_SIZE),
                         ("--pool", mhd.D_OPTION_RESPONSE_POOL_SIZE),
                         ("--timeout", mhd.D_OPTION_DEFAULT_TIMEOUT)):
        if opt(name) is not None:
            opts.append(option(int(opt(name))))
    rc = mhd.daemon_set_options(d, opts)
    if rc == mhd.SC_OK:
        rc = mhd.daemon_start(d)
    if rc != mhd.SC_OK:
        print("cannot start:", mhd.status_code_to_string(rc))
        sys.exit(1)
    DAEMON.append(d)
    if not opt("--no-inject"):
        install()
    print("listening on port", mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT)[1])
    flush = getattr(sys.stdout, "flush", None)
    if flush:
        flush()
    while True:
        try:
            mhd.daemon_process_blocking(d, mhd.WAIT_INDEFINITELY)
        except Exception as e:  # the test fails on this: nothing may escape
            seen["escapes"] += 1
            print("ESCAPED", repr(e))
            print_exception(e)


main()
