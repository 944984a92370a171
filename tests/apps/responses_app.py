# Server for the response-API tests (tests/test_responses.py), on CPython and MicroPython.
#   <python> tests/apps/responses_app.py --file PATH [--pool N] [--conn-memory B]
# Prints "listening on port N". Each route exercises one part of the MHD2 responses chapter;
# /stats reports what the callbacks saw (free callbacks, iov callbacks, dyn_cont free
# callbacks, termination codes, the log's status codes).
import sys
import time

sys.path.insert(0, ".")
import mhd_micro as mhd

stats = {"free": 0, "iov_fcb": 0, "fc": 0, "ended": [], "log": []}
suspended = []
PATTERN = b"0123456789abcdef" * 64  # 1 KiB


def argv(name, default=None):
    for i in range(len(sys.argv) - 1):
        if sys.argv[i] == name:
            return sys.argv[i + 1]
    return default


FILE = argv("--file")


def arg(request, name, default=None):
    v = mhd.request_get_value(request, mhd.VK_GET_ARGUMENT, name)
    return default if v is None else v


def on_free(cls):
    stats[cls] += 1


def on_fc(cls):
    """dyn_cont_fc: gets dyn_cont_cls, produce's state list (no use as a stats key)."""
    stats["fc"] += 1


def on_ended(cls, request, code, app_context):
    stats["ended"].append(code)


def raising_fc(cls):
    on_fc(cls)
    raise ValueError("free callback")


def raising_ended(cls, request, code, app_context):
    on_ended(cls, request, code, app_context)
    raise ValueError("termination callback")


def on_log(cls, sc, msg):
    stats["log"].append(sc)


def act(request, r, *options):
    for o in options:
        if mhd.response_set_option(r, o) != mhd.SC_OK:
            return None
    return mhd.action_from_response(request, r)


def produce(cls, ctx, pos, buf, maximum):
    """dyn_cont: cls = [mode, total, state]; writes PATTERN bytes at `pos`."""
    mode, total = cls[0], cls[1]
    if mode == "suspend" and not cls[2]:
        cls[2] = 1
        suspended.append((ctx.request, time.time() + 0.2))
        return mhd.dcc_action_suspend(ctx)
    if mode == "abort" and pos >= 100:
        return mhd.dcc_action_abort(ctx)
    if mode == "exceed":
        return mhd.dcc_action_continue(ctx, maximum + 5)
    if mode == "early" and pos >= 10:
        return mhd.dcc_action_finish(ctx)
    if pos >= total:
        if mode == "footer":
            return mhd.dcc_action_finish_with_footer(ctx, [("X-Checksum", "abc123"), ("X-Count", str(pos))])
        return mhd.dcc_action_finish(ctx)
    n = min(maximum, total - pos, 10 if mode == "early" else 300)
    for i in range(n):
        buf[i] = PATTERN[(pos + i) % len(PATTERN)]
    if mode == "ext":
        return mhd.dcc_action_continue_ce(ctx, n, "pos=%d" % pos)
    if mode == "zc":
        # half in the buffer, then the next bytes from PATTERN without copying
        z = min(100, total - pos - n)
        off = (pos + n) % len(PATTERN)
        iov = [memoryview(PATTERN)[off:off + z]] if z > 0 and off + z <= len(PATTERN) else []
        if not iov:
            return mhd.dcc_action_continue_zc(ctx, n, None, None)
        return mhd.dcc_action_continue_zc(ctx, n, mhd.DynContentZCIoVec(iov, on_free, "iov_fcb"), "zc")
    if mode == "twice":
        a = mhd.dcc_action_continue(ctx, n)
        b = mhd.dcc_action_finish(ctx)
        return a if b is None else None
    return mhd.dcc_action_continue(ctx, n)


def drain_pool():
    """Take every response the pool has left."""
    held = []
    while True:
        r = mhd.response_from_empty(200)
        if r is None:
            return held
        held.append(r)


def give_back(held):
    for r in held:
        mhd.response_destroy(r)


