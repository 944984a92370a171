# The configurable server the server-level tests run, on CPython and on MicroPython alike.
#
#   <python> tests/apps/app.py [--port N] [--strict L] [--timeout S] [--head-timeout S] [--connections N]
#       [--conn-memory B] [--per-ip N] [--no-date] [--no-cookies] [--no-plus] [--pool N]
#       [--buffers N] [--log-memory 1]   (the last two: what boards/common/main.py passes)
#       [--cert PEM --key PEM [--tls-handshake S] [--tls-limit N]]   (HTTPS: tests/test_tls.py)
#       [--uri-log] [--policy]   (the early URI logger, the accept policy: tests/test_daemon_callbacks.py)
#
# Prints "listening on port N", then serves until killed. Routes:
#   /                 "Hello, world!" (a reusable response)
#   /echo             the path, the method and upload size the callback got
#   /header?name=X    the value of request header X ("-" if absent)
#   /query?...        every query argument as name=value lines ("None" for no value)
#   /arg?name=X       request_get_value(VK_GET_ARGUMENT, X)
#   /cookies          every cookie as name=value lines
#   /info             request infos: version, method, method string, uri, header size, upload
#   /raise            the callback raises          /none     the callback returns None
#   /twice            two actions for one request  /empty    response_from_empty(204)
#   /suspend          suspends; the app loop resumes it 0.2 s later, then 200 "resumed"
#   /suspend/long     the same, resumed 1 s later (wide enough for timing on a loaded machine)
#   /close            a response with R_O_CONN_CLOSE   /chunked  a response with R_O_CHUNKED_ENC
#   /big?n=N          N bytes of "x"               /notfound  404
#   /stream?n=N       N bytes of "x", made as they are sent (dynamic content: any size, no heap)
#   /slow             sleeps 1.5 s in the callback (blocks the daemon: for timeout tests)
#   /file             this file (tests/apps/app.py), a response_from_fd
#   /tls              "<status> <TLS version>" of connection_get_info_dynamic(TLS_VER)
#   /uri              the request's app context (REQUEST_INFO_FIXED_APP_CONTEXT): with --uri-log,
#                     what the early URI logger returned, "<method> <uri>"
#   /notify           "<started> <closed> <policy asked> <policy refused>": connection notifications
#                     and accept-policy calls so far
#   /deny?n=N         with --policy: the accept policy refuses the next N clients
#   /quiesce          daemon_quiesce; the app closes the listening socket it gets back
import sys
import time

sys.path.insert(0, ".")
import mhd_micro as mhd


def opt(name, default=None):
    argv = sys.argv
    for i in range(len(argv)):
        if argv[i] == name:
            if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                return argv[i + 1]
            return True
    return default


suspended = []
BIG = bytearray(0)  # "x" bytes for /big, made on first need: on a board 64 KiB would not fit beside the pools
counts = [0, 0, 0, 0, 0]  # connections started, closed; accept policy asked, refused; refusals to come
state = {}  # "daemon": the daemon, for /quiesce


def reply(request, text, sc=200, *options):
    r = mhd.response_from_buffer_copy(sc, text.encode() if isinstance(text, str) else text)
    for o in options:
        mhd.response_set_option(r, o)
    act = mhd.action_from_response(request, r)
    if act is None:
        mhd.response_destroy(r)  # refused (the request has an action already): back to the pool
    return act


def stream_x(n, ctx, pos, buf, maximum):
    """dyn_cont of /stream: the next bytes of n "x", from the 1 KiB of /big."""
    k = min(maximum, n - pos, 1024)
    buf[:k] = memoryview(BIG)[:k]
    return mhd.dcc_action_continue(ctx, k)


def grow_big(n):
    global BIG
    n = max(n, 4096)
    BIG = bytearray(0)  # the old one can go before the new one is taken
    b = bytearray(n)
    chunk = b"x" * 1024
    mv = memoryview(b)
    for i in range(0, n, 1024):
        mv[i:i + 1024] = chunk[:min(1024, n - i)]
    BIG = b


