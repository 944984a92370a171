# Sans-I/O WebSocket (RFC 6455), server side: the opening handshake's checks and answer, an
# incremental frame decoder, UTF-8 validation of text, close frames, and the headers of the
# server's frames. Nothing here touches a socket or a clock; an upgraded connection's owner
# reads into its buffer, hands the bytes to the decoder and sends what the writers produce.
#
# The entry points are handshake_status(upgrade, key, version), accept_key(key),
# choose_subprotocol(value, names); Decoder(max_size).feed(b, pos, end); and the writers
# frame_header(b, pos, op, last, n), write_control(b, pos, op, src, n), write_close(b, pos,
# code, reason).
#
# Strategy: the decoder takes any bytes as they arrive (split anywhere) and consumes all of
# them: header bytes (at most 14) and control payloads (at most 125) are copied into its own
# buffer of 139 bytes, and data payloads stay where they are: they are
# unmasked in place in the caller's buffer and handed over as offsets, one piece per call. So
# a message larger than any buffer reaches the application in pieces, and nothing is
# allocated per frame. Every rule the RFC makes of a peer's frames is checked as soon as the
# bytes that break it arrive, and ends the decoder with the close code to send (1002, 1007,
# 1009). feed() and the functions it calls are small: MicroPython keeps their frames on the
# stack (tools/mpy_frames.py).
import binascii
import hashlib

from .platform import const

# Opcodes (https://www.rfc-editor.org/rfc/rfc6455#section-5.2); feed() also returns the data
# ones for a piece of a message and the control ones for a complete control frame.
OP_CONT = const(0)
OP_TEXT = const(1)
OP_BINARY = const(2)
OP_CLOSE = const(8)
OP_PING = const(9)
OP_PONG = const(10)
# feed()'s other results
MORE = const(-1)  # every byte given was taken: read more
ERROR = const(-2)  # the peer broke the protocol: send a close with d.error, then close

# Close codes (https://www.rfc-editor.org/rfc/rfc6455#section-7.4.1)
CLOSE_NORMAL = const(1000)
CLOSE_GOING_AWAY = const(1001)
CLOSE_PROTOCOL_ERROR = const(1002)
CLOSE_UNSUPPORTED_DATA = const(1003)
CLOSE_NO_STATUS = const(1005)  # a close frame without a code (never sent as a code)
CLOSE_INVALID_DATA = const(1007)  # a text message (or close reason) that is not UTF-8
CLOSE_POLICY = const(1008)
CLOSE_TOO_BIG = const(1009)
CLOSE_INTERNAL_ERROR = const(1011)

# UTF-8 validator states (utf8_step): complete, broken; anything else is mid-character
UTF8_OK = const(0)
UTF8_BAD = const(12)

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # section 1.3
_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

# decoder stages
_HEAD = const(0)  # reading a frame header into d.ctl[0:14]
_DATA = const(1)  # a data frame's payload: in place in the caller's buffer
_CTRL = const(2)  # a control frame's payload: gathered in d.ctl[_C:]
_CLOSED = const(3)  # a close frame came: what follows is ignored (section 5.5.1)
_FAILED = const(4)  # the peer broke the protocol: d.error says how
_AGAIN = const(-3)  # a worker advanced without an event: go on from d.pos
# d.ctl, one buffer (a bytearray is two heap blocks, its object and its bytes): the frame
# header being read in d.ctl[0:14]; once it is complete, its masking key in d.ctl[0:4] and its
# first byte (FIN, RSV, opcode) in d.ctl[_H0]; a control frame's payload gathered behind it,
# in d.ctl[_C:_C + 125], and moved to d.ctl[0:125] when complete (the header is done with)
_H0 = const(4)
_C = const(14)
CTL_SIZE = const(139)  # _C + 125
# d.msg: the message in progress (0: none): its opcode (bits 0-1), _FRESH until a piece of
# it was handed over, and its UTF-8 validator's state + 1 from bit 3 (0: not checked)
_FRESH = const(4)


# -- the opening handshake (https://www.rfc-editor.org/rfc/rfc6455#section-4.2) --------------