def on_request(reusable, request, path, method, upload_size):
    if path == "/buffer":
        n = int(arg(request, "n", "1024"))
        return act(request, mhd.response_from_buffer(200, memoryview(PATTERN * 64)[:n], on_free, "free"))
    if path == "/copy":
        data = bytearray(b"copied")
        r = mhd.response_from_buffer_copy(200, data)
        data[0:6] = b"XXXXXX"  # the response must not see this
        return act(request, r)
    if path == "/iovec":
        parts = [b"first,", memoryview(PATTERN)[:10], b",last"]
        r = mhd.response_from_iovec(200, parts, on_free, "free")
        return act(request, r) if arg(request, "chunked") is None else act(request, r, mhd.R_OPTION_CHUNKED_ENC(True))
    if path == "/fd":
        off = int(arg(request, "off", "0"))
        size = int(arg(request, "size", "-1"))
        f = open(FILE, "rb")
        r = mhd.response_from_fd(200, f, off, mhd.SIZE_UNKNOWN if size < 0 else size)
        return act(request, r)
    if path == "/pipe":
        import os
        rd, wr = os.pipe()
        os.write(wr, b"from a pipe " * 100)
        os.close(wr)
        return act(request, mhd.response_from_pipe(200, rd))
    if path.startswith("/cb/"):
        mode = path[4:]
        total = int(arg(request, "n", "1000"))
        known = arg(request, "unknown") is None
        r = mhd.response_from_callback(200, total if known else mhd.SIZE_UNKNOWN, produce, [mode, total, 0], on_fc)
        if arg(request, "chunked") is not None:
            mhd.response_set_option(r, mhd.R_OPTION_CHUNKED_ENC(True))
        return act(request, r)
    if path == "/reusable":
        return mhd.action_from_response(request, reusable)
    if path == "/reusable-dropped":
        # a reusable response the application lets go of at once: the connection's reference
        # keeps it to the end of the reply, and the free callback runs then, once
        r = mhd.response_from_buffer(200, b"dropped", on_free, "free")
        mhd.response_set_option(r, mhd.R_OPTION_REUSABLE(True))
        a = mhd.action_from_response(request, r)
        mhd.response_destroy(r)
        return a
    if path == "/head-only":
        r = mhd.response_from_empty(200)
        mhd.response_set_option(r, mhd.R_OPTION_HEAD_ONLY_RESPONSE(True))
        mhd.response_add_header(r, "Content-Length", "1234")
        return mhd.action_from_response(request, r)
    if path == "/insanity":
        r = mhd.response_from_empty(200)
        refused = mhd.response_add_header(r, "Content-Length", "0")
        mhd.response_set_option(r, mhd.R_OPTION_INSANITY_HEADER_CONTENT_LENGTH(True))
        mhd.response_add_header(r, "X-Refused-Before", str(refused))
        mhd.response_add_header(r, "Content-Length", "0")
        return mhd.action_from_response(request, r)
    if path == "/conn-close":
        return act(request, mhd.response_from_buffer_static(200, b"bye"), mhd.R_OPTION_CONN_CLOSE(True))
    if path == "/http10-strict":
        return act(request, mhd.response_from_buffer_static(200, b"strict"), mhd.R_OPTION_HTTP_1_0_COMPATIBLE_STRICT(True))
    if path == "/http10-server":
        return act(request, mhd.response_from_buffer_static(200, b"server"), mhd.R_OPTION_HTTP_1_0_SERVER(True))
    if path == "/http10-server-unknown":
        r = mhd.response_from_callback(200, mhd.SIZE_UNKNOWN, produce, ["plain", 500, 0], None)
        return act(request, r, mhd.R_OPTION_HTTP_1_0_SERVER(True))
    if path == "/term":
        return act(request, mhd.response_from_buffer_static(200, b"t"), mhd.R_OPTION_TERMINATION_CALLBACK(on_ended, None))
    if path == "/term-abort":
        r = mhd.response_from_callback(200, mhd.SIZE_UNKNOWN, produce, ["abort", 10000, 0], None)
        return act(request, r, mhd.R_OPTION_TERMINATION_CALLBACK(on_ended, None))
    if path == "/fc-raises":
        return act(request, mhd.response_from_callback(200, 5, produce, ["plain", 5, 0], raising_fc))
    if path == "/term-raises":
        return act(request, mhd.response_from_buffer_static(200, b"t"), mhd.R_OPTION_TERMINATION_CALLBACK(raising_ended, None))
    if path == "/own-date":
        r = mhd.response_from_empty(200)
        mhd.response_add_header(r, "Date", "Thu, 01 Jan 1970 00:00:00 GMT")
        return mhd.action_from_response(request, r)
    if path == "/predef":
        r = mhd.response_from_empty(200)
        mhd.response_add_predef_header(r, mhd.PREDEF_ACCEPT_LANGUAGE, "en")
        return mhd.action_from_response(request, r)
    if path == "/status":
        return mhd.action_from_response(request, mhd.response_from_empty(int(arg(request, "code", "200"))))
    if path == "/exhaust":
        held = drain_pool()
        give_back(held)
        return act(request, mhd.response_from_buffer_copy(200, str(len(held)).encode()))
    if path == "/exhausted":
        # the pool is empty while the app builds its reply: the None closes the connection
        held = drain_pool()
        reply = mhd.response_from_empty(200)
        give_back(held)
        return mhd.action_from_response(request, reply)
    if path == "/heap":
        import gc
        gc.collect()
        return act(request, mhd.response_from_buffer_copy(200, str(gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0).encode()))
    if path == "/stats":
        s = "free=%d iov_fcb=%d fc=%d ended=%s log=%s" % (stats["free"], stats["iov_fcb"], stats["fc"],
                                                          ",".join(str(c) for c in stats["ended"]),
                                                          ",".join(str(c) for c in stats["log"]))
        return act(request, mhd.response_from_buffer_copy(200, s.encode()))
    return act(request, mhd.response_from_empty(404))


def main():
    reusable = mhd.response_from_buffer_static(200, b"shared")
    mhd.response_set_option(reusable, mhd.R_OPTION_REUSABLE(True))
    d = mhd.daemon_create(on_request, reusable)
    opts = [mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, 0), mhd.D_OPTION_DEFAULT_TIMEOUT(10),
            mhd.D_OPTION_LOG_CALLBACK(on_log, None)]
    if argv("--pool"):
        opts.append(mhd.D_OPTION_RESPONSE_POOL_SIZE(int(argv("--pool"))))
    if argv("--no-suspend"):
        opts.append(mhd.D_OPTION_DISALLOW_SUSPEND_RESUME(True))
    if argv("--conn-memory"):
        opts.append(mhd.D_OPTION_CONN_MEMORY_LIMIT(int(argv("--conn-memory"))))
    rc = mhd.daemon_set_options(d, opts) or mhd.daemon_start(d)
    if rc:
        print("cannot start:", mhd.status_code_to_string(rc))
        sys.exit(1)
    print("listening on port", mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT)[1])
    flush = getattr(sys.stdout, "flush", None)
    if flush:
        flush()
    while True:
        mhd.daemon_process_blocking(d, 50000 if suspended else mhd.WAIT_INDEFINITELY)
        now = time.time()
        for item in suspended[:]:
            if item[1] <= now:
                suspended.remove(item)
                mhd.request_resume(item[0])


main()
