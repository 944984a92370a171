# A WebSocket server layer (RFC 6455) on the protocol upgrade: mhd_micro's own, not MHD2's.
# Optional, with the "upgrade" feature (upgrade.py, websocket.py). In a request callback:
#
#     from mhd_micro import ws
#     def on_open(conn):                      # the 101 is out: conn is the connection
#         conn.on_message = on_message        # on_message(conn, data, first, last, is_text)
#         conn.on_close = on_close            # on_close(conn, code), once
#     return ws.accept(request, on_open, cls, subprotocols=("chat",), buffer=1024)
#
# accept answers a bad handshake itself (400, or 426 with "Sec-WebSocket-Version: 13"). A
# connection then has fixed memory, taken once when it opens: a read buffer of `buffer`
# bytes, a send queue of `queue` bytes (by default one piece of the read buffer with its
# frame header and a control frame more), and the codec's state (a Conn is its Decoder: about
# 930 B on a 64-bit port with 128- and 269-byte buffers, 16 attributes with on_message).
# Nothing blocks the daemon: frames are queued, the queue goes out when the socket takes it
# (the daemon's poll says when: upgraded_notify), and while the queue is not empty the layer
# reads nothing more, so a client that sends faster than it reads waits (backpressure). A
# message larger than the read buffer reaches on_message in pieces (`data` is a memoryview
# into the read buffer, valid during the call); send one in pieces with send_piece, going on
# from on_writable. The layer answers pings, echoes the peer's close, and closes with the
# decoder's code (1002, 1007, 1009) when the peer breaks the protocol; on_close gets 1006 when
# the connection was lost without a close frame.
import mhd_micro
from .platform import const, collect, mem_free
from .upgrade import action_upgrade, upgraded_recv, upgraded_send, upgraded_notify, upgraded_close
from .websocket import (Decoder, handshake_status, has_token, accept_key, choose_subprotocol, header_size,
                        frame_header, write_control, write_close, copy_into, VERSION_FIELD)
# (Every global, attribute, method and argument name here is interned by MicroPython when the
# module loads, and its table of names grows in steps: past about 620 names a new one of 7 KB
# on a 64-bit port (tests/test_websocket_load.py). Hence no module aliases, and names the core
# has already where they fit.)

CLOSE_ABNORMAL = const(1006)  # for on_close: the connection ended without a close frame

_SC_OK = const(0)  # = mhd.SC_OK
_HTTP_METHOD_GET = const(1)  # = mhd.HTTP_METHOD_GET
_SC_UPGRADED_NET_TIMEOUT = const(30161)  # = mhd.SC_UPGRADED_NET_TIMEOUT
_OP_TEXT = const(1)  # = websocket.OP_TEXT
_OP_BINARY = const(2)  # = websocket.OP_BINARY
_OP_CLOSE = const(8)  # = websocket.OP_CLOSE
_OP_PING = const(9)  # = websocket.OP_PING
_OP_PONG = const(10)  # = websocket.OP_PONG
_ERROR = const(-2)  # = websocket.ERROR
_Q = const(139)  # = websocket.CTL_SIZE; the decoder's part of Conn.ctl, the send queue behind it
# Conn.state, three fields in one (an attribute fewer in every connection): the connection's
# state in its bits 0-1,
_OPEN = const(0)
_CLOSING = const(1)  # our close frame is queued or sent: waiting for the peer's
_DONE = const(2)  # the close handshake is over (or broken): close once the queue is out
_CLOSED = const(3)  # the upgraded connection is closed
_LIFE = const(3)
# what the daemon's poll watches in bits 2-3 (the queue could not all go out: on_writable
# once it did),
_READ = const(4)
_WRITE = const(8)
_ARMED = const(12)  # (both: not known yet, so the first _arm tells the poll)
_BUSY = const(16)  # and bit 4: in the layer's own loop, which arms the poll at its end


