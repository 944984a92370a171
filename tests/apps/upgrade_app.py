# The server the upgrade tests run (tests/test_upgrade.py), on CPython and MicroPython alike.
#
#   <python> tests/apps/upgrade_app.py [--port N] [--disallow]
#
# Prints "listening on port N". Routes:
#   /script   action_upgrade("x-test"), then a scripted exchange that waits on purpose
#             (blocking the daemon, which only this test may do): recv with no wait (nothing
#             yet: a timeout), send "ready", recv "hello" (5 s), send what it got, recv the
#             peer's shutdown (n 0), send that, close; then close again and recv after close
#             (both refused): those results are kept for /results
#   /results  the results of the last /script, space-separated
#   /headers  action_upgrade with extra fields, including an application Connection value
#   /bad?h=N  action_upgrade with refused extra fields (case N): the callback answers 500
#             with "refused" when action_upgrade gives None
#   /open     upgrades and leaves the handle open (daemon_destroy must report it)
#   /upload   reads the body (at most 64 bytes), then upload_action_upgrade: sends "body <it>",
#             recv (5 s), sends "got <what came>", closes
#   /ended    action_upgrade with a termination callback; the callback and the handler note
#             their calls in `events` (the handler then closes)
#   /ended-late  the same, after the request callback slept 1 s (the client is gone by then)
#   /events   `events`, space-separated
import sys
import time

sys.path.insert(0, ".")
import mhd_micro as mhd

WAIT = 5000
results = []
events = []
BAD = ([("Upgrade", "x")], [("Connection", "close")], [("Connection", "a"), ("Connection", "b")],
       [("Bad Name", "x")], [("X-Ok", "line\r\nbreak")])


def on_script(cls, request, urh):
    buf = bytearray(64)
    del results[:]
    sc1, n1 = mhd.upgraded_recv(urh, buf, 0)
    mhd.upgraded_send(urh, b"ready\n", WAIT)
    sc2, n2 = mhd.upgraded_recv(urh, buf, WAIT)
    got = bytes(buf[:n2])
    mhd.upgraded_send(urh, b"got " + got + b"\n", WAIT)
    sc3, n3 = mhd.upgraded_recv(urh, buf, WAIT)
    sc4, n4 = mhd.upgraded_send(urh, b"eof %d %d\n" % (sc3, n3), WAIT)
    results.extend([sc1, n1, sc2, n2, sc3, n3, sc4, n4, mhd.upgraded_close(urh), mhd.upgraded_close(urh),
                    mhd.upgraded_recv(urh, buf, 0)[0], mhd.upgraded_send(urh, b"x", 0)[0]])


def on_body(cls, request, urh):
    buf = bytearray(64)
    mhd.upgraded_send(urh, b"body " + cls + b"\n", WAIT)
    sc, n = mhd.upgraded_recv(urh, buf, WAIT)
    mhd.upgraded_send(urh, b"got " + bytes(buf[:n]) + b"\n", WAIT)
    mhd.upgraded_close(urh)


def on_upload(cls, request, size, data):
    return mhd.upload_action_upgrade(request, "x-test", on_body, bytes(data[:size]))


def on_ended(cls, request, code, app_context):
    events.append("ended-%d" % code)


def on_handler(cls, request, urh):
    events.append("handler")
    mhd.upgraded_close(urh)


def on_keep(cls, request, urh):
    cls.append(urh)  # left open on purpose


def reply(request, sc, text):
    return mhd.action_from_response(request, mhd.response_from_buffer_copy(sc, text.encode()))


def on_request(kept, request, path, method, upload_size):
    if path == "/script":
        return mhd.action_upgrade(request, "x-test", on_script, None)
    if path in ("/ended", "/ended-late"):
        del events[:]
        if path == "/ended-late":
            time.sleep(1)
        return mhd.action_upgrade(request, "x-test", on_handler, None, (), on_ended, None)
    if path == "/events":
        return reply(request, 200, " ".join(events))
    if path == "/results":
        return reply(request, 200, " ".join(str(x) for x in results))
    if path == "/headers":
        return mhd.action_upgrade(request, "x-test", on_keep, kept,
                                  [("X-One", "1"), ("Connection", "x-extra"), ("X-Two", "two words")])
    if path == "/bad":
        case = BAD[int(mhd.request_get_value(request, mhd.VK_GET_ARGUMENT, "h"))]
        act = mhd.action_upgrade(request, "x-test", on_keep, kept, case)
        return act if act is not None else reply(request, 500, "refused")
    if path == "/open":
        act = mhd.action_upgrade(request, "x-test", on_keep, kept)
        return act if act is not None else reply(request, 500, "refused")
    if path == "/upload":
        return mhd.action_process_upload_full(request, 64, on_upload)
    return reply(request, 404, "not found")


def main():
    kept = []
    d = mhd.daemon_create(on_request, kept)
    opts = [mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, 0), mhd.D_OPTION_DEFAULT_TIMEOUT(1)]
    if "--disallow" in sys.argv:
        opts.append(mhd.D_OPTION_DISALLOW_UPGRADE(True))
    rc = mhd.daemon_set_options(d, opts) or mhd.daemon_start(d)
    if rc != mhd.SC_OK:
        print("cannot start:", rc)
        sys.exit(1)
    print("listening on port", mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT)[1])
    flush = getattr(sys.stdout, "flush", None)
    if flush:
        flush()
    while not kept or len(kept) < 3:  # after 3 handles left open: destroy the daemon and exit
        mhd.daemon_process_blocking(d, 100000)
    mhd.daemon_destroy(d)
    print("destroyed")


main()
