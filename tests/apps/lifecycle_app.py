# Server for tests/test_daemon_lifecycle.py, on CPython and MicroPython: a daemon driven by
# daemon_process_nonblocking, its info calls, its log callback, and daemon_destroy.
#   <python> tests/apps/lifecycle_app.py --port N [--own-socket] [--timeout S] [--log-memory] [--default-log]
# The daemon binds 127.0.0.1:N with D_OPTION_BIND_SA, or with --own-socket serves on a
# listening socket the app made (D_OPTION_LISTEN_SOCKET). No timeouts unless --timeout:
# nothing but the network then ends a wait. --default-log: no log callback (MHD2's default,
# stderr). Routes:
#   /conn     connection_get_info_fixed: "<client port> <socket ok> <daemon is ours> <unknown's SC>"
#   /dyn      daemon_get_info_dynamic now and before the first client: "<has conn> <max wait> ..."
#   /rounds   how many times the loop called daemon_process_nonblocking
#   /raise    the request callback raises: the log callback hears of it
#   /log      the log callback's calls: "<cls> <sc> <type of message> <its first word>" each
#   /abort    action_abort_request
#   /hold     a reply whose content callback suspends: in progress until the daemon goes
#   /destroy  after its reply: daemon_destroy, then a new daemon on the same port (or socket)
#   /after    what the destroyed daemon left: "<held reply's codes> <listening socket closed>"
import socket
import sys
import time

sys.path.insert(0, ".")
import mhd_micro as mhd

EBADF = 9
state = {"rounds": 0, "log": [], "ended": [], "destroy": 0, "idle": None, "after": "none"}


def argv(name):
    for i in range(len(sys.argv) - 1):
        if sys.argv[i] == name:
            return sys.argv[i + 1]
    return None


PORT = int(argv("--port"))
OWN = "--own-socket" in sys.argv
TIMEOUT = int(argv("--timeout") or 0)


def on_log(cls, sc, msg):
    state["log"].append("%s %d %s %s" % (cls, sc, type(msg).__name__, msg.split()[0]))


def on_ended(cls, request, code, app_context):
    state["ended"].append(code)


def hold(cls, ctx, pos, buf, maximum):
    return mhd.dcc_action_suspend(ctx)


def port_of(addr):
    if isinstance(addr, tuple):  # CPython
        return addr[1]
    return addr[2] * 256 + addr[3]  # MicroPython: a struct sockaddr_in


def reply(request, text):
    return mhd.action_from_response(request, mhd.response_from_buffer_copy(200, text.encode()))


def on_request(d, request, path, method, upload_size):
    if path == "/conn":
        c = mhd.request_get_info_fixed(request, mhd.REQUEST_INFO_FIXED_CONNECTION)[1]
        sc, addr = mhd.connection_get_info_fixed(c, mhd.CONNECTION_INFO_FIXED_CLIENT_ADDRESS)
        sc2, sock = mhd.connection_get_info_fixed(c, mhd.CONNECTION_INFO_FIXED_CONNECTION_SOCKET)
        sc3, daemon = mhd.connection_get_info_fixed(c, mhd.CONNECTION_INFO_FIXED_DAEMON)
        lsock = mhd.daemon_get_info_fixed(d[0], mhd.DAEMON_INFO_FIXED_LISTEN_SOCKET)[1]
        ok = sc == sc2 == sc3 == mhd.SC_OK and hasattr(sock, "send") and sock is not lsock
        return reply(request, "%d %s %s %d" % (port_of(addr), ok, daemon is d[0], mhd.connection_get_info_fixed(c, 99)[0]))
    if path == "/dyn":
        now = [mhd.daemon_get_info_dynamic(d[0], i) for i in (mhd.DAEMON_INFO_DYNAMIC_HAS_CONNECTIONS,
                                                             mhd.DAEMON_INFO_DYNAMIC_MAX_TIME_TO_WAIT, 99)]
        return reply(request, "%s %s %s %s" % (now[0][1], now[1][1], now[2][0], state["idle"]))
    if path == "/rounds":
        return reply(request, str(state["rounds"]))
    if path == "/raise":
        raise ValueError("from the request callback")
    if path == "/log":
        return reply(request, "\n".join(state["log"]))
    if path == "/abort":
        return mhd.action_abort_request(request)
    if path == "/hold":
        r = mhd.response_from_callback(200, mhd.SIZE_UNKNOWN, hold)
        mhd.response_set_option(r, mhd.R_OPTION_TERMINATION_CALLBACK(on_ended))
        return mhd.action_from_response(request, r)
    if path == "/destroy":
        state["destroy"] = 3  # a few rounds on: the reply is out
        return reply(request, "bye")
    if path == "/after":
        return reply(request, state["after"])
    return reply(request, "Hello")


def serve(lsock):
    d = [None]
    d[0] = mhd.daemon_create(on_request, d)
    where = mhd.D_OPTION_LISTEN_SOCKET(lsock) if OWN else mhd.D_OPTION_BIND_SA(("127.0.0.1", PORT))
    if "--log-memory" in sys.argv:
        mhd.daemon_set_option(d[0], mhd.D_OPTION_LOG_MEMORY(True))
    if "--default-log" not in sys.argv:
        mhd.daemon_set_option(d[0], mhd.D_OPTION_LOG_CALLBACK(on_log, "cls"))
    rc = mhd.DAEMON_SET_OPTIONS(d[0], where, mhd.D_OPTION_DEFAULT_TIMEOUT(TIMEOUT),
                            mhd.D_OPTION_HEAD_TIMEOUT(TIMEOUT))
    state["early"] = mhd.daemon_process_nonblocking(d[0])
    assert rc == mhd.SC_OK and mhd.daemon_start(d[0]) == mhd.SC_OK
    if state["idle"] is None:
        state["idle"] = "%s %s %d" % (mhd.daemon_get_info_dynamic(d[0], mhd.DAEMON_INFO_DYNAMIC_HAS_CONNECTIONS)[1],
                                      mhd.daemon_get_info_dynamic(d[0], mhd.DAEMON_INFO_DYNAMIC_MAX_TIME_TO_WAIT)[1],
                                      state["early"])
    return d[0]


def closed(s):
    """Whether the listening socket was closed: listen() again fails only then (EBADF),
    and takes no client waiting in its queue."""
    try:
        s.listen(8)
    except OSError as e:
        return e.args[0] == EBADF
    return False


def main():
    lsock = None
    if OWN:
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(socket.getaddrinfo("127.0.0.1", PORT)[0][-1])
        lsock.listen(8)
    d = serve(lsock)
    print("listening on port", PORT)
    flush = getattr(sys.stdout, "flush", None)
    if flush:
        flush()
    while True:
        assert mhd.daemon_process_nonblocking(d) == mhd.SC_OK
        state["rounds"] += 1
        if state["destroy"]:
            state["destroy"] -= 1
        if state["destroy"] == 1:
            state["destroy"] = 0
            was = mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_LISTEN_SOCKET)[1]
            mhd.daemon_destroy(d)
            state["after"] = "%s %s" % (state["ended"], closed(was))
            d = serve(lsock)
        time.sleep(0.005)


main()
