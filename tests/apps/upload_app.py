# The server the upload tests run, on CPython and on MicroPython alike.
#
#   <python> tests/apps/upload_app.py [--port N] [--conn-memory B] [--large B] [--connections N]
#       [--timeout S] [--cert PEM --key PEM]
#
# Prints "listening on port N". Every reply that took a body says what it got:
# "<how> size=N sha256=HEX pieces=K". Routes:
#   /inc                   incremental upload callback
#   /full?max=N[&inc=1]    full upload callback taking up to N bytes (default 65536), with the
#                          incremental one as well when inc=1 (then <how> tells which ran)
#   /respond?after=N       incremental; answers "early" once N bytes came, before the body ends
#   /suspend               incremental; suspends at the first piece, resumed 0.2 s later
#   /abort                 incremental; aborts (None) at the first piece
#   /final-continue        incremental; "continue" at the last call: an abort
#   /footers               incremental; answers the trailer fields (VK_FOOTER) as name=value lines
#   /early                 answers at once, without asking for the body
#   /form?buf=N&max=M[&enc=E][&stream=1][&find=NAME]
#                          action_parse_post with buffer_size N (default 1024) and
#                          max_nonstream_size M (default 64); answers the result code, each kept
#                          field (request_get_post_data_cb) as "name=value [filename type encoding]",
#                          each streamed one as "stream name: size sha256 pieces" (with stream=1),
#                          and with find=NAME, request_get_value(VK_POSTDATA, NAME)
import sys
import time

sys.path.insert(0, ".")
import mhd_micro as mhd

try:
    from hashlib import sha256
except ImportError:
    from uhashlib import sha256
from binascii import hexlify

state = {}  # id(request) -> [hash, size, pieces, route, after]
suspended = []


def opt(name, default=None):
    argv = sys.argv
    for i in range(len(argv) - 1):
        if argv[i] == name:
            return argv[i + 1]
    return default


def reply(request, text, sc=200):
    return mhd.upload_action_from_response(request, mhd.response_from_buffer_copy(sc, text.encode()))


def summary(request, how):
    s = state.pop(id(request))
    return "%s size=%d sha256=%s pieces=%d" % (how, s[1], hexlify(s[0].digest()).decode(), s[2])


def take(s, size, data):
    s[0].update(data)
    s[1] += size
    s[2] += 1


def on_inc(route, request, size, data):
    s = state[id(request)]
    if size == 0:  # the last call
        if route == "/final-continue":
            return mhd.upload_action_continue(request)
        if route == "/footers":
            lines = []
            mhd.request_get_values_cb(request, mhd.VK_FOOTER, lambda c, k, n, v: lines.append("%s=%s" % (n, v)))
            state.pop(id(request))
            return reply(request, "\n".join(lines))
        return reply(request, summary(request, "inc"))
    take(s, size, data)
    if route == "/abort":
        return mhd.upload_action_abort_request(request)
    if route == "/suspend" and s[2] == 1:
        suspended.append((request, time.time() + 0.2))
        return mhd.upload_action_suspend(request)
    if route == "/respond" and s[1] >= s[4]:
        state.pop(id(request))
        return reply(request, "early")
    return mhd.upload_action_continue(request)


def on_full(route, request, size, data):
    s = state[id(request)]
    take(s, size, data)
    return reply(request, summary(request, "full"))


def on_stream(request, cls, name, filename, ctype, enc, size, data, off, final):
    s = state[id(request)]
    st = s[5].setdefault(name, [sha256(), 0, 0])
    assert off == st[1], (name, off, st[1])
    if size:
        st[0].update(data)
    st[1] += size
    st[2] += 1
    return mhd.upload_action_continue(request)


def on_done(request, cls, result):
    s = state.pop(id(request))
    lines = ["result=%d" % result]
    mhd.request_get_post_data_cb(request, lambda c, n, v, f, t, e: lines.append("%s=%s %s %s %s" % (n, v, f, t, e)))
    for name, st in sorted(s[5].items()):
        lines.append("stream %s: %d %s %d" % (name, st[1], hexlify(st[0].digest()).decode(), st[2]))
    if s[4]:
        lines.append("find=%r" % (mhd.request_get_value(request, mhd.VK_POSTDATA, s[4]),))
    lines.append("count=%d" % mhd.request_get_info_dynamic(request, mhd.REQUEST_INFO_DYNAMIC_NUMBER_POST_PARAMS)[1])
    return reply(request, "\n".join(lines))


def arg(request, name, default=None):
    v = mhd.request_get_value(request, mhd.VK_GET_ARGUMENT, name)
    return default if v is None else v


def on_request(cls, request, path, method, upload_size):
    if path == "/form":
        state[id(request)] = [None, 0, 0, path, arg(request, "find"), {}]
        return mhd.action_parse_post(request, int(arg(request, "buf", 1024)), int(arg(request, "max", 64)),
                                     int(arg(request, "enc", 0)), on_stream if arg(request, "stream") else None,
                                     None, on_done, None)
    if path == "/early":
        return mhd.action_from_response(request, mhd.response_from_buffer_copy(200, b"early"))
    after = mhd.request_get_value(request, mhd.VK_GET_ARGUMENT, "after")
    state[id(request)] = [sha256(), 0, 0, path, int(after or 0)]
    if path == "/full":
        size = int(mhd.request_get_value(request, mhd.VK_GET_ARGUMENT, "max") or 65536)
        inc = on_inc if mhd.request_get_value(request, mhd.VK_GET_ARGUMENT, "inc") else None
        return mhd.action_process_upload(request, size, on_full, path, inc, path)
    if path in ("/inc", "/respond", "/suspend", "/abort", "/final-continue", "/footers"):
        return mhd.action_process_upload_inc(request, on_inc, path)
    state.pop(id(request))
    return mhd.action_from_response(request, mhd.response_from_buffer_copy(404, b"not found"))


def main():
    d = mhd.daemon_create(on_request)
    opts = [mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, int(opt("--port", "0")))]
    for name, option in (("--conn-memory", mhd.D_OPTION_CONN_MEMORY_LIMIT),
                         ("--large", mhd.D_OPTION_LARGE_POOL_SIZE),
                         ("--connections", mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT),
                         ("--timeout", mhd.D_OPTION_DEFAULT_TIMEOUT)):
        if opt(name) is not None:
            opts.append(option(int(opt(name))))
    if opt("--no-suspend") is not None:
        opts.append(mhd.D_OPTION_DISALLOW_SUSPEND_RESUME(True))
    if opt("--cert") is not None:  # HTTPS (tests/test_tls.py): PEM files
        with open(opt("--cert"), "rb") as f, open(opt("--key"), "rb") as g:
            opts += [mhd.D_OPTION_TLS(mhd.TLS_BACKEND_ANY), mhd.D_OPTION_TLS_CERT_KEY(f.read(), g.read(), None)]
    rc = mhd.daemon_set_options(d, opts) or mhd.daemon_start(d)
    if rc != mhd.SC_OK:
        print("cannot start:", rc)
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
