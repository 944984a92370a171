"""Sans-I/O tests of chunked.chunk_step, the parser of chunked request bodies: each body is
fed whole and one byte at a time, and both must agree. Runs on MicroPython too."""
from testing import unittest, request_over
from mhd_micro.parser import MORE
from mhd_micro.chunked import chunk_step, CH_DONE, CH_DATA_CRLF


def _decode(raw, grow):
    """(status, data): 0 and the body's data when raw is a whole chunked body, the error
    status when its framing is broken, MORE when it is incomplete. `grow`: the bytes are
    made visible one at a time, as a slow client would send them."""
    r, b, n = request_over(raw)
    data = b""
    pos = 0
    end = 1 if grow else n
    while r.chunk_left != CH_DONE:
        p = chunk_step(r, b, pos, end, 0)
        if p < MORE:  # broken: minus the status
            return -p, data
        if p == MORE or p == pos and r.data_end == pos:
            if end == n:
                return MORE, data
            end += 1
            continue
        data += bytes(b[r.data_start:r.data_end])
        pos = p
    return 0, data


def decode(raw):
    whole = _decode(raw, False)
    assert _decode(raw, True) == whole, raw
    return whole


class TestChunkedBody(unittest.TestCase):
    def test_chunks_and_last_chunk(self):
        self.assertEqual(decode(b"5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\n"), (0, b"helloabc"))

    def test_data_must_end_with_crlf(self):
        # the chunk is longer than its size says: the CRLF after its data is missing
        self.assertEqual(decode(b"5\r\nhelloXX\r\n0\r\n\r\n")[0], 400)
        self.assertEqual(decode(b"5\r\nhello0\r\n\r\n")[0], 400)

    def test_bad_size_line(self):
        self.assertEqual(decode(b"x\r\nhello\r\n0\r\n\r\n")[0], 400)

    def test_incomplete(self):
        self.assertEqual(decode(b"5\r\nhel")[0], MORE)


def stream(raw, strict=0, piece=1 << 20, size=256):
    """Feed raw as an engine does: through a buffer of `size` bytes whose unread part is moved
    to its start after each step, `piece` bytes arriving at a time, and the bytes past what has
    arrived are garbage ('?'), so a step that reads too far takes them. Returns (status, data,
    request, buffer): the status is 0, MORE, or the error status (chunk_step returned minus it)."""
    r, b, _ = request_over(b"", size)
    b[:] = b"?" * size
    n = got = 0  # bytes in the buffer; bytes of raw that have arrived
    data = b""
    while r.chunk_left != CH_DONE:
        p = chunk_step(r, b, 0, n, strict)
        if p < MORE:
            return -p, data, r, b
        data += bytes(b[r.data_start:r.data_end])
        if p == MORE or p == 0:
            if got == len(raw):
                return MORE, data, r, b
            k = min(piece, len(raw) - got)
            b[n:n + k] = raw[got:got + k]
            n += k
            got += k
            continue
        b[0:n - p] = b[p:n]  # the rest moves to the start; the bytes after it stay as they were
        n -= p
    return 0, data, r, b


def footers(r, b):
    """The trailer's fields [(name, value)] as chunk_step kept them in r.hdr."""
    out = []
    for k in range(r.nhdr, r.nhdr + r.nfooters):
        h = r.hdr
        out.append((bytes(b[h[4 * k]:h[4 * k + 1]]), bytes(b[h[4 * k + 2]:h[4 * k + 3]])))
    return out


def status(raw, strict=0):
    """The status of raw streamed whole and one byte at a time (both must agree)."""
    st = stream(raw, strict)[0]
    assert stream(raw, strict, 1)[0] == st, raw
    return st


