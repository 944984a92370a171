"""The strictness levels on the wire, on both runtimes: every rule of the parser (the rows of
TestStrictness in tests/unit/test_parser.py, from the MHD2 table in docs/strictness.md) is
sent to a server at each level from -3 to 3. At the levels that accept it the application
answers; above, the automatic error reply comes, then the close.

One server per level, all the vectors on it: a failure lists every rule that went wrong."""
import pytest

from wire import Client, error_reply

# every test here talks to the server only over the network: they run on a board too
# (pytest --target URL), but for those marked host_only
pytestmark = pytest.mark.board

H = b"Host: h\r\n"
DROP = "drop"  # the connection is closed without a reply


def hdr(extra, name=b"X"):
    """A GET of /header?name=<name> (the app answers the header's value) with extra lines."""
    return b"GET /header?name=" + name + b" HTTP/1.1\r\n" + H + extra + b"\r\n"


# (rule, request, highest level that accepts it, reply when refused, what the app answers: body or None)
RULES = [
    ("bare LF line ends", b"GET / HTTP/1.1\nHost: h\n\n", 0, 400, b"Hello, world!"),
    ("bare LF in a header line", b"GET /header?name=X HTTP/1.1\r\nHost: h\r\nX: v\n\r\n", 0, 400, b"v"),
    ("TAB as request-line delimiter", b"GET\t/ HTTP/1.1\r\n" + H + b"\r\n", 0, 400, b"Hello, world!"),
    ("VT as request-line delimiter", b"GET\x0b/ HTTP/1.1\r\n" + H + b"\r\n", -1, 400, b"Hello, world!"),
    ("FF as request-line delimiter", b"GET /\x0cHTTP/1.1\r\n" + H + b"\r\n", -1, 400, b"Hello, world!"),
    ("whitespace runs in the request line", b"GET  /  HTTP/1.1\r\n" + H + b"\r\n", -1, 400, b"Hello, world!"),
    ("bare CR in a field value", hdr(b"X: a\rb\r\n"), -1, 400, None),  # body checked below
    ("NUL in a field value", hdr(b"X: a\x00b\r\n"), -1, 400, b"a b"),
    ("obs-fold", hdr(b"X: a\r\n  b\r\n"), 0, 400, None),
    ("whitespace before the first field", b"GET /header?name=X HTTP/1.1\r\n Y: a\r\n" + H + b"X: v\r\n\r\n", -1, 400, b"v"),
    ("whitespace inside a field name", hdr(b"X Y: a\r\nX: v\r\n"), -2, 400, b"v"),
    ("empty field name", hdr(b": a\r\nX: v\r\n"), -2, 400, b"v"),
    ("whitespace before the colon", hdr(b"X : v\r\n"), -3, 400, b"v"),
    ("field line without a colon", hdr(b"Junk\r\nX: v\r\n"), -2, 400, b"v"),
    ("HTTP/1.1 without Host", b"GET / HTTP/1.1\r\n\r\n", -3, 400, b"Hello, world!"),
    ("two Host fields", b"GET / HTTP/1.1\r\n" + H + H + b"\r\n", -3, 400, b"Hello, world!"),
    ("duplicate Content-Length, same value",
     b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 1\r\nContent-Length: 1\r\n\r\nz", 0, 400, b"/echo 3 1"),
    ("Transfer-Encoding with Content-Length",
     b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 400,
     b"/echo 3 18446744073709551615"),
    ("Transfer-Encoding in HTTP/1.0",
     b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n", 0, 400,
     b"/echo 3 18446744073709551615"),
    ("Expect other than 100-continue", hdr(b"Expect: tea\r\nX: v\r\n"), 0, 417, b"v"),
    ("one empty line before the request line", b"\r\nGET / HTTP/1.1\r\n" + H + b"\r\n", 1, 400, b"Hello, world!"),
    ("bare LF in a chunk line",
     b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n1\nz\r\n0\r\n\r\n", 0, 400,
     b"/echo 3 18446744073709551615"),
    ("BWS before a chunk extension",
     b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n1 ;e=1\r\nz\r\n0\r\n\r\n", 1, 400,
     b"/echo 3 18446744073709551615"),
]


def expected_close(name):
    """Requests the server answers but must not keep the connection for (RFC 9112 section 6.1)."""
    return name in ("Transfer-Encoding with Content-Length", "Transfer-Encoding in HTTP/1.0")


def answer(port, raw, keep=True):
    """(status or DROP, body, Connection header, closed after the reply). When the reply does
    not say `Connection: close`, a second request must be answered on the same connection
    (it stayed open, in sync); else the server must close."""
    with Client(port) as c:
        c.send(raw)
        try:
            r = c.response(timeout=2.0)
        except AssertionError:
            if c.eof and not c.buf:
                return DROP, None, None, True
            raise
        conn = r.header("connection")
        if conn == "close" or not keep:
            closed = c.closed()
        else:
            nxt = c.exchange(b"GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            assert (nxt.status, nxt.body) == (200, b"/echo 1 0"), "after %r: %r" % (raw, nxt)
            closed = False
        return r.status, r.body, conn, closed


@pytest.mark.parametrize("level", [3, 2, 1, 0, -1, -2, -3])
def test_every_rule_at_every_level(serve, level):
    srv = serve("--strict", level)
    wrong = []
    for name, raw, accepted_at, refused, body in RULES:
        st, got, conn, closed = answer(srv.port, raw)
        if level <= accepted_at:
            if st != 200 or (body is not None and got != body):
                wrong.append("%s: expected 200 %r, got %r %r" % (name, body, st, got))
            elif expected_close(name) != closed or (closed and conn != "close"):
                wrong.append("%s: closed=%r Connection=%r" % (name, closed, conn))
        elif st != refused or not closed or conn != "close":
            wrong.append("%s: expected %r and close, got %r (closed=%r, Connection=%r)" % (name, refused, st, closed, conn))
    assert not wrong, "at --strict %d:\n  " % level + "\n  ".join(wrong)


@pytest.mark.parametrize("level", [1, 0, -1, -3])
def test_folded_and_bare_cr_values(serve, level):
    # what the application sees once a permissive level repairs the line
    srv = serve("--strict", level)
    st, body, _, _ = answer(srv.port, hdr(b"X: a\r\n  b\r\n"))
    if level <= 0:
        # RFC 9112 section 5.2: each obs-fold becomes one or more SP
        assert st == 200 and body.startswith(b"a ") and body.endswith(b" b") and body.strip(b"ab ") == b"", body
    else:
        assert st == 400
    st, body, _, _ = answer(srv.port, hdr(b"X: a\rb\r\n"))
    if level == -3:
        assert (st, body) == (200, b"a\rb")  # kept as it is
    elif level == -1:
        assert (st, body) == (200, b"a b")  # replaced by a space
    else:
        assert st == 400


def test_space_in_target(serve):
    # 400 above 0; a 301 to the %20 form at 0 and -1; passed to the application at -2 and -3
    raw = b"GET /a b?x=1 HTTP/1.1\r\n" + H + b"\r\n"
    for level, want in ((2, 400), (1, 400), (0, 301), (-1, 301), (-2, 404), (-3, 404)):
        srv = serve("--strict", level)
        if want == 404:
            st, body, conn, closed = answer(srv.port, raw)
            assert (st, body, closed) == (404, b"not found", False), level
            st, body, _, _ = answer(srv.port, b"GET /echo ?x=1 HTTP/1.1\r\n" + H + b"\r\n")
            assert (st, body) == (404, b"not found"), level  # path "/echo " (with the space)
        else:
            r = error_reply(srv.port, raw, want)
            if want == 301:
                assert r.header("location") == "/a%20b?x=1"


def test_empty_lines_before_the_request(serve):
    one = b"\r\nGET / HTTP/1.1\r\n" + H + b"\r\n"
    two = b"\r\n" + one
    many = b"\r\n" * 1100 + b"GET / HTTP/1.1\r\n" + H + b"\r\n"  # more than the buffer holds
    for level in (2, 1, 0, -3):
        srv = serve("--strict", level, "--conn-memory", 1024)
        if level >= 2:
            error_reply(srv.port, one, 400)
        else:
            assert answer(srv.port, one)[:2] == (200, b"Hello, world!")
        # two empty lines: the connection is dropped at 1; up to 1024 are skipped at 0 and below
        assert answer(srv.port, two)[0] == (DROP if level == 1 else 400 if level >= 2 else 200)
        if level <= 0:
            assert answer(srv.port, many)[0] == (200 if level == -3 else DROP)


def test_cookie_strictness(serve):
    # a Cookie header with a bad pair: levels >= 2 ignore the whole header, lower keep the good pairs
    raw = b"GET /cookies HTTP/1.1\r\n" + H + b"Cookie: a=1; junk; d=2\r\n\r\n"
    for level, want in ((2, b""), (1, b"a=1\nd=2"), (-1, b"a=1\nd=2")):
        srv = serve("--strict", level)
        assert answer(srv.port, raw)[:2] == (200, want), level


@pytest.mark.parametrize("level", [3, 2, 1, 0, -1, -2, -3])
def test_target_bytes_after_the_same_path(serve, level):
    # A control byte or DEL in the target: 400 at every level; a byte past ASCII: 400 above 0;
    # a space: 400 above 0, 301 at 0 and -1. Each time right after a request for the same path
    # on the same connection: the parser skips a target's start that equals the path the slot
    # kept (request_path), and must still find the byte after it, or inside it.
    srv = serve("--strict", level)
    wrong = []
    for x in (b"\x01", b"\x1f", b"\x7f", b"\xc3\xa9", b" "):
        if x[0] < 32 and x != b" " or x == b"\x7f":
            refused, accepted_at = 400, None
        elif x == b" ":
            refused, accepted_at = (400 if level > 0 else 301), -2
        else:
            refused, accepted_at = 400, 0
        # (the byte in the query, after the kept path; in the path, after it; inside it)
        for target, served in ((b"/echo?a=" + x + b"1", (200, b"/echo 1 0")), (b"/echo" + x + b"?a=1", (404, b"not found")),
                               (b"/e" + x + b"ho?a=1", (404, b"not found"))):
            with Client(srv.port) as c:
                first = c.exchange(b"GET /echo?a=1 HTTP/1.1\r\n" + H + b"\r\n")
                assert (first.status, first.body) == (200, b"/echo 1 0")
                r = c.exchange(b"GET " + target + b" HTTP/1.1\r\n" + H + b"\r\n")
                got = (r.status, r.body) if accepted_at is not None and level <= accepted_at else r.status
                want = served if accepted_at is not None and level <= accepted_at else refused
                if got != want:
                    wrong.append("%r: expected %r, got %r" % (target, want, got))
    assert not wrong, "at --strict %d:\n  " % level + "\n  ".join(wrong)
