"""Reply framing without sockets (framing.py, and chunked.py for the chunk lines): the framing decision, the status line and
header block, inline bodies, chunk-size lines and trailers, for HTTP/1.0 and 1.1 clients,
HEAD, 1xx/204/304, known and unknown sizes and every R_O_* option. Runs on MicroPython too."""
from testing import unittest
import mhd_micro as mhd
from mhd_micro import framing as F
from mhd_micro import chunked as C
from mhd_micro.parser import F_CLOSE, F_KEEP_ALIVE, F_MUST_CLOSE

GET, HEAD = 1, 2
FR_NO_BODY, FR_HEAD, FR_SAY_KEEP_ALIVE = 4, 8, 16  # framing's private bits (tests/test_static_attrs.py)
V10, V11 = 1, 2
DATE = b"Date: Mon, 30 Nov 2026 05:30:00 GMT\r\n"


class _Req:
    """What plan() reads of a request, as the parser leaves it (an HTTP/1.0 request without
    Connection: keep-alive has F_CLOSE)."""

    def __init__(self, method=GET, version=V11, flags=0):
        self.method = method
        self.version = version
        self.flags = flags | (F_CLOSE if version == V10 and not flags & F_KEEP_ALIVE else 0)


def buffer(body=b"hello", sc=200, *options):
    r = mhd.response_from_buffer_static(sc, body)
    for o in options:
        assert mhd.response_set_option(r, o) == mhd.SC_OK
    return r


def unknown(sc=200, *options):
    r = mhd.response_from_callback(sc, mhd.SIZE_UNKNOWN, lambda *a: None)
    for o in options:
        assert mhd.response_set_option(r, o) == mhd.SC_OK
    return r


def reply(resp, req=None, close=False, size=512):
    """(plan bits, the head as bytes, what follows it inline or None) for resp to req."""
    req = req or _Req()
    b = bytearray(size)
    fr = F.plan(resp, req, close)
    end = F.write_head(b, 0, resp, fr, DATE)
    assert end > 0
    inline = F.body_inline(b, end, resp, fr)
    assert len(b) == size  # written in place
    head = bytes(b[:end])
    mhd.response_destroy(resp)
    return fr, head, None if inline < 0 else bytes(b[end:inline])


def fields(head):
    """{lower-case name: value} of a head; the status line under None."""
    lines = head.split(b"\r\n")
    assert lines[-2:] == [b"", b""], head  # ends with the empty line
    out = {None: lines[0]}
    for line in lines[1:-2]:
        name, value = line.split(b": ", 1)
        assert name.lower() not in out, head  # no field twice
        out[name.lower()] = value
    return out


