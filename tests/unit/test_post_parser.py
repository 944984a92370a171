"""Sans-I/O tests of mhd_micro.post_parser on both runtimes: every body is decoded whole, then
split at every byte and fed through a small buffer that is compacted as the engine does, and
every way must give the same fields."""
from testing import unittest
import mhd_micro as mhd
from mhd_micro.post_parser import PostParser

# its step() events (private consts there: MicroPython does not intern their names)
NEED_MORE, FIELD, DATA, FIELD_END, DONE, ERROR = 0, 1, 2, 3, 4, 5

URL = mhd.POST_ENCODING_FORM_URLENCODED
MP = mhd.POST_ENCODING_MULTIPART_FORMDATA
TXT = mhd.POST_ENCODING_TEXT_PLAIN
OK = mhd.POST_PARSE_RES_OK
BAD_TERM = mhd.POST_PARSE_RES_OK_BAD_TERMINATION


def _span(b, s, e):
    return None if s < 0 else bytes(b[s:e])


def feed(body, enc, bnd=None, size=4096, pieces=(1 << 30,), strict=0):
    """Feed `body` through a buffer of `size` bytes, appending pieces of the given sizes (cycled)
    and compacting at each NEED_MORE. Returns (fields, event, result); a field is
    [name, filename, content_type, transfer_encoding, value or None, ended]."""
    p = PostParser()
    p.reset(enc, bnd, size, strict)
    buf = bytearray(size)
    fields = []
    i = pos = end = k = 0
    while True:
        n = min(pieces[k % len(pieces)], size - end, len(body) - i)
        k += 1
        buf[end:end + n] = body[i:i + n]
        end += n
        i += n
        final = i == len(body)
        while True:
            ev = p.step(buf, pos, end, final)
            assert pos <= p.pos <= end, (pos, p.pos, end)
            if ev == NEED_MORE:
                assert not final, "NEED_MORE after the final bytes"
                assert end - p.pos <= size
                buf[0:end - p.pos] = buf[p.pos:end]  # compaction, as the engine does
                end -= p.pos
                pos = 0
                break
            if ev == FIELD:
                assert not fields or fields[-1][5], "FIELD before the previous FIELD_END"
                assert p.has_value in (0, 1), p.has_value
                sp = p.sp  # (start, end) of the name, file name, content type, transfer encoding
                for k in (2, 4, 6):
                    assert sp[k] >= 0 or sp[k] == sp[k + 1] == -1, sp  # an absent span is (-1, -1)
                fields.append([bytes(buf[sp[0]:sp[1]]), _span(buf, sp[2], sp[3]), _span(buf, sp[4], sp[5]),
                               _span(buf, sp[6], sp[7]), b"" if p.has_value else None, False])
            elif ev == DATA:
                f = fields[-1]
                assert f[4] is not None and not f[5]
                assert pos <= p.data_start < p.data_end <= p.pos, (pos, p.data_start, p.data_end, p.pos)
                f[4] += bytes(buf[p.data_start:p.data_end])
            elif ev == FIELD_END:
                assert not fields[-1][5]
                fields[-1][5] = True
            else:
                assert ev in (DONE, ERROR)
                assert ev == ERROR or final
                return fields, ev, p.result
            pos = p.pos


def simple(fields):
    """The fields as (name, value) pairs, value None for a field without one."""
    return [(f[0], f[4]) for f in fields]


def every_split(tc, body, enc, bnd=None, size=4096, strict=0):
    """The body whole, in pieces of every size, and split in two at every byte, through
    `size` bytes: all must agree. Returns the whole result."""
    whole = feed(body, enc, bnd, size, strict=strict)
    for n in range(1, len(body) + 1):
        got = feed(body, enc, bnd, size, (n,), strict)
        tc.assertEqual(got, whole, "pieces of %d: %r != %r" % (n, got, whole))
    for n in range(1, len(body)):
        got = feed(body, enc, bnd, size, (n, 1 << 30), strict)
        tc.assertEqual(got, whole, "split at %d: %r != %r" % (n, got, whole))
    return whole


def fields_of(fields):
    return [tuple(f[:5]) for f in fields]


