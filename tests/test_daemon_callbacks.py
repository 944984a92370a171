"""What MHD2 only declares and mhd_micro implements (docs/mapping.md, part 3), on both
runtimes: the early URI logger, the accept policy, the connection notifications and
daemon_quiesce (tests/apps/app.py)."""
import socket
import time

import pytest

from wire import Client, get


def test_early_uri_logger_sets_the_app_context(serve):
    # the logger sees the raw target (escapes and query as sent) before the header fields;
    # what it returns is the request's app context, for every request of a kept connection
    srv = serve("--uri-log")
    with Client(srv.port) as c:
        assert c.exchange(get("/uri")).body == b"'1 /uri'"
        assert c.exchange(get("/u%72i?a=b+c&d")).body == b"'1 /u%72i?a=b+c&d'"
        r = c.exchange(b"HEAD /uri HTTP/1.1\r\nHost: x\r\n\r\n", head=True)
        assert r.status == 200
        assert c.exchange(get("/uri")).body == b"'1 /uri'"


def test_early_uri_logger_with_a_target_that_is_not_utf8(serve):
    # the logger gets the target's bytes, and the request its 400 (not a close: the logger
    # once raised decoding it)
    srv = serve("--uri-log")
    with Client(srv.port) as c:
        c.send(b"GET /\xff?x HTTP/1.1\r\nHost: x\r\n\r\n")
        assert c.response().status == 400


def test_no_uri_logger_no_app_context(serve):
    srv = serve()
    with Client(srv.port) as c:
        assert c.exchange(get("/uri")).body == b"None"


def counts(probe):
    """/notify over the probe's kept connection: [started, closed, policy asked, refused]."""
    return [int(x) for x in probe.exchange(get("/notify")).body.split()]


def test_connection_notifications(serve):
    srv = serve()
    with Client(srv.port) as probe:
        assert counts(probe)[:2] == [1, 0]  # the probe itself
        for _ in range(3):
            with Client(srv.port) as c:
                assert c.exchange(get("/")).status == 200
        deadline = time.time() + 5
        while counts(probe)[1] < 3 and time.time() < deadline:  # the server sees each close a moment later
            time.sleep(0.05)
        assert counts(probe)[:2] == [4, 3]


def test_accept_policy_refuses_and_the_next_is_served(serve):
    srv = serve("--policy")
    with Client(srv.port) as c:
        assert c.exchange(get("/deny?n=2")).body == b"denying 2"
        for _ in range(2):  # refused: closed at once, unanswered
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            s.sendall(get("/"))
            try:
                assert s.recv(100) == b""
            except ConnectionResetError:
                pass
            s.close()
        with Client(srv.port) as ok:
            assert ok.exchange(get("/")).body == b"Hello, world!"
        asked, refused = counts(c)[2:]
        assert (asked, refused) == (4, 2)  # c, the 2 refused, ok
        assert c.exchange(get("/")).status == 200  # the first client was never affected


def test_quiesce_stops_accepting_and_closes_after_the_reply(serve):
    srv = serve()
    with Client(srv.port) as other, Client(srv.port) as c:
        assert other.exchange(get("/")).status == 200
        assert c.exchange(get("/quiesce")).body == b"quiesced"
        with pytest.raises(OSError):  # the listening socket is closed: nothing accepts
            socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
        # connections already open are served; their replies now say they close
        r = other.exchange(get("/"))
        assert (r.status, r.header("connection")) == (200, "close")
        assert not other.is_open(1.0)