def _bytes(v):
    return v.encode() if isinstance(v, str) else v


def has_token(v, name):
    """True if the comma-separated list v (bytes) holds the token `name` (lower case),
    ignoring case and OWS."""
    for t in v.split(b","):
        if t.strip().lower() == name:
            return True
    return False


def key_ok(key):
    """True if a Sec-WebSocket-Key value is 16 bytes in base64 (section 4.1: 24 characters,
    the last two "=")."""
    key = _bytes(key)
    if key is None or len(key) != 24 or key[22:] != b"==":
        return False
    for c in key[:22]:
        if _B64.find(bytes((c,))) < 0:
            return False
    return True


def handshake_status(upgrade, key, version):
    """The status that answers an upgrade request with these field values (str, bytes, or
    None when absent), as the server must (section 4.2.1, 4.2.2, 4.4): 101 (go on: send the
    101 with accept_key(key)), 400 (not a WebSocket handshake: no "websocket" in Upgrade, or
    no valid Sec-WebSocket-Key) or 426 (Sec-WebSocket-Version missing or not 13: the reply
    must carry "Sec-WebSocket-Version: 13", VERSION_FIELD). The method (GET), the HTTP
    version (1.1) and "Connection: upgrade" are the HTTP layer's checks."""
    upgrade = _bytes(upgrade)
    if upgrade is None or not has_token(upgrade, b"websocket"):
        return 400
    if version is None or _bytes(version).strip() != b"13":
        return 426
    if not key_ok(key):
        return 400
    return 101


VERSION_FIELD = (b"Sec-WebSocket-Version", b"13")  # the 426 reply's field (section 4.4)