class TestUrlencoded(unittest.TestCase):
    def check(self, body, want, res=OK, size=4096):
        fields, ev, r = every_split(self, body, URL, size=size)
        self.assertEqual((ev, r), (DONE, res))
        self.assertEqual(simple(fields), want)
        self.assertTrue(all(f[5] for f in fields))
        for f in fields:
            self.assertEqual(f[1:4], [None, None, None])

    def test_simple(self):
        self.check(b"a=1&b=x+y%20z", [(b"a", b"1"), (b"b", b"x y z")])

    def test_plus_and_pct_in_names(self):
        self.check(b"a+b%3D=c%26d&%41=%42", [(b"a b=", b"c&d"), (b"A", b"B")])

    def test_encoded_plus_stays(self):
        self.check(b"q=1%2B1+%3D+2", [(b"q", b"1+1 = 2")])

    def test_bad_escapes_kept(self):
        self.check(b"a=%&b=%4&c=%zz&d=%4g%41&e=100%", [(b"a", b"%"), (b"b", b"%4"), (b"c", b"%zz"), (b"d", b"%4gA"), (b"e", b"100%")])

    def test_double_percent(self):
        self.check(b"a=%%41%", [(b"a", b"%A%")])

    def test_lower_and_upper_hex(self):
        self.check(b"v=%c3%A9%e2%82%AC", [(b"v", b"\xc3\xa9\xe2\x82\xac")])

    def test_empty_parts_as_mhd2(self):
        # MHD2: "&&" gives a field with an empty name and no value, "=v" an empty name
        self.check(b"a=1&&b=2&=3", [(b"a", b"1"), (b"", None), (b"b", b"2"), (b"", b"3")])

    def test_name_without_value(self):
        self.check(b"flag&x=&y", [(b"flag", None), (b"x", b""), (b"y", None)])

    def test_trailing_ampersand(self):
        self.check(b"a=1&", [(b"a", b"1")])

    def test_trailing_equals(self):
        self.check(b"a=", [(b"a", b"")])

    def test_equals_in_value(self):
        self.check(b"a=b=c", [(b"a", b"b=c")])

    def test_same_name_twice(self):
        self.check(b"k=1&k=2&k=3", [(b"k", b"1"), (b"k", b"2"), (b"k", b"3")])

    def test_empty_body(self):
        self.assertEqual(feed(b"", URL), ([], DONE, mhd.POST_PARSE_RES_REQUEST_EMPTY))

    def test_only_ampersand(self):
        self.check(b"&", [(b"", None)])

    def test_value_larger_than_buffer(self):
        v = b"0123456789+%41" * 40
        fields, ev, r = every_split(self, b"big=" + v + b"&small=1", URL, size=16)
        self.assertEqual((ev, r), (DONE, OK))
        self.assertEqual(simple(fields), [(b"big", b"0123456789 A" * 40), (b"small", b"1")])

    def test_name_too_long_for_the_buffer(self):
        fields, ev, r = feed(b"a=1&" + b"n" * 40 + b"=1", URL, size=16, pieces=(3,))
        self.assertEqual((ev, r), (ERROR, mhd.POST_PARSE_RES_FAILED_NO_POOL_MEM))
        self.assertEqual(simple(fields), [(b"a", b"1")])

    def test_name_that_fits_exactly(self):
        fields, ev, r = feed(b"n" * 15 + b"=1", URL, size=16, pieces=(1,))
        self.assertEqual((ev, r, simple(fields)), (DONE, OK, [(b"n" * 15, b"1")]))

    def test_utf8_names(self):
        self.check("caf%C3%A9=na\u00efve".encode(), [("caf\u00e9".encode(), "na\u00efve".encode())])

    def test_crlf_is_data(self):
        self.check(b"a=1\r\n", [(b"a", b"1\r\n")])

    def test_data_is_delivered_promptly(self):
        # a value streams: all but a split escape is handed over before the body ends
        p = PostParser()
        p.reset(URL, None, 64)
        b = bytearray(b"v=abcdef%4")
        self.assertEqual(p.step(b, 0, len(b), False), FIELD)
        self.assertEqual(p.step(b, p.pos, len(b), False), DATA)
        self.assertEqual(bytes(b[p.data_start:p.data_end]), b"abcdef")
        self.assertEqual(p.step(b, p.pos, len(b), False), NEED_MORE)
        self.assertEqual(bytes(b[p.pos:]), b"%4")


def mp_body(parts, bnd=b"XyZ", preamble=b"", epilogue=b"", close=True):
    out = preamble
    for headers, value in parts:
        out += b"--" + bnd + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + value + b"\r\n"
    if close:
        out += b"--" + bnd + b"--" + epilogue
    return out


def cd(name, extra=b""):
    return b'Content-Disposition: form-data; name="' + name + b'"' + extra


