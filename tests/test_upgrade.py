"""Protocol upgrade on both runtimes: the 101 exchange on a raw socket, the extra fields and
the ones refused, upgraded_recv/send/close with each result, no timeout once upgraded, and
daemon_destroy with handles still open (tests/apps/upgrade_app.py)."""
import socket
import struct
import time

from conftest import start_server
from wire import Client, build, connect, get, read_until_close

APP = "tests/apps/upgrade_app.py"


def upgrade(port, target, extra=()):
    """Send an upgrade request; returns (socket, the 101 head as text)."""
    s = connect(port)
    s.sendall(build("GET", target, (("Host", "x"), ("Connection", "Upgrade"), ("Upgrade", "x-test")) + extra))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, head
        head += chunk
    return s, head.decode()


def lines_of(s, n, timeout=5):
    s.settimeout(timeout)
    data = b""
    while data.count(b"\n") < n:
        chunk = s.recv(100)
        assert chunk, data
        data += chunk
    return data.decode().split("\n")[:n]


def test_scripted_exchange_and_every_result(serve):
    srv = serve(script=APP)
    s, head = upgrade(srv.port, "/script")
    assert head.startswith("HTTP/1.1 101 Switching Protocols\r\n")
    assert "\r\nUpgrade: x-test\r\n" in head and "\r\nConnection: upgrade\r\n" in head
    assert "Content-Length" not in head and "Transfer-Encoding" not in head
    assert lines_of(s, 1) == ["ready"]
    s.sendall(b"hello")
    assert lines_of(s, 1) == ["got hello"]
    s.shutdown(socket.SHUT_WR)
    assert lines_of(s, 1) == ["eof 0 0"]  # SC_OK with 0 bytes: the peer shut its side
    assert s.recv(10) == b""  # then the server closed
    s.close()
    with Client(srv.port) as c:
        r = c.exchange(get("/results"))
    timeout, ok, invalid = 30161, 0, 60161
    assert r.body.decode().split() == [str(x) for x in (timeout, 0, ok, 5, ok, 0, ok, 8, ok, invalid, invalid, invalid)]


def events(port):
    with Client(port) as c:
        return c.exchange(get("/events")).body.decode().split()


def test_termination_callback_says_completed_ok_upgrade_before_the_handler(serve):
    # mhd_micro's addition to action_upgrade (ended_cb, ended_cb_cls): the request ends when
    # the 101 is out, with REQUEST_ENDED_COMPLETED_OK_UPGRADE (1), and the handler comes after
    srv = serve(script=APP)
    s, head = upgrade(srv.port, "/ended")
    assert head.startswith("HTTP/1.1 101 ")
    _, closed = read_until_close(s)
    s.close()
    assert closed
    assert events(srv.port) == ["ended-1", "handler"]


def test_termination_callback_when_the_101_cannot_be_sent(serve):
    # the client resets the connection while the request callback runs: the 101 cannot go
    # out, the callback learns REQUEST_ENDED_CLIENT_ABORT (30) and the handler never runs
    srv = serve(script=APP)
    s = connect(srv.port)
    s.sendall(build("GET", "/ended-late", (("Host", "x"), ("Connection", "Upgrade"), ("Upgrade", "x-test"))))
    time.sleep(0.3)  # the server has read the head and sleeps in its callback (1 s)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()  # a reset
    deadline = time.time() + 10
    while True:
        got = events(srv.port)
        if got or time.time() > deadline:
            break
        time.sleep(0.1)
    assert got == ["ended-30"]


def test_upgrade_after_the_body(serve):
    # upload_action_upgrade from the upload callback: the 101 comes once the body is read,
    # and the bytes after the body (sent with it) are the new protocol's
    srv = serve(script=APP)
    s = connect(srv.port)
    s.sendall(build("POST", "/upload", (("Host", "x"), ("Connection", "Upgrade"), ("Upgrade", "x-test"),
                                        ("Content-Length", "4")), b"abcd") + b"tail")
    data, closed = read_until_close(s)
    s.close()
    head, rest = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n") and b"\r\nUpgrade: x-test" in head
    assert closed and rest == b"body abcd\ngot tail\n"


def test_bytes_sent_with_the_request_come_first(serve):
    srv = serve(script=APP)
    s = connect(srv.port)
    s.sendall(build("GET", "/script", (("Host", "x"), ("Connection", "Upgrade"), ("Upgrade", "x-test"))) + b"early")
    s.settimeout(5)
    data = b""
    while b"ready\n" not in data:
        data += s.recv(100)
    s.sendall(b"again")
    assert lines_of(s, 1) == ["got again"]
    s.shutdown(socket.SHUT_WR)
    assert lines_of(s, 1) == ["eof 0 0"]
    s.close()
    with Client(srv.port) as c:
        r = c.exchange(get("/results"))
    assert r.body.decode().split()[:4] == ["0", "5", "0", "5"]  # "early" came from the buffer at once


def test_extra_fields_and_the_ones_refused(serve):
    srv = serve(script=APP)
    s, head = upgrade(srv.port, "/headers")
    assert "\r\nConnection: upgrade, x-extra\r\n" in head
    assert "\r\nX-One: 1\r\n" in head and "\r\nX-Two: two words\r\n" in head
    s.close()
    for case in range(5):
        with Client(srv.port) as c:
            r = c.exchange(build("GET", "/bad?h=%d" % case, (("Host", "x"), ("Connection", "Upgrade"), ("Upgrade", "x"))))
            assert (r.status, r.body) == (500, b"refused"), case


def test_http10_and_disallowed_upgrades_are_refused(serve):
    srv = serve(script=APP)
    with Client(srv.port) as c:
        r = c.exchange(build("GET", "/open", (("Connection", "Upgrade"), ("Upgrade", "x")), version="1.0"))
        assert (r.status, r.body) == (500, b"refused")
    srv = serve("--disallow", script=APP)
    with Client(srv.port) as c:
        r = c.exchange(build("GET", "/open", (("Host", "x"), ("Connection", "Upgrade"), ("Upgrade", "x"))))
        assert (r.status, r.body) == (500, b"refused")


def test_upgraded_connections_do_not_time_out(serve):
    srv = serve(script=APP)  # the daemon's timeout is 1 s
    s, _ = upgrade(srv.port, "/headers")
    idle = connect(srv.port)  # an ordinary connection times out meanwhile
    time.sleep(3)
    s.settimeout(0.2)
    try:
        assert s.recv(1) != b""  # no data is expected: only a timeout proves it is open
    except socket.timeout:
        pass
    idle.settimeout(2)
    assert idle.recv(1) == b""  # closed by the timeout
    s.close()
    idle.close()


def test_daemon_destroy_reports_open_handles(runtime):
    srv = start_server(runtime, APP)
    for _ in range(3):
        s, _ = upgrade(srv.port, "/open")
        s.close()
    out = srv.proc.communicate(timeout=10)[0]
    assert "3 upgraded connection(s) still open" in out and "destroyed" in out, out
