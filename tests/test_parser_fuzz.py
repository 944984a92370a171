"""Property tests of the sans-I/O parser with hypothesis: mutated and random request heads
never raise, always give one of the answers the parser promises, give the same answer
whether the bytes arrive at once or one at a time, and never accept what both reference
parsers (h11 and llhttp) reject at the strictest levels."""
import os
import sys

import h11
import httptools
from hypothesis import given, settings, strategies as st

from mhd_micro.parser import parse_head, MORE, DROP
from mhd_micro.request import Request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "unit"))
from test_parser import both_paths  # noqa: E402  (the unit tests' whole-against-bytewise comparison)

ANSWERS = {0, MORE, DROP, 301, 400, 413, 414, 417, 431, 501, 505}
BASE = b"GET /a/b?x=1 HTTP/1.1\r\nHost: example\r\nAccept: */*\r\nContent-Length: 0\r\n\r\n"
BROWSER = (b"GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
           b"Accept: text/html,application/xhtml+xml\r\nAccept-Language: en-US,en;q=0.5\r\n"
           b"Accept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\nCookie: a=1; b=2\r\n"
           b"Cache-Control: max-age=0\r\nContent-Length: 0\r\nSec-Fetch-Mode: navigate\r\n\r\n")
NASTY = [b"\r", b"\n", b"\0", b" ", b"\t", b":", b"\x0b", b"\x7f", b"\xff", b"HTTP/2.0", b"chunked", b"Transfer-Encoding: chunked\r\n",
         b"Content-Length: 5\r\n", b"Host: y\r\n", b"\r\n \r\n", b"Expect: 100-continue\r\n", b"%", b"?", b"*"]


class _D:
    strict = 0
    no_cookies = False
    no_plus = False


class _C:
    def __init__(self, size):
        self.buf = bytearray(size)
        self.daemon = _D()


def parse(raw, strict, size=1024, bytewise=False):
    c = _C(size)
    raw = raw[:size]
    c.buf[0:len(raw)] = raw
    r = Request(size, 32)
    r.conn = c
    if not bytewise:
        return parse_head(r, c.buf, len(raw), strict)
    st_ = MORE
    for end in range(1, len(raw) + 1):
        st_ = parse_head(r, c.buf, end, strict)
        if st_ != MORE:
            break
    return st_


def mutate(data, ops):
    b = bytearray(data)
    for pos, kind, piece in ops:
        pos %= len(b) + 1
        if kind == 0:
            b[pos:pos] = piece
        elif kind == 1 and pos < len(b):
            del b[pos:pos + len(piece)]
        elif pos < len(b):
            b[pos:pos + len(piece)] = piece
    return bytes(b)


ops = st.lists(st.tuples(st.integers(0, 200), st.integers(0, 2), st.sampled_from(NASTY)), max_size=4)
many_ops = st.lists(st.tuples(st.integers(0, 400), st.integers(0, 2), st.sampled_from(NASTY + [b"\n\n", b" \n"])),
                    max_size=5)


@settings(max_examples=400, deadline=None)
@given(ops, st.integers(-3, 3))
def test_mutated_heads(ops_, strict):
    raw = mutate(BASE, ops_)
    whole = parse(raw, strict)
    assert whole in ANSWERS
    assert parse(raw, strict, bytewise=True) == whole


@settings(max_examples=400, deadline=None)
@given(many_ops, st.integers(-3, 3), st.sampled_from([BASE, BROWSER]))
def test_mutated_heads_leave_the_same_request_whole_and_bytewise(ops_, strict, base):
    # all the parse leaves (offsets, flags, framing, repaired bytes), not just the status: a
    # head in one read takes the clean walk where it can, one byte at a time never does
    both_paths(mutate(base, ops_), strict)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(-3, 3))
def test_random_bytes(raw, strict):
    assert parse(raw, strict) in ANSWERS


def _h11_accepts(raw):
    c = h11.Connection(h11.SERVER)
    c.receive_data(raw)
    try:
        ev = c.next_event()
    except h11.RemoteProtocolError:
        return False
    return isinstance(ev, h11.Request)


def _llhttp_accepts(raw):
    class Done(Exception):
        pass

    class P:
        def on_headers_complete(self):
            raise Done()
    p = httptools.HttpRequestParser(P())
    try:
        p.feed_data(raw)
    except Done:
        return True
    except httptools.HttpParserError:
        return False
    return False


@settings(max_examples=400, deadline=None)
@given(ops)
def test_strict_levels_accept_nothing_both_references_reject(ops_):
    raw = mutate(BASE, ops_)
    if _h11_accepts(raw) or _llhttp_accepts(raw):
        return
    for strict in (1, 2, 3):
        assert parse(raw, strict) != 0, (strict, raw)
