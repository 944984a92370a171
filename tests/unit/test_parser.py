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
    """Parse raw whole, the head in one read (the fast path: parser._check_clean finds it
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
