"""Timeouts, connection limits, floods, failing callbacks and suspend/resume, on both
runtimes. The `serve` fixture checks that the server is still alive after each test."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from wire import Client, connect, flood, get, parse_responses, read_until_close

# every test here talks to the server only over the network: they run on a board too
# (pytest --target URL), but for those marked host_only
pytestmark = pytest.mark.board

HELLO = b"Hello, world!"


def wait_closed(c, limit):
    """Seconds until the server closes `c` (None if it did not within `limit`)."""
    t0 = time.time()
    return time.time() - t0 if c.closed(limit) else None


# -- timeouts --------------------------------------------------------------------------------
# Windows wide enough for a shared 2-core machine, where a process may wait its turn for a
# second or more, and still narrow enough to fail: a connection must not be closed before
# its timeout (the client starts its clock after the server's last byte, so it may see a
# little less, never half), nor be left open far past it, and a client that sends something
# at intervals well under the timeout must never be cut off.
TIMEOUT = 2
EARLIEST = TIMEOUT - 0.5
LATEST = TIMEOUT + 2.5
STEP = TIMEOUT / 5  # the steady clients' interval: 1.6 s short of the timeout


def check_closed(c, what):
    t = wait_closed(c, LATEST + 1)
    assert t is not None and EARLIEST <= t <= LATEST, "%s closed after %r s (timeout %d s)" % (what, t, TIMEOUT)


@pytest.mark.board(connections=6)  # six clients at once
def test_timeouts(serve):
    """--timeout is an inactivity timeout, as in MHD: every byte received or sent restarts
    it. The scenarios run side by side on one server."""
    srv = serve("--timeout", TIMEOUT)

    def idle_keep_alive():
        with Client(srv.port) as c:
            assert c.exchange(get("/")).body == HELLO
            check_closed(c, "idle keep-alive connection")

    def fresh_silent_connection():
        with Client(srv.port) as c:
            check_closed(c, "silent connection")

    def stalled_head():
        with Client(srv.port) as c:
            c.send(b"GET / HT")
            time.sleep(STEP)
            c.send(b"TP/1.1\r\n")  # then nothing for longer than the timeout
            check_closed(c, "stalled head")

    def stalled_body():
        with Client(srv.port) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
            check_closed(c, "stalled body")

    def steady_head():
        # the head takes longer than the timeout in all, but a piece arrives every STEP: served
        with Client(srv.port, timeout=LATEST) as c:
            raw = get("/echo")
            for i in range(6):
                c.send(raw[i * len(raw) // 6:(i + 1) * len(raw) // 6])
                time.sleep(STEP)
            assert c.response().body == b"/echo 1 0"
            # and the clock restarts after the reply too
            time.sleep(TIMEOUT / 2)
            assert c.exchange(get("/")).body == HELLO

    def steady_body():
        with Client(srv.port, timeout=LATEST) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n")
            for i in range(6):
                time.sleep(STEP)
                c.send(b"x")
            assert c.response().body == b"/echo 3 6"

    jobs = (idle_keep_alive, fresh_silent_connection, stalled_head, stalled_body, steady_head, steady_body)
    with ThreadPoolExecutor(len(jobs)) as ex:
        futures = [ex.submit(j) for j in jobs]
        errors = []
        for j, f in zip(jobs, futures):
            try:
                f.result()
            except AssertionError as e:
                errors.append("%s: %s" % (j.__name__, e))
    assert not errors, "\n".join(errors)
    with Client(srv.port) as c:
        assert c.exchange(get("/")).body == HELLO


# -- connection limits -----------------------------------------------------------------------
def test_connection_limit_new_clients_wait_for_a_slot(serve):
    # as MHD2 at its limit: every slot busy, a new client waits in the listen backlog (no 503
    # it might not read, no bare close) and is served once a slot can be had
    srv = serve("--connections", 2)
    busy = [Client(srv.port), Client(srv.port)]
    try:
        for c in busy:
            c.send(b"GET / HTTP/1.1\r\n")  # mid-request: not idle, can't be reclaimed
        time.sleep(0.2)
        with Client(srv.port) as waiting:
            waiting.send(get("/echo"))
            assert waiting.is_open(1.0) and not waiting.buf, "answered or closed while every slot was busy"
            busy[0].send(b"Host: x\r\n\r\n")
            assert busy[0].response().body == HELLO  # now idle between requests: reclaimable
            r = waiting.response()
            assert (r.status, r.body) == (200, b"/echo 1 0")
        busy[1].send(b"Host: x\r\n\r\n")  # the other busy client was not disturbed
        assert busy[1].response().body == HELLO
    finally:
        for c in busy:
            c.close()


def test_new_silent_connections_are_not_reclaimed_at_once(serve):
    # a client that has just connected has its request on the way: a burst of new clients
    # must not close each other to make room (they did: 32 of 40 got a bare close)
    srv = serve("--connections", 2)
    early = [Client(srv.port), Client(srv.port)]
    try:
        time.sleep(0.2)
        with Client(srv.port) as late:
            late.send(get("/"))
            for c in early:
                c.send(get("/echo"))
                assert c.response().body == b"/echo 1 0", "a new connection was closed to make room"
            assert late.response().body == HELLO
    finally:
        for c in early:
            c.close()


def test_idle_keep_alive_connections_are_reclaimed(serve):
    srv = serve("--connections", 2)
    idle = [Client(srv.port), Client(srv.port)]
    try:
        for c in idle:
            assert c.exchange(get("/")).body == HELLO
            time.sleep(0.05)  # idle[0] has been idle the longest
        with Client(srv.port) as c:
            r = c.exchange(get("/echo"))
            assert (r.status, r.body) == (200, b"/echo 1 0")
            assert idle[0].closed(5.0), "the longest-idle connection should make room"
            assert idle[1].exchange(get("/")).body == HELLO  # the other one still works
            assert c.exchange(get("/")).body == HELLO
    finally:
        for c in idle:
            c.close()


def test_per_ip_limit(serve):
    srv = serve("--per-ip", 1)
    with Client(srv.port) as first:
        assert first.exchange(get("/")).body == HELLO
        s = connect(srv.port)
        # the 503, then the close: at once on CPython (FIN after the reply), after the
        # lingering read on MicroPython (no shutdown there: about 2 s)
        data, closed = read_until_close(s, 5.0)
        s.close()
        assert closed and [r.status for r in parse_responses(data)] == [503]
        assert first.exchange(get("/")).body == HELLO  # the first one is not reclaimed for it
    # once the first connection is gone, a new one is accepted (polled: the server may take
    # a while to see the close on a loaded machine)
    deadline = time.time() + 5
    while True:
        with Client(srv.port) as c:
            c.send(get("/"))
            try:
                if c.response().status == 200:
                    break
            except AssertionError:
                pass  # the server had not seen the first close yet: 503
        assert time.time() < deadline, "no connection accepted within 5 s after the first one closed"
        time.sleep(0.05)


@pytest.mark.host_only("a board's config lends fewer buffers than connections: a client beyond them waits "
                       "for one instead of a 503")
def test_flood_64_connections_against_8(serve):
    srv = serve("--connections", 8)
    results = flood(srv.port, 64)
    bad = [r for r in results if r not in ("200", "503", "closed")]
    assert not bad, bad
    assert results.count("200") == 64, results  # served in turn: the others waited in the backlog
    # the server still answers, with every slot reusable
    clients = [Client(srv.port) for _ in range(8)]
    try:
        for c in clients:
            assert c.exchange(get("/")).body == HELLO
    finally:
        for c in clients:
            c.close()


# -- failing callbacks -----------------------------------------------------------------------
def test_failing_callbacks_close_only_their_connection(serve):
    srv = serve()
    with Client(srv.port) as bystander:
        assert bystander.exchange(get("/")).body == HELLO
        for target in ("/none", "/raise", "/none", "/raise"):
            with Client(srv.port) as c:
                c.send(get(target))
                assert c.closed(), target  # closed without a reply
            assert bystander.exchange(get("/echo")).body == b"/echo 1 0"
        # pipelined after a good request: the good one is answered, then the close
        with Client(srv.port) as c:
            c.send(get("/") + get("/raise") + get("/"))
            assert c.response().body == HELLO
            assert c.closed()
        assert bystander.exchange(get("/")).body == HELLO


def test_second_action_is_refused(serve):
    # /twice makes two actions: the second constructor returns None (one action per
    # request), the app returns the first one, which is sent. The refused response goes back
    # to the pool: with a pool of 4, 20 such requests in a row still work.
    srv = serve("--pool", 4)
    with Client(srv.port) as c:
        for _ in range(20):
            r = c.exchange(get("/twice"))
            assert (r.status, r.body) == (200, b"first")
        assert c.exchange(get("/echo")).body == b"/echo 1 0"


def test_suspend_resume_while_others_are_served(serve):
    srv = serve()
    # suspended for 1 s: the others are served meanwhile, with most of a second to spare for
    # a loaded machine; a daemon that waited for the suspended request would take 1 s
    with Client(srv.port, timeout=6) as waiting, Client(srv.port) as other:
        t0 = time.time()
        waiting.send(get("/suspend/long"))
        time.sleep(0.02)
        for i in range(5):
            assert other.exchange(get("/query?i=%d" % i)).body == b"i=%d" % i
        served_meanwhile = time.time() - t0
        r = waiting.response()
        elapsed = time.time() - t0
        assert (r.status, r.body) == (200, b"resumed")
        assert served_meanwhile < 0.8 < 1.0 <= elapsed < 5.0, (served_meanwhile, elapsed)
        # the resumed connection is kept alive and in sync
        assert waiting.exchange(get("/")).body == HELLO
        waiting.send(get("/suspend") + get("/echo"))  # pipelined behind a suspended request
        assert waiting.response().body == b"resumed"
        assert waiting.response().body == b"/echo 1 0"