class TestPlan(unittest.TestCase):
    def test_http11_known_size_keeps_alive_with_content_length(self):
        fr, head, body = reply(buffer())
        self.assertEqual(fr, F.FR_KEEP_ALIVE)
        h = fields(head)
        self.assertEqual(h[None], b"HTTP/1.1 200 OK")
        self.assertEqual(h[b"content-length"], b"5")
        self.assertEqual(h[b"date"], DATE[6:-2])
        self.assertNotIn(b"connection", h)  # keep-alive is HTTP/1.1's default
        self.assertEqual(body, b"hello")

    def test_http10_closes_unless_asked(self):
        fr, head, body = reply(buffer(), _Req(version=V10))
        self.assertEqual(fr, 0)
        self.assertEqual(fields(head)[b"connection"], b"close")
        self.assertEqual(body, b"hello")
        fr, head, _ = reply(buffer(), _Req(version=V10, flags=F_KEEP_ALIVE))
        self.assertEqual(fr, F.FR_KEEP_ALIVE | FR_SAY_KEEP_ALIVE)
        self.assertEqual(fields(head)[b"connection"], b"Keep-Alive")

    def test_client_or_engine_asks_to_close(self):
        for req, close in ((_Req(flags=F_CLOSE), False), (_Req(flags=F_MUST_CLOSE), False), (_Req(), True)):
            fr, head, _ = reply(buffer(), req, close)
            self.assertFalse(fr & F.FR_KEEP_ALIVE)
            self.assertEqual(fields(head)[b"connection"], b"close")

    def test_head_has_the_get_length_and_no_body(self):
        for version in (V10, V11):
            fr, head, body = reply(buffer(), _Req(HEAD, version))
            self.assertTrue(fr & FR_HEAD)
            self.assertEqual(fields(head)[b"content-length"], b"5")
            self.assertEqual(body, b"")

    def test_statuses_without_a_body(self):
        for sc in (100, 101, 103, 204, 304):
            fr, head, body = reply(buffer(b"ignored", sc))
            self.assertTrue(fr & FR_NO_BODY, sc)
            self.assertTrue(fr & F.FR_KEEP_ALIVE, sc)
            h = fields(head)
            self.assertNotIn(b"content-length", h)
            self.assertNotIn(b"transfer-encoding", h)
            self.assertEqual(body, b"")
        # a status without a body never gets chunks; with an unknown size the close ends it
        fr, head, _ = reply(unknown(204))
        self.assertEqual(fr, FR_NO_BODY)
        self.assertNotIn(b"transfer-encoding", fields(head))

    def test_unknown_size_chunked_for_http11(self):
        fr, head, body = reply(unknown())
        self.assertEqual(fr, F.FR_KEEP_ALIVE | F.FR_CHUNKED)
        h = fields(head)
        self.assertEqual(h[b"transfer-encoding"], b"chunked")
        self.assertNotIn(b"content-length", h)
        self.assertIsNone(body)  # the body follows in segments

    def test_unknown_size_close_delimited_for_http10(self):
        fr, head, body = reply(unknown(), _Req(version=V10, flags=F_KEEP_ALIVE))
        self.assertEqual(fr, 0)  # no chunks in HTTP/1.0: only the close ends the body
        h = fields(head)
        self.assertEqual(h[b"connection"], b"close")
        self.assertNotIn(b"content-length", h)
        self.assertNotIn(b"transfer-encoding", h)
        self.assertIsNone(body)

    def test_unknown_size_head(self):
        fr, head, body = reply(unknown(), _Req(HEAD))
        self.assertEqual(fr, F.FR_KEEP_ALIVE | F.FR_CHUNKED | FR_HEAD)
        self.assertEqual(fields(head)[b"transfer-encoding"], b"chunked")
        self.assertEqual(body, b"")
        fr, head, body = reply(unknown(), _Req(HEAD, V10, F_KEEP_ALIVE))
        self.assertEqual(fr, F.FR_KEEP_ALIVE | FR_SAY_KEEP_ALIVE | FR_HEAD)  # no body to delimit
        self.assertEqual(body, b"")