def accept_key(key):
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)), 28 bytes
    (section 4.2.2 item 5.4)."""
    h = hashlib.sha1(_bytes(key))
    h.update(_GUID)
    return binascii.b2a_base64(h.digest())[:-1]  # without its newline


def choose_subprotocol(value, names):
    """The subprotocol to answer in Sec-WebSocket-Protocol: the first of `names` (the
    server's, in its order of preference) that the client's comma-separated list `value`
    holds (compared exactly; section 4.2.2, /subprotocol/), or None: then the reply
    has no Sec-WebSocket-Protocol field. Several client field lines: join them with ","."""
    if value is None:
        return None
    got = [t.strip() for t in _bytes(value).split(b",")]
    for p in names:
        if _bytes(p) in got:
            return p
    return None


# -- UTF-8 (https://www.rfc-editor.org/rfc/rfc3629#section-4) ---------------------------------

# A DFA in the layout of Bjoern Hoehrmann's decoder: _UTF8[0:256] is each byte's class,
# _UTF8[256 + state + class] the next state. States are multiples of 12: 0 complete,
# 12 broken, 24/36 one/two tail bytes to come, and the states that narrow the first tail
# byte, which is how overlongs (E0, F0), surrogates (ED) and code points above U+10FFFF (F4)
# are refused.
_UTF8 = bytearray(256 + 108)


def _utf8_table(t):
    # byte classes: 0 ASCII, 1 tail 80-8F, 9 tail 90-9F, 7 tail A0-BF, 8 never (C0 C1 F5-FF),
    # 2 lead of 2, 3 lead of 3 (E1-EC EE EF), 10 E0, 4 ED, 11 F0, 6 lead of 4 (F1-F3), 5 F4
    for lo, hi, c in ((0x80, 0x8F, 1), (0x90, 0x9F, 9), (0xA0, 0xBF, 7), (0xC0, 0xC1, 8),
                      (0xC2, 0xDF, 2), (0xE0, 0xE0, 10), (0xE1, 0xEC, 3), (0xED, 0xED, 4),
                      (0xEE, 0xEF, 3), (0xF0, 0xF0, 11), (0xF1, 0xF3, 6), (0xF4, 0xF4, 5),
                      (0xF5, 0xFF, 8)):
        for i in range(lo, hi + 1):
            t[i] = c
    for i in range(256, 256 + 108):
        t[i] = 12
    tail = (1, 7, 9)
    #  state, classes, next state
    for s, cs, n in ((0, (0,), 0), (0, (2,), 24), (0, (3,), 36), (0, (10,), 48), (0, (4,), 60),
                     (0, (11,), 72), (0, (6,), 84), (0, (5,), 96),
                     (24, tail, 0), (36, tail, 24),
                     (48, (7,), 24),  # E0 A0-BF: no overlong 3-byte form
                     (60, (1, 9), 24),  # ED 80-9F: no surrogates
                     (72, (7, 9), 36),  # F0 90-BF: no overlong 4-byte form
                     (84, tail, 36),
                     (96, (1,), 36)):  # F4 80-8F: nothing above U+10FFFF
        for c in cs:
            t[256 + s + c] = n


_utf8_table(_UTF8)
del _utf8_table


def utf8_step(b, s, e, st):
    """Go on validating UTF-8 with b[s:e], from state st (UTF8_OK at the start of a text).
    Returns the new state: UTF8_OK (complete), UTF8_BAD (invalid; stops there), or another
    (a character continues in the next bytes; at the text's end that is invalid too)."""
    t = _UTF8
    while s < e:
        c = b[s]
        s += 1
        if c < 0x80 and not st:  # ASCII between characters: the common case
            continue
        st = t[256 + st + t[c]]
        if st == 12:
            break
    return st


# -- close codes (https://www.rfc-editor.org/rfc/rfc6455#section-7.4) --------------------------

def close_code_ok(code):
    """True if a peer may send this close code: 1000-1003, 1007-1011, the IANA-registered
    1012-1014, and 3000-4999 (libraries, applications). Not 1004 (reserved), 1005, 1006 and
    1015 (never on the wire), nor other codes below 3000 or above 4999."""
    if code < 1000 or code >= 5000:
        return False
    if code >= 3000:
        return True
    return code <= 1003 or 1007 <= code <= 1014


# -- the frame decoder (https://www.rfc-editor.org/rfc/rfc6455#section-5) ------------------------

def unmask(b, s, e, key, p):
    """XOR b[s:e] in place with the 4-byte masking key, from its byte p & 3 (section 5.3).
    Returns the key byte for the next payload byte."""
    p &= 3
    while p and s < e:  # up to the key's first byte
        b[s] ^= key[p]
        p = (p + 1) & 3
        s += 1
    while s + 4 <= e:  # four at a time: no key index to compute
        b[s] ^= key[0]
        b[s + 1] ^= key[1]
        b[s + 2] ^= key[2]
        b[s + 3] ^= key[3]
        s += 4
    while s < e:
        b[s] ^= key[p]
        p += 1
        s += 1
    return p & 3


def copy_into(buf, at, b, s, e):
    """buf[at:] = b[s:e] without a temporary slice (forwards: also within one buffer, at < s)."""
    while s < e:
        buf[at] = b[s]
        at += 1
        s += 1


class Decoder:
    """The incremental decoder of one connection's client frames.

    Drive it with every byte that arrives: `ev = d.feed(b, pos, end)` takes bytes of
    b[pos:end] and returns one event; d.pos is then where the next call starts. Call again
    while ev != MORE: MORE means every byte up to `end` was taken (d.pos == end), so the
    whole buffer may be read into again. Events:
      OP_TEXT / OP_BINARY  a piece of a message: its payload, unmasked, is b[d.start:d.pos]
                           (in the caller's buffer; use it before reading into b again). It
                           may be empty only when it is the message's last piece. d.first:
                           this is the message's first piece; d.msg is 0 after its last
                           piece (no message in progress; one field less per decoder). Text
                           is checked UTF-8 up to the piece's end (a character may continue
                           in the next piece).
      OP_PING / OP_PONG    a whole control frame: its payload is d.ctl[0:d.at] (d.at: the
                           frame's payload bytes taken). Answer a ping with
                           write_control(out, p, OP_PONG, d.ctl, d.at).
      OP_CLOSE             the peer's close: d.code (CLOSE_NO_STATUS if it sent none), its
                           reason d.ctl[2:d.at] (valid UTF-8). Answer with a close (echo
                           d.code, or none if CLOSE_NO_STATUS: write_close), then close the
                           TCP connection. Bytes after it are ignored (MORE).
      ERROR                the peer broke the protocol: d.error is the close code to send
                           (1002 protocol error, 1007 invalid UTF-8, 1009 message too big);
                           send write_close(out, p, d.error) and close (section 7.1.7). Every
                           later call returns ERROR again.
    max_size limits a message (the sum of its frames' payloads; 1009 past it), checked at
    each frame header, before the payload arrives. rsv: the RSV bits (0x40 RSV1, 0x20 RSV2,
    0x10 RSV3) an extension negotiated; without one, any RSV bit is a protocol error. With
    RSV1 on a message's first frame (compression), the decoder does not check its UTF-8:
    the extension checks what it inflates; d.frsv holds the current frame's RSV bits. ctl:
    a buffer of at least CTL_SIZE bytes that the decoder may use for d.ctl (else its own).
    """

    # class defaults: MicroPython keeps an instance's attributes in a table of its own that
    # grows, once full, to 17, 23, 29, 37 entries (16 bytes each on a 64-bit port), and most
    # decoders never set these. (No properties: a class with one makes every attribute store
    # on its instances look in the class first, which made decoding 15% slower.) A decoder
    # has 10 attributes; ws.Conn, a Decoder with its connection's fields, 16 with the
    # on_message an application sets: a 17-entry table.
    rsv = 0  # the RSV bits an extension negotiated: set only when there are some
    frsv = 0  # set only when an extension negotiated RSV bits (else every frame's are 0)
    code = 0  # set by a close frame
    error = 0  # set by a protocol error

    def __init__(self, max_size=1 << 20, rsv=0, ctl=None):
        self.max_size = max_size
        if rsv:
            self.rsv = rsv
        # the frame header (2 + up to 8 + 4 bytes of mask), then a control frame's payload
        # (section 5.5: at most 125 bytes): _C. ctl: the caller's buffer for them (its first
        # CTL_SIZE bytes), a bytearray or a memoryview (ws.Conn's, with its queue behind)
        self.ctl = bytearray(CTL_SIZE) if ctl is None else ctl
        self.reset()

    def reset(self):
        """Start over, as for a new connection."""
        self.st = _HEAD
        # two fields serve the header and then the payload (never both at once):
        self.left = 0  # header bytes read (left is 0 at a frame's end); then the frame's
        # payload bytes still to come
        self.at = 0  # the header's size (known once its first two bytes came); then the
        # frame's payload bytes taken (at & 3: the masking key byte for the next one)
        self.msg = 0  # the message in progress (0: none; see _FRESH)
        self.size = 0  # payload bytes of that message so far, with the current frame's
        if self.code or self.error:
            self.code = self.error = 0
        self.pos = 0  # also the end of the piece an OP_TEXT or OP_BINARY event hands over
        self.start = 0
        self.first = False

    def feed(self, b, pos, end):
        """Take bytes of b[pos:end]; the next event (see the class). d.pos: where to go on."""
        ev = _AGAIN
        while ev == _AGAIN:
            st = self.st
            if st == _DATA:
                ev = self._data(b, pos, end)
            elif st == _HEAD:
                ev = self._head(b, pos, end)
            elif st == _CTRL:
                ev = self._ctrl(b, pos, end)
            elif st == _CLOSED:
                self.pos = end
                return MORE
            else:
                return ERROR
            pos = self.pos
        return ev

    def _fail(self, code):
        self.st = _FAILED
        self.error = code
        return ERROR

    def _head(self, b, pos, end):
        """Copy header bytes into ctl; at its end, begin the frame."""
        n = self.left
        need = self.at if n >= 2 else 2
        while n < need:
            if pos == end:
                self.left = n
                self.pos = pos
                return MORE
            self.ctl[n] = b[pos]
            n += 1
            pos += 1
            if n == 2:
                if self._first_two():
                    return ERROR
                need = self.at
        self.pos = pos
        return self._begin(self.ctl, n)

    def _first_two(self):
        """Check what the first two header bytes decide (section 5.2) and set how many
        follow. Returns 0, or ERROR after _fail."""
        h0 = self.ctl[0]
        h1 = self.ctl[1]
        op = h0 & 15
        if h0 & 0x70 & ~self.rsv:  # RSV1-3: "MUST be 0 unless an extension is negotiated"
            return self._fail(CLOSE_PROTOCOL_ERROR)
        if op & 7 > 2:  # 3-7 and 11-15 are reserved
            return self._fail(CLOSE_PROTOCOL_ERROR)
        if not h1 & 0x80:  # "The server MUST close the connection upon receiving a frame
            return self._fail(CLOSE_PROTOCOL_ERROR)  # that is not masked" (section 5.1)
        n = h1 & 127
        if op & 8:  # control frames: at most 125 bytes, never fragmented (section 5.5)
            if n > 125 or not h0 & 0x80:
                return self._fail(CLOSE_PROTOCOL_ERROR)
        elif op == OP_CONT:  # a continuation needs a message in progress (section 5.4)
            if not self.msg:
                return self._fail(CLOSE_PROTOCOL_ERROR)
        elif self.msg:  # a new message before the last one's final frame
            return self._fail(CLOSE_PROTOCOL_ERROR)
        self.at = 6 if n < 126 else 8 if n == 126 else 14  # the header's size
        return 0

    def _begin(self, hdr, n):
        """The header is complete (n bytes in hdr): take its length, then its masking key into
        hdr[0:4] (forwards: the key is behind) and its first byte into hdr[_H0], then the payload."""
        ln = self._length(hdr)
        if ln < 0:  # "the most significant bit MUST be 0" (section 5.2)
            return self._fail(CLOSE_PROTOCOL_ERROR)
        h0 = hdr[0]
        op = h0 & 15
        hdr[0] = hdr[n - 4]
        hdr[1] = hdr[n - 3]
        hdr[2] = hdr[n - 2]
        hdr[3] = hdr[n - 1]
        hdr[_H0] = h0
        if self.rsv:
            self.frsv = h0 & 0x70
        self.left = ln
        self.at = 0
        if op & 8:
            self.st = _CTRL
            return _AGAIN
        if op:
            self._message(op)
        if self.size + ln > self.max_size:
            return self._fail(CLOSE_TOO_BIG)
        self.size += ln
        self.st = _DATA
        return _AGAIN

    def _length(self, hdr):
        """The payload length in the header hdr: 7 bits, or 16 or 64 more (section 5.2;
        non-minimal lengths are accepted). -1 if the 64-bit length has its top bit set."""
        n = hdr[1] & 127
        if n < 126:
            return n
        if n == 126:
            return hdr[2] << 8 | hdr[3]
        if hdr[2] & 0x80:
            return -1
        n = 0
        i = 2
        while i < 10:
            n = n << 8 | hdr[i]
            i += 1
        return n

    def _message(self, op):
        """A data frame with an opcode starts a message."""
        self.size = 0
        # text is UTF-8 (section 8.1), unless an extension (RSV1: compression) transforms it
        self.msg = op | _FRESH | (UTF8_OK + 1) << 3 if op == OP_TEXT and not self.frsv & 0x40 else op | _FRESH

    def _take(self, b, pos, end):
        """Unmask in place the current frame's payload bytes among b[pos:end]; returns
        their end."""
        n = end - pos
        if n > self.left:
            n = self.left
        end = pos + n
        unmask(b, pos, end, self.ctl, self.at)
        self.at += n
        self.left -= n
        self.pos = end
        return end

    def _data(self, b, pos, end):
        """Hand over the data payload bytes at hand as a piece of the message."""
        end = self._take(b, pos, end)
        if self.left:
            if end == pos:
                return MORE
        else:
            self.st = _HEAD  # (left is 0: no header bytes yet)
        if self.msg > 7 and self._bad_text(b, pos, end):
            return self._fail(CLOSE_INVALID_DATA)
        return self._piece(pos, end)

    def _bad_text(self, b, s, e):
        """Go on checking a text message's UTF-8; True if it broke (a character cut off at
        the message's end too)."""
        u = utf8_step(b, s, e, (self.msg >> 3) - 1)
        self.msg = self.msg & 7 | (u + 1) << 3
        return u == UTF8_BAD or u and not self.left and self.ctl[_H0] >= 0x80  # FIN: the end

    def _piece(self, s, e):
        """Hand over b[s:e], unless it is an empty piece that does not end the message (a
        frame of 0 bytes without FIN)."""
        if self.left:
            last = False
        else:
            last = self.ctl[_H0] >= 0x80  # FIN
        if s == e and not last:
            return _AGAIN
        self.start = s  # (and e is self.pos)
        m = self.msg
        self.first = m & _FRESH != 0
        self.msg = 0 if last else m & ~_FRESH
        return m & 3

    def _ctrl(self, b, pos, end):
        """Gather a control frame's payload into ctl[_C:]; hand the frame over when complete,
        in ctl[0:at] (left is 0: no bytes of the next header)."""
        end = self._take(b, pos, end)
        copy_into(self.ctl, _C + self.at + pos - end, b, pos, end)
        if self.left:
            return MORE
        return self._control()

    def _control(self):
        """A control frame is complete: its payload to ctl[0:at], the header is done with."""
        self.st = _HEAD
        c = self.ctl
        op = c[_H0] & 15
        copy_into(c, 0, c, _C, _C + self.at)  # (forwards: _C > 0)
        return self._close() if op == OP_CLOSE else op

    def _close(self):
        """A close frame: its code and reason (section 5.5.1, 7.4)."""
        self.st = _CLOSED
        n = self.at
        c = self.ctl
        if n == 0:
            self.code = CLOSE_NO_STATUS
            return OP_CLOSE
        if n == 1:  # a code is two bytes
            return self._fail(CLOSE_PROTOCOL_ERROR)
        self.code = c[0] << 8 | c[1]
        if not close_code_ok(self.code):
            return self._fail(CLOSE_PROTOCOL_ERROR)
        if utf8_step(c, 2, n, UTF8_OK) != UTF8_OK:
            return self._fail(CLOSE_INVALID_DATA)
        return OP_CLOSE


# -- the server's frames: unmasked (section 5.1) --------------------------------------------------

def header_size(n):
    """The size of a server frame's header for a payload of n bytes: 2, 4 or 10."""
    return 2 if n < 126 else 4 if n < 65536 else 10


def frame_header(b, pos, op, last, n):
    """Write at b[pos:] the header of an unmasked frame: opcode op, FIN if last is true,
    payload length n (minimal form). Returns the offset behind it (pos + header_size(n)).
    A message in pieces: the first frame has OP_TEXT or OP_BINARY, the next ones OP_CONT;
    the last one has `last` (FIN; section 5.4). Control frames: last true, n <= 125."""
    b[pos] = (0x80 if last else 0) | op
    if n < 126:
        b[pos + 1] = n
        return pos + 2
    if n < 65536:
        b[pos + 1] = 126
        b[pos + 2] = n >> 8
        b[pos + 3] = n & 255
        return pos + 4
    b[pos + 1] = 127
    i = pos + 9
    while i > pos + 1:
        b[i] = n & 255
        n >>= 8
        i -= 1
    return pos + 10


def write_control(b, pos, op, src, n):
    """Write a whole control frame (OP_PING, OP_PONG, OP_CLOSE) with payload src[0:n] (n <=
    125) at b[pos:]. Returns its end."""
    pos = frame_header(b, pos, op, True, n)
    copy_into(b, pos, src, 0, n)
    return pos + n


def write_close(b, pos, code=CLOSE_NO_STATUS, reason=b""):
    """Write a close frame at b[pos:]: code (none for CLOSE_NO_STATUS) and reason (bytes,
    UTF-8, at most 123). Returns its end: at most pos + 127."""
    if code == CLOSE_NO_STATUS:
        return frame_header(b, pos, OP_CLOSE, True, 0)
    n = len(reason) + 2
    pos = frame_header(b, pos, OP_CLOSE, True, n)
    b[pos] = code >> 8
    b[pos + 1] = code & 255
    pos += 2
    n -= 2
    copy_into(b, pos, reason, 0, n)
    return pos + n
