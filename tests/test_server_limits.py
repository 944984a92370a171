"""Timeouts, connection limits, floods, failing callbacks and suspend/resume, on both
runtimes. The `serve` fixture checks that the server is still alive after each test."""
import time
from concurrent.futures import ThreadPoolExecutor

from wire import Client, connect, flood, get, parse_responses, read_until_close

HELLO = b"Hello, world!"


def wait_closed(c, limit):
    """Seconds until the server closes `c` (None if it did not within `limit`)."""
    t0 = time.time()
    return time.time() - t0 if c.closed(limit) else None


# -- timeouts --------------------------------------------------------------------------------
def test_timeouts(serve):
    """--timeout 1 is an inactivity timeout, as in MHD: every byte received or sent restarts
    it. The scenarios run side by side on one server."""
    srv = serve("--timeout", 1)

    def idle_keep_alive():
        with Client(srv.port) as c:
            assert c.exchange(get("/")).body == HELLO
            t = wait_closed(c, 3.0)
            assert t is not None and 0.8 <= t <= 2.0, "idle keep-alive connection closed after %r s" % t

    def fresh_silent_connection():
        with Client(srv.port) as c:
            t = wait_closed(c, 3.0)
            assert t is not None and 0.8 <= t <= 2.0, "silent connection closed after %r s" % t

    def stalled_head():
        with Client(srv.port) as c:
            c.send(b"GET / HT")
            time.sleep(0.3)
            c.send(b"TP/1.1\r\n")  # then nothing for longer than the timeout
            t = wait_closed(c, 3.0)
            assert t is not None and 0.6 <= t <= 2.0, "stalled head closed after %r s" % t

    def stalled_body():
        with Client(srv.port) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
            t = wait_closed(c, 3.0)
            assert t is not None and 0.8 <= t <= 2.0, "stalled body closed after %r s" % t

    def steady_head():
        # the head takes 1.5 s in all, but a piece arrives every 0.3 s: served
        with Client(srv.port) as c:
            raw = get("/echo")
            for i in range(5):
                c.send(raw[i * len(raw) // 5:(i + 1) * len(raw) // 5])
                time.sleep(0.3)
            assert c.response().body == b"/echo 1 0"
            # and the clock restarts after the reply too
            time.sleep(0.6)
            assert c.exchange(get("/")).body == HELLO

    def steady_body():
        with Client(srv.port) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n")
            for i in range(6):
                time.sleep(0.3)
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
def test_connection_limit_busy_clients_get_503(serve):
    srv = serve("--connections", 2)
    busy = [Client(srv.port), Client(srv.port)]
    try:
        for c in busy:
            c.send(b"GET / HTTP/1.1\r\n")  # mid-request: not idle, can't be reclaimed
        time.sleep(0.2)
        s = connect(srv.port)
        data, closed = read_until_close(s, 3.0)
        s.close()
        assert closed
        rs = parse_responses(data)
        assert [r.status for r in rs] == [503]
        assert rs[0].header("connection") == "close" and rs[0].header("retry-after") == "1"
        # the two busy clients were not disturbed
        for c in busy:
            c.send(b"Host: x\r\n\r\n")
            assert c.response().body == HELLO
    finally:
        for c in busy:
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
            assert idle[0].closed(1.0), "the longest-idle connection should make room"
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
        data, closed = read_until_close(s, 3.0)
        s.close()
        assert closed and [r.status for r in parse_responses(data)] == [503]
        assert first.exchange(get("/")).body == HELLO  # the first one is not reclaimed for it
    # once the first connection is gone, a new one is accepted
    for _ in range(20):
        with Client(srv.port) as c:
            c.send(get("/"))
            try:
                if c.response().status == 200:
                    break
            except AssertionError:
                pass  # the server had not seen the first close yet: 503
        time.sleep(0.05)
    else:
        raise AssertionError("no connection accepted after the first one closed")


def test_flood_64_connections_against_8(serve):
    srv = serve("--connections", 8)
    results = flood(srv.port, 64)
    bad = [r for r in results if r not in ("200", "503", "closed")]
    assert not bad, bad
    assert results.count("200") >= 8 and results.count("503") >= 8, results
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
    with Client(srv.port) as waiting, Client(srv.port) as other:
        t0 = time.time()
        waiting.send(get("/suspend"))
        time.sleep(0.02)
        for i in range(5):
            assert other.exchange(get("/query?i=%d" % i)).body == b"i=%d" % i
        served_meanwhile = time.time() - t0
        r = waiting.response()
        elapsed = time.time() - t0
        assert (r.status, r.body) == (200, b"resumed")
        assert served_meanwhile < 0.15 < elapsed < 1.0, (served_meanwhile, elapsed)
        # the resumed connection is kept alive and in sync
        assert waiting.exchange(get("/")).body == HELLO
        waiting.send(get("/suspend") + get("/echo"))  # pipelined behind a suspended request
        assert waiting.response().body == b"resumed"
        assert waiting.response().body == b"/echo 1 0"