class TestResponseOptions(unittest.TestCase):
    def test_chunked_enc(self):
        opt = mhd.R_OPTION_CHUNKED_ENC(True)
        fr, head, body = reply(buffer(b"hello", 200, opt))
        self.assertEqual(fr, F.FR_KEEP_ALIVE | F.FR_CHUNKED)
        self.assertNotIn(b"content-length", fields(head))
        self.assertEqual(body, b"5\r\nhello\r\n0\r\n\r\n")
        fr, head, body = reply(buffer(b"", 200, opt))
        self.assertEqual(body, b"0\r\n\r\n")  # the last chunk alone
        fr, head, body = reply(buffer(b"hello", 200, opt), _Req(version=V10, flags=F_KEEP_ALIVE))
        self.assertFalse(fr & F.FR_CHUNKED)  # an HTTP/1.0 client gets the length
        self.assertEqual(fields(head)[b"content-length"], b"5")

    def test_conn_close(self):
        fr, head, _ = reply(buffer(b"x", 200, mhd.R_OPTION_CONN_CLOSE(True)))
        self.assertEqual(fr, 0)
        self.assertEqual(fields(head)[b"connection"], b"close")

    def test_http_1_0_compatible_strict(self):
        opt = mhd.R_OPTION_HTTP_1_0_COMPATIBLE_STRICT(True)
        fr, head, _ = reply(buffer(b"x", 200, opt), _Req(version=V10, flags=F_KEEP_ALIVE))
        self.assertEqual(fr, 0)  # never kept alive
        self.assertEqual(fields(head)[None], b"HTTP/1.1 200 OK")
        fr, head, _ = reply(unknown(200, opt))
        self.assertEqual(fr, 0)  # never chunked: the close ends the body
        self.assertNotIn(b"transfer-encoding", fields(head))

    def test_http_1_0_server(self):
        opt = mhd.R_OPTION_HTTP_1_0_SERVER(True)
        fr, head, _ = reply(buffer(b"x", 200, opt))
        self.assertEqual(fields(head)[None], b"HTTP/1.0 200 OK")
        self.assertEqual(fr, 0)  # a 1.1 client that did not ask: an HTTP/1.0 reply closes
        self.assertEqual(fields(head)[b"connection"], b"close")
        fr, head, _ = reply(buffer(b"x", 200, opt), _Req(flags=F_KEEP_ALIVE))
        self.assertEqual(fr, F.FR_KEEP_ALIVE | FR_SAY_KEEP_ALIVE)
        self.assertEqual(fields(head)[b"connection"], b"Keep-Alive")
        fr, head, _ = reply(unknown(200, opt), _Req(flags=F_KEEP_ALIVE))
        self.assertEqual(fr, 0)  # no chunks: the close ends the body
        self.assertNotIn(b"transfer-encoding", fields(head))

    def test_head_only_response(self):
        r = buffer(b"", 200, mhd.R_OPTION_HEAD_ONLY_RESPONSE(True))
        self.assertEqual(mhd.response_add_header(r, "Content-Length", "1234"), mhd.SC_OK)
        fr, head, body = reply(r)
        self.assertTrue(fr & FR_HEAD)
        self.assertEqual(fields(head)[b"content-length"], b"1234")  # the application's, alone
        self.assertEqual(body, b"")

    def test_insanity_header_content_length(self):
        r = buffer(b"hello", 200, mhd.R_OPTION_INSANITY_HEADER_CONTENT_LENGTH(True))
        self.assertEqual(mhd.response_add_header(r, "Content-Length", "5"), mhd.SC_OK)
        fr, head, body = reply(r)
        self.assertEqual(fields(head)[b"content-length"], b"5")  # one, the application's
        self.assertEqual(body, b"hello")

    def test_termination_callback_changes_no_framing(self):
        r = buffer(b"hello", 200, mhd.R_OPTION_TERMINATION_CALLBACK(lambda *a: None))
        self.assertEqual(reply(r)[:2], reply(buffer())[:2])

    def test_reusable_response_caches_its_usual_fields(self):
        r = buffer(b"hello", 200, mhd.R_OPTION_REUSABLE(True))
        self.assertEqual(mhd.response_add_header(r, "Content-Type", "text/plain"), mhd.SC_OK)
        b = bytearray(256)
        fr = F.plan(r, _Req(), False)
        first = bytes(b[:F.write_head(b, 0, r, fr, DATE)])
        self.assertIsNotNone(r.tail)
        b = bytearray(256)
        self.assertEqual(bytes(b[:F.write_head(b, 0, r, fr, DATE)]), first)  # from the cache
        # other framings are written field by field, with their own Connection line
        fr10 = F.plan(r, _Req(version=V10, flags=F_KEEP_ALIVE), False)
        b = bytearray(256)
        head = bytes(b[:F.write_head(b, 0, r, fr10, DATE)])
        self.assertEqual(fields(head)[b"connection"], b"Keep-Alive")
        self.assertEqual(fields(head)[b"content-type"], b"text/plain")
        mhd.response_destroy(r)


