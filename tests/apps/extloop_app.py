# The server of tests/test_extloop.py: the daemon in MHD2's external event loop mode
# (D_OPTION_WM_EXTERNAL_EVENT_LOOP_CB_LEVEL), driven by this script's own select.poll, on
# CPython and MicroPython alike.
#
#   <python> tests/apps/extloop_app.py [--port N] [--limit N]
#
# Prints "listening on port N". Routes:
#   /         "hello"
#   /big      8 MiB (one 64 KiB buffer, 128 times), so that the connection waits to send (a SEND registration)
#   /stats    what the registration callback saw: "registered adds changes removals send listen"
#   /echo     upgrades; the upgraded socket joins the loop through upgraded_notify and echoes
#   /quit     the loop stops; daemon_destroy runs and the script prints the stats it ends with
#   /oom      the next accept raises MemoryError (once); then the count of rounds that
#             daemon_process_reg_events reported SC_DAEMON_MEM_ALLOC_FAILURE so far
import sys
import select

sys.path.insert(0, ".")
import mhd_micro as mhd
from mhd_micro import daemon as daemon_module

RECV, SEND, EXCEPT, NONE = mhd.FD_STATE_RECV, mhd.FD_STATE_SEND, mhd.FD_STATE_EXCEPT, mhd.FD_STATE_NONE
poll = select.poll()
ecbs = {}  # fileno -> ecb_cntx of each socket the daemon asked us to watch
stats = {"adds": 0, "changes": 0, "removals": 0, "send": 0, "listen": 0, "bad_old": 0, "oom": 0}
state = {"quit": False, "lsock": None}
BIG = b"x" * 65536
ACCEPT = daemon_module.accept


def fileno(x):
    return x if isinstance(x, int) else x.fileno()


def on_register(cls, sock, watch_for, app_ctx_old, ecb_cntx):
    """The daemon's registration callback: mirror its wishes in our poll set."""
    fd = fileno(sock)
    if watch_for == NONE:
        if app_ctx_old is None or app_ctx_old[0] != fd:
            stats["bad_old"] += 1
        poll.unregister(sock)
        del ecbs[fd]
        stats["removals"] += 1
        if sock is state["lsock"]:
            stats["listen"] -= 1
        return None
    mask = (select.POLLIN if watch_for & RECV else 0) | (select.POLLOUT if watch_for & SEND else 0)
    if watch_for & SEND:
        stats["send"] += 1
    if app_ctx_old is None:
        poll.register(sock, mask)
        stats["adds"] += 1
        if sock is state["lsock"]:
            stats["listen"] += 1
    else:
        if app_ctx_old[0] != fd:
            stats["bad_old"] += 1
        poll.modify(sock, mask)
        stats["changes"] += 1
    ecbs[fd] = ecb_cntx
    return [fd]  # our context for this socket: given back as app_ctx_old


def text(request, body):
    return mhd.action_from_response(request, mhd.response_from_buffer_copy(200, body.encode()))


def on_echo_ready(cls, urh, readable, writable):
    buf = bytearray(256)
    sc, n = mhd.upgraded_recv(urh, buf, 0)
    if sc or not n:
        mhd.upgraded_close(urh)
        return
    mhd.upgraded_send(urh, bytes(buf[:n]), 1000)


def on_echo(cls, request, urh):
    mhd.upgraded_notify(urh, on_echo_ready)


def accept_once_failing(lsock):
    daemon_module.accept = ACCEPT
    raise MemoryError("injected: accept")


def on_request(cls, request, path, method, upload_size):
    if path == "/":
        return text(request, "hello")
    if path == "/big":
        return mhd.action_from_response(request, mhd.response_from_iovec(200, [BIG] * 128))
    if path == "/stats":
        return text(request, "%d %d %d %d %d %d %d" % (len(ecbs), stats["adds"], stats["changes"], stats["removals"],
                                                       stats["send"], stats["listen"], stats["bad_old"]))
    if path == "/echo":
        return mhd.action_upgrade(request, "x-echo", on_echo, None)
    if path == "/oom":
        daemon_module.accept = accept_once_failing
        return text(request, str(stats["oom"]))
    if path == "/quit":
        state["quit"] = True
        return text(request, "bye")
    return mhd.action_from_response(request, mhd.response_from_empty(404))


def main():
    port, limit = 0, 32
    args = sys.argv[1:]
    for i in range(0, len(args) - 1, 2):
        if args[i] == "--port":
            port = int(args[i + 1])
        elif args[i] == "--limit":
            limit = int(args[i + 1])
    d = mhd.daemon_create(on_request)
    rc = mhd.DAEMON_SET_OPTIONS(d, mhd.D_OPTION_WM_EXTERNAL_EVENT_LOOP_CB_LEVEL(on_register, None),
                                mhd.D_OPTION_BIND_SA(("127.0.0.1", port)), mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(limit),
                                mhd.D_OPTION_CONN_MEMORY_LIMIT(2048), mhd.D_OPTION_DEFAULT_TIMEOUT(30))
    assert rc == 0, rc
    state["lsock"] = None
    # the listening socket is registered during daemon_start: find it by its kind afterwards
    assert mhd.daemon_start(d) == 0
    state["lsock"] = d.lsock
    stats["listen"] = 1 if fileno(d.lsock) in ecbs else 0
    print("listening on port", mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT)[1])
    assert mhd.daemon_process_blocking(d, 0) != 0  # this mode has no daemon poll
    wait_ms = -1
    while not state["quit"]:
        for fd, ev in poll.poll(wait_ms):
            e = ecbs.get(fileno(fd))
            if e is None:
                continue
            st = (RECV if ev & select.POLLIN else 0) | (SEND if ev & select.POLLOUT else 0)
            if ev & (select.POLLERR | select.POLLHUP):
                st |= EXCEPT
            mhd.daemon_event_update(d, e, st)
        rc, wait = mhd.daemon_process_reg_events(d)
        if rc == mhd.SC_DAEMON_MEM_ALLOC_FAILURE:
            stats["oom"] += 1
        else:
            assert rc == 0, rc
        wait_ms = -1 if wait == mhd.WAIT_INDEFINITELY else wait // 1000
    mhd.daemon_destroy(d)
    print("destroyed %d %d %d %d" % (len(ecbs), stats["adds"], stats["removals"], stats["listen"]))


main()
