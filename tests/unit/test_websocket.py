"""The WebSocket codec without sockets (websocket.py, RFC 6455): the handshake's checks, the
accept key and the subprotocol choice; the frame decoder fed whole, split at every byte and one
byte at a time, with every rule of section 5 it enforces and the close code each breach gets;
UTF-8 across pieces and fragments; close frames; the server's frame writers. Runs on
MicroPython too."""
from testing import unittest
from mhd_micro import websocket as ws

KEY = b"\x37\xfa\x21\x3d"  # RFC 6455 section 5.7's masking key


def frame(op, payload=b"", fin=True, key=KEY, rsv=0, masked=True, form=None):
    """A client frame. form: force the length's form (7, 16 or 64 bits), minimal or not."""
    n = len(payload)
    form = form or (7 if n < 126 else 16 if n < 65536 else 64)
    h = bytearray([(0x80 if fin else 0) | rsv | op])
    m = 0x80 if masked else 0
    if form == 7:
        h.append(m | n)
    elif form == 16:
        h += bytes([m | 126, n >> 8, n & 255])
    else:
        h.append(m | 127)
        h += bytes([(n >> s) & 255 for s in range(56, -8, -8)])
    if not masked:
        return bytes(h) + payload
    p = bytearray(payload)
    for i in range(n):
        p[i] ^= key[i & 3]
    return bytes(h + key + p)


def close_frame(code=None, reason=b""):
    return frame(ws.OP_CLOSE, b"" if code is None else bytes([code >> 8, code & 255]) + reason)


NAMES = {ws.OP_TEXT: "text", ws.OP_BINARY: "binary", ws.OP_PING: "ping", ws.OP_PONG: "pong"}


def feed_all(d, chunks, size=None):
    """Feed the chunks one by one through one reused buffer, as a connection reads them.
    Returns the raw events: ("text"|"binary", payload, first, last), ("ping"|"pong", payload),
    ("close", code, reason), ("error", code); each ERROR or CLOSE ends the list."""
    size = size or max([len(c) for c in chunks] + [1])
    b = bytearray(size)
    out = []
    for c in chunks:
        b[0:len(c)] = c
        pos, end = 0, len(c)
        while True:
            ev = d.feed(b, pos, end)
            assert d.pos <= end
            pos = d.pos
            if ev == ws.MORE:
                assert pos == end  # MORE: every byte was taken
                break
            if ev == ws.ERROR:
                out.append(("error", d.error))
                return out
            if ev == ws.OP_CLOSE:
                out.append(("close", d.code, bytes(d.ctl[2:d.at])))
                return out
            if ev in (ws.OP_PING, ws.OP_PONG):
                out.append((NAMES[ev], bytes(d.ctl[:d.at])))
            else:
                out.append((NAMES[ev], bytes(b[d.start:d.pos]), d.first, not d.msg))
    return out


def messages(events):
    """The events with each message's pieces joined, checking the first/last flags: only the
    first piece is first, only the final one last."""
    out = []
    cur = None
    for e in events:
        if e[0] in ("text", "binary"):
            if cur is None:
                assert e[2], e  # first
                cur = [e[0], e[1]]
            else:
                assert not e[2] and cur[0] == e[0], e
                cur[1] += e[1]
            if e[3]:
                out.append(tuple(cur))
                cur = None
        else:
            if cur is not None and e[0] in ("error", "close"):
                out.append(("partial",) + tuple(cur))
                cur = None
            out.append(e)
    if cur is not None:
        out.append(("partial",) + tuple(cur))
    return out


def split_at(data, i):
    return [data[:i], data[i:]] if 0 < i < len(data) else [data]


def bytewise(data):
    return [data[i:i + 1] for i in range(len(data))]


def decode(data, max_size=1 << 20, rsv=0):
    return messages(feed_all(ws.Decoder(max_size, rsv), [data]))