def accept(request, on_open, cls=None, subprotocols=(), max_message=1 << 20, buffer=1024, queue=0):
    """The action that answers a WebSocket handshake: the 101 (with Sec-WebSocket-Accept,
    and Sec-WebSocket-Protocol when one of `subprotocols` was offered), then on_open(conn)
    with a new Conn; or a 400 or 426 reply for a request that is not a valid handshake
    (not GET, no "Connection: upgrade", no "Upgrade: websocket", a bad key, a version other
    than 13, or an upgrade the daemon refuses). max_message: the largest message taken
    (1009 past it); buffer: the read buffer's size; queue: the send queue's size (0: buffer
    + 14 + 127, room for a piece as large as the read buffer and a control frame)."""
    f = _fields(request)
    key = f.get(b"sec-websocket-key")
    sc = handshake_status(f.get(b"upgrade"), key, f.get(b"sec-websocket-version"))
    if sc == 101 and request.method != _HTTP_METHOD_GET:
        sc = 400
    if sc == 101 and not has_token(f.get(b"connection", b""), b"upgrade"):
        sc = 400
    if sc == 101:
        fields = [("Sec-WebSocket-Accept", accept_key(key).decode())]
        proto = choose_subprotocol(f.get(b"sec-websocket-protocol"), subprotocols)
        if proto is not None:
            proto = proto.decode() if isinstance(proto, bytes) else proto
            fields.append(("Sec-WebSocket-Protocol", proto))
        args = (on_open, cls, proto, max_message, buffer, queue or buffer + 141)
        act = action_upgrade(request, "websocket", _upgraded, args, fields)
        if act is not None:
            return act
        sc = 400
    r = mhd_micro.response_from_buffer_copy(sc, b"a WebSocket endpoint\n")
    if sc == 426:
        mhd_micro.response_add_header(r, VERSION_FIELD[0].decode(), VERSION_FIELD[1].decode())
    return mhd_micro.action_from_response(request, r)


def _fields(r):
    """The handshake's header fields: {lower-case name: value}, as bytes, the first line of
    each name. Read here from the parser's field index, without request_get_value:
    values.py would stay loaded for it (6 KB of heap on a 64-bit port, half on a board)."""
    mv = r.conn.mv
    h = r.hdr
    got = {}
    for i in range(0, r.nhdr * 4, 4):
        name = bytes(mv[h[i]:h[i + 1]]).lower()
        if name.startswith(b"sec-websocket-") or name in (b"upgrade", b"connection"):
            if name not in got:
                got[name] = bytes(mv[h[i + 2]:h[i + 3]])
    return got


def _upgraded(args, request, urh):
    """The upgrade handler: the 101 is out."""
    if mem_free():  # MicroPython (CPython says 0): the handshake's garbage goes first, so the
        collect()  # connection's objects, kept while it lasts, fill its place instead of
        # leaving holes between them (tests/test_websocket_load.py: 168K held 28 of the 32
        # connections in a fragmented heap, all 32 fit in 160K with this)
    w = Conn(urh, args)
    args[0](w)  # (busy: its sends are queued)
    w.state &= ~_BUSY
    _ready(w, urh, True, False)  # bytes that came with the request may wait already


def _ready(cls, urh, read, write):
    """The daemon's poll: the socket can be read or written (cls: the Conn)."""
    cls.state |= _BUSY
    cls._run()
    cls.state &= ~_BUSY
    cls._arm()


