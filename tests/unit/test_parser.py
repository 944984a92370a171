"""Sans-I/O tests of mhd_micro.parser: each fixture is parsed whole, one byte at a time, and
with trailing bytes that must stay unread (the h11 `tr()` discipline)."""
from testing import unittest, request_over
from mhd_micro.parser import parse_head, MORE, DROP, F_CHUNKED, F_CLOSE, F_EXPECT_100, SIZE_UNKNOWN


def found(st, r, b, n):
    """Everything a parse leaves for the engine: the status, the request line's parts, the
    fields' offsets, the flags and the framing, and the buffer (the permissive levels repair
    bytes in place)."""
    if st != 0:
        return st, bytes(b[:n])  # an error: what was parsed so far is not used
    return (st, r.method, r.version, r.flags, r.cl, r.upload_size, r.head_start, r.body_start, r.method_end,
            r.target_start, r.target_end, r.path_start, r.path_end, r.query_start, r.nhdr,
            list(r.hdr[:4 * r.nhdr]), bytes(b[:n]))


def both_paths(raw, strict=0, size=1024):
    """Parse raw whole, the head in one read (the fast path: parser.parse_head finds it
    complete), and grown one byte at a time (the full path: never complete at the first call).
    Both must leave the same result. Returns the whole parse's (status, request, buf)."""
    r, b, n = request_over(raw, size)
    st = parse_head(r, b, n, strict)
    r2, b2, _ = request_over(raw, size)
    st2 = MORE
    for end in range(1, n + 1):
        st2 = parse_head(r2, b2, end, strict)
        if st2 != MORE:
            break
    assert found(st2, r2, b2, n) == found(st, r, b, n), "level %d: bytewise %r != whole %r for %r" % (
        strict, found(st2, r2, b2, n), found(st, r, b, n), raw)
    return st, r, b


def parse(raw, strict=0, size=1024):
    """Parse raw three ways; all must agree. Returns (status, request, buf)."""
    st, r, b = both_paths(raw, strict, size)
    n = len(raw)
    if st == 0:
        # trailing bytes are left alone
        r3, b3, _ = request_over(raw + b"GET / HTTP/1.1\r\n", size)
        assert parse_head(r3, b3, n + 16, strict) == 0 and r3.body_start == r.body_start
    return st, r, b


def text(b, s, e):
    return bytes(b[s:e]).decode()