class TestChunkedStream(unittest.TestCase):
    """chunk_step as the engine drives it: data in pieces, a buffer whose consumed bytes go."""

    def test_data_in_pieces_is_exact(self):
        raw = b"a\r\n0123456789\r\n3\r\nabc\r\n0\r\n\r\n"
        for piece in (1, 2, 3, 5, 7, len(raw)):
            st, data, r, _ = stream(raw, 0, piece)
            self.assertEqual((st, data), (0, b"0123456789abc"), piece)

    def test_chunk_left_counts_down(self):
        r, b, n = request_over(b"5\r\nhello\r\n0\r\n\r\n")
        p = chunk_step(r, b, 0, 3, 0)
        self.assertEqual((p, r.chunk_left), (3, 5))
        self.assertEqual(chunk_step(r, b, 3, 5, 0), 5)  # two bytes of data
        self.assertEqual((r.data_start, r.data_end, r.chunk_left), (3, 5, 3))
        self.assertEqual(chunk_step(r, b, 5, n, 0), 8)  # the last three, not more
        self.assertEqual((r.data_start, r.data_end, r.chunk_left), (5, 8, CH_DATA_CRLF))

    def test_hex_sizes(self):
        for size in (b"9", b"09", b"a", b"A", b"f", b"F", b"0f", b"1F", b"10"):
            n = int(size, 16)
            raw = size + b"\r\n" + b"x" * n + b"\r\n0\r\n\r\n"
            self.assertEqual(stream(raw)[:2], (0, b"x" * n), size)

    def test_bytes_next_to_the_hex_digits(self):
        # '/' and ':' around the digits, '@' ('`' once folded to lower case) and 'G' around the letters
        for c in b"/:@`gG":
            self.assertEqual(status(bytes([c]) + b"\r\nx\r\n0\r\n\r\n"), 400, c)
            self.assertEqual(status(b"1" + bytes([c]) + b"\r\nx\r\n0\r\n\r\n"), 400, c)

    def test_at_most_16_hex_digits(self):
        self.assertEqual(stream(b"0" * 15 + b"3\r\nabc\r\n0\r\n\r\n")[:2], (0, b"abc"))
        self.assertEqual(status(b"0" * 16 + b"3\r\nabc\r\n0\r\n\r\n"), 413)

    def test_bare_lf(self):
        # taken at level 0 (the line ends after the LF), refused above
        raw = b"3\nabc\n0\n\n"
        self.assertEqual(stream(raw)[:2], (0, b"abc"))
        self.assertEqual(stream(b"3\nabc\r\n0\r\n\r\n", 0, 1)[:2], (0, b"abc"))
        self.assertEqual(status(raw, 1), 400)
        self.assertEqual(status(b"3\r\nabc\n0\r\n\r\n", 1), 400)
        self.assertEqual(status(b"3\r\nabc\r\n0\r\nX: y\n\r\n", 1), 400)

    def test_chunk_extensions(self):
        self.assertEqual(stream(b"3;a=b;c\r\nabc\r\n0;x\r\n\r\n")[:2], (0, b"abc"))
        for level in (0, 1):
            self.assertEqual(stream(b"3 ;a\r\nabc\r\n0\t;x\r\n\r\n", level)[:2], (0, b"abc"), level)
        for level in (2, 3):  # BWS before ';' is refused
            self.assertEqual(status(b"3 ;a\r\nabc\r\n0\r\n\r\n", level), 400)
        for bad in (b"3 ", b"3 a", b"3\t", b"3;a\x00b", b"3;a\rb"):
            self.assertEqual(status(bad + b"\r\nabc\r\n0\r\n\r\n"), 400, bad)

    def test_trailer_fields_are_kept(self):
        st, data, r, b = stream(b"3\r\nabc\r\n0\r\nX-Sum:  12 \t\r\nY:z\r\nE:\r\n\r\n")
        self.assertEqual((st, data), (0, b"abc"))
        self.assertEqual(footers(r, b), [(b"X-Sum", b"12"), (b"Y", b"z"), (b"E", b"")])
        st, data, r, b = stream(b"0\nA: 1\nB: 2\n\n")  # bare LF at level 0
        self.assertEqual(footers(r, b), [(b"A", b"1"), (b"B", b"2")])
        st, data, r, b = stream(b"0\r\nA:b:c\r\n\r\n", 0, 1)
        self.assertEqual(footers(r, b), [(b"A", b"b:c")])

    def test_trailer_after_head_fields(self):
        r, b, n = request_over(b"0\r\nT: v\r\n\r\n")
        r.nhdr = 2  # the head's two fields are in hdr[0:8]
        self.assertEqual(chunk_step(r, b, 0, n, 0), 3)
        self.assertEqual(chunk_step(r, b, 3, n, 0), n)
        self.assertEqual((r.chunk_left, r.nfooters), (CH_DONE, 1))
        self.assertEqual(list(r.hdr[8:12]), [3, 4, 6, 7])

    def test_bad_trailer_lines(self):
        for line in (b"no colon", b": empty name", b"X: a\x00b", b"X: a\rb"):
            self.assertEqual(status(b"0\r\n" + line + b"\r\n\r\n"), 400, line)
        # a NUL or a bare CR is made a space below level 0
        st, data, r, b = stream(b"0\r\nX: a\x00b\r\n\r\n", -1)
        self.assertEqual(footers(r, b), [(b"X", b"a b")])

    def test_trailer_fields_limit(self):
        # request_over's index has room for 32 fields
        ok = b"0\r\n" + b"A: b\r\n" * 32 + b"\r\n"
        st, data, r, b = stream(ok, 0, 1 << 20, 512)
        self.assertEqual((st, r.nfooters), (0, 32))
        self.assertEqual(stream(b"0\r\n" + b"A: b\r\n" * 33 + b"\r\n", 0, 1 << 20, 512)[0], 431)

    def test_incomplete_trailer(self):
        self.assertEqual(status(b"0\r\nX: y\r\n"), MORE)
        self.assertEqual(status(b"0\r\nX: y"), MORE)

    def test_crlf_after_data_at_the_buffer_start(self):
        # the data was consumed and the buffer emptied: the CRLF after it is at offset 0
        r, b, n = request_over(b"\r\n0\r\n\r\n")
        r.chunk_left = CH_DATA_CRLF
        self.assertEqual(chunk_step(r, b, 0, n, 0), 2)
        self.assertEqual(r.chunk_left, -1)