class TestHeadBlock(unittest.TestCase):
    def test_application_date_replaces_the_engine_one(self):
        r = buffer()
        self.assertEqual(mhd.response_add_header(r, "Date", "Tue, 01 Dec 2026 00:00:00 GMT"), mhd.SC_OK)
        self.assertEqual(fields(reply(r)[1])[b"date"], b"Tue, 01 Dec 2026 00:00:00 GMT")

    def test_status_lines(self):
        self.assertEqual(F.status_line(404), b"HTTP/1.1 404 Not Found\r\n")
        self.assertEqual(F.status_line(404, True), b"HTTP/1.0 404 Not Found\r\n")
        self.assertEqual(F.status_line(299), b"HTTP/1.1 299 Nonstandard Status\r\n")

    def test_head_that_does_not_fit(self):
        r = buffer()
        mhd.response_add_header(r, "X-Long", "v" * 80)
        b = bytearray(256)
        fr = F.plan(r, _Req(), False)
        self.assertEqual(F.write_head(b, 100, r, fr, DATE), -1)  # behind 100 pipelined bytes
        self.assertGreater(F.write_head(b, 0, r, fr, DATE), 100)
        mhd.response_destroy(r)

    def test_written_at_an_offset(self):
        r = buffer()
        b = bytearray(b"PIPELINED" + bytes(300))
        fr = F.plan(r, _Req(), False)
        end = F.write_head(b, 9, r, fr, DATE)
        self.assertEqual(bytes(b[:9]), b"PIPELINED")
        self.assertEqual(bytes(b[9:26]), b"HTTP/1.1 200 OK\r\n")
        self.assertEqual(F.body_inline(b, end, r, fr), end + 5)
        mhd.response_destroy(r)

    def test_body_too_big_for_the_buffer_follows(self):
        r = buffer(b"x" * 300)
        b = bytearray(256)
        fr = F.plan(r, _Req(), False)
        self.assertEqual(F.body_inline(b, F.write_head(b, 0, r, fr, DATE), r, fr), -1)
        mhd.response_destroy(r)


class TestChunks(unittest.TestCase):
    def test_chunk_header(self):
        for size, ext, line in ((1, None, b"1\r\n"), (255, None, b"ff\r\n"), (4096, b"a=b", b"1000;a=b\r\n")):
            b = bytearray(32)
            end = C.chunk_header(b, 3, size, ext)
            self.assertEqual(bytes(b[3:end]), line)
            self.assertEqual(C.chunk_header_size(size, ext), len(line))

    def test_trailer(self):
        b = bytearray(64)
        end = C.trailer(b, 0, None)
        self.assertEqual(bytes(b[:end]), b"0\r\n\r\n")
        self.assertEqual(C.trailer_size(None), 5)
        footers = [("X-Sum", "abc"), ("X-Count", "3")]
        end = C.trailer(b, 0, footers)
        self.assertEqual(bytes(b[:end]), b"0\r\nX-Sum: abc\r\nX-Count: 3\r\n\r\n")
        self.assertEqual(C.trailer_size(footers), end)

    def test_trailer_drops_footers_that_do_not_fit(self):
        footers = [("X-A", "1"), ("X-Long", "v" * 40)]
        b = bytearray(30)
        self.assertGreater(C.trailer_size(footers), len(b))
        end = C.trailer(b, 0, footers)
        self.assertEqual(bytes(b[:end]), b"0\r\nX-A: 1\r\n\r\n")

    def test_put_uint(self):
        b = bytearray(24)
        for n, base, text in ((0, 10, b"0"), (1234567890, 10, b"1234567890"), (0xabc, 16, b"abc")):
            self.assertEqual(bytes(b[2:F.put_uint(b, 2, n, base)]), text)


class TestUsualLines(unittest.TestCase):
    def test_the_lines_kept_at_start_are_the_ones_made(self):
        # pools.py keeps these at daemon_start: they must be what status_line makes
        from mhd_micro import pools
        for code, line in pools._USUAL_STATUS:
            F._lines.pop(code, None)
            self.assertEqual(F.status_line(code), line)