class TestRequestLine(unittest.TestCase):
    def test_simple_get(self):
        st, r, b = parse(b"GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\n\r\n")
        self.assertEqual(st, 0)
        self.assertEqual(r.method, 1)
        self.assertEqual(r.version, 2)
        self.assertEqual(text(b, r.path_start, r.path_end), "/a/b")
        self.assertEqual(text(b, r.query_start, r.target_end), "x=1")
        self.assertEqual(r.nhdr, 1)
        self.assertEqual(r.phase, 1)  # after the request line (2 is the connection's: the URI logger ran)

    def test_methods(self):
        for name, m in ((b"HEAD", 2), (b"POST", 3), (b"PUT", 4), (b"DELETE", 5), (b"OPTIONS", 7), (b"PATCH", 255)):
            st, r, b = parse(name + b" / HTTP/1.1\r\nHost: h\r\n\r\n")
            self.assertEqual((st, r.method), (0, m))

    def test_asterisk_only_for_options(self):
        self.assertEqual(parse(b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")[1].method, 9)
        self.assertEqual(parse(b"GET * HTTP/1.1\r\nHost: h\r\n\r\n")[0], 400)

    def test_versions(self):
        self.assertEqual(parse(b"GET / HTTP/1.0\r\n\r\n")[1].version, 1)
        self.assertEqual(parse(b"GET / HTTP/2.0\r\nHost: h\r\n\r\n")[0], 505)
        self.assertEqual(parse(b"GET / HTTP/0.9\r\nHost: h\r\n\r\n")[0], 505)
        self.assertEqual(parse(b"GET / HTTP/1.32\r\nHost: h\r\n\r\n")[0], 400)
        self.assertEqual(parse(b"GET / http/1.1\r\nHost: h\r\n\r\n")[0], 400)
        self.assertEqual(parse(b"GET /\r\n\r\n")[0], 400)

    def test_bad_method_token(self):
        self.assertEqual(parse(b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n")[0], 400)

    def test_control_in_target(self):
        self.assertEqual(parse(b"GET /a\x7fb HTTP/1.1\r\nHost: h\r\n\r\n")[0], 400)

    def test_absolute_form(self):
        st, r, b = parse(b"GET http://h/p?q HTTP/1.1\r\nHost: h\r\n\r\n")
        self.assertEqual(text(b, r.path_start, r.path_end), "/p")

    def test_incomplete(self):
        self.assertEqual(parse(b"GET / HTTP/1.1\r\nHost: h\r\n")[0], MORE)


class TestHeaders(unittest.TestCase):
    def test_fields_and_ows(self):
        st, r, b = parse(b"GET / HTTP/1.1\r\nHost: h\r\nX-A:  v 1 \t\r\nX-B:\r\n\r\n")
        self.assertEqual(st, 0)
        h = r.hdr
        self.assertEqual(text(b, h[4], h[5]), "X-A")
        self.assertEqual(text(b, h[6], h[7]), "v 1")
        self.assertEqual(h[10], h[11])  # empty value

    def test_content_length(self):
        st, r, b = parse(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n")
        self.assertEqual((st, r.cl, r.upload_size), (0, 12, 12))
        self.assertEqual(parse(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n")[0], 400)
        self.assertEqual(parse(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n")[0], 400)
        self.assertEqual(parse(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")[0], 400)
        self.assertEqual(parse(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n")[0], 413)

    def test_chunked(self):
        st, r, b = parse(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
        self.assertEqual(st, 0)
        self.assertTrue(r.flags & F_CHUNKED)
        self.assertEqual(r.upload_size, SIZE_UNKNOWN)
        self.assertEqual(parse(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n")[0], 501)
        self.assertEqual(parse(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n")[0], 400)

    def test_connection_and_expect(self):
        st, r, b = parse(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Close\r\nExpect: 100-continue\r\n\r\n")
        self.assertTrue(r.flags & F_CLOSE)
        self.assertTrue(r.flags & F_EXPECT_100)
        self.assertTrue(parse(b"GET / HTTP/1.0\r\n\r\n")[1].flags & F_CLOSE)
        self.assertFalse(parse(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")[1].flags & F_CLOSE)

    def test_too_many_fields(self):
        raw = b"GET / HTTP/1.1\r\n" + b"A: b\r\n" * 40 + b"\r\n"
        self.assertEqual(parse(raw, size=2048)[0], 431)

    def test_field_limit_is_exact(self):
        # request_over gives room for 32 fields: the 32nd is kept, the 33rd is a 431
        head = b"GET / HTTP/1.1\r\nHost: h\r\n"
        st, r, _ = parse(head + b"A: b\r\n" * 31 + b"\r\n")
        self.assertEqual((st, r.nhdr), (0, 32))
        self.assertEqual(parse(head + b"A: b\r\n" * 32 + b"\r\n")[0], 431)


class TestStrictness(unittest.TestCase):
    """One case per row of the MHD2 strictness table (docs/strictness.md): the level where a
    behaviour starts to be accepted, and the level just above it, which refuses it."""

    def check(self, raw, accepted_at, refused_status=400):
        for level in range(-3, 4):
            st = parse(raw, level)[0]
            if level <= accepted_at:
                self.assertTrue(st in (0, 301), "level %d should accept %r, got %r" % (level, raw, st))
            else:
                self.assertEqual(st, refused_status, "level %d should refuse %r" % (level, raw))

    def test_bare_lf(self):
        self.check(b"GET / HTTP/1.1\nHost: h\n\n", 0)

    def test_tab_delimiter(self):
        self.check(b"GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 0)

    def test_vt_delimiter(self):
        self.check(b"GET\x0b/ HTTP/1.1\r\nHost: h\r\n\r\n", -1)

    def test_whitespace_runs(self):
        self.check(b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", -1)

    def test_bare_cr(self):
        self.check(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", -1)

    def test_nul_in_field(self):
        self.check(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", -1)

    def test_obs_fold(self):
        self.check(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 0)

    def test_whitespace_first_line(self):
        self.check(b"GET / HTTP/1.1\r\n X: a\r\nHost: h\r\n\r\n", -1)

    def test_whitespace_in_name(self):
        self.check(b"GET / HTTP/1.1\r\nHost: h\r\nX Y: a\r\n\r\n", -2)

    def test_empty_name(self):
        self.check(b"GET / HTTP/1.1\r\nHost: h\r\n: a\r\n\r\n", -2)

    def test_whitespace_before_colon(self):
        self.check(b"GET / HTTP/1.1\r\nHost: h\r\nX : a\r\n\r\n", -3)

    def test_line_without_colon(self):
        self.check(b"GET / HTTP/1.1\r\nHost: h\r\nJunk\r\n\r\n", -2)

    def test_no_host(self):
        self.check(b"GET / HTTP/1.1\r\n\r\n", -3)

    def test_two_hosts(self):
        self.check(b"GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n", -3)

    def test_duplicate_same_content_length(self):
        self.check(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 0)

    def test_te_and_cl(self):
        self.check(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 0)

    def test_unknown_expect(self):
        self.check(b"GET / HTTP/1.1\r\nHost: h\r\nExpect: tea\r\n\r\n", 0, 417)

    def test_space_in_target(self):
        # 400 above 0; a 301 redirect at 0 and -1; passed to the application at -2 and -3
        raw = b"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"
        self.assertEqual([parse(raw, lv)[0] for lv in range(-3, 4)], [0, 0, 301, 301, 400, 400, 400])

    def test_empty_lines_before_request(self):
        raw = b"\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"
        self.assertEqual([parse(raw, lv)[0] for lv in range(-3, 4)], [0, 0, 0, 0, 0, 400, 400])
        two = b"\r\n" + raw
        self.assertEqual(parse(two, 1)[0], DROP)
        many = b"\r\n" * 1100 + b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"
        self.assertEqual(parse(many, 0, size=4096)[0], DROP)
        self.assertEqual(parse(many, -3, size=4096)[0], 0)


# request heads for TestBothPaths: what browsers and tools send, and each thing that takes a
# head off the fast path, in several spellings
BROWSER = (b"GET / HTTP/1.1\r\nHost: 192.168.4.1:8080\r\n"
           b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
           b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
           b"Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"
           b"Connection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n"
           b"Sec-Fetch-Mode: navigate\r\nSec-Fetch-Site: none\r\nSec-Fetch-User: ?1\r\n"
           b"Cache-Control: max-age=0\r\n\r\n")
HEADS = [
    BROWSER,
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"HEAD /a/b?x=1&y HTTP/1.1\r\nhost: x\r\nconnection: Keep-Alive\r\n\r\n",
    b"GET /%7e?q HTTP/1.1\r\nHOST: x\r\nCONNECTION: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nConnection:keep-alive\r\nConnection: \t keep-alive , close\t\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"GET http://h/p?q HTTP/1.1\r\nHost: h\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
    b"PATCH /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
    b"POST /x HTTP/1.1\r\nHost: h\r\ncontent-length: 3\r\nCONTENT-LENGTH: 3\r\n\r\nabc",
    b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
    b"POST /x HTTP/1.1\r\nHost: h\r\nexpect: 100-Continue\r\nEXPECT: tea\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.1\r\nX: 1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
    b"GET / HTTP/1.1\r\n X: a\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nX Y: a\r\nX\tZ: b\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nX : a\r\n: b\r\nJunk\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\r\nY: b\rc\rd\r\nZ: e\r\n\r\n",
    b"GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.1\r\r\nHost: h\r\n\r\n",
    b"\r\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\nc\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\n\rX: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\n\r\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00\rb\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n",
    b"GET / HTTP/1.1\nHost: h\n\n",
    b"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n",
    b"\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET\x0b/ HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET  /  HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\nX: \xff\x01\r\nY\x80: z\r\n\r\n",
    b"GET /a\x7fb HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.2\r\nHost: h\r\n\r\n",
    b"GET / HTTP/2.0\r\nHost: h\r\n\r\n",
    b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\n" + b"A: b\r\n" * 31 + b"\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\n" + b"A: b\r\n" * 32 + b"\r\n",
] + [
    # a bare LF in a head that is otherwise clean (CR LF everywhere, no NUL): wherever it is,
    # the fast path must give what the full path gives (levels 0 and below take it as a line end)
    b"GET /a\nb HTTP/1.1\r\nHost: h\r\n\r\n",  # in the request line
    b"GET /a HTTP/1.1\nJunk HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.1\n\r\nHost: h\r\n\r\n",  # right before the request line's CR
    b"\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",  # as an empty line before it
    b"GET / HTTP/1.1\r\n\nHost: h\r\n\r\n",  # at a field name's start: an empty line
    b"GET / HTTP/1.1\r\nHost: h\r\n\nX: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nX-\nY: a\r\n\r\n",  # inside a name
    b"GET / HTTP/1.1\r\nHo\nst: h\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nX\n: a\r\n\r\n",  # right before the ':'
    b"GET / HTTP/1.1\r\nHost: h\r\nX:\na\r\n\r\n",  # right after it
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n",  # inside a value
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\n b\r\n\r\n",  # ... before a fold
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\nY: b\r\n\r\n",  # ... before a field
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\n\r\n\r\n",  # right before the CR
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a \n\r\nY: b\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: h\r\nX: a\n\r\nContent-Length: 3\r\n\r\n",  # a head that ends before a framing field
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\n\r\nConnection: close\r\nHost: i\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\nHost: i\r\n\r\n",  # a second Host after it
    b"GET / HTTP/1.1\r\nHost: h\r\nX: 1\nHost: i\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\nX: y\r\n\r\n",  # a field the engine acts on
    b"POST / HTTP/1.1\r\nHost: h\r\nX: y\nContent-Length: 3\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\nX: y\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\nX: y\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nJunk\nX: a\r\n\r\n",  # after a line without ':'
    b"GET / HTTP/1.1\r\nHost: h\r\nX Y: a\nZ: b\r\n\r\n",  # after whitespace in a name
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\nY: b\r\nJunk\r\nZ: c\r\n\r\n",  # before a line without ':'
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n c\r\n\r\n",  # before a fold
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\nY: c\nd\r\n\r\n",  # after a bare CR
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\nY: c\rd\r\n\r\n",  # before one
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\nc\r\n\r\n",  # in a fold
    b"GET / HTTP/1.1\r\nHost: h\r\n" + b"A: b\r\n" * 30 + b"A: b\nA: b\r\n\r\n",  # one field more than fit
    b"GET / HTTP/1.1\r\nHost: h\r\n" + b"A: b\r\n" * 31 + b"A: b\nA: b\r\n\r\n",
    BROWSER.replace(b"Firefox/128.0", b"Fire\nfox/128.0"),  # deep in a long head
    BROWSER.replace(b"br, zstd\r\n", b"br, zstd\n"),
    BROWSER.replace(b"max-age=0\r\n", b"max-age=0\n"),  # the last field line's end
] + [
    # a TAB in a head that is otherwise clean: in a name (first, inside, before the ':'), in a
    # value, in the request line
    b"GET / HTTP/1.1\r\nHost: h\r\nX\t: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost:\th\r\nX\tY: a\r\n\r\n",
    BROWSER.replace(b"Sec-Fetch-Mode", b"Sec-Fetch\tMode"),
    BROWSER.replace(b"gzip, deflate", b"gzip,\tdeflate"),
    BROWSER.replace(b"GET / HTTP", b"GET /\tHTTP"),
]


class TestBothPaths(unittest.TestCase):
    """The fast path (a head complete and clean in one read) and the full path (a head that
    arrives a byte at a time) give the same status, request line, fields, flags and framing,
    at every strictness level."""

    def test_heads_at_every_level(self):
        for raw in HEADS:
            for level in range(-3, 4):
                both_paths(raw, level)

    def test_browser_head(self):
        st, r, b = both_paths(BROWSER)
        self.assertEqual((st, r.method, r.nhdr, r.flags & F_CLOSE), (0, 1, 12, 0))
        self.assertEqual(text(b, r.hdr[4 * 5 + 2], r.hdr[4 * 5 + 3]), "keep-alive")
        self.assertEqual(text(b, r.hdr[4 * 11], r.hdr[4 * 11 + 1]), "Cache-Control")

    def test_a_second_head_behind(self):
        """A whole second request in the same read (pipelining) does not change how the first
        is parsed, whether it is clean or holds a TAB, a NUL or a bare LF (parse_head looks at
        all the bytes up to the last CR LF CR LF when they end the read)."""
        firsts = (BROWSER, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n",
                  b"GET / HTTP/1.1\r\nHost: h\r\nX Y: a\r\n\r\n")
        seconds = (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"GET / HTTP/1.1\r\nHost:\tx\r\n\r\n",
                   b"GET / HTTP/1.1\r\nHost: x\x00\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\nY: z\r\n\r\n")
        for first in firsts:
            n = len(first)
            for level in range(-3, 4):
                r, b, _ = request_over(first)
                alone = found(parse_head(r, b, n, level), r, b, n)
                for second in seconds:
                    r2, b2, n2 = request_over(first + second)
                    self.assertEqual(found(parse_head(r2, b2, n2, level), r2, b2, n), alone, (level, first, second))


class TestUsualRequestLine(unittest.TestCase):
    """parser._start takes b"GET <target> HTTP/1.1" in two searches; every line it takes or
    declines gives what the general path (_split, _method, _version, _target) gives, at every level."""

    LINES = (b"GET / HTTP/1.1", b"GET /a?b=c HTTP/1.1", b"GET * HTTP/1.1", b"GET http://h/x HTTP/1.1",
             b"GET  / HTTP/1.1", b"GET /  HTTP/1.1", b"GET /a b HTTP/1.1", b"GET  HTTP/1.1", b"GET   HTTP/1.1",
             b"GET / HTTP/1.1 ", b"GET / HTTP/1.0", b"GET / HTTP/1.11", b"GET / http/1.1", b"get / HTTP/1.1",
             b"GETX / HTTP/1.1", b"GET\t/ HTTP/1.1", b"GET /\tHTTP/1.1", b"GET /a\x7fb HTTP/1.1", b"GET HTTP/1.1",
             b"HEAD / HTTP/1.1", b"GET / HTTP/1.1x", b"GET /\x00 HTTP/1.1", b"GET /a HTTP/1.1\x00")

    def test_same_as_the_general_path(self):
        import mhd_micro.parser as p
        from mhd_micro.strictness import relax, fix_cr_nul
        for line in self.LINES:
            raw = line + b"\r\nHost: h\r\n\r\n"
            e = len(line)
            for level in range(-3, 4):
                r, b, n = request_over(raw, 1024)
                st = parse_head(r, b, n, level)
                # the general path, as _start takes it for a line it does not know
                r2, b2, _ = request_over(raw, 1024)
                r2.end, r2.strict, r2.line, r2.phase = n, level, e + 2, 1
                st2 = 400 if p.has_cr_nul(b2, 0, e) and fix_cr_nul(b2, 0, e, level) else 0
                if not st2 and (level < 0 or (level == 0 and b2.find(b"\t", 0, e) >= 0)):
                    relax(b2, 0, e, level)
                st2 = st2 or p._split(r2, b2, 0, e) or p._method(r2, b2) or p._version(r2, b2, e) or p._target(r2, b2)
                if not st2:
                    st2 = p._lines(r2, b2)
                self.assertEqual(found(st, r, b, n), found(st2, r2, b2, n), "level %d: %r" % (level, line))


class TestTargetBytes(unittest.TestCase):
    """The request target's bytes (docs/strictness.md): a control byte or DEL is refused at
    every level, a byte past ASCII above 0, a space is a 301 at 0 and -1 and passed at -2 and
    -3; wherever it is in a long target, and whether or not the slot still holds an earlier
    request's path (request_path keeps its bytes in r.path_key, and parser._target_chars does
    not look again at a target's start that equals it)."""

    TARGET = b"/api/v1/sensors/temperature?unit=c&x=12"
    # earlier paths: none, the target's own path, a part of it, one longer than any target here
    KEYS = (None, b"/api/v1/sensors/temperature", b"/api", b"/api/v1/sensors/temperature?unit=c&x=123")

    @staticmethod
    def want(c, level, pos):
        if c == 32:
            return 400 if level > 0 else 301 if level > -2 else 0
        if c < 32 or c == 127 or level > 0 or pos == 0:  # a target not starting with "/" is no origin-form
            return 400
        return 0

    def test_every_byte_at_every_position(self):
        t = self.TARGET
        for c in (1, 8, 14, 27, 31, 127, 128, 0xC3, 0xFF, 32):
            # a space at either end is a delimiter (TestStrictness.test_whitespace_runs)
            for pos in range(1, len(t) - 1) if c == 32 else range(len(t)):
                raw = b"GET " + t[:pos] + bytes((c,)) + t[pos + 1:] + b" HTTP/1.1\r\nHost: h\r\n\r\n"
                for level in range(-3, 4):
                    want = self.want(c, level, pos)
                    for key in self.KEYS:
                        r, b, n = request_over(raw)
                        r.path_key = key
                        self.assertEqual(parse_head(r, b, n, level), want, "level %d, key %r: %r" % (level, key, raw))
                if pos % 8 == 1:  # and the fast and full paths agree (parse): a few positions, it is slow
                    for level in range(-3, 4):
                        self.assertEqual(parse(raw, level)[0], self.want(c, level, pos), (level, raw))

    def test_one_byte_targets(self):
        # "/" (and "*" for OPTIONS) are taken without a look at the bytes of the target; any
        # other single byte is refused, as a byte or as a target of no form (NUL, TAB, LF, VT,
        # FF, CR and space are delimiters or line ends: rows of their own)
        for c in range(256):
            if c in (0, 9, 10, 11, 12, 13, 32):
                continue
            for method in (b"GET", b"OPTIONS"):
                raw = method + b" " + bytes((c,)) + b" HTTP/1.1\r\nHost: h\r\n\r\n"
                want = 0 if c == 47 or (c == 42 and method == b"OPTIONS") else 400
                for level in range(-3, 4):
                    r, b, n = request_over(raw)
                    self.assertEqual(parse_head(r, b, n, level), want, (level, raw))

    def test_earlier_path_then_clean_targets(self):
        # the same path, a longer one, another query, a shorter target than the key: all accepted
        for key in self.KEYS:
            for t in (self.TARGET, self.TARGET + b"x", b"/api/v1/sensors/temperature", b"/api", b"/", b"/ap",
                      b"/api/v1/sensors/temperature?\xc3\xa9", b"http://h/api"):
                raw = b"GET " + t + b" HTTP/1.1\r\nHost: h\r\n\r\n"
                for level in range(-3, 4):
                    r, b, n = request_over(raw)
                    r.path_key = key
                    want = 400 if level > 0 and b"\xc3" in t else 0
                    self.assertEqual(parse_head(r, b, n, level), want, (level, key, t))


class TestEdges(unittest.TestCase):
    """Cases next to the usual ones (found by mutation testing: docs/mutation.md)."""

    def test_host_in_any_case(self):
        for name in (b"host", b"HOST", b"hOsT"):
            st, r, _ = parse(b"GET / HTTP/1.1\r\n" + name + b": h\r\n\r\n")
            self.assertEqual(st, 0, name)
            self.assertEqual(parse(b"GET / HTTP/1.1\r\nHost: h\r\n" + name + b": h\r\n\r\n")[0], 400, name)
        # a name of four letters from 'h', or one that starts with "Host", is not Host
        self.assertEqual(parse(b"GET / HTTP/1.1\r\nHoxt: h\r\n\r\n")[0], 400)
        self.assertEqual(parse(b"GET / HTTP/1.1\r\nHost: h\r\nHostname: x\r\n\r\n")[0], 0)

    def test_method_after_empty_lines(self):
        st, r, _ = parse(b"\r\nPUT / HTTP/1.1\r\nHost: h\r\n\r\n")
        self.assertEqual((st, r.method), (0, 4))

    def test_content_length_digits(self):
        head = b"POST / HTTP/1.1\r\nHost: h\r\n"
        for value, cl in ((b"0", 0), (b"10", 10), (b"90", 90), (b"0" * 17 + b"1", 1)):
            st, r, _ = parse(head + b"Content-Length: " + value + b"\r\n\r\n")
            self.assertEqual((st, r.cl), (0, cl), value)
        for value in (b"1:", b"1/", b"", b" "):
            self.assertEqual(parse(head + b"Content-Length: " + value + b"\r\n\r\n")[0], 400, value)
        self.assertEqual(parse(head + b"Content-Length: " + b"0" * 18 + b"1\r\n\r\n")[0], 413)
        self.assertEqual(parse(head + b"Content-Length: 0\r\nContent-Length: 5\r\n\r\n")[0], 400)

    def test_connection_tokens(self):
        from mhd_micro.parser import F_KEEP_ALIVE, F_UPGRADE
        head = b"GET / HTTP/1.1\r\nHost: h\r\n"
        for value, flags in ((b"Upgrade", F_UPGRADE), (b"UPGRADE", F_UPGRADE), (b"close", F_CLOSE),
                             (b"\tclose\t", F_CLOSE), (b" keep-alive ,\tUpgrade ", F_KEEP_ALIVE | F_UPGRADE),
                             (b"foo,close", F_CLOSE), (b"close,foo", F_CLOSE), (b",,close", F_CLOSE),
                             (b"close,a,b", F_CLOSE), (b"close\t,x", F_CLOSE), (b"closed, xclose", 0), (b"close-x", 0), (b"c,lose", 0),
                             (b"clo se", 0)):
            st, r, _ = parse(head + b"Connection: " + value + b"\r\n\r\n")
            self.assertEqual(st, 0, value)
            self.assertTrue(r.flags & 128, value)  # F_HOST kept
            self.assertEqual(r.flags & (F_CLOSE | F_KEEP_ALIVE | F_UPGRADE), flags, value)
        # the list ends with the field: a comma in the next line does not count
        st, r, _ = parse(head + b"Connection: close\r\nX: a,b\r\n\r\n")
        self.assertTrue(r.flags & F_CLOSE)

    def test_http10_keeps_other_flags(self):
        st, r, _ = parse(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")
        self.assertEqual(st, 0)
        self.assertEqual(r.flags & (F_CLOSE | F_EXPECT_100), F_CLOSE | F_EXPECT_100)

    def test_value_ows(self):
        st, r, b = parse(b"GET / HTTP/1.1\r\nHost: h\r\nX:\tv\r\nY: v \r\nZ: \t\r\n\r\n")
        h = r.hdr
        self.assertEqual([text(b, h[k], h[k + 1]) for k in (6, 10)], ["v", "v"])
        self.assertEqual(h[14], h[15])  # only whitespace: an empty value

    def test_odd_names_without_space_after_colon(self):
        # the level decides (docs/strictness.md); the value next to the colon must not hide it
        for raw, accepted_at in ((b"X Y:a", -2), (b"X\tY:a", -2), (b"X :a", -3), (b"X\t:a", -3), (b":a", -2)):
            TestStrictness.check(self, b"GET / HTTP/1.1\r\nHost: h\r\n" + raw + b"\r\n\r\n", accepted_at)

    def test_control_bytes_in_values_only_refused_above_0(self):
        raw = b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n"
        self.assertEqual([parse(raw, lv)[0] for lv in range(-3, 4)], [0, 0, 0, 0, 400, 400, 400])

    def test_transfer_encoding_framing(self):
        from mhd_micro.parser import F_MUST_CLOSE, F_HOST
        te = b"Transfer-Encoding: chunked\r\n"
        # HTTP/1.1: chunked at every level, kept alive
        for level in range(-3, 4):
            st, r, _ = parse(b"POST / HTTP/1.1\r\nHost: h\r\n" + te + b"\r\n", level)
            self.assertEqual(st, 0, level)
            self.assertEqual(r.flags & (F_CHUNKED | F_MUST_CLOSE | F_HOST), F_CHUNKED | F_HOST, level)
            self.assertEqual(r.upload_size, SIZE_UNKNOWN)
        # HTTP/1.0: refused above 0, else read and the connection closed after
        raw = b"POST / HTTP/1.0\r\n" + te + b"\r\n"
        self.assertEqual([parse(raw, lv)[0] for lv in range(-3, 4)], [0, 0, 0, 0, 400, 400, 400])
        st, r, _ = parse(raw)
        self.assertEqual(r.flags & (F_CHUNKED | F_MUST_CLOSE | F_CLOSE), F_CHUNKED | F_MUST_CLOSE | F_CLOSE)
        # with a Content-Length, even 0: refused above 0, else the length is ignored and the connection closed
        for cl in (b"0", b"7"):
            raw = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " + cl + b"\r\n" + te + b"\r\n"
            self.assertEqual(parse(raw, 1)[0], 400, cl)
            st, r, _ = parse(raw)
            self.assertEqual((st, r.cl, r.upload_size), (0, -1, SIZE_UNKNOWN), cl)
            self.assertEqual(r.flags & (F_CHUNKED | F_MUST_CLOSE | F_HOST), F_CHUNKED | F_MUST_CLOSE | F_HOST)

    def test_upload_size_from_content_length(self):
        for cl in (0, 1, 2):
            st, r, _ = parse(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % cl)
            self.assertEqual((st, r.upload_size), (0, cl))

    def test_targets(self):
        for target, path, query in ((b"/", "/", None), (b"/a/b", "/a/b", None), (b"/a?", "/a", ""),
                                    (b"/a?b?c", "/a", "b?c"), (b"http://h/p?q", "/p", "q"), (b"http://h", "", None),
                                    (b"http://h/", "/", None), (b"http:///p", "/p", None),
                                    (b"http://a/b://c/d", "/b://c/d", None),
                                    # the authority ends at "?" too (RFC 3986 section 3.2): the query stays
                                    (b"http://h?q=1", "", "q=1"), (b"http://h?q=/x", "", "q=/x")):
            st, r, b = parse(b"GET " + target + b" HTTP/1.1\r\nHost: h\r\n\r\n")
            self.assertEqual(st, 0, target)
            self.assertEqual(text(b, r.path_start, r.path_end), path, target)
            self.assertEqual(None if r.query_start < 0 else text(b, r.query_start, r.target_end), query, target)
            self.assertTrue(r.target_start <= r.path_start <= r.path_end <= r.target_end, target)
        # what follows the request line is not part of the target
        st, r, b = parse(b"GET /a HTTP/1.1\r\nHost: h\r\nX: ?\r\n\r\n")
        self.assertEqual((text(b, r.path_start, r.path_end), r.query_start), ("/a", -1))
        self.assertEqual(parse(b"GET abc HTTP/1.1\r\nHost: h\r\nReferer: http://x/\r\n\r\n")[0], 400)

    def test_version_digits(self):
        for version, st in ((b"HTTP/1.x", 400), (b"HTTP/:.1", 400), (b"HTTP/1.:", 400), (b"HTTP/9.1", 505),
                            (b"HTTP/1.2", 505), (b"HTTP/1.9", 505), (b"HTTP/0.0", 505)):
            self.assertEqual(parse(b"GET / " + version + b"\r\nHost: h\r\n\r\n")[0], st, version)
        self.assertEqual(parse(b"GET /HTTP/ HTTP/1.1\r\nHost: h\r\n\r\n")[0], 0)

    def test_method_bytes(self):
        for method in (b"G\x80T", b"\xffET", b"GE\x7f", b"G(T", b"G/T", b"GE@"):  # the last three visible, no tchars
            self.assertEqual(parse(method + b" / HTTP/1.1\r\nHost: h\r\n\r\n")[0], 400, method)
        # only GET itself is GET, whatever the bytes around the request line
        for method in (b"GETS", b"PET", b"HET", b"GFT", b"GEU", b"GXT", b"GEX"):
            raw = method + b" / HTTP/1.1\r\nHost: h\r\n\r\n"
            r, b, n = request_over(raw, 128)
            b[-1] = 69  # 'E'
            b[-2] = 84  # 'T'
            self.assertEqual((parse_head(r, b, n, 0), r.method), (0, 255), method)

    def test_request_line_spaces(self):
        for level in range(-3, 4):
            self.assertEqual(parse(b" GET / HTTP/1.1\r\nHost: h\r\n\r\n", level)[0], 400, level)
        raw = b"GET /a  HTTP/1.1\r\nHost: h\r\n\r\n"
        self.assertEqual([parse(raw, lv)[0] for lv in range(-3, 4)], [0, 0, 0, 400, 400, 400, 400])
        for level in (-3, -1):
            for raw in (b"GET  /a   HTTP/1.1\r\nHost: h\r\n\r\n", b"GET /a  HTTP/1.1\r\nHost: h\r\n\r\n"):
                st, r, b = parse(raw, level)
                self.assertEqual((st, text(b, r.target_start, r.target_end)), (0, "/a"), level)

    def test_tab_delimiter_in_a_full_buffer(self):
        raw = b"GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"
        self.assertEqual(parse(raw, 0, size=len(raw))[0], 0)

    def test_field_lines(self):
        st, r, b = parse(b"GET / HTTP/1.1\r\nHost: h\r\nX: a:b\r\n\r\n")
        self.assertEqual((st, text(b, r.hdr[4], r.hdr[5]), text(b, r.hdr[6], r.hdr[7])), (0, "X", "a:b"))
        self.assertEqual(parse(b"GET / HTTP/1.1\r\nHost: h\r\nJunk\r\nX: y\r\n\r\n")[0], 400)
        # obs-fold with a tab
        TestStrictness.check(self, b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 0)
        # a bare LF after a field line, when the request line had CR LF
        TestStrictness.check(self, b"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", 0)

    def test_body_start(self):
        head = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n"
        st, r, _ = parse(head + b"abc")
        self.assertEqual((st, r.body_start), (0, len(head)))

    def test_bare_lf_first(self):
        # a bare LF as the very first byte is an empty line (levels <= 0 skip it)
        raw = b"\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"
        self.assertEqual([parse(raw, lv)[0] for lv in range(-3, 4)], [0, 0, 0, 0, 400, 400, 400])
        r, b, n = request_over(raw, 64)
        b[-1] = 13  # whatever byte ends the buffer, it is not before the LF
        self.assertEqual(parse_head(r, b, n, 0), 0)


    def test_nothing_past_end_is_read(self):
        raw = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
        for end in range(1, len(raw)):
            r, b, n = request_over(raw)  # the whole head is in the buffer, but only b[:end] was received
            self.assertEqual(parse_head(r, b, end, 0), MORE, end)

    def test_target_bytes(self):
        self.assertEqual(parse(b"GET /a!b HTTP/1.1\r\nHost: h\r\n\r\n", 3)[0], 0)
        raw = b"GET /a\x80 HTTP/1.1\r\nHost: h\r\n\r\n"
        self.assertEqual([parse(raw, lv)[0] for lv in range(-3, 4)], [0, 0, 0, 0, 400, 400, 400])

    def test_host_after_other_fields(self):
        st, r, _ = parse(b"GET / HTTP/1.1\r\nConnection: close\r\nHost: h\r\n\r\n")
        self.assertEqual((st, r.flags & F_CLOSE), (0, F_CLOSE))

    def test_clean_head_checks(self):
        # a NUL with no zero byte after the head (a full buffer)
        raw = b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n"
        self.assertEqual(parse(raw, 0, size=len(raw))[0], 400)
        # a bare LF among CR LF lines: two fields, not one
        st, r, b = parse(b"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", 0)
        self.assertEqual((st, r.nhdr, text(b, r.hdr[2], r.hdr[3])), (0, 2, "h"))

    def test_clean_head_checks_whatever_the_body(self):
        # the body after a head with a bare CR or a bare LF may hold any bytes: counts of CR, LF
        # or NUL in it that equal the head's number of CR LF must not make the head look clean
        bare_cr = b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n"  # four CR LF
        bare_lf = b"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n"  # three CR LF
        for head, body in ((bare_cr, b"\r" * 4), (bare_cr, b"\x00" * 4), (bare_lf, b"\n" * 3), (bare_lf, b"\x00" * 3)):
            r, b, n = request_over(head + body, len(head + body))
            st = parse_head(r, b, n, 0)
            if head is bare_cr:
                self.assertEqual(st, 400, body)
            else:
                self.assertEqual((st, r.nhdr), (0, 2), body)

    def test_bare_lf_just_before_the_end(self):
        # the clean-head fast path must not take a line with a bare LF near the end for clean
        raw = b"GET / HTTP/1.1\r\nHost: h\r\n:// x \n\r\n\r\n"
        st, r, b = parse(raw, -3)
        self.assertEqual((st, r.nhdr, text(b, r.hdr[6], r.hdr[7])), (0, 2, "// x"))
