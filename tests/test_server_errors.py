"""The automatic error replies on the wire, on both runtimes: each is one well-formed response
(h11 and llhttp judge it) with a short body and `Connection: close`, then the close."""
import pytest

from wire import Client, build, error_reply, get

# every test here talks to the server only over the network: they run on a board too
# (pytest --target URL), but for those marked host_only
pytestmark = pytest.mark.board

H = b"Host: x\r\n"


def test_400_malformed_request_lines(serve):
    srv = serve()
    for raw in (b"GET /\r\n" + H + b"\r\n",  # no version
                b"G(T / HTTP/1.1\r\n" + H + b"\r\n",  # method not a token
                b"GET / HTTP/1.x\r\n" + H + b"\r\n",
                b"GET / http/1.1\r\n" + H + b"\r\n",
                b"GET / HTTP/1.1 \r\n" + H + b"\r\n",
                b" GET / HTTP/1.1\r\n" + H + b"\r\n",
                b"GET /a\x7fb HTTP/1.1\r\n" + H + b"\r\n",  # DEL in the target
                b"GET * HTTP/1.1\r\n" + H + b"\r\n",  # asterisk-form is for OPTIONS only
                b"GET no-slash HTTP/1.1\r\n" + H + b"\r\n"):
        r = error_reply(srv.port, raw, 400)
        assert b"Bad Request" in r.body