class TestMultipart(unittest.TestCase):
    def check(self, body, want, res=OK, bnd=b"XyZ", size=4096, strict=0):
        fields, ev, r = every_split(self, body, MP, bnd, size, strict)
        self.assertEqual((ev, r), (DONE, res))
        self.assertEqual(fields_of(fields), want)
        self.assertTrue(all(f[5] for f in fields))
        return fields

    def test_two_fields(self):
        body = mp_body([([cd(b"a")], b"1"), ([cd(b"b")], b"two words")])
        self.check(body, [(b"a", None, None, None, b"1"), (b"b", None, None, None, b"two words")])

    def test_file_with_headers(self):
        body = mp_body([([cd(b"up", b'; filename="a.txt"'), b"Content-Type: text/plain ",
                          b"content-transfer-encoding:  binary"], b"line1\r\nline2\r\n")])
        self.check(body, [(b"up", b"a.txt", b"text/plain", b"binary", b"line1\r\nline2\r\n")])

    def test_value_with_dashes_and_crlf(self):
        v = b"\r\n--XyY\r\n--\r\n-\r\r\n--Xy\n--XyZa"[:-1]
        body = mp_body([([cd(b"a")], v)])
        self.check(body, [(b"a", None, None, None, v)])

    def test_boundary_lookalike_without_line_break(self):
        v = b"a--XyZ b--XyZ--"
        self.check(mp_body([([cd(b"a")], v)]), [(b"a", None, None, None, v)])

    def test_empty_value(self):
        self.check(mp_body([([cd(b"e")], b""), ([cd(b"f")], b"x")]),
                   [(b"e", None, None, None, b""), (b"f", None, None, None, b"x")])

    def test_preamble_and_epilogue(self):
        body = mp_body([([cd(b"a")], b"1")], preamble=b"This is the preamble. --XyZ\r\n-XyZ\r\n--Xy\r\n\n--XyZ\r\r\n",
                       epilogue=b"\r\nepilogue --XyZ\r\n" + cd(b"z") + b"\r\n\r\nz\r\n--XyZ--")
        self.check(body, [(b"a", None, None, None, b"1")])

    def test_preamble_may_be_cut_delimiter(self):
        body = b"--XyZZ\r\n--XyZ\r\n" + cd(b"a") + b"\r\n\r\n1\r\n--XyZ--\r\n"
        # "--XyZZ" is a delimiter line too (MHD2 reads past any padding after the boundary)
        fields, ev, r = every_split(self, body, MP, b"XyZ")
        self.assertEqual((ev, r), (ERROR, mhd.POST_PARSE_RES_FAILED_INVALID_POST_FORMAT))

    def test_transport_padding(self):
        body = b"--XyZ  \t\r\n" + cd(b"a") + b"\r\n\r\n1\r\n--XyZ \r\n" + cd(b"b") + b"\r\n\r\n2\r\n--XyZ--  \r\n"
        self.check(body, [(b"a", None, None, None, b"1"), (b"b", None, None, None, b"2")])

    def test_missing_final_boundary(self):
        body = mp_body([([cd(b"a")], b"1"), ([cd(b"b")], b"partial")], close=False)[:-2]
        self.check(body, [(b"a", None, None, None, b"1"), (b"b", None, None, None, b"partial")], BAD_TERM)

    def test_cut_in_delimiter_gives_held_bytes(self):
        body = mp_body([([cd(b"a")], b"1")], close=False)[:-2] + b"\r\n--X"
        self.check(body, [(b"a", None, None, None, b"1\r\n--X")], BAD_TERM)

    def test_cut_after_delimiter(self):
        for tail in (b"\r\n--XyZ", b"\r\n--XyZ-", b"\r\n--XyZ\r\n", b"\r\n--XyZ\r\nContent-Disp"):
            body = b"--XyZ\r\n" + cd(b"a") + b"\r\n\r\n1" + tail
            self.check(body, [(b"a", None, None, None, b"1")], BAD_TERM)

    def test_cut_in_headers_with_name(self):
        body = b"--XyZ\r\n" + cd(b"a") + b"\r\nContent-Type: text/plain\r\n"
        self.check(body, [(b"a", None, b"text/plain", None, None)], BAD_TERM)

    def test_closing_delimiter_without_crlf(self):
        self.check(mp_body([([cd(b"a")], b"1")])[:-0 or None], [(b"a", None, None, None, b"1")])

    def test_only_preamble(self):
        # MHD2 reads a body without any delimiter as OK with no fields
        self.check(b"no delimiter here\r\n", [])

    def test_only_closing_delimiter(self):
        self.check(b"--XyZ--\r\n", [])

    def test_empty_body(self):
        self.assertEqual(feed(b"", MP, b"XyZ"), ([], DONE, mhd.POST_PARSE_RES_REQUEST_EMPTY))

    def test_same_name_twice(self):
        body = mp_body([([cd(b"f", b'; filename="1"')], b"a"), ([cd(b"f", b'; filename="2"')], b"b")])
        self.check(body, [(b"f", b"1", None, None, b"a"), (b"f", b"2", None, None, b"b")])

    def test_quoted_names(self):
        body = mp_body([([b'Content-Disposition: form-data; name="a\\"b\\\\c"; filename="x \\"y\\".txt"'], b"v")])
        self.check(body, [(b'a"b\\c', b'x "y".txt', None, None, b"v")])

    def test_html5_percent_escapes_in_names(self):
        # HTML encodes '"' as %22 and CR LF as %0D%0A in names; MHD2 %-decodes names and filenames
        body = mp_body([([b'Content-Disposition: form-data; name="a%22b"; filename="%0D%0A.txt"'], b"v")])
        self.check(body, [(b'a"b', b"\r\n.txt", None, None, b"v")])

    def test_unquoted_parameters(self):
        body = mp_body([([b"content-disposition:form-data;name=plain;filename=f.bin"], b"v")])
        self.check(body, [(b"plain", b"f.bin", None, None, b"v")])

    def test_utf8_names(self):
        n = "\u00e9t\u00e9".encode()
        body = mp_body([([cd(n, b'; filename="' + "\u20ac.txt".encode() + b'"')], b"v")])
        self.check(body, [(n, "\u20ac.txt".encode(), None, None, b"v")])

    def test_filename_star(self):
        body = mp_body([([cd(b"f", b"; filename=\"euro.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt")], b"v"),
                        ([cd(b"g", b"; filename*=utf-8'en'a%2Fb")], b"w")])
        self.check(body, [(b"f", b"\xe2\x82\xac rates.txt", None, None, b"v"), (b"g", b"a/b", None, None, b"w")])

    def test_other_headers_ignored(self):
        body = mp_body([([b"X-Other: 1", cd(b"a"), b"Content-Length: 1"], b"1")])
        self.check(body, [(b"a", None, None, None, b"1")])

    def test_disposition_type_not_form_data_is_ignored(self):
        body = mp_body([([b'Content-Disposition: attachment; name="x"', cd(b"a")], b"1")])
        self.check(body, [(b"a", None, None, None, b"1")])

    def test_part_without_name(self):
        body = mp_body([([cd(b"a")], b"1"), ([b"Content-Type: text/plain"], b"2")])
        fields, ev, r = every_split(self, body, MP, b"XyZ")
        self.assertEqual((ev, r), (ERROR, mhd.POST_PARSE_RES_PARTIAL_INVALID_POST_FORMAT))
        self.assertEqual(fields_of(fields), [(b"a", None, None, None, b"1")])
        fields, ev, r = feed(mp_body([([b"X: y"], b"2")]), MP, b"XyZ")
        self.assertEqual((ev, r), (ERROR, mhd.POST_PARSE_RES_FAILED_INVALID_POST_FORMAT))

    def test_two_names_in_a_part(self):
        for h in ([cd(b"a"), cd(b"b")], [cd(b"a", b'; filename="1"'), b'Content-Disposition: form-data; filename="2"']):
            self.assertEqual(feed(mp_body([(h, b"1")]), MP, b"XyZ")[1:], (ERROR, mhd.POST_PARSE_RES_FAILED_INVALID_POST_FORMAT))

    def test_misformed_disposition(self):
        for h in (b'Content-Disposition: form-data; name="a', b"Content-Disposition: form-data x; name=a",
                  b"Content-Disposition: form-data; name", b'Content-Disposition: form-data; name="a"x'):
            self.assertEqual(feed(mp_body([([h], b"1")]), MP, b"XyZ")[1:], (ERROR, mhd.POST_PARSE_RES_FAILED_INVALID_POST_FORMAT), h)

    def test_cr_without_lf_in_headers(self):
        body = b"--XyZ\r\n" + cd(b"a") + b"\rX\r\n\r\n1\r\n--XyZ--"
        self.assertEqual(every_split(self, body, MP, b"XyZ")[1:], (ERROR, mhd.POST_PARSE_RES_FAILED_INVALID_POST_FORMAT))

    def test_delimiter_in_headers(self):
        # a part cut off before its empty line: given without a value, as MHD2
        body = b"--XyZ\r\n" + cd(b"a") + b"\r\n--XyZ\r\n" + cd(b"b") + b"\r\n\r\n2\r\n--XyZ--"
        self.check(body, [(b"a", None, None, None, None), (b"b", None, None, None, b"2")])

    def test_bare_lf(self):
        body = b"--XyZ\n" + cd(b"a") + b"\n\n1\n--XyZ\r\n" + cd(b"b") + b"\n\n2\r\n--XyZ--"
        self.check(body, [(b"a", None, None, None, b"1"), (b"b", None, None, None, b"2")], strict=-2)
        self.assertEqual(feed(body, MP, b"XyZ", strict=-1)[1:], (ERROR, mhd.POST_PARSE_RES_FAILED_INVALID_POST_FORMAT))
        # at levels > -2 a bare LF before "--boundary" is data
        body = b"--XyZ\r\n" + cd(b"a") + b"\r\n\r\n1\n--XyZ\r\n--XyZ--"
        self.check(body, [(b"a", None, None, None, b"1\n--XyZ")])

    def test_file_larger_than_buffer(self):
        data = bytes(range(256)) * 8 + b"\r\n--XyY-\r\r\n\r\n--Xy"
        body = mp_body([([cd(b"f", b'; filename="big.bin"'), b"Content-Type: application/octet-stream"], data), ([cd(b"n")], b"1")])
        want = [(b"f", b"big.bin", b"application/octet-stream", None, data), (b"n", None, None, None, b"1")]
        for size in (128, 160):  # the header block is 103 bytes
            for n in (1, 2, 3, 7, 13, 64, 127):
                fields, ev, r = feed(body, MP, b"XyZ", size, (n,))
                self.assertEqual((ev, r, fields_of(fields)), (DONE, OK, want))

    def test_held_back_bytes_are_bounded(self):
        # a value's bytes are handed over unless they may begin a delimiter
        bnd = b"B" * 70
        p = PostParser()
        p.reset(MP, bnd, 512)
        b = bytearray(b"--" + bnd + b"\r\n" + cd(b"a") + b"\r\n\r\n" + b"x" * 200 + b"\r\n--" + b"B" * 69)
        evs = []
        while True:
            ev = p.step(b, p.pos, len(b), False)
            evs.append(ev)
            if ev == NEED_MORE:
                break
        self.assertEqual(evs, [FIELD, DATA, NEED_MORE])
        self.assertEqual(p.data_end - p.data_start, 200)
        self.assertEqual(len(b) - p.pos, 2 + 2 + 69)

    def test_headers_too_long_for_the_buffer(self):
        body = mp_body([([cd(b"a"), b"X-Long: " + b"l" * 100], b"1")])
        self.assertEqual(feed(body, MP, b"XyZ", 64, (5,))[1:], (ERROR, mhd.POST_PARSE_RES_FAILED_NO_POOL_MEM))

    def test_long_boundary_split_everywhere(self):
        bnd = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
        body = mp_body([([cd(b"a")], b"1\r\n-"), ([cd(b"b", b'; filename="b.txt"'), b"Content-Type: text/plain"], b"x" * 50)], bnd)
        self.check(body, [(b"a", None, None, None, b"1\r\n-"), (b"b", b"b.txt", b"text/plain", None, b"x" * 50)], bnd=bnd, size=160)


