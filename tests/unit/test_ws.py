"""mhd_micro's WebSocket layer (ws.py) without sockets: the upgraded-connection functions it
calls are replaced by a scripted stand-in (what the client sent, how much the socket takes),
so every path runs as on a board: echo of whole messages and of messages larger than the
read buffer (in pieces, both ways), pings answered, the close handshake from either side, a
protocol error, a lost connection, and the send queue's backpressure (nothing read while it
holds bytes; on_writable when it is out). Runs on MicroPython too."""
from testing import unittest
from mhd_micro import ws

KEY = b"\x37\xfa\x21\x3d"
_SC_OK = 0
_TIMEOUT = 30161


def frame(op, payload=b"", fin=True, masked=True):
    """A client frame (payload < 126 bytes)."""
    h = bytearray([(0x80 if fin else 0) | op, (0x80 if masked else 0) | len(payload)])
    if not masked:
        return bytes(h) + payload
    p = bytearray(payload)
    for i in range(len(p)):
        p[i] ^= KEY[i & 3]
    return bytes(h) + KEY + bytes(p)


def frames(b):
    """The server's frames in b: [(fin, op, payload)]."""
    out = []
    i = 0
    while i < len(b):
        n = b[i + 1] & 127
        j = i + 2
        if n == 126:
            n = b[i + 2] << 8 | b[i + 3]
            j = i + 4
        out.append((b[i] >= 0x80, b[i] & 15, bytes(b[j:j + n])))
        i = j + n
    return out


class Urh:
    """A stand-in upgraded handle: what the client sends, what the socket takes."""

    def __init__(self):
        self.open = True
        self.inbox = []  # chunks the client sent, not read yet
        self.eof = False
        self.take = None  # bytes the socket takes from now on (None: all)
        self.sent = bytearray()
        self.watch = None  # (read, write) last asked with upgraded_notify
        self.cb = None

    def ready(self, readable=True, writable=False):
        self.cb[0](self.cb[1], self, readable, writable)


def _recv(urh, buf, wait=0):
    if urh.inbox:
        chunk = urh.inbox.pop(0)
        n = min(len(chunk), len(buf))
        buf[0:n] = chunk[:n]
        if n < len(chunk):
            urh.inbox.insert(0, chunk[n:])
        return _SC_OK, n
    return (_SC_OK, 0) if urh.eof else (_TIMEOUT, 0)


def _send(urh, data, wait=0):
    n = len(data) if urh.take is None else min(urh.take, len(data))
    if urh.take is not None:
        urh.take -= n
    urh.sent += bytes(data[:n])
    return _SC_OK, n


def _notify(urh, cb, cls=None, read=True, write=False):
    urh.cb = (cb, cls)
    urh.watch = (read, write)
    return _SC_OK


def _close(urh):
    urh.open = False
    return _SC_OK


_REAL = (ws.upgraded_recv, ws.upgraded_send, ws.upgraded_notify, ws.upgraded_close)


class App:
    """Records what the layer hands over; echoes when asked."""

    def __init__(self, echo=True):
        self.echo = echo
        self.pieces = []
        self.closed = []
        self.writable = 0
        self.conn = None

    def open(self, conn):
        self.conn = conn
        conn.on_message = self.message
        conn.on_close = self.close
        conn.on_writable = self.drained

    def message(self, conn, data, first, last, is_text):
        self.pieces.append((bytes(data), first, last, is_text))
        if self.echo:
            conn.send_piece(data, first, last, not is_text)

    def close(self, conn, code):
        self.closed.append(code)

    def drained(self, conn):
        self.writable += 1