class TestHandshake(unittest.TestCase):
    def test_accept_key_of_the_rfc_example(self):  # section 1.3
        self.assertEqual(ws.accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        self.assertEqual(ws.accept_key("dGhlIHNhbXBsZSBub25jZQ=="), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")

    def test_a_valid_request_goes_on(self):
        self.assertEqual(ws.handshake_status(b"websocket", b"dGhlIHNhbXBsZSBub25jZQ==", b"13"), 101)
        self.assertEqual(ws.handshake_status("WebSocket", "dGhlIHNhbXBsZSBub25jZQ==", "13"), 101)
        self.assertEqual(ws.handshake_status(b"foo/2, websocket", b"AAAAAAAAAAAAAAAAAAAAAA==", b" 13 "), 101)
        self.assertEqual(ws.handshake_status(b"h2c,websocket", b"AAAAAAAAAAAAAAAAAAAAAA==", b"13"), 101)

    def test_not_a_websocket_upgrade_is_400(self):
        key = b"dGhlIHNhbXBsZSBub25jZQ=="
        self.assertEqual(ws.handshake_status(None, key, b"13"), 400)
        self.assertEqual(ws.handshake_status(b"h2c", key, b"13"), 400)
        self.assertEqual(ws.handshake_status(b"websockets", key, b"13"), 400)

    def test_a_bad_key_is_400(self):
        for key in (None, b"", b"dGhlIHNhbXBsZSBub25jZQ", b"dGhlIHNhbXBsZSBub25jZQ=", b"dGhlIHNhbXBsZSBub25jZQ===",
                    b"dGhlIHNhbXBsZSBub25jZQA=", b"dGhlIHNhbXBsZSBub25j!Q==", b"dGhlIHNhbXBsZSBub25jZXM=",
                    b"dGhlIHNhbXBsZSBub25jZXMAAA=="):
            self.assertEqual(ws.handshake_status(b"websocket", key, b"13"), 400, key)

    def test_another_version_is_426_with_the_version_field(self):  # section 4.4
        key = b"dGhlIHNhbXBsZSBub25jZQ=="
        for v in (None, b"", b"8", b"12", b"14", b"13, 8"):
            self.assertEqual(ws.handshake_status(b"websocket", key, v), 426, v)
        self.assertEqual(ws.VERSION_FIELD, (b"Sec-WebSocket-Version", b"13"))

    def test_subprotocol_choice_follows_the_server_preference(self):
        self.assertEqual(ws.choose_subprotocol(b"chat, superchat", ("superchat", "chat")), "superchat")
        self.assertEqual(ws.choose_subprotocol("chat,superchat", (b"chat",)), b"chat")
        self.assertEqual(ws.choose_subprotocol(b"chat", ("mqtt",)), None)
        self.assertEqual(ws.choose_subprotocol(None, ("chat",)), None)
        self.assertEqual(ws.choose_subprotocol(b"Chat", ("chat",)), None)  # exact match


class TestFrames(unittest.TestCase):
    def test_the_rfc_examples(self):  # section 5.7
        self.assertEqual(decode(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"), [("text", b"Hello")])
        self.assertEqual(decode(frame(1, b"Hel", fin=False) + frame(0, b"lo")), [("text", b"Hello")])
        self.assertEqual(decode(frame(9, b"Hello")), [("ping", b"Hello")])
        self.assertEqual(decode(frame(10, b"Hello")), [("pong", b"Hello")])
        self.assertEqual(decode(frame(2, bytes(256))), [("binary", bytes(256))])
        self.assertEqual(decode(frame(2, bytes(65536))), [("binary", bytes(65536))])

    def test_every_length_form_and_its_bounds(self):
        for n in (0, 1, 125, 126, 127, 65535, 65536, 70000):
            data = (bytes(range(256)) * (n // 256 + 1))[:n]
            self.assertEqual(decode(frame(2, data)), [("binary", data)], n)

    def test_non_minimal_lengths_are_accepted(self):
        self.assertEqual(decode(frame(1, b"abc", form=16)), [("text", b"abc")])
        self.assertEqual(decode(frame(1, b"abc", form=64)), [("text", b"abc")])
        self.assertEqual(decode(frame(2, bytes(300), form=64)), [("binary", bytes(300))])

    def test_the_64_bit_length_must_have_its_top_bit_clear(self):
        f = bytearray(frame(2, b"x", form=64))
        f[2] |= 0x80
        self.assertEqual(decode(bytes(f)), [("error", 1002)])

    def test_a_stream_split_anywhere_decodes_the_same(self):
        stream = (frame(1, b"fragmented ", fin=False) + frame(9, b"ping!") + frame(0, "t\u00e9xt \u20ac ".encode(), fin=False)
                  + frame(0, b"end") + frame(2, bytes(range(256)) * 2) + frame(10, b"") + frame(1, b"")
                  + frame(1, b"x" * 200, form=64) + close_frame(1000, b"bye"))
        want = [("ping", b"ping!"), ("text", "fragmented t\u00e9xt \u20ac end".encode()), ("binary", bytes(range(256)) * 2),
                ("pong", b""), ("text", b""), ("text", b"x" * 200), ("close", 1000, b"bye")]
        self.assertEqual(decode(stream), want)
        for i in range(len(stream) + 1):
            self.assertEqual(messages(feed_all(ws.Decoder(), split_at(stream, i))), want, i)
        self.assertEqual(messages(feed_all(ws.Decoder(), bytewise(stream))), want)

    def test_a_message_larger_than_the_buffer_comes_in_pieces(self):
        data = bytes([i * 7 & 255 for i in range(1000)])
        stream = frame(2, data[:600], fin=False) + frame(0, data[600:])
        chunks = [stream[i:i + 64] for i in range(0, len(stream), 64)]
        ev = feed_all(ws.Decoder(), chunks)
        self.assertGreater(len(ev), 10)
        self.assertTrue(all(len(e[1]) <= 64 for e in ev))
        self.assertEqual([e[2] for e in ev], [True] + [False] * (len(ev) - 1))
        self.assertEqual([e[3] for e in ev], [False] * (len(ev) - 1) + [True])
        self.assertEqual(messages(ev), [("binary", data)])

    def test_pieces_are_unmasked_in_place_as_offsets(self):
        d = ws.Decoder()
        b = bytearray(b"junk" + frame(1, b"Hello") + b"tail")
        self.assertEqual(d.feed(b, 4, len(b) - 4), ws.OP_TEXT)
        self.assertEqual((d.start, d.pos), (4 + 6, 4 + 11))  # the piece ends where the next call starts
        self.assertEqual(bytes(b[d.start:d.pos]), b"Hello")
        self.assertEqual(bytes(b[-4:]), b"tail")  # untouched
        self.assertEqual(d.feed(b, d.pos, len(b) - 4), ws.MORE)

    def test_empty_frames(self):
        # an empty text message is one empty piece, first and last
        self.assertEqual(feed_all(ws.Decoder(), [frame(1)]), [("text", b"", True, True)])
        # an empty frame without FIN gives no piece; the message's first piece is the next one
        self.assertEqual(feed_all(ws.Decoder(), [frame(2, fin=False) + frame(0, b"ab", fin=False) + frame(0)]),
                         [("binary", b"ab", True, False), ("binary", b"", False, True)])
        # many empty frames in one read: no recursion, one message
        many = frame(1, fin=False) + frame(0, fin=False) * 2000 + frame(0, b"z")
        self.assertEqual(decode(many), [("text", b"z")])

    def test_control_frames_between_fragments(self):  # section 5.4
        stream = frame(2, b"a", fin=False) + frame(9, b"1") + frame(0, b"b", fin=False) + frame(10, b"2") + frame(0, b"c")
        self.assertEqual(decode(stream), [("ping", b"1"), ("pong", b"2"), ("binary", b"abc")])

    def test_a_control_frame_split_across_reads(self):
        f = frame(9, b"0123456789" * 12)
        for i in range(len(f) + 1):
            self.assertEqual(feed_all(ws.Decoder(), split_at(f, i)), [("ping", b"0123456789" * 12)], i)


class TestProtocolErrors(unittest.TestCase):
    """Each breach of section 5 fails the connection with its close code, as soon as the
    bytes that make it arrive."""

    def assertFails(self, data, code, **kw):
        self.assertEqual(decode(data, **kw)[-1:], [("error", code)])
        self.assertEqual(messages(feed_all(ws.Decoder(**kw), bytewise(data)))[-1:], [("error", code)])

    def test_client_frames_must_be_masked(self):  # section 5.1
        self.assertFails(frame(1, b"Hello", masked=False), 1002)
        self.assertFails(frame(9, b"", masked=False), 1002)

    def test_reserved_bits_need_an_extension(self):  # section 5.2
        for rsv in (0x40, 0x20, 0x10, 0x70):
            self.assertFails(frame(1, b"x", rsv=rsv), 1002)
            self.assertFails(frame(9, b"x", rsv=rsv), 1002)

    def test_negotiated_reserved_bits_pass(self):
        d = ws.Decoder(rsv=0x40)
        b = bytearray(frame(1, b"\xff\x00", rsv=0x40))  # compressed: not UTF-8 itself
        self.assertEqual(d.feed(b, 0, len(b)), ws.OP_TEXT)
        self.assertEqual(d.frsv, 0x40)
        self.assertEqual(decode(frame(1, b"x", rsv=0x20), rsv=0x40), [("error", 1002)])

    def test_reserved_opcodes(self):  # section 5.2
        for op in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
            self.assertFails(frame(op, b"x"), 1002)

    def test_control_frames_are_short_and_whole(self):  # section 5.5
        self.assertEqual(decode(frame(9, bytes(125))), [("ping", bytes(125))])
        self.assertFails(frame(9, bytes(126)), 1002)
        self.assertFails(frame(10, b"x", form=16), 1002)  # 126 in the 7 bits
        self.assertFails(frame(9, b"x", fin=False), 1002)
        self.assertFails(frame(8, b"\x03\xe8", fin=False), 1002)

    def test_fragmentation_rules(self):  # section 5.4
        self.assertFails(frame(0, b"x"), 1002)  # a continuation with no message
        self.assertFails(frame(0, b"x", fin=False), 1002)
        self.assertFails(frame(1, b"a", fin=False) + frame(1, b"b"), 1002)  # a new message inside one
        self.assertFails(frame(2, b"a", fin=False) + frame(1, b"b"), 1002)
        self.assertFails(frame(1, b"a", fin=False) + frame(2, b"b", fin=False), 1002)
        self.assertFails(frame(1, b"a") + frame(0, b"b"), 1002)  # the message had ended

    def test_the_maximum_message_size(self):
        self.assertEqual(decode(frame(2, bytes(100)), max_size=100), [("binary", bytes(100))])
        self.assertFails(frame(2, bytes(101)), 1009, max_size=100)
        self.assertFails(frame(2, bytes(60), fin=False) + frame(0, bytes(41)), 1009, max_size=100)
        # the sum of all the frames counts, not two of them
        self.assertFails(frame(2, bytes(40), fin=False) + frame(0, bytes(40), fin=False) + frame(0, bytes(40)), 1009,
                         max_size=100)
        # the limit is per message: two messages of 100 pass
        self.assertEqual(decode(frame(2, bytes(100)) + frame(1, b"x" * 100), max_size=100),
                         [("binary", bytes(100)), ("text", b"x" * 100)])
        # control frames do not count
        self.assertEqual(decode(frame(2, bytes(50), fin=False) + frame(9, bytes(100)) + frame(0, bytes(50)), max_size=100),
                         [("ping", bytes(100)), ("binary", bytes(100))])

    def test_too_big_is_known_at_the_header(self):
        d = ws.Decoder(max_size=1000)
        b = bytearray(b"\x82\xff\x00\x00\x00\x00\x00\x01\x11\x70" + KEY)  # the header only: 70000 bytes
        self.assertEqual(d.feed(b, 0, 14), ws.ERROR)
        self.assertEqual(d.error, 1009)

    def test_64_bit_lengths(self):
        # every byte of the 64-bit length counts: 2**56 is too big (1009), not a protocol error
        for top in (b"\x01", b"\x7f"):
            d = ws.Decoder()
            b = bytearray(b"\x82\xff" + top + bytes(7) + KEY)
            self.assertEqual((d.feed(b, 0, 14), d.error), (ws.ERROR, 1009), top)
        d = ws.Decoder()
        b = bytearray(b"\x82\xff\x80" + bytes(7) + KEY)  # the top bit: a protocol error
        self.assertEqual((d.feed(b, 0, 14), d.error), (ws.ERROR, 1002))

    def test_reset_starts_over(self):
        for cut in (1, 4, 7):  # in the first two bytes, in the key, in the payload of a first frame
            d = ws.Decoder()
            b = bytearray(frame(1, b"Hello", fin=False))
            ev = d.feed(b, 0, cut)
            self.assertEqual(ev, ws.OP_TEXT if cut == 7 else ws.MORE, cut)
            d.reset()
            self.assertEqual(messages(feed_all(d, [frame(2, b"abc")])), [("binary", b"abc")], cut)

    def test_an_error_stays(self):
        d = ws.Decoder()
        b = bytearray(frame(1, b"x", masked=False) + frame(1, b"ok"))
        self.assertEqual(d.feed(b, 0, len(b)), ws.ERROR)
        self.assertEqual(d.feed(b, 3, len(b)), ws.ERROR)
        self.assertEqual(d.error, 1002)
        d.reset()
        self.assertEqual(d.feed(b, 3, len(b)), ws.OP_TEXT)


class TestUtf8(unittest.TestCase):
    VALID = ("", "ascii", "\u00e9", "\u20ac", "\ud7ff", "\ue000", "\uffff", "\U00010000", "\U0010ffff",
             "\u03ba\u1f79\u03c3\u03bc\u03b5")
    INVALID = (b"\xff", b"\xfe", b"\x80", b"\xbf", b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80", b"\xe0\x9f\xbf",
               b"\xf0\x80\x80\x80", b"\xf0\x8f\xbf\xbf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80",
               b"\xf5\x80\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xc2\x41", b"\xe2\x82\x41", b"a\xe2\x82")

    # every edge of the byte classes (RFC 3629 section 4): the first and last lead byte of each
    # kind, and each range of continuation bytes (80-8F, 90-9F, A0-BF) after each kind of lead
    EDGES_VALID = (b"\xc2\x80", b"\xc2\x8f", b"\xc2\x90", b"\xc2\x9f", b"\xc2\xa0", b"\xdf\xbf",
                   b"\xe0\xa0\x80", b"\xe0\xbf\xbf", b"\xe1\x80\x80", b"\xe1\x90\xa0", b"\xec\xbf\xbf",
                   b"\xed\x80\x80", b"\xed\x9f\xbf", b"\xee\x80\x80", b"\xef\xbf\xbf",
                   b"\xf0\x90\x80\x80", b"\xf0\xa0\x90\x80", b"\xf0\xbf\xbf\xbf", b"\xf1\x80\x90\xa0",
                   b"\xf3\xbf\xbf\xbf", b"\xf4\x80\x80\x80", b"\xf4\x8f\xbf\xbf")
    EDGES_INVALID = (b"\x8f", b"\x90", b"\x9f", b"\xa0", b"\xc1\x80", b"\xc2\xc0", b"\xdf\xc0", b"\xe0\x9f\x80",
                     b"\xe0\xa0\xc0", b"\xe1\xc0\x80", b"\xec\x80\xc0", b"\xed\xa0\x80", b"\xee\xc0\x80",
                     b"\xef\x80\x7f", b"\xf0\x8f\x80\x80", b"\xf0\xc0\x80\x80", b"\xf1\x80\x80\xc0",
                     b"\xf3\xc0\x80\x80", b"\xf4\x90\x80\x80", b"\xf4\xa0\x80\x80", b"\xf5\x80\x80\x80",
                     b"\xf6\x80\x80\x80", b"\xfe", b"\xc0", b"\xc1", b"\xf5", b"\xffA", b"\xe1\xf5\x80",
                     b"\xc2\xff", b"\xf1\x80\xf8\x80")

    def test_ascii_inside_a_character(self):
        for b in (b"\xc2A\x80", b"\xe2\x82A\xac", b"\xf0\x9fA\x98\x80"):
            self.assertEqual(ws.utf8_step(b, 0, len(b), ws.UTF8_OK), ws.UTF8_BAD, b)

    def test_byte_class_edges(self):
        for b in self.EDGES_VALID:
            self.assertEqual(ws.utf8_step(b, 0, len(b), ws.UTF8_OK), ws.UTF8_OK, b)
            self.assertNotEqual(ws.utf8_step(b, 0, len(b) - 1, ws.UTF8_OK), ws.UTF8_OK, b)  # cut: not complete
            self.assertNotEqual(ws.utf8_step(b, 0, len(b) - 1, ws.UTF8_OK), ws.UTF8_BAD, b)
        for b in self.EDGES_INVALID:
            self.assertEqual(ws.utf8_step(b, 0, len(b), ws.UTF8_OK), ws.UTF8_BAD, b)

    def test_utf8_step(self):
        for s in self.VALID:
            b = s.encode()
            self.assertEqual(ws.utf8_step(b, 0, len(b), ws.UTF8_OK), ws.UTF8_OK, s)
        for b in self.INVALID:
            st = ws.utf8_step(b, 0, len(b), ws.UTF8_OK)
            self.assertNotEqual(st, ws.UTF8_OK, b)
        self.assertEqual(ws.utf8_step(b"\xff", 0, 1, ws.UTF8_OK), ws.UTF8_BAD)

    def test_utf8_step_goes_on_across_calls(self):
        b = "a\u20ac\U0001f600z".encode()
        for i in range(len(b) + 1):
            st = ws.utf8_step(b, 0, i, ws.UTF8_OK)
            self.assertEqual(ws.utf8_step(b, i, len(b), st), ws.UTF8_OK, i)

    def test_text_messages_must_be_utf8(self):  # section 8.1: 1007
        for s in self.VALID:
            self.assertEqual(decode(frame(1, s.encode())), [("text", s.encode())], s)
        for b in self.INVALID:
            self.assertEqual(decode(frame(1, b)), [("error", 1007)], b)
        self.assertEqual(decode(frame(2, b"\xff\xe2\x82")), [("binary", b"\xff\xe2\x82")])  # binary: any bytes

    def test_a_character_split_across_fragments(self):
        euro = "\u20ac".encode()
        for i in range(1, 3):
            stream = frame(1, b"a" + euro[:i], fin=False) + frame(0, euro[i:] + b"b")
            self.assertEqual(decode(stream), [("text", b"a" + euro + b"b")], i)
            for j in range(len(stream) + 1):
                self.assertEqual(messages(feed_all(ws.Decoder(), split_at(stream, j))), [("text", b"a" + euro + b"b")])
        emoji = "\U0001f600".encode()
        stream = frame(1, emoji[:1], fin=False) + frame(0, emoji[1:2], fin=False) + frame(0, emoji[2:3], fin=False) + frame(0, emoji[3:])
        self.assertEqual(decode(stream), [("text", emoji)])

    def test_a_character_cut_off_at_the_end_of_the_message(self):
        self.assertEqual(decode(frame(1, b"ok\xe2\x82")), [("error", 1007)])
        self.assertEqual(decode(frame(1, b"ok\xe2", fin=False) + frame(0, b"\x82"))[-1:], [("error", 1007)])
        self.assertEqual(decode(frame(1, b"ok\xe2\x82", fin=False) + frame(0))[-1:], [("error", 1007)])

    def test_invalid_text_fails_before_the_frame_ends(self):
        d = ws.Decoder()
        f = frame(1, b"ok\xc0" + b"x" * 1000)
        b = bytearray(f[:20])  # the header and the first bytes only
        self.assertEqual(d.feed(b, 0, 20), ws.ERROR)
        self.assertEqual(d.error, 1007)

    def test_pieces_hand_over_only_checked_text(self):
        d = ws.Decoder()
        f = frame(1, b"valid, then \xff")
        b = bytearray(f[:-1])
        self.assertEqual(d.feed(b, 0, len(b)), ws.OP_TEXT)  # "valid, then " so far
        b = bytearray(f[-1:])
        self.assertEqual(d.feed(b, 0, 1), ws.ERROR)
        self.assertEqual(d.error, 1007)


class TestClose(unittest.TestCase):
    def test_a_close_without_a_code(self):
        self.assertEqual(decode(close_frame()), [("close", 1005, b"")])

    def test_valid_codes(self):  # section 7.4.1 and the IANA registry
        for code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999):
            self.assertEqual(decode(close_frame(code, b"why")), [("close", code, b"why")], code)
            self.assertTrue(ws.close_code_ok(code))

    def test_invalid_codes_are_a_protocol_error(self):  # section 7.4.2
        for code in (0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535):
            self.assertEqual(decode(close_frame(code)), [("error", 1002)], code)
            self.assertFalse(ws.close_code_ok(code))

    def test_a_one_byte_payload(self):  # section 5.5.1: a code is two bytes
        self.assertEqual(decode(frame(8, b"\x03")), [("error", 1002)])

    def test_the_reason_is_utf8(self):
        self.assertEqual(decode(close_frame(1000, "\u20ac".encode())), [("close", 1000, "\u20ac".encode())])
        self.assertEqual(decode(close_frame(1000, b"\xff")), [("error", 1007)])
        self.assertEqual(decode(close_frame(1000, b"\xe2\x82")), [("error", 1007)])
        self.assertEqual(decode(close_frame(1000, b"x" * 123)), [("close", 1000, b"x" * 123)])

    def test_bytes_after_the_close_are_ignored(self):  # section 5.5.1
        d = ws.Decoder()
        b = bytearray(close_frame(1000) + frame(1, b"late") + b"\xff\xff")
        self.assertEqual(d.feed(b, 0, len(b)), ws.OP_CLOSE)
        self.assertEqual(d.feed(b, d.pos, len(b)), ws.MORE)
        self.assertEqual(d.pos, len(b))

    def test_a_close_inside_a_fragmented_message(self):
        self.assertEqual(decode(frame(1, b"a", fin=False) + close_frame(1001)), [("partial", "text", b"a"), ("close", 1001, b"")])


class TestWriters(unittest.TestCase):
    def header(self, op, fin, n):
        b = bytearray(b"\xff" * 16)  # every byte of the header is written, whatever was there
        end = ws.frame_header(b, 0, op, fin, n)
        self.assertEqual(end, ws.header_size(n))
        return bytes(b[:end])

    def test_frame_headers(self):  # section 5.2: unmasked, minimal lengths
        self.assertEqual(self.header(ws.OP_TEXT, True, 5), b"\x81\x05")
        self.assertEqual(self.header(ws.OP_BINARY, True, 0), b"\x82\x00")
        self.assertEqual(self.header(ws.OP_BINARY, True, 125), b"\x82\x7d")
        self.assertEqual(self.header(ws.OP_BINARY, True, 126), b"\x82\x7e\x00\x7e")
        self.assertEqual(self.header(ws.OP_BINARY, False, 65535), b"\x02\x7e\xff\xff")
        self.assertEqual(self.header(ws.OP_CONT, True, 65536), b"\x80\x7f\x00\x00\x00\x00\x00\x01\x00\x00")
        self.assertEqual(self.header(ws.OP_CONT, False, 1 << 20), b"\x00\x7f\x00\x00\x00\x00\x00\x10\x00\x00")
        self.assertEqual(self.header(ws.OP_PING, True, 0), b"\x89\x00")
        self.assertEqual(self.header(ws.OP_PONG, True, 3), b"\x8a\x03")
        self.assertEqual([ws.header_size(n) for n in (0, 125, 126, 65535, 65536)], [2, 2, 4, 4, 10])

    def test_a_message_sent_in_pieces(self):  # section 5.4
        b = bytearray(64)
        p = 0
        for i, piece in enumerate((b"He", b"ll", b"o")):
            p = ws.frame_header(b, p, ws.OP_TEXT if i == 0 else ws.OP_CONT, i == 2, len(piece))
            b[p:p + len(piece)] = piece
            p += len(piece)
        self.assertEqual(bytes(b[:p]), b"\x01\x02He\x00\x02ll\x80\x01o")  # RFC 5.7's example, in 3

    def test_control_frames(self):
        b = bytearray(200)
        end = ws.write_control(b, 3, ws.OP_PONG, b"Hello", 5)
        self.assertEqual(bytes(b[3:end]), b"\x8a\x05Hello")  # section 5.7
        end = ws.write_close(b, 0, 1000, b"bye")
        self.assertEqual(bytes(b[:end]), b"\x88\x05\x03\xe8bye")
        end = ws.write_close(b, 0, 1002)
        self.assertEqual(bytes(b[:end]), b"\x88\x02\x03\xea")
        end = ws.write_close(b, 0)
        self.assertEqual(bytes(b[:end]), b"\x88\x00")  # no code: nothing to echo
        end = ws.write_close(b, 0, 1000, b"x" * 123)
        self.assertEqual(end, 127)

    def test_a_pong_answers_a_ping_from_the_decoder(self):
        d = ws.Decoder()
        b = bytearray(frame(9, b"are you there"))
        self.assertEqual(d.feed(b, 0, len(b)), ws.OP_PING)
        out = bytearray(127)
        end = ws.write_control(out, 0, ws.OP_PONG, d.ctl, d.at)
        self.assertEqual(bytes(out[:end]), b"\x8a\x0dare you there")


class TestNoAllocation(unittest.TestCase):
    """feed() and the writers allocate nothing: no heap frames, no slices (MicroPython's
    micropython.mem_total() counts every allocation)."""

    def test_unmask_from_every_key_byte(self):
        for p in range(4):
            for n in range(10):
                b = bytearray(b"0123456789")
                self.assertEqual(ws.unmask(b, 0, n, KEY, p), (p + n) & 3)
                self.assertEqual(bytes(b[:n]), bytes([c ^ KEY[(p + i) & 3] for i, c in enumerate(b"0123456789"[:n])]))
                self.assertEqual(bytes(b[n:]), b"0123456789"[n:])

    def test_decoding_and_writing_allocate_nothing(self):
        try:
            from micropython import mem_total
        except ImportError:
            raise unittest.SkipTest("MicroPython only")
        stream = (frame(1, "t\u00e9xt ".encode(), fin=False) + frame(9, b"ping") + frame(0, b"more")
                  + frame(2, bytes(300)) + frame(2, bytes(70000)) + frame(10) + frame(1))
        tmpl = bytearray(stream)
        b = bytearray(len(stream))
        out = bytearray(200)
        d = ws.Decoder()
        nothing = bytearray(0)
        for i in range(3):  # the first pass may intern names or fill caches
            b[0:len(b)] = tmpl
            t = mem_total()
            _drain(d, nothing, out)  # what the call of _drain itself takes (its frame)
            t = 2 * mem_total() - t
            _drain(d, b, out)
            used = mem_total() - t
        self.assertEqual(used, 0)


def _drain(d, b, out):
    """Decode all of b, answering pings and echoing the first piece, without allocating."""
    pos = 0
    end = len(b)
    while True:
        ev = d.feed(b, pos, end)
        pos = d.pos
        if ev == ws.MORE or ev == ws.ERROR:
            return
        if ev == ws.OP_PING:
            ws.write_control(out, 0, ws.OP_PONG, d.ctl, d.at)
        elif ev == ws.OP_TEXT or ev == ws.OP_BINARY:
            ws.frame_header(out, 0, ev if d.first else ws.OP_CONT, not d.msg, d.pos - d.start)
            ws.write_close(out, 0, ws.CLOSE_NORMAL, b"bye")
