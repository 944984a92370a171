"""Connection handling on the wire, on both runtimes: keep-alive, pipelining, HTTP/1.0,
HEAD, the automatic headers, reading past request bodies, Expect: 100-continue, and the
request getters as the application sees them (tests/apps/app.py)."""
import socket
import time
from email.utils import formatdate

import pytest

import wire
from wire import Client, build, exchange, get

# every test here talks to the server only over the network: they run on a board too
# (pytest --target URL), but for those marked host_only
pytestmark = pytest.mark.board

HELLO = b"Hello, world!"


# -- keep-alive, pipelining, HTTP/1.0 --------------------------------------------------------
def test_keep_alive_several_requests_one_connection(serve):
    srv = serve()
    with Client(srv.port) as c:
        for i in range(5):
            r = c.exchange(get("/echo?i=%d" % i))
            assert (r.status, r.body) == (200, b"/echo 1 0")
            assert r.header("connection") is None  # HTTP/1.1 keeps alive without saying so
        assert c.is_open(0.3)
        r = c.exchange(get("/"))
        assert r.body == HELLO


def test_pipelining_answers_in_order(serve):
    srv = serve()
    with Client(srv.port) as c:
        c.send(get("/arg?name=name") + get("/echo") + get("/header?name=X-N", ("X-N", "three"))
               + get("/notfound") + get("/"))
        rs = [c.response() for _ in range(5)]
        assert [(r.status, r.body) for r in rs] == [
            (200, b"'name'"), (200, b"/echo 1 0"), (200, b"three"), (404, b"not found"), (200, HELLO)]
        assert c.is_open(0.2)


def test_pipelining_many_small_requests_in_one_write(serve):
    srv = serve()
    n = 40  # more than one buffer's worth of heads
    with Client(srv.port) as c:
        c.send(b"".join(get("/query?i=%d" % i) for i in range(n)))
        bodies = [c.response().body for _ in range(n)]
        assert bodies == [b"i=%d" % i for i in range(n)]


def test_pipelining_more_than_the_buffer_holds(serve):
    # 30 pipelined requests into a 512-byte buffer: every reply is whole and in order; if the
    # server has to drop the requests it has no room for, it says `Connection: close` first
    srv = serve("--conn-memory", 512)
    with Client(srv.port) as c:
        c.send(b"".join(get("/query?i=%02d" % i) for i in range(30)))
        got = []
        while len(got) < 30:
            r = c.response()
            got.append(r.body)
            if r.header("connection") == "close":
                assert c.closed()
                break
        assert got == [b"i=%02d" % i for i in range(len(got))]
        assert len(got) >= 2, got


@pytest.mark.host_only("5 MiB of replies from a 64 KiB buffer: more than a board's heap")
def test_big_bodies_to_a_slow_reader(serve):
    # 5 MiB of replies to a client with a small window that waits before reading: the socket
    # fills, the server waits for POLLOUT and goes on where it stopped
    srv = serve()
    sizes = [65536, 1, 40000, 65535] * 20
    with Client(srv.port, rcvbuf=8192) as c:
        c.send(b"".join(get("/big?n=%d" % n) for n in sizes) + get("/chunked") + get("/"))
        time.sleep(0.3)
        for n in sizes:
            r = c.response()
            assert (r.status, len(r.body), r.body.strip(b"x")) == (200, n, b"")
        assert c.response().body == b"chunked body"
        assert c.response().body == HELLO


@pytest.mark.host_only("the bound is for loopback: over Wi-Fi one round trip can take longer")
def test_a_reply_in_two_writes_does_not_wait_for_the_clients_ack(serve):
    # a body that does not fit beside the header goes out in a second write; with Nagle's
    # algorithm on the server's socket, that write waits for the client's delayed ACK of the
    # first (40 ms or more on Linux), at every request: MicroPython's sockets stalled so until
    # the platform set TCP_NODELAY. The median of 21 round trips on loopback is far below it.
    srv = serve()
    with Client(srv.port) as c:
        c.exchange(get("/big?n=3000"))
        times = []
        for _ in range(21):
            t = time.perf_counter()
            r = c.exchange(get("/big?n=3000"))
            times.append(time.perf_counter() - t)
            assert (r.status, len(r.body)) == (200, 3000)
    assert sorted(times)[10] < 0.02, times