class TestTextPlain(unittest.TestCase):
    def check(self, body, want, res=OK, strict=0):
        fields, ev, r = every_split(self, body, TXT, strict=strict)
        self.assertEqual((ev, r), (DONE, res))
        self.assertEqual(simple(fields), want)
        self.assertTrue(all(f[5] for f in fields))

    def test_lines(self):
        self.check(b"a=1\r\nb=two words+%20\r\n", [(b"a", b"1"), (b"b", b"two words+%20")])

    def test_equals_in_value(self):
        self.check(b"a=b=c\r\n", [(b"a", b"b=c")])

    def test_no_equals(self):
        self.check(b"flag\r\nx=\r\n", [(b"flag", None), (b"x", b"")])

    def test_empty_lines_skipped(self):
        self.check(b"\r\na=1\r\n\r\n=\r\n\r\nb=2\r\n", [(b"a", b"1"), (b"b", b"2")])

    def test_empty_name(self):
        self.check(b"=v\r\n", [(b"", b"v")])

    def test_unterminated_last_line(self):
        self.check(b"a=1\r\nb=2", [(b"a", b"1"), (b"b", b"2")], BAD_TERM)
        self.check(b"a=1\r\nb", [(b"a", b"1"), (b"b", None)], BAD_TERM)
        self.check(b"a=1\r", [(b"a", b"1")], BAD_TERM)

    def test_bare_lf(self):
        self.check(b"a=1\nb=2\n", [(b"a", b"1"), (b"b", b"2")])
        fields, ev, r = feed(b"a=1\nb=2\n", TXT, strict=1)
        self.assertEqual((ev, r), (ERROR, mhd.POST_PARSE_RES_PARTIAL_INVALID_POST_FORMAT))

    def test_cr_without_lf(self):
        fields, ev, r = every_split(self, b"a=1\rb=2\r\n", TXT)
        self.assertEqual((ev, r), (ERROR, mhd.POST_PARSE_RES_PARTIAL_INVALID_POST_FORMAT))
        self.assertEqual(feed(b"a\rb", TXT)[1:], (ERROR, mhd.POST_PARSE_RES_PARTIAL_INVALID_POST_FORMAT))

    def test_empty_body(self):
        self.assertEqual(feed(b"", TXT), ([], DONE, mhd.POST_PARSE_RES_REQUEST_EMPTY))

    def test_value_larger_than_buffer(self):
        fields, ev, r = every_split(self, b"big=" + b"v" * 100 + b"\r\nn=1\r\n", TXT, size=8)
        self.assertEqual((ev, r, simple(fields)), (DONE, OK, [(b"big", b"v" * 100), (b"n", b"1")]))