def test_400_bad_headers(serve):
    srv = serve()
    for raw in (b"GET / HTTP/1.1\r\n" + H + b"Bad Name: v\r\n\r\n",
                b"GET / HTTP/1.1\r\n" + H + b"No-Colon\r\n\r\n",
                b"GET / HTTP/1.1\r\n" + H + b"X : v\r\n\r\n",
                b"GET / HTTP/1.1\r\n" + H + b"X: a\x00b\r\n\r\n",
                b"GET / HTTP/1.1\r\n\r\n",  # no Host
                b"GET / HTTP/1.1\r\n" + H + H + b"\r\n",
                b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1x\r\n\r\n1",
                b"POST / HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n",
                b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n1",
                b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
                b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"):
        error_reply(srv.port, raw, 400)


def test_400_path_not_utf8(serve):
    # the percent-decoded path must be UTF-8 for the application to get it as a string
    srv = serve()
    error_reply(srv.port, b"GET /a%FFb HTTP/1.1\r\n" + H + b"\r\n", 400)
    with Client(srv.port) as c:
        assert c.exchange(get("/%C3%A9")).status == 404  # valid UTF-8: the app answers


def test_400_bad_chunked_body_after_the_callback(serve):
    srv = serve()
    te = b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
    for body in (b"zz\r\nab\r\n0\r\n\r\n",  # size not hex
                 b"2\r\nabXY0\r\n\r\n",  # no CRLF after the data
                 b"2;x\rz\r\nab\r\n0\r\n\r\n",  # CR in chunk-ext
                 b"0\r\nno colon\r\n\r\n"):  # bad trailer line
        error_reply(srv.port, te + body, 400)


def test_error_after_a_good_request_on_the_same_connection(serve):
    srv = serve()
    with Client(srv.port) as c:
        c.send(get("/") + b"GET / HTTP/9.9\r\n" + H + b"\r\n" + get("/"))
        assert c.response().status == 200
        r = c.response()
        assert (r.status, r.header("connection")) == (505, "close")
        assert c.closed()  # and the third request is not answered


def test_413_content_length_too_many_digits(serve):
    srv = serve()
    raw = b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 9999999999999999999\r\n\r\n"
    error_reply(srv.port, raw, 413)
    # leading zeros count as digits too: no value overflows silently
    raw = b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0000000000000000001\r\n\r\n"
    error_reply(srv.port, raw, 413)


def test_413_chunk_size_too_long(serve):
    srv = serve()
    raw = b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n" + b"1" * 17 + b"\r\n"
    error_reply(srv.port, raw, 413)
    raw = b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n" + b"F" * 16 + b"\r\n"
    with Client(srv.port) as c:  # 16 digits is a valid (if huge) size: the server waits for the data
        c.send(raw + b"abc")
        assert c.is_open(0.3)


@pytest.mark.parametrize("mem", [256, 512])
def test_414_long_uri(serve, mem):
    srv = serve("--conn-memory", mem)
    r = error_reply(srv.port, b"GET /" + b"u" * 2000 + b" HTTP/1.1\r\n" + H + b"\r\n", 414)
    assert b"URI Too Long" in r.body
    with Client(srv.port) as c:  # a request that fits still works
        assert c.exchange(get("/" + "u" * (mem // 4))).status == 404


def test_417_unknown_expectation_at_strict_1(serve):
    srv = serve("--strict", "1")
    error_reply(srv.port, b"GET / HTTP/1.1\r\n" + H + b"Expect: tea\r\n\r\n", 417)
    with Client(srv.port) as c:
        assert c.exchange(get("/", ("Expect", "100-continue"))).status == 200


@pytest.mark.parametrize("mem", [256, 1024, pytest.param(16384, marks=pytest.mark.host_only(
    "8 connections of 16 KiB do not fit a board's heap"))])
def test_431_too_many_and_too_large_headers(serve, mem):
    srv = serve("--conn-memory", mem)
    many = b"GET / HTTP/1.1\r\n" + H + b"A: b\r\n" * (mem // 6) + b"\r\n"  # fits in bytes, too many fields
    if mem >= 1024:
        r = error_reply(srv.port, many, 431)
        assert b"Request Header Fields Too Large" in r.body
    large = b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"v" * (mem + 100) + b"\r\n\r\n"
    error_reply(srv.port, large, 431)
    nearly = b"GET / HTTP/1.1\r\n" + H + b"A: b\r\n" * 3 + b"\r\n"
    with Client(srv.port) as c:
        assert c.exchange(nearly).status == 200


def test_501_unknown_transfer_encoding(serve):
    srv = serve()
    for te in (b"gzip", b"identity", b"x-custom"):
        error_reply(srv.port, b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: " + te + b"\r\n\r\n", 501)


@pytest.mark.parametrize("mem", [256, 1024])
def test_501_method_too_long(serve, mem):
    srv = serve("--conn-memory", mem)
    r = error_reply(srv.port, b"M" * (mem + 50) + b" / HTTP/1.1\r\n" + H + b"\r\n", 501)
    assert b"Not Implemented" in r.body
    with Client(srv.port) as c:  # a long but fitting method reaches the app
        assert c.exchange(build("M" * 40, "/echo")).body == b"/echo 255 0"


def test_505_http_version(serve):
    srv = serve()
    for v in (b"HTTP/2.0", b"HTTP/0.9", b"HTTP/1.2", b"HTTP/3.0"):
        r = error_reply(srv.port, b"GET / " + v + b"\r\n" + H + b"\r\n", 505)
        assert b"HTTP Version Not Supported" in r.body
        assert r.http_version == "1.1"


def test_301_for_space_in_target_at_strict_0(serve):
    srv = serve("--strict", "0")
    r = error_reply(srv.port, b"GET /a b?q=1 2 HTTP/1.1\r\n" + H + b"\r\n", 301)
    assert r.header("location") == "/a%20b?q=1%202"
    srv1 = serve("--strict", "1")
    error_reply(srv1.port, b"GET /a b HTTP/1.1\r\n" + H + b"\r\n", 400)


def test_301_with_a_long_target_in_a_small_buffer(serve):
    # the Location does not fit after the head: the engine falls back to 400, still well-formed
    srv = serve("--conn-memory", "256")
    raw = b"GET /" + b" " * 60 + b"x HTTP/1.1\r\n" + H + b"\r\n"
    with Client(srv.port) as c:
        c.send(raw)
        r = c.response()
        assert r.status in (301, 400) and r.header("connection") == "close"
        if r.status == 301:
            assert r.header("location") == "/" + "%20" * 60 + "x"
        assert c.closed()