@pytest.mark.board(connections=6)  # five gone clients may hold their slots a while
def test_client_gone_mid_reply_or_while_suspended(serve):
    srv = serve()
    for target in ("/big?n=65536", "/suspend"):
        for _ in range(5):
            s = socket.create_connection((wire.HOST, srv.port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            s.sendall(get(target) * 3)
            s.close()
    time.sleep(0.4)  # the suspended ones resume and write to closed sockets
    with Client(srv.port) as c:
        assert c.exchange(get("/")).body == HELLO


def test_http10_without_keep_alive_is_closed(serve):
    srv = serve()
    with Client(srv.port) as c:
        r = c.exchange(b"GET / HTTP/1.0\r\n\r\n")
        assert (r.status, r.body) == (200, HELLO)
        assert r.header("connection") == "close"
        assert c.closed()


def test_http10_keep_alive_is_kept_open(serve):
    srv = serve()
    with Client(srv.port) as c:
        for _ in range(3):
            r = c.exchange(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            assert (r.status, r.body) == (200, HELLO)
            assert b"\r\nConnection: Keep-Alive\r\n" in r.raw
            assert r.header("content-length") == "13"
        assert c.is_open(0.3)
        r = c.exchange(b"GET /info HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        assert r.body.split(b"|")[0] == b"1"  # MHD_HTTP_VERSION_1_0
        # no chunked replies to HTTP/1.0: the length is given instead
        r = c.exchange(b"GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        assert (r.body, r.header("content-length"), r.header("transfer-encoding")) == (b"chunked body", "12", None)
        r = c.exchange(b"GET / HTTP/1.0\r\n\r\n")
        assert r.header("connection") == "close"
        assert c.closed()


def test_connection_close_from_client(serve):
    srv = serve()
    with Client(srv.port) as c:
        r = c.exchange(get("/", ("Connection", "close")))
        assert r.status == 200 and r.header("connection") == "close"
        assert c.closed()


def test_response_conn_close_option(serve):
    srv = serve()
    with Client(srv.port) as c:
        r = c.exchange(get("/close"))
        assert (r.status, r.body, r.header("connection")) == (200, b"closing", "close")
        assert c.closed()


def test_head_has_get_headers_and_no_body(serve):
    srv = serve("--no-date")
    with Client(srv.port) as c:
        for target in ("/", "/echo", "/notfound", "/big?n=3000", "/chunked", "/empty"):
            g = c.exchange(get(target))
            h = c.exchange(build("HEAD", target), head=True)
            assert h.status == g.status
            assert h.body == b""
            assert h.headers == g.headers, target
            if g.header("transfer-encoding") is None and g.status != 204:
                assert h.header("content-length") == str(len(g.body))
            # nothing follows the HEAD reply's header: the next response starts right after it
            assert h.raw.endswith(b"\r\n\r\n")
        assert c.exchange(get("/")).body == HELLO


def test_automatic_headers(serve):
    srv = serve()
    with Client(srv.port) as c:
        r = c.exchange(get("/big?n=1234"))
        assert r.status == 200 and len(r.body) == 1234
        assert r.header("content-length") == "1234"
        # IMF-fixdate, weekday included: https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7
        now = time.time()
        assert r.header("date") in [formatdate(now + d, usegmt=True) for d in range(-3, 2)], r.header("date")
        assert r.header("connection") is None
        r = c.exchange(get("/empty"))
        assert (r.status, r.body) == (204, b"")
        assert r.header("content-length") is None  # never for 204 (RFC 9110 section 8.6)
        r = c.exchange(get("/chunked"))
        assert (r.body, r.header("transfer-encoding"), r.header("content-length")) == (b"chunked body", "chunked", None)
        r = c.exchange(get("/", ("Connection", "close")))
        assert r.header("connection") == "close"
        assert r.header("date") is not None


def test_no_date_option(serve):
    srv = serve("--no-date")
    with Client(srv.port) as c:
        for target in ("/", "/echo", "/empty"):
            r = c.exchange(get(target))
            assert r.header("date") is None
            assert b"Date:" not in r.raw
    # error replies too
    data, closed = exchange(srv.port, b"BAD\r\n\r\n")
    assert closed and b"Date:" not in data and data.startswith(b"HTTP/1.1 400 ")


# -- request bodies: the connection stays in sync ----------------------------------------------
def test_post_content_length_then_pipelined_get(serve):
    srv = serve()
    with Client(srv.port) as c:
        body = b"GET /trap HTTP/1.1\r\nHost: x\r\n\r\n" + b"z" * 100  # looks like a request: must be skipped
        c.send(build("POST", "/echo", (("Host", "x"), ("Content-Length", str(len(body)))), body) + get("/"))
        r = c.response()
        assert (r.status, r.body) == (200, b"/echo 3 %d" % len(body))
        r = c.response()
        assert (r.status, r.body) == (200, HELLO)
        assert c.is_open(0.2)


def test_large_body_bigger_than_the_buffer(serve):
    srv = serve("--conn-memory", "1024")
    with Client(srv.port) as c:
        body = bytes(range(256)) * 64  # 16 KiB through a 1 KiB buffer
        c.send(build("PUT", "/echo", (("Host", "x"), ("Content-Length", str(len(body)))), body) + get("/"))
        assert c.response().body == b"/echo 4 16384"
        assert c.response().body == HELLO


def test_chunked_body_with_extensions_and_trailers_then_get(serve):
    srv = serve()
    with Client(srv.port) as c:
        chunked = (b"5;name=value\r\nhello\r\n"
                   b"1A;a=1;b=\"quoted\"\r\n" + b"y" * 26 + b"\r\n"
                   b"0\r\nX-Trailer: 1\r\nX-Other: two\r\n\r\n")
        c.send(build("POST", "/info", (("Host", "x"), ("Transfer-Encoding", "chunked")), chunked) + get("/"))
        r = c.response()
        assert r.status == 200
        fields = r.body.split(b"|")
        assert fields[5:8] == [b"True", b"True", b"18446744073709551615"]  # present, chunked, MHD_SIZE_UNKNOWN
        r = c.response()
        assert (r.status, r.body) == (200, HELLO)
        # and once more without trailers, uppercase hex
        c.send(build("POST", "/echo", (("Host", "x"), ("Transfer-Encoding", "chunked")), b"A\r\n0123456789\r\n0\r\n\r\n"))
        assert c.response().body == b"/echo 3 18446744073709551615"
        assert c.exchange(get("/")).body == HELLO


def test_body_arriving_in_small_writes(serve):
    srv = serve()
    with Client(srv.port) as c:
        body = b"0123456789" * 5
        raw = build("POST", "/echo", (("Host", "x"), ("Content-Length", "50")), body) + get("/")
        for i in range(0, len(raw), 7):
            c.send(raw[i:i + 7])
            time.sleep(0.005)
        assert c.response().body == b"/echo 3 50"
        assert c.response().body == HELLO
        chunked = b"3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\nT: v\r\n\r\n"
        raw = build("POST", "/echo", (("Host", "x"), ("Transfer-Encoding", "chunked")), chunked) + get("/")
        for i in range(len(raw)):  # one byte at a time
            c.send(raw[i:i + 1])
            if i % 8 == 0:
                time.sleep(0.002)
        assert c.response().body == b"/echo 3 18446744073709551615"
        assert c.response().body == HELLO


# -- Expect: 100-continue --------------------------------------------------------------------
def test_expect_100_continue_final_answer_then_close(serve):
    srv = serve()
    with Client(srv.port) as c:
        c.send(build("POST", "/echo", (("Host", "x"), ("Content-Length", "10"), ("Expect", "100-continue"))))
        r = c.response()  # without the body having been sent
        assert (r.status, r.body) == (200, b"/echo 3 10")
        assert r.header("connection") == "close"
        assert c.closed()
    with Client(srv.port) as c:  # without a body, Expect changes nothing
        r = c.exchange(get("/", ("Expect", "100-continue")))
        assert r.status == 200 and r.header("connection") is None
        assert c.is_open(0.2)


# -- getters ---------------------------------------------------------------------------------
def test_header_values_case_insensitive(serve):
    srv = serve()
    with Client(srv.port) as c:
        assert c.exchange(get("/header?name=x-custom", ("X-Custom", "  v a l  "))).body == b"v a l"
        assert c.exchange(get("/header?name=X-CUSTOM", ("x-custom", "low"))).body == b"low"
        assert c.exchange(get("/header?name=host")).body == b"x"
        assert c.exchange(get("/header?name=X-Absent")).body == b"-"
        assert c.exchange(get("/header?name=X-Dup", ("X-Dup", "first"), ("X-Dup", "second"))).body == b"first"
        # a value that is not UTF-8 comes as latin-1 would decode it
        c.send(b"GET /header?name=X-L1 HTTP/1.1\r\nHost: x\r\nX-L1: caf\xe9\r\n\r\n")
        assert c.response().body == "caf\u00e9".encode()


def test_get_arguments_mhd_semantics(serve):
    srv = serve()
    with Client(srv.port) as c:
        assert c.exchange(get("/query?a=b&c&d=")).body == b"a=b\nc=None\nd="
        assert c.exchange(get("/query?x=%41%2b%26+y&sp+ace=1")).body == b"x=A+& y\nsp ace=1"
        assert c.exchange(get("/query?bad=%zz%4&&e=%C3%A9")).body == "bad=%zz%4\ne=\u00e9".encode()
        assert c.exchange(get("/arg?name=c&c")).body == b"None"
        assert c.exchange(get("/arg?name=d&d=")).body == b"''"
        assert c.exchange(get("/arg?name=missing")).body == b"None"
        assert c.exchange(get("/arg?name=k&k=a+b")).body == b"'a b'"


def test_no_plus_keeps_plus(serve):
    srv = serve("--no-plus")
    with Client(srv.port) as c:
        assert c.exchange(get("/query?x=a+b%20c")).body == b"x=a+b c"
        assert c.exchange(get("/arg?name=k&k=1+1")).body == b"'1+1'"


def test_cookies(serve):
    srv = serve()
    with Client(srv.port) as c:
        r = c.exchange(get("/cookies", ("Cookie", "a=1; b=\"two\"; c=")))
        assert r.body == b"a=1\nb=two\nc="
        r = c.exchange(get("/info", ("Cookie", "a=1; b=2")))
        assert r.body.split(b"|")[9] == b"2"
        assert c.exchange(get("/cookies")).body == b""


def test_no_cookies_option(serve):
    srv = serve("--no-cookies")
    with Client(srv.port) as c:
        assert c.exchange(get("/cookies", ("Cookie", "a=1"))).body == b""


def test_request_info(serve):
    srv = serve()
    with Client(srv.port) as c:
        raw = get("/info?p=1&q")
        r = c.exchange(raw)
        # version, method, method string, uri, header size, upload present, chunked, size, params, cookies
        assert r.body.split(b"|") == [b"2", b"1", b"GET", b"/info?p=1&q", str(len(raw)).encode(), b"False",
                                      b"False", b"0", b"2", b"0"]
        raw = build("PATCH", "/info", (("Host", "x"), ("Content-Length", "3")), b"abc")
        r = c.exchange(raw)
        assert r.body.split(b"|") == [b"2", b"255", b"PATCH", b"/info", str(len(raw) - 3).encode(), b"True",
                                      b"False", b"3", b"0", b"0"]


def test_path_percent_decoding(serve):
    srv = serve()
    with Client(srv.port) as c:
        assert c.exchange(get("/%65cho")).body == b"/echo 1 0"
        assert c.exchange(get("/ech%6F?x=%2F")).body == b"/echo 1 0"
        r = c.exchange(get("/a%20b+c"))  # '+' in the path stays a '+'
        assert r.status == 404
        r = c.exchange(build("DELETE", "http://example.com/echo?q"))
        assert r.body == b"/echo 5 0"  # absolute-form: the path part
        r = c.exchange(build("OPTIONS", "*"))
        assert r.status == 404  # path "*": answered by the app