class TestDetect(unittest.TestCase):
    def detect(self, v, enc=0):
        p = PostParser()
        return p.detect(v, enc), p.boundary

    def test_urlencoded(self):
        self.assertEqual(self.detect(b"application/x-www-form-urlencoded"), (URL, None))
        self.assertEqual(self.detect("Application/X-WWW-Form-URLEncoded"), (URL, None))
        self.assertEqual(self.detect(b"application/x-www-form-urlencoded; charset=UTF-8"), (URL, None))
        self.assertEqual(self.detect(b"application/x-www-form-urlencodedx")[0], mhd.POST_PARSE_RES_FAILED_UNKNOWN_CNTN_TYPE)

    def test_multipart(self):
        self.assertEqual(self.detect(b"multipart/form-data; boundary=abc"), (MP, b"abc"))
        self.assertEqual(self.detect(b"Multipart/Form-Data;boundary=\"a b\\\"c\""), (MP, b'a b"c'))
        self.assertEqual(self.detect(b"multipart/form-data ; charset=utf-8 ; boundary=----x123"), (MP, b"----x123"))
        self.assertEqual(self.detect(b"multipart/form-data; boundary=abc; boundary=def"), (MP, b"abc"))
        self.assertEqual(self.detect(bytearray(b"multipart/form-data; boundary=\"q\\\\\"")), (MP, b"q\\"))

    def test_multipart_failures(self):
        self.assertEqual(self.detect(b"multipart/form-data")[0], mhd.POST_PARSE_RES_FAILED_HEADER_NO_BOUNDARY)
        self.assertEqual(self.detect(b"multipart/form-data; charset=x")[0], mhd.POST_PARSE_RES_FAILED_HEADER_NO_BOUNDARY)
        self.assertEqual(self.detect(b"multipart/form-data; boundary=")[0], mhd.POST_PARSE_RES_FAILED_HEADER_NO_BOUNDARY)
        self.assertEqual(self.detect(b'multipart/form-data; boundary=""')[0], mhd.POST_PARSE_RES_FAILED_HEADER_NO_BOUNDARY)
        for v in (b'multipart/form-data; boundary="abc', b"multipart/form-data x; boundary=a",
                  b"multipart/form-data; boundary", b'multipart/form-data; boundary="a"b'):
            self.assertEqual(self.detect(v)[0], mhd.POST_PARSE_RES_FAILED_HEADER_MISFORMED, v)
        self.assertEqual(self.detect(b"multipart/mixed; boundary=a")[0], mhd.POST_PARSE_RES_FAILED_UNKNOWN_CNTN_TYPE)

    def test_text_plain(self):
        self.assertEqual(self.detect(b"text/plain"), (TXT, None))
        self.assertEqual(self.detect(b"TEXT/PLAIN ; charset=utf-8"), (TXT, None))
        self.assertEqual(self.detect(b"text/plainx")[0], mhd.POST_PARSE_RES_FAILED_UNKNOWN_CNTN_TYPE)

    def test_no_or_unknown_content_type(self):
        self.assertEqual(self.detect(None)[0], mhd.POST_PARSE_RES_FAILED_NO_CNTN_TYPE)
        self.assertEqual(self.detect(None, MP)[0], mhd.POST_PARSE_RES_FAILED_NO_CNTN_TYPE)
        self.assertEqual(self.detect(b"application/json")[0], mhd.POST_PARSE_RES_FAILED_UNKNOWN_CNTN_TYPE)
        self.assertEqual(self.detect(b"")[0], mhd.POST_PARSE_RES_FAILED_UNKNOWN_CNTN_TYPE)

    def test_forced_encodings(self):
        # urlencoded and text/plain need no header; multipart needs its boundary from it
        self.assertEqual(self.detect(None, URL), (URL, None))
        self.assertEqual(self.detect(b"application/json", TXT), (TXT, None))
        self.assertEqual(self.detect(b"multipart/form-data; boundary=b", MP), (MP, b"b"))
        self.assertEqual(self.detect(b"application/x-www-form-urlencoded", MP)[0], mhd.POST_PARSE_RES_FAILED_HEADER_NOT_MPART)
        self.assertEqual(self.detect(b"multipart/form-data", MP)[0], mhd.POST_PARSE_RES_FAILED_HEADER_NO_BOUNDARY)

    def test_value_inside_a_buffer(self):
        p = PostParser()
        b = bytearray(b"Content-Type: multipart/form-data; boundary=\"x\\y\"\r\n")
        self.assertEqual((p.detect(b, 0, 14, len(b) - 2), p.boundary), (MP, b"xy"))
        self.assertEqual(p.detect(b, 0, 14, 33), mhd.POST_PARSE_RES_FAILED_HEADER_NO_BOUNDARY)

    def test_header_bytes_left_alone(self):
        v = bytearray(b'multipart/form-data; boundary="a\\"b"')
        before = bytes(v)
        self.assertEqual(self.detect(v), (MP, b'a"b'))
        self.assertEqual(bytes(v), before)

    def test_names(self):
        self.assertEqual((mhd.HTTP_POST_ENCODING_OTHER, mhd.HTTP_POST_ENCODING_FORM_URLENCODED,
                          mhd.HTTP_POST_ENCODING_MULTIPART_FORMDATA, mhd.HTTP_POST_ENCODING_TEXT_PLAIN), (0, 1, 2, 3))
        self.assertEqual((mhd.POST_PARSE_RES_OK, mhd.POST_PARSE_RES_REQUEST_EMPTY, mhd.POST_PARSE_RES_OK_BAD_TERMINATION,
                          mhd.POST_PARSE_RES_PARTIAL_INVALID_POST_FORMAT, mhd.POST_PARSE_RES_FAILED_NO_POOL_MEM,
                          mhd.POST_PARSE_RES_FAILED_UNKNOWN_CNTN_TYPE, mhd.POST_PARSE_RES_FAILED_NO_CNTN_TYPE,
                          mhd.POST_PARSE_RES_FAILED_HEADER_NO_BOUNDARY, mhd.POST_PARSE_RES_FAILED_HEADER_MISFORMED,
                          mhd.POST_PARSE_RES_FAILED_HEADER_NOT_MPART, mhd.POST_PARSE_RES_FAILED_INVALID_POST_FORMAT),
                         (0, 1, 2, 3, 60, 80, 81, 82, 83, 84, 90))


class TestReuse(unittest.TestCase):
    def test_one_parser_many_requests(self):
        p = PostParser()
        for enc, bnd, body in ((URL, None, b"a=1"), (MP, b"q", b"--q\r\n" + cd(b"m") + b"\r\n\r\nv\r\n--q--"), (TXT, None, b"t=2\r\n")):
            p.reset(enc, bnd)
            b = bytearray(body)
            evs = []
            ev = p.step(b, 0, len(b), True)
            while ev not in (DONE, ERROR):
                evs.append(ev)
                ev = p.step(b, p.pos, len(b), True)
            self.assertEqual((evs, ev, p.result), ([FIELD, DATA, FIELD_END], DONE, OK))