class TestTransferEncodingField(unittest.TestCase):
    def head(self, fields, strict=0):
        from mhd_micro.parser import parse_head
        r, b, n = request_over(b"POST / HTTP/1.1\r\nHost: h\r\n" + fields + b"\r\n")
        return parse_head(r, b, n, strict), r

    def test_codings(self):
        from mhd_micro.parser import F_CHUNKED
        st, r = self.head(b"transfer-encoding: CHUNKED\r\n")
        self.assertEqual(st, 0)
        self.assertTrue(r.flags & F_CHUNKED)
        self.assertEqual(self.head(b"Transfer-Encoding: gzip\r\n")[0], 501)
        # chunked last after a coding we lack: 501 (RFC 9112 section 6.1); chunked not last or twice: 400
        self.assertEqual(self.head(b"Transfer-Encoding: gzip, chunked\r\n")[0], 501)
        self.assertEqual(self.head(b"Transfer-Encoding: gzip ,\tChunked\r\n")[0], 501)
        self.assertEqual(self.head(b"Transfer-Encoding: chunked, gzip\r\n")[0], 400)
        self.assertEqual(self.head(b"Transfer-Encoding: chunked,gzip, chunked\r\n")[0], 400)
        self.assertEqual(self.head(b"Transfer-Encoding: gzip, chunked, chunked\r\n")[0], 400)
        self.assertEqual(self.head(b"Transfer-Encoding: gzip, br\r\n")[0], 501)
        self.assertEqual(self.head(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")[0], 400)

    def test_only_its_own_value_is_read(self):
        # a "chunked" token in the field before must not count
        self.assertEqual(self.head(b"X: a, chunked, b\r\nTransfer-Encoding: gzip\r\n")[0], 501)

    def test_other_names_of_its_length(self):
        # 17 letters starting with 't', as the parser picks the field: not Transfer-Encoding
        st, r = self.head(b"Transfer-Encodinx: chunked\r\n")
        self.assertEqual((st, r.flags & 64), (0, 0))  # 64: F_HAS_TE


class TestMoreChunkedEdges(unittest.TestCase):
    """More cases next to the usual ones, from mutation testing (docs/mutation.md)."""

    def test_colon_after_the_digits(self):
        # ':' follows '9' in ASCII: it is not a digit, whatever line follows
        self.assertEqual(status(b"1:\r\n0\r\n\r\n"), 400)
        self.assertEqual(status(b":\r\n0\r\n\r\n"), 400)

    def test_extension_without_bws_at_every_level(self):
        for level in range(-3, 4):
            self.assertEqual(stream(b"3;a=b\r\nabc\r\n0;c\r\n\r\n", level)[:2], (0, b"abc"), level)

    def test_trailer_at_strict_levels(self):
        for level in (1, 2, 3):
            st, data, r, b = stream(b"0\r\nA: 1\r\nB: 2\r\n\r\n", level)
            self.assertEqual((st, footers(r, b)), (0, [(b"A", b"1"), (b"B", b"2")]), level)

    def test_trailer_values_and_lines(self):
        st, data, r, b = stream(b"0\r\nA:\t1\r\nB: 2 \r\n\r\n")
        self.assertEqual(footers(r, b), [(b"A", b"1"), (b"B", b"2")])
        self.assertEqual(status(b"0\r\nnocolon\r\nX: y\r\n\r\n"), 400)  # the colon of the next line does not count
        # a NUL made a space below level 0 changes nothing in the lines after it
        st, data, r, b = stream(b"0\r\nX: a\x00b\r\nY: c\r\n\r\n", -1)
        self.assertEqual((st, footers(r, b)), (0, [(b"X", b"a b"), (b"Y", b"c")]))

    def test_trailer_writer_fits_exactly(self):
        from mhd_micro.chunked import trailer
        for size, out in ((13, b"0\r\nX-A: 1\r\n\r\n"), (12, b"0\r\n\r\n")):
            b = bytearray(size)
            end = trailer(b, 0, [("X-A", "1")])
            self.assertEqual((bytes(b[:end]), len(b)), (out, size), size)