class Conn(Decoder):
    """One WebSocket connection, and its decoder (one object: MicroPython keeps an instance's
    attributes in a dict of its own, so one object with fewer attributes takes less heap).
    Attributes for the application: cls (accept's), subprotocol (the one chosen, or None),
    on_message, on_close, on_writable (set them in on_open)."""

    # class defaults, until accept or the application sets them on the connection
    cls = None
    subprotocol = None
    on_message = staticmethod(lambda *args: None)  # (conn, data, first, last, is_text)
    on_close = staticmethod(lambda *args: None)  # (conn, code): once, when the connection ends
    on_writable = None  # (conn): the send queue, full before, is empty again

    def __init__(self, urh, args):
        # the buffers, taken before the attributes (the attribute table, grown as they come,
        # leaves its old ones behind): the read buffer, and one for the decoder's 139 bytes
        # and the send queue behind them (ctl[_Q:queued] to send; one block less, and less
        # rounding up, but not all in one: that might find no room in a fragmented heap).
        # As memoryviews: slices of them (a piece for on_message, the queue for upgraded_send)
        # copy nothing.
        buf = memoryview(bytearray(args[4]))
        ctl = memoryview(bytearray(_Q + args[5]))
        Decoder.__init__(self, args[3], 0, ctl)
        self.urh = urh
        if args[1] is not None:
            self.cls = args[1]
        if args[2] is not None:
            self.subprotocol = args[2]
        self.buf = buf  # the read buffer
        self.end = 0  # buf[pos:end]: read, not decoded yet (pos: the decoder's)
        self.queued = _Q  # ctl[_Q:queued]: to send (what a send leaves goes to the front)
        self.state = _OPEN | _ARMED | _BUSY

    # -- sending ---------------------------------------------------------------------------

    def room(self):
        """The bytes the send queue can take now (a frame needs its payload + 2, 4 or 10)."""
        return len(self.ctl) - self.queued

    def send_text(self, text):
        """Queue a whole text message (str, or bytes in UTF-8). False (nothing queued) if
        the queue lacks room or the connection is closing."""
        if isinstance(text, str):
            text = text.encode()
        return self.send_piece(text, True, True, False)

    def send_binary(self, data):
        """Queue a whole binary message; False as send_text."""
        return self.send_piece(data, True, True, True)

    def send_piece(self, data, first, last, binary=False):
        """Queue one piece of a message as a frame: the first piece says text or binary,
        the last one ends the message; between a first and its last, send no other message
        (control frames may come between). False (nothing queued) if the queue lacks room
        (wait for on_writable) or the connection is closing."""
        return self._frame((_OP_BINARY if binary else _OP_TEXT) if first else 0, last, data)

    def _frame(self, op, last, data):
        n = len(data)
        p = self._frame_head(op, last, n)
        if p < 0:
            return False
        self.ctl[p:p + n] = data
        self.queued = p + n
        self._kick()
        return True

    def _frame_head(self, op, last, n):
        """Reserve a frame of n payload bytes and write its header; where its payload goes
        (-1: no room). (A function of its own: _frame's call frame stays on the stack.)"""
        p = self._reserve(header_size(n) + n)
        return p if p < 0 else frame_header(self.ctl, p, op, last, n)

    def ping(self, data=b""):
        """Queue a ping (data: its payload, at most 125 bytes); the layer takes the pong.
        False as send_text."""
        n = len(data)
        if n > 125:
            return False
        p = self._reserve(n + 2)
        if p < 0:
            return False
        self.queued = write_control(self.ctl, p, _OP_PING, data, n)
        self._kick()
        return True

    def close(self, code=1000, reason=b""):
        """Start the close handshake: queue a close frame (reason: at most 123 bytes of
        UTF-8); the connection closes when the peer's close comes, and on_close gets its
        code. False when closing already or the queue lacks room."""
        if isinstance(reason, str):
            reason = reason.encode()
        p = self._reserve(len(reason) + 4)
        if p < 0:
            return False
        self.queued = write_close(self.ctl, p, code, reason)
        self.state |= _CLOSING  # (from _OPEN: _reserve)
        self._kick()
        return True

    def _reserve(self, n):
        """Where n bytes can be written at the end of the queue, or -1: no room, or the
        connection is not open."""
        if self.state & _LIFE != _OPEN or self.room() < n:
            return -1
        return self.queued

    def _kick(self):
        """Something was queued: send what the socket takes now, and watch for the rest."""
        if not self.state & _BUSY:
            self._flush()
            if self.state & _LIFE == _DONE and self.queued == _Q:
                self._finish()
            else:
                self._arm()

    def _flush(self):
        """Send what is queued; True when all of it is out."""
        q = self.queued
        if q > _Q:
            sc, n = upgraded_send(self.urh, self.ctl[_Q:q], 0)
            if sc != _SC_OK:  # broken: nothing more goes out
                self.queued = _Q
                if self.state & _LIFE < _DONE:
                    self._done(CLOSE_ABNORMAL)
                return True
            if n < q - _Q:  # the rest to the front (forwards: n > 0); rare: the socket is full
                copy_into(self.ctl, _Q, self.ctl, _Q + n, q)
                self.queued = q - n
                return False
            self.queued = _Q
        if self.state & _ARMED == _WRITE:  # the poll waited for the socket to take what the
            self.state &= ~_ARMED  # queue held (that is over: _arm tells the poll again)
            if self.on_writable is not None and self.state & _LIFE == _OPEN:
                self.on_writable(self)
                return self.queued == _Q
        return True

    def _arm(self):
        """Tell the daemon's poll what to watch: the socket's writability while the queue
        holds bytes, else its readability."""
        st = self.state
        if st & _LIFE == _CLOSED:
            return
        want = _WRITE if self.queued > _Q else _READ
        if want != st & _ARMED:
            self.state = st & ~_ARMED | want
            upgraded_notify(self.urh, _ready, self, want == _READ, want == _WRITE)

    # -- receiving -------------------------------------------------------------------------

    def _run(self):
        """Until the socket has nothing to read or cannot take more."""
        while self.state & _LIFE != _CLOSED:
            if not self._flush():
                return  # the client reads slower than it sends: wait
            if self.state & _LIFE == _DONE:
                return self._finish()
            if self.pos == self.end and not self._read():
                return
            self._step()

    def _read(self):
        """Read into the buffer; False when nothing came (or the connection ended)."""
        sc, n = upgraded_recv(self.urh, self.buf, 0)
        if sc == _SC_UPGRADED_NET_TIMEOUT:
            return False
        if sc != _SC_OK or not n:  # the client went away
            self._finish()
            return False
        self.pos = 0
        self.end = n
        return True

    def _step(self):
        """Decode the next event and act on it."""
        ev = self.feed(self.buf, self.pos, self.end)
        if ev == _OP_TEXT or ev == _OP_BINARY:
            if self.state & _LIFE == _OPEN:  # after our close, data is dropped
                self.on_message(self, self.buf[self.start:self.pos], self.first, not self.msg, ev == _OP_TEXT)
        elif ev == _OP_PING:
            if self.state & _LIFE == _OPEN:
                p = self._reserve(self.at + 2)  # the queue is empty here: it fits
                self.queued = write_control(self.ctl, p, _OP_PONG, self.ctl, self.at)
        elif ev == _OP_CLOSE or ev == _ERROR:  # the peer's close frame (or its protocol error,
            code = self.code if ev == _OP_CLOSE else self.error  # 1002, 1007, 1009)
            if self.state & _LIFE == _OPEN:  # answer it: echo the code (or send the error's)
                self.queued = write_close(self.ctl, self._reserve(4), code)
            self._done(code)

    def _done(self, code):
        """The connection is over for the application: on_close, once (the state is _DONE
        from here on, then _CLOSED)."""
        self.state = self.state & ~_LIFE | _DONE
        self.on_close(self, code)

    def _finish(self):
        """Close the upgraded connection (once); on_close(1006) if it ended without a close."""
        st = self.state & _LIFE
        if st != _CLOSED:
            self.state |= _CLOSED
            upgraded_close(self.urh)
            if st != _DONE:
                self.on_close(self, CLOSE_ABNORMAL)