class TestEdges(unittest.TestCase):
    """Cases next to the usual ones (found by mutation testing: docs/mutation.md)."""

    def test_detect_an_empty_range(self):
        p = PostParser()
        v = b"multipart/form-data; boundary=x"
        self.assertEqual(p.detect(v, 0, 0, 0), mhd.POST_PARSE_RES_FAILED_UNKNOWN_CNTN_TYPE)
        self.assertEqual(p.detect(v, 0, 0, -1), MP)

    def test_text_equals_line_does_not_hold_the_body(self):
        # "=" alone on the first line is skipped as soon as its line end is seen
        body = b"=\r\na=" + b"x" * 50 + b"\r\n"
        fields, ev, r = feed(body, TXT, size=16, pieces=(8,))
        self.assertEqual((ev, r, simple(fields)), (DONE, OK, [(b"a", b"x" * 50)]))

    def test_text_equals_lines(self):
        for body, want, res in ((b"a=b\r\n=", [(b"a", b"b")], BAD_TERM),
                                (b"=\nb=c\n", [(b"b", b"c")], OK),
                                (b"=\x0bb\r\n", [(b"", b"\x0bb")], OK)):
            fields, ev, r = every_split(self, body, TXT)
            self.assertEqual((ev, r, simple(fields)), (DONE, res, want), body)
        fields, ev, r = every_split(self, b"=\r\nb=c\r\n", TXT, strict=1)
        self.assertEqual((ev, r, simple(fields)), (DONE, OK, [(b"b", b"c")]))

    def test_text_bare_lf_before_a_cr(self):
        body = b"a=1\nb=2\nc=3\r\n"
        fields, ev, r = every_split(self, body, TXT)
        self.assertEqual((ev, r, simple(fields)), (DONE, OK, [(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]))
        fields, ev, r = every_split(self, b"a=\nb=c\r\n", TXT)
        self.assertEqual(simple(fields), [(b"a", b""), (b"b", b"c")])

    def test_filename_star_forms(self):
        def one(extra):
            fields, ev, r = every_split(self, mp_body([([cd(b"it's", extra)], b"v")]), MP, b"XyZ")
            self.assertEqual((ev, r), (DONE, OK))
            return fields_of(fields)[0][1]
        self.assertIsNone(one(b"; filename*=abc"))  # no charset: not an ext-value
        self.assertIsNone(one(b"; filename*=UTF-8'abc"))  # one quote only
        self.assertEqual(one(b"; filename*=UTF-8'en'a'b"), b"a'b")  # a quote among the value-chars
        self.assertEqual(one(b"; filename*=\"UTF-8''a\\\"b\""), b'a"b')  # quoted, with an escape
        self.assertEqual(one(b"; filename*=UTF-8''first; filename*=UTF-8''second"), b"first")
        self.assertEqual(one(b"; filename*=UTF-8''a+b%2B"), b"a+b+")  # '+' is not a space here

    def test_filename_star_after_escapes_elsewhere(self):
        # %-escapes in the preamble are not decoded: only the value's own are
        body = mp_body([([cd(b"f", b"; filename*=UTF-8''x%41")], b"v")], preamble=b"%41%42\r\n")
        fields, ev, r = every_split(self, body, MP, b"XyZ")
        self.assertEqual(fields_of(fields), [(b"f", b"xA", None, None, b"v")])

    def test_boundary_backslashes(self):
        p = PostParser()
        self.assertEqual((p.detect(b"multipart/form-data; boundary=a\\b"), p.boundary), (MP, b"a\\b"))  # a token
        self.assertEqual((p.detect(b'multipart/form-data; boundary="\\xy"'), p.boundary), (MP, b"xy"))

    def test_vectors_found_by_mutation_testing(self):
        # (body, encoding, buffer size, strictness, piece sizes) -> (fields, event, result):
        # inputs on which a surviving mutant differed (docs/mutation.md), checked by hand
        F90, F60, P3 = mhd.POST_PARSE_RES_FAILED_INVALID_POST_FORMAT, mhd.POST_PARSE_RES_FAILED_NO_POOL_MEM, mhd.POST_PARSE_RES_PARTIAL_INVALID_POST_FORMAT
        for args, want in (
                # an earlier name is decoded once: "%4A" left by "%%4%41" is not decoded again
                ((b"bx\n%%4%41&+x&%2\r\n%4b", URL, 40, 1, (6, 30)),
                 ([[b"bx\n%%4A", None, None, None, None, True], [b" x", None, None, None, None, True],
                   [b"%2\r\nK", None, None, None, None, True]], DONE, OK)),
                # a name longer than the buffer, after a value that ended in "%%"
                ((b"b%%==&5%zz%41%2x", URL, 8, 0, (1, 3)), ([[b"b%%", None, None, None, b"=", True]], ERROR, F60)),
                # text/plain: bare LFs before a CR that has no LF
                ((b"\n%\n%\r%4\n\r%x", TXT, 40, -2, (6, 26)),
                 ([[b"%", None, None, None, None, True], [b"%", None, None, None, None, False]], ERROR, P3)),
                ((b"%4\na%41a\r+b", TXT, 16, 1, (9, 22)), ([[b"%4", None, None, None, None, False]], ERROR, P3)),
                ((b"\n\r%zz= %41", TXT, 40, -3, (7, 24)), ([], ERROR, F90))):
            body, enc, size, strict, pieces = args
            self.assertEqual(feed(body, enc, None, size, pieces, strict), want, body)


def run_to_end(p, b, pos, end):
    """Step p over b[pos:end] (the final bytes) to DONE or ERROR. Returns (names and data
    pieces in order, the last event)."""
    got = []
    while True:
        ev = p.step(b, pos, end, True)
        if ev == FIELD:
            got.append(bytes(b[p.sp[0]:p.sp[1]]))
        elif ev == DATA:
            got.append(bytes(b[p.data_start:p.data_end]))
        elif ev in (DONE, ERROR):
            return got, ev
        pos = p.pos


class TestMoreEdges(unittest.TestCase):
    """More cases next to the usual ones, from mutation testing (docs/mutation.md)."""

    def mp(self, body, strict=0):
        fields, ev, r = every_split(self, body, MP, b"XyZ", strict=strict)
        return fields_of(fields), ev, r

    def test_plus_runs(self):
        fields, ev, r = every_split(self, b"a+b+c+d=x++y", URL)
        self.assertEqual(simple(fields), [(b"a b c d", b"x  y")])

    def test_part_header_values(self):
        body = mp_body([([cd(b"a"), b"Content-Type:text/plain", b"Content-Transfer-Encoding:8bit"], b"1"),
                        ([cd(b"b"), b"Content-Type:", b"content-transfer-encoding:"], b"2"),
                        ([cd(b"c"), b"X-Other-Header-That-Is-Long: 1"], b"3")])
        self.assertEqual(self.mp(body), ([(b"a", None, b"text/plain", b"8bit", b"1"), (b"b", None, b"", b"", b"2"),
                                          (b"c", None, None, None, b"3")], DONE, OK))

    def test_second_disposition_with_junk(self):
        body = mp_body([([cd(b"a"), b"Content-Disposition: form-data x"], b"1")])
        self.assertEqual(feed(body, MP, b"XyZ")[1:], (ERROR, mhd.POST_PARSE_RES_FAILED_INVALID_POST_FORMAT))

    def test_bare_lf_or_cr_in_part_headers(self):
        bare = b"--XyZ\r\n" + cd(b"a") + b"\n\r\n1\r\n--XyZ--"
        for level in (-1, 0, 1):
            self.assertEqual(feed(bare, MP, b"XyZ", strict=level)[1:], (ERROR, mhd.POST_PARSE_RES_FAILED_INVALID_POST_FORMAT))
        self.assertEqual(self.mp(bare, -2), ([(b"a", None, None, None, b"1")], DONE, OK))
        body = b"--XyZ\r\n" + cd(b"a") + b"\r\nContent-Type: a\rb\r\n\r\n1\r\n--XyZ--"
        self.assertEqual(feed(body, MP, b"XyZ")[1:], (ERROR, mhd.POST_PARSE_RES_FAILED_INVALID_POST_FORMAT))

    def test_delimiter_line_ends(self):
        rest = cd(b"a") + b"\r\n\r\n1\r\n--XyZ--"
        for level in (-1, 0, 1):  # a bare LF after the delimiter
            self.assertEqual(feed(b"--XyZ\n" + rest, MP, b"XyZ", strict=level)[1:],
                             (ERROR, mhd.POST_PARSE_RES_FAILED_INVALID_POST_FORMAT))
        # a CR in the padding that is not the one before the LF
        for pad in (b" \r \r\n", b"\r\r\n", b"\rx\r\n"):
            self.assertEqual(feed(b"--XyZ" + pad + rest, MP, b"XyZ")[1:],
                             (ERROR, mhd.POST_PARSE_RES_FAILED_INVALID_POST_FORMAT), pad)

    def test_body_ends_in_the_padding(self):
        head = b"--XyZ\r\n" + cd(b"a") + b"\r\n\r\n1\r\n--XyZ"
        for tail in (b" ", b"  \r"):
            self.assertEqual(self.mp(head + tail), ([(b"a", None, None, None, b"1")], DONE, BAD_TERM), tail)
        for tail in (b" \r \r", b"\rx"):  # a CR with more after it, and no LF
            fields, ev, r = feed(head + tail, MP, b"XyZ")
            self.assertEqual((ev, r), (ERROR, mhd.POST_PARSE_RES_PARTIAL_INVALID_POST_FORMAT), tail)

    def test_disposition_parameters(self):
        body = mp_body([([cd(b"a+b", b"; size=12; filenamex=UTF-8''evil; filename=\"c+d.txt\"")], b"1")])
        self.assertEqual(self.mp(body), ([(b"a+b", b"c+d.txt", None, None, b"1")], DONE, OK))
        body = mp_body([([b"Content-Disposition: form-data; name=a\\b"], b"1")])  # a token keeps its backslash
        self.assertEqual(self.mp(body), ([(b"a\\b", None, None, None, b"1")], DONE, OK))
        # %-escapes in the preamble are not decoded: only the name's own are
        body = mp_body([([cd(b"%41", b"; filename=\"%42\"")], b"1")], preamble=b"%43%44\r\n")
        self.assertEqual(self.mp(body), ([(b"A", b"B", None, None, b"1")], DONE, OK))

    def test_part_header_whitespace(self):
        body = mp_body([([cd(b"a"), b"Content-Type:\ttext/plain\t", b"Content-Transfer-Encoding: \t8bit \t"], b"1")])
        self.assertEqual(self.mp(body), ([(b"a", None, b"text/plain", b"8bit", b"1")], DONE, OK))

    def test_detect_parameters(self):
        p = PostParser()
        for v, want in ((b"multipart/form-datax; boundary=b", mhd.POST_PARSE_RES_FAILED_UNKNOWN_CNTN_TYPE),
                        (b"multipart/form-data-x; boundary=b", mhd.POST_PARSE_RES_FAILED_UNKNOWN_CNTN_TYPE),
                        (b"multipart/form-data; boundary=b;", MP), (b"multipart/form-data; boundary=b; ", MP),
                        (b"multipart/form-data; boundary=b, text/plain", MP),
                        (b"multipart/form-data; x; boundary=b", mhd.POST_PARSE_RES_FAILED_HEADER_MISFORMED),
                        (b"multipart/form-data; x, boundary=b", mhd.POST_PARSE_RES_FAILED_HEADER_MISFORMED),
                        (b"multipart/form-data; boundary", mhd.POST_PARSE_RES_FAILED_HEADER_MISFORMED),
                        (b"multipart/form-data; boundary=ab cd", mhd.POST_PARSE_RES_FAILED_HEADER_MISFORMED),
                        (b"multipart/form-data; boundary=ab\tcd", mhd.POST_PARSE_RES_FAILED_HEADER_MISFORMED)):
            self.assertEqual(p.detect(v), want, v)
            if want == MP:
                self.assertEqual(p.boundary, b"b", v)
        # a value shorter than the types, at the end of a buffer
        b = bytearray(b"Content-Type: text")
        self.assertEqual(p.detect(b, 0, 14, len(b)), mhd.POST_PARSE_RES_FAILED_UNKNOWN_CNTN_TYPE)

    def test_body_at_an_offset(self):
        # the caller may keep other bytes before the body: the parser only reads from pos on
        body = mp_body([([cd(b"a")], b"1")])
        p = PostParser()
        p.reset(MP, b"XyZ")
        b = bytearray(b"12345" + body)
        self.assertEqual(run_to_end(p, b, 5, len(b)) + (p.result,), ([b"a", b"1"], DONE, OK))

    def test_long_preamble_through_a_small_buffer(self):
        body = mp_body([([cd(b"a")], b"1")], preamble=b"p" * 100 + b"\r\n")
        self.assertEqual(feed(body, MP, b"XyZ", 48, (7,)), ([[b"a", None, None, None, b"1", True]], DONE, OK))

    def test_a_cut_first_delimiter_alone(self):
        for body in (b"--X", b"--XyZ"[:4]):
            self.assertEqual(feed(body, MP, b"XyZ"), ([], DONE, OK), body)

    def test_nothing_read_past_end(self):
        # the buffer holds a whole body, but only its first bytes were given: none past them count
        whole = b"pre\r\n--XyZ\r\n" + cd(b"a") + b"\r\n\r\nvalue\r\n--XyZ--"
        for end in range(1, len(whole)):
            p = PostParser()
            p.reset(MP, b"XyZ")
            b = bytearray(whole)
            pos = 0
            while True:
                ev = p.step(b, pos, end, False)
                self.assertTrue(pos <= p.pos <= end, (end, ev, p.pos))
                if ev == DATA:
                    self.assertTrue(p.data_end <= end)
                if ev in (NEED_MORE, DONE, ERROR):
                    break
                pos = p.pos

    def test_reset_defaults(self):
        p = PostParser()
        p.reset(TXT)  # level 0: a bare LF ends a line
        b = bytearray(b"a=1\nb=2\n")
        self.assertEqual(run_to_end(p, b, 0, len(b)) + (p.result,), ([b"a", b"1", b"b", b"2"], DONE, OK))

    def test_the_end_stays(self):
        for body, enc, end in ((b"a=1", URL, DONE), (b"a=1\rb", TXT, ERROR)):
            p = PostParser()
            p.reset(enc)
            b = bytearray(body)
            ev = run_to_end(p, b, 0, len(b))[1]
            res = p.result
            self.assertEqual(ev, end)
            self.assertEqual((p.step(b, p.pos, len(b), True), p.result), (end, res))  # asked again: the same

    def test_names_and_ampersands(self):
        for body, want in ((b"a&b&c=1", [(b"a", None), (b"b", None), (b"c", b"1")]),
                           (b"=v&x", [(b"", b"v"), (b"x", None)])):
            fields, ev, r = every_split(self, body, URL)
            self.assertEqual((simple(fields), ev, r), (want, DONE, OK), body)

    def test_escape_cut_by_the_end(self):
        # "%4" ends what was given; the "1" after it in the buffer was not given
        p = PostParser()
        p.reset(URL)
        b = bytearray(b"a=%41")
        self.assertEqual(p.step(b, 0, 4, True), FIELD)
        self.assertEqual(p.step(b, p.pos, 4, True), DATA)
        self.assertEqual(bytes(b[p.data_start:p.data_end]), b"%4")

    def test_filename_star_with_a_quote_after_it(self):
        body = mp_body([([cd(b"f", b"; filename*=UTF-8'abc"), b"Content-Type: it's"], b"v")])
        self.assertEqual(self.mp(body), ([(b"f", None, b"it's", None, b"v")], DONE, OK))

    def test_delimiter_needs_its_line_break(self):
        for level in (-2, 0):
            # "--XyZ" inside a value, or right after the headers' empty line, is data
            body = b"--XyZ\r\n" + cd(b"a") + b"\r\n\r\nv--XyZ\r\n--XyZ--"
            self.assertEqual(self.mp(body, level), ([(b"a", None, None, None, b"v--XyZ")], DONE, OK), level)
            body = b"--XyZ\r\n" + cd(b"a") + b"\r\n\r\n--XyZ--"
            self.assertEqual(self.mp(body, level), ([(b"a", None, None, None, b"--XyZ--")], DONE, BAD_TERM), level)


    def test_bytes_past_end_are_not_read(self):
        # the buffer past `end` holds other bytes (a closing delimiter) than the ones that come
        # next: a parser that read past `end` would take them
        whole = b"pre\r\n--XyZ\r\n" + cd(b"a") + b"\r\n\r\nv--XyZ value\r\n--XyZ--"
        stale = b"\r\n--XyZ--" * 8
        for end in range(1, len(whole)):
            p = PostParser()
            p.reset(MP, b"XyZ")
            b = bytearray(whole[:end] + stale)
            got = []
            pos, n, final = 0, end, False
            while True:
                ev = p.step(b, pos, n, final)
                if ev == NEED_MORE:
                    self.assertFalse(final)
                    b[n:] = whole[n:]  # the real rest arrives
                    n, final = len(whole), True
                elif ev == DATA:
                    got.append(bytes(b[p.data_start:p.data_end]))
                elif ev in (DONE, ERROR):
                    break
                pos = p.pos
            self.assertEqual((b"".join(got), ev, p.result), (b"v--XyZ value", DONE, OK), end)

    def test_first_delimiter_cut_at_an_offset(self):
        body = mp_body([([cd(b"a")], b"1")])
        p = PostParser()
        p.reset(MP, b"XyZ")
        b = bytearray(b"12345" + body)
        self.assertEqual(p.step(b, 5, 9, False), NEED_MORE)  # "--Xy": too few bytes to tell
        self.assertEqual(run_to_end(p, b, p.pos, len(b)) + (p.result,), ([b"a", b"1"], DONE, OK))
