"""Sans-I/O tests of chunked.chunk_step, the parser of chunked request bodies: each body is
fed whole and one byte at a time, and both must agree. Runs on MicroPython too."""
from testing import unittest, request_over
from mhd_micro.parser import MORE
from mhd_micro.chunked import chunk_step, CHUNK_BROKEN, CH_DONE


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
        if p == CHUNK_BROKEN:
            return r.error, data
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