def on_request(hello, request, path, method, upload_size):
    if path == "/":
        return mhd.action_from_response(request, hello)
    if path == "/echo":
        return reply(request, "%s %d %d" % (path, method, upload_size))
    if path == "/header":
        v = mhd.request_get_value(request, mhd.VK_HEADER, mhd.request_get_value(request, mhd.VK_GET_ARGUMENT, "name"))
        return reply(request, "-" if v is None else v)
    if path == "/query":
        lines = []
        mhd.request_get_values_cb(request, mhd.VK_GET_ARGUMENT, lambda c, k, n, v: lines.append("%s=%s" % (n, v)))
        return reply(request, "\n".join(lines))
    if path == "/arg":
        v = mhd.request_get_value(request, mhd.VK_GET_ARGUMENT, mhd.request_get_value(request, mhd.VK_GET_ARGUMENT, "name"))
        return reply(request, repr(v))
    if path == "/cookies":
        lines = []
        mhd.request_get_values_cb(request, mhd.VK_COOKIE, lambda c, k, n, v: lines.append("%s=%s" % (n, v)))
        return reply(request, "\n".join(lines))
    if path == "/info":
        out = []
        for i in (mhd.REQUEST_INFO_FIXED_HTTP_VER, mhd.REQUEST_INFO_FIXED_HTTP_METHOD):
            out.append(str(mhd.request_get_info_fixed(request, i)[1]))
        for i in (mhd.REQUEST_INFO_DYNAMIC_HTTP_METHOD_STRING, mhd.REQUEST_INFO_DYNAMIC_URI,
                  mhd.REQUEST_INFO_DYNAMIC_HEADER_SIZE, mhd.REQUEST_INFO_DYNAMIC_UPLOAD_PRESENT,
                  mhd.REQUEST_INFO_DYNAMIC_UPLOAD_CHUNKED, mhd.REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TOTAL,
                  mhd.REQUEST_INFO_DYNAMIC_NUMBER_URI_PARAMS, mhd.REQUEST_INFO_DYNAMIC_NUMBER_COOKIES):
            out.append(str(mhd.request_get_info_dynamic(request, i)[1]))
        return reply(request, "|".join(out))
    if path == "/raise":
        raise ValueError("raised on purpose by the test app")
    if path == "/none":
        return None
    if path == "/twice":
        a = reply(request, "first")
        b = reply(request, "second")
        return a if b is None else b
    if path == "/empty":
        return mhd.action_from_response(request, mhd.response_from_empty(204))
    if path == "/suspend" or path == "/suspend/long":
        if getattr(request, "_resumed", False):
            request._resumed = False
            return reply(request, "resumed")
        suspended.append((request, time.time() + (1.0 if path == "/suspend/long" else 0.2)))
        return mhd.action_suspend(request)
    if path == "/close":
        return reply(request, "closing", 200, mhd.R_OPTION_CONN_CLOSE(True))
    if path == "/chunked":
        return reply(request, "chunked body", 200, mhd.R_OPTION_CHUNKED_ENC(True))
    if path == "/big":
        n = int(mhd.request_get_value(request, mhd.VK_GET_ARGUMENT, "n") or "1000")
        if len(BIG) < n:
            grow_big(n)
        return mhd.action_from_response(request, mhd.response_from_buffer(200, memoryview(BIG)[:n]))
    if path == "/stream":
        n = int(mhd.request_get_value(request, mhd.VK_GET_ARGUMENT, "n") or "1000")
        if len(BIG) < 1024:
            grow_big(1024)
        return mhd.action_from_response(request, mhd.response_from_callback(200, n, stream_x, n, None))
    if path == "/file":  # this file, from response_from_fd (sendfile on CPython, but not over TLS)
        return mhd.action_from_response(request, mhd.response_from_fd(200, open("tests/apps/app.py", "rb")))
    if path == "/tls":
        conn = mhd.request_get_info_fixed(request, mhd.REQUEST_INFO_FIXED_CONNECTION)[1]
        sock = mhd.connection_get_info_fixed(conn, mhd.CONNECTION_INFO_FIXED_CONNECTION_SOCKET)[1]
        kinds = [t.__name__ for t in getattr(type(sock), "__mro__", (type(sock),))]  # CPython's is a subclass
        return reply(request, "%d %s %s" % (mhd.connection_get_info_dynamic(conn, mhd.CONNECTION_INFO_DYNAMIC_TLS_VER)
                                            + ("SSLSocket" in kinds,)))
    if path == "/uri":
        return reply(request, repr(mhd.request_get_info_fixed(request, mhd.REQUEST_INFO_FIXED_APP_CONTEXT)[1]))
    if path == "/notify":
        return reply(request, "%d %d %d %d" % tuple(counts[:4]))
    if path == "/deny":
        counts[4] = int(mhd.request_get_value(request, mhd.VK_GET_ARGUMENT, "n") or "1")
        return reply(request, "denying %d" % counts[4])
    if path == "/quiesce":
        lsock = mhd.daemon_quiesce(state["daemon"])
        lsock.close()
        return reply(request, "quiesced")
    if path == "/slow":
        time.sleep(1.5)
        return reply(request, "slow")
    return reply(request, "not found", 404)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def on_notify(cls, conn, code):
    counts[code == mhd.CONNECTION_NOTIFY_CLOSED] += 1