class TestConn(unittest.TestCase):
    def setUp(self):
        ws.upgraded_recv, ws.upgraded_send, ws.upgraded_notify, ws.upgraded_close = _recv, _send, _notify, _close

    def tearDown(self):
        ws.upgraded_recv, ws.upgraded_send, ws.upgraded_notify, ws.upgraded_close = _REAL

    def start(self, app, buffer=64, queue=0, first=()):
        urh = Urh()
        urh.inbox.extend(first)
        ws._upgraded((app.open, "cls", None, 1000, buffer, queue or buffer + 141), None, urh)
        return urh

    def test_whole_messages_are_echoed_and_the_poll_watches_reads(self):
        app = App()
        urh = self.start(app, first=[frame(1, b"hello")])
        self.assertEqual(app.conn.cls, "cls")
        self.assertEqual(app.pieces, [(b"hello", True, True, True)])
        urh.inbox.append(frame(2, b"\x00\xff"))
        urh.ready()
        self.assertEqual(frames(urh.sent), [(True, 1, b"hello"), (True, 2, b"\x00\xff")])
        self.assertEqual(urh.watch, (True, False))

    def test_a_message_larger_than_the_buffer_comes_and_goes_in_pieces(self):
        app = App()
        msg = bytes(range(100))
        # 100 bytes in two frames (60 + 40) through a 16-byte read buffer, split anywhere
        raw = frame(2, msg[:60], fin=False) + frame(0, msg[60:])
        urh = self.start(app, buffer=16, first=[raw[:7], raw[7:50], raw[50:]])
        self.assertEqual(b"".join(p[0] for p in app.pieces), msg)
        self.assertTrue(all(len(p[0]) <= 16 for p in app.pieces))
        self.assertEqual([p[1] for p in app.pieces], [True] + [False] * (len(app.pieces) - 1))
        self.assertEqual([p[2] for p in app.pieces], [False] * (len(app.pieces) - 1) + [True])
        out = frames(urh.sent)
        self.assertEqual(b"".join(f[2] for f in out), msg)
        self.assertEqual([f[1] for f in out], [2] + [0] * (len(out) - 1))  # binary, then continuations
        self.assertEqual([f[0] for f in out], [False] * (len(out) - 1) + [True])

    def test_a_ping_gets_its_pong(self):
        app = App()
        urh = self.start(app, first=[frame(9, b"are you there")])
        self.assertEqual(frames(urh.sent), [(True, 10, b"are you there")])
        self.assertTrue(app.conn.ping(b"and you?"))
        self.assertEqual(frames(urh.sent)[-1], (True, 9, b"and you?"))
        urh.inbox.append(frame(10, b"and you?"))
        urh.ready()  # the pong is taken, nothing handed over
        self.assertEqual(app.pieces, [])

    def test_the_peers_close_is_echoed_then_the_connection_closes(self):
        app = App()
        urh = self.start(app, first=[frame(8, b"\x03\xe8bye")])
        self.assertEqual(frames(urh.sent), [(True, 8, b"\x03\xe8")])
        self.assertEqual(app.closed, [1000])
        self.assertFalse(urh.open)
        self.assertFalse(app.conn.send_text("late"))

    def test_a_protocol_error_closes_with_its_code(self):
        app = App()
        urh = self.start(app, first=[frame(1, b"x", masked=False)])  # clients must mask
        self.assertEqual(frames(urh.sent), [(True, 8, b"\x03\xea")])  # 1002
        self.assertEqual(app.closed, [1002])
        self.assertFalse(urh.open)

    def test_invalid_utf8_text_closes_with_1007(self):
        app = App(echo=False)
        urh = self.start(app, first=[frame(1, b"\xc3\x28")])
        self.assertEqual(frames(urh.sent), [(True, 8, b"\x03\xef")])
        self.assertEqual(app.closed, [1007])

    def test_the_servers_close_waits_for_the_peers(self):
        app = App()
        urh = self.start(app)
        self.assertTrue(app.conn.close(1001, "going"))
        self.assertEqual(frames(urh.sent), [(True, 8, b"\x03\xe9going")])
        self.assertFalse(app.conn.send_text("more"))  # nothing after a close
        self.assertTrue(urh.open)
        urh.inbox.append(frame(1, b"in flight") + frame(8, b"\x03\xe9"))
        urh.ready()
        self.assertEqual(app.pieces, [])  # data after our close is dropped
        self.assertEqual(app.closed, [1001])
        self.assertFalse(urh.open)
        self.assertEqual(len(frames(urh.sent)), 1)

    def test_a_lost_connection_is_1006(self):
        app = App()
        urh = self.start(app)
        urh.eof = True
        urh.ready()
        self.assertEqual(app.closed, [ws.CLOSE_ABNORMAL])
        self.assertFalse(urh.open)

    def test_backpressure_stops_reading_until_the_queue_is_out(self):
        app = App()
        urh = self.start(app, buffer=16, queue=40)
        urh.take = 3  # the socket takes 3 bytes, then nothing
        self.assertTrue(app.conn.send_text(b"0123456789"))  # 12 bytes with the header
        self.assertEqual(urh.watch, (False, True))  # wait to write, read nothing
        self.assertEqual(app.conn.room(), 40 - 9)
        self.assertTrue(app.conn.send_binary(b"x" * 20))  # 22 more: 31 queued, the unsent ones moved first
        self.assertFalse(app.conn.send_text(b"no room left"))  # 14 > 40 - 31
        urh.inbox.append(frame(1, b"later"))
        urh.ready(False, True)  # still writable for nothing: no read
        self.assertEqual(app.pieces, [])
        self.assertEqual(urh.inbox, [frame(1, b"later")])
        urh.take = None
        urh.ready(False, True)
        self.assertEqual(app.writable, 1)
        self.assertEqual(app.pieces, [(b"later", True, True, True)])
        self.assertEqual(frames(urh.sent), [(True, 1, b"0123456789"), (True, 2, b"x" * 20), (True, 1, b"later")])
        self.assertEqual(urh.watch, (True, False))