class TestEdges(unittest.TestCase):
    """Limits and cases next to the usual ones (found by mutation testing: docs/mutation.md)."""

    def test_head_of_a_status_without_a_body(self):
        fr, head, body = reply(unknown(304), _Req(HEAD))
        self.assertEqual(fr, FR_NO_BODY | FR_HEAD | F.FR_KEEP_ALIVE)
        self.assertNotIn(b"transfer-encoding", fields(head))
        self.assertEqual(body, b"")

    def test_empty_body_not_chunked(self):
        fr, head, body = reply(buffer(b""))
        self.assertEqual(fields(head)[b"content-length"], b"0")
        self.assertEqual(body, b"")

    def test_content_length_in_decimal(self):
        fr, head, body = reply(buffer(b"x" * 1234), size=2048)
        self.assertEqual(fields(head)[b"content-length"], b"1234")

    def test_status_lines_made_anew(self):
        # the lines are made once and kept: drop them so that this test makes them
        for key, code, http10, line in ((404, 404, False, b"HTTP/1.1 404 Not Found\r\n"),
                                        (-404, 404, True, b"HTTP/1.0 404 Not Found\r\n"),
                                        (299, 299, False, b"HTTP/1.1 299 Nonstandard Status\r\n")):
            F._lines.pop(key, None)
            self.assertEqual(F.status_line(code, http10), line)
            self.assertIs(F.status_line(code, http10), F.status_line(code, http10))  # kept

    def test_kept_status_line_is_used(self):
        F.keep_status_line(599, b"HTTP/1.1 599 Kept\r\n")
        self.assertEqual(F.status_line(599), b"HTTP/1.1 599 Kept\r\n")
        F._lines.pop(599)

    def test_phrase_table_let_go_unless_held(self):
        from mhd_micro import lazy
        held = lazy.is_loaded("status")
        lazy.drop("status")
        F._lines.pop(418, None)
        F.status_line(418)
        self.assertFalse(lazy.is_loaded("status"))  # loaded for the new code, let go again
        lazy.load("status")
        F._lines.pop(418, None)
        F.status_line(418)
        self.assertTrue(lazy.is_loaded("status"))  # held elsewhere: kept
        if not held:
            lazy.drop("status")

    def test_head_fits_exactly(self):
        r = buffer()
        fr = F.plan(r, _Req(), False)
        need = len(F.status_line(200)) + 130 + len(r.hdrs)  # 130: framing's _HEAD_MORE
        self.assertGreater(F.write_head(bytearray(need + 10), 10, r, fr, DATE), 0)
        self.assertEqual(F.write_head(bytearray(need + 9), 10, r, fr, DATE), -1)
        mhd.response_destroy(r)

    def test_inline_body_room(self):
        # 27 bytes of room for the chunk framing are kept after the body, chunked or not
        r = buffer(b"x" * 40)
        fr = F.plan(r, _Req(), False)
        self.assertEqual(F.body_inline(bytearray(10 + 40 + 27), 10, r, fr), 50)
        self.assertEqual(F.body_inline(bytearray(10 + 40 + 26), 10, r, fr), -1)
        mhd.response_destroy(r)

    def test_reusable_tail_is_what_is_sent(self):
        r = buffer(b"hello", 200, mhd.R_OPTION_REUSABLE(True))
        fr = F.plan(r, _Req(), False)
        F.write_head(bytearray(256), 0, r, fr, DATE)
        r.tail = b"X-Cached: 1\r\n\r\n"  # what a second reply copies, whatever it is
        b = bytearray(256)
        self.assertEqual(fields(bytes(b[:F.write_head(b, 0, r, fr, DATE)]))[b"x-cached"], b"1")
        mhd.response_destroy(r)

    def test_only_reusable_keep_alive_replies_keep_a_tail(self):
        r = buffer()
        F.write_head(bytearray(256), 0, r, F.plan(r, _Req(), False), DATE)
        self.assertIsNone(r.tail)  # not reusable
        mhd.response_destroy(r)
        r = buffer(b"hello", 200, mhd.R_OPTION_REUSABLE(True))
        F.write_head(bytearray(256), 0, r, F.plan(r, _Req(flags=F_CLOSE), False), DATE)
        self.assertIsNone(r.tail)  # a closing reply's fields are not the usual ones
        mhd.response_destroy(r)

    def test_put_uint_of_large_numbers(self):
        b = bytearray(24)
        for n, base in ((9999999999999999999, 10), (0xFFFFFFFFFFFFFFFE, 10), (0xFFFFFFFFFFFFFFFE, 16)):
            text = ("%d" if base == 10 else "%x") % n
            self.assertEqual(bytes(b[0:F.put_uint(b, 0, n, base)]), text.encode())