def on_uri(cls, request, uri, method):
    return "%d %s" % (method, uri)  # the request's app context


def on_accept(cls, addr):
    counts[2] += 1
    if counts[4]:
        counts[4] -= 1
        counts[3] += 1
        return False
    return True


def main():
    hello = mhd.response_from_buffer_static(mhd.HTTP_STATUS_OK, b"Hello, world!")
    mhd.response_set_option(hello, mhd.R_OPTION_REUSABLE(True))
    d = mhd.daemon_create(on_request, hello)
    state["daemon"] = d
    opts = [mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, int(opt("--port", "0")))]
    if opt("--strict") is not None:
        opts.append(mhd.D_OPTION_PROTOCOL_STRICT_LEVEL(int(opt("--strict"))))
    if opt("--timeout") is not None:
        opts.append(mhd.D_OPTION_DEFAULT_TIMEOUT(int(opt("--timeout"))))
    if opt("--head-timeout") is not None:
        opts.append(mhd.D_OPTION_HEAD_TIMEOUT(int(opt("--head-timeout"))))
    if opt("--connections") is not None:
        opts.append(mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(int(opt("--connections"))))
    if opt("--conn-memory") is not None:
        opts.append(mhd.D_OPTION_CONN_MEMORY_LIMIT(int(opt("--conn-memory"))))
    if opt("--per-ip") is not None:
        opts.append(mhd.D_OPTION_PER_IP_LIMIT(int(opt("--per-ip"))))
    if opt("--buffers") is not None:  # boards/common/main.py passes the board config's pools
        opts.append(mhd.D_OPTION_CONN_BUFFER_POOL_SIZE(int(opt("--buffers"))))
    if opt("--log-memory") is not None:
        opts.append(mhd.D_OPTION_LOG_MEMORY(True))
    if opt("--pool") is not None:
        opts.append(mhd.D_OPTION_RESPONSE_POOL_SIZE(int(opt("--pool"))))
    if opt("--no-date"):
        opts.append(mhd.D_OPTION_SUPPRESS_DATE_HEADER(True))
    if opt("--no-cookies"):
        opts.append(mhd.D_OPTION_DISABLE_COOKIES(True))
    if opt("--no-plus"):
        opts.append(mhd.D_OPTION_DISABLE_URI_QUERY_PLUS_AS_SPACE(True))
    opts.append(mhd.D_OPTION_NOTIFY_CONNECTION(on_notify))
    if opt("--uri-log"):
        opts.append(mhd.D_OPTION_EARLY_URI_LOGGER(on_uri))
    if opt("--policy"):
        opts.append(mhd.D_OPTION_ACCEPT_POLICY(on_accept))
    if opt("--cert") is not None:
        opts.append(mhd.D_OPTION_TLS(mhd.TLS_BACKEND_ANY))
        opts.append(mhd.D_OPTION_TLS_CERT_KEY(read(opt("--cert")), read(opt("--key")), None))
    if opt("--tls-handshake") is not None:
        opts.append(mhd.D_OPTION_TLS_HANDSHAKE_TIMEOUT(int(opt("--tls-handshake"))))
    if opt("--tls-limit") is not None:
        opts.append(mhd.D_OPTION_TLS_CONNECTION_LIMIT(int(opt("--tls-limit"))))
    rc = mhd.daemon_set_options(d, opts)
    if rc == mhd.SC_OK:
        rc = mhd.daemon_start(d)
    if rc != mhd.SC_OK:
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
                item[0]._resumed = True
                mhd.request_resume(item[0])


main()
