"""The WebSocket codec (mhd_micro/websocket.py) against wsproto, the sans-I/O reference (CPython
only), on random frames from hypothesis: what wsproto's client sends, the decoder reads the
same, however the bytes are split; what the writers send, wsproto's client reads; and on
random, often broken, frame headers both accept the same and fail with the same close code."""
import pytest
from hypothesis import given, settings, strategies as st

from conftest import IN_CI
from mhd_micro import websocket as ws

try:
    from wsproto.frame_protocol import FrameProtocol, Opcode, ParseFailed
    from wsproto.utilities import generate_accept_token
except ImportError:  # tools/setup.sh installs it (pyproject.toml's test extras)
    if IN_CI:
        raise
    pytest.skip("wsproto is missing: pip install -e '.[test]'", allow_module_level=True)


def decode(data, cuts, size=None):
    """Our decoder's events for `data` read in the pieces `cuts` makes, through one reused
    buffer: data messages joined as (op, payload), control frames as (op, payload), the close
    as (OP_CLOSE, code, reason), a failure as ("error", code)."""
    d = ws.Decoder(max_size=1 << 24)
    bounds = [0] + sorted(set(c for c in cuts if 0 < c < len(data))) + [len(data)]
    b = bytearray(size or len(data) or 1)
    out, cur = [], None
    for s, e in zip(bounds, bounds[1:]):
        b[0:e - s] = data[s:e]
        pos = 0
        while True:
            ev = d.feed(b, pos, e - s)
            pos = d.pos
            if ev == ws.MORE:
                break
            if ev == ws.ERROR:
                return out + [("error", d.error)]
            if ev == ws.OP_CLOSE:
                return out + [(ev, d.code, bytes(d.ctl[2:d.at]))]
            if ev in (ws.OP_PING, ws.OP_PONG):
                out.append((ev, bytes(d.ctl[:d.at])))
                continue
            assert d.first == (cur is None)
            cur = (ev, (cur[1] if cur else b"") + bytes(b[d.start:d.pos]))
            if not d.msg:  # the message's last piece
                out.append(cur)
                cur = None
    return out


# a message: a list of fragments, all str (a text message: wsproto sends str as TEXT and cuts
# it only between characters) or all bytes (binary); control frames: (OP_PING|OP_PONG, payload)
def _big(n):
    """n bytes of a pattern: hypothesis draws large binaries slowly."""
    return (bytes(range(256)) * (n // 256 + 1))[:n]


@st.composite
def message(draw):
    big = draw(st.integers(0, 19)) == 19  # now and then a 64-bit length
    data = _big(draw(st.integers(65536, 66000))) if big else draw(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=4)))
    return [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]


control = st.tuples(st.sampled_from([ws.OP_PING, ws.OP_PONG]), st.binary(max_size=125))
streams = st.lists(st.one_of(message(), control), min_size=1, max_size=6)


def client_bytes(items, close):
    """The bytes wsproto's client sends for the items, control frames going out after the
    first fragment of the next message (inside it, when it has more), then the close; and the
    events the decoder must report."""
    fp = FrameProtocol(client=True, extensions=[])
    out = bytearray()
    want = []
    pending = []
    for item in items:
        if isinstance(item, tuple):
            pending.append(item)
            continue
        text = isinstance(item[0], str)
        for i, frag in enumerate(item):
            out += fp.send_data(frag, fin=i == len(item) - 1)
            if i == len(item) - 1:
                want.append((ws.OP_TEXT if text else ws.OP_BINARY, "".join(item).encode() if text else b"".join(item)))
            while pending:
                op, payload = pending.pop(0)
                out += fp.ping(payload) if op == ws.OP_PING else fp.pong(payload)
                want.append((op, payload))
    for op, payload in pending:
        out += fp.ping(payload) if op == ws.OP_PING else fp.pong(payload)
        want.append((op, payload))
    code, reason = close
    out += fp.close(code, reason)
    want.append((ws.OP_CLOSE, code or 1005, reason.encode() if code else b""))
    return bytes(out), want


closes = st.one_of(st.just((None, None)), st.tuples(st.sampled_from([1000, 1001, 1003, 1008, 1011, 3000, 4999]),
                                                    st.text(max_size=30)))


@settings(max_examples=300, deadline=None)
@given(streams, closes, st.lists(st.integers(0, 1 << 18), max_size=8), st.sampled_from([None, 7, 64, 4096]))
def test_what_wsproto_sends_the_decoder_reads(items, close, cuts, size):
    data, want = client_bytes(items, close)
    if size:  # a small read buffer: the bytes come in reads of at most `size`
        cuts = list(cuts) + list(range(size, len(data), size))
        size = max(size, max(b - a for a, b in zip([0] + sorted(set(cuts)), sorted(set(cuts)) + [len(data)])))
    assert decode(data, cuts, size) == want


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=300), st.integers(65536, 65600).map(_big)), min_size=1, max_size=5),
       st.lists(st.binary(max_size=125), max_size=3), st.integers(1000, 4999).filter(lambda c: ws.close_code_ok(c) and c != 1014))
def test_what_the_writers_send_wsproto_reads(pieces, pings, code):
    """A binary message in pieces (first piece BINARY, then CONT, FIN on the last), pings,
    pongs and a close, written by frame_header / write_control / write_close."""
    out = bytearray()
    for i, data in enumerate(pieces):
        b = bytearray(10)
        end = ws.frame_header(b, 0, ws.OP_BINARY if i == 0 else ws.OP_CONT, i == len(pieces) - 1, len(data))
        out += b[:end] + data
    for p in pings:
        b = bytearray(127)
        out += b[:ws.write_control(b, 0, ws.OP_PING, p, len(p))]
        out += b[:ws.write_control(b, 0, ws.OP_PONG, p, len(p))]
    b = bytearray(127)
    out += b[:ws.write_close(b, 0, code, b"bye")]
    fp = FrameProtocol(client=True, extensions=[])
    fp.receive_bytes(bytes(out))
    frames = list(fp.received_frames())
    data = b"".join(f.payload for f in frames if f.opcode in (Opcode.BINARY, Opcode.CONTINUATION))
    assert data == b"".join(pieces)
    assert [f.message_finished for f in frames if f.opcode in (Opcode.BINARY, Opcode.CONTINUATION)][-1]
    ctl = [(f.opcode, f.payload) for f in frames if f.opcode in (Opcode.PING, Opcode.PONG)]
    assert ctl == [x for p in pings for x in ((Opcode.PING, p), (Opcode.PONG, p))]
    assert frames[-1].opcode == Opcode.CLOSE and frames[-1].payload == (code, "bye")


def _frame(fin, rsv, op, masked, payload):
    """A client frame, its length in the minimal form."""
    n = len(payload)
    h = bytearray([(0x80 if fin else 0) | rsv | op])
    m = 0x80 if masked else 0
    if n < 126:
        h.append(m | n)
    elif n < 65536:
        h += bytes([m | 126]) + n.to_bytes(2, "big")
    else:
        h += bytes([m | 127]) + n.to_bytes(8, "big")
    key = b"\x01\x82\x23\xc4"
    if not masked:
        return bytes(h) + payload
    return bytes(h) + key + bytes(c ^ key[i & 3] for i, c in enumerate(payload))


# close code 1014 (IANA's "Bad Gateway") is left out: the decoder takes it, wsproto does not know it
payloads = st.one_of(st.binary(max_size=130), st.text(max_size=40).map(lambda s: s.encode()),
                     st.sampled_from([b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\x80", b"\xe2\x82",
                                      b"\x03\xe8", b"\x03\xed", b"\x03"])).filter(lambda p: p[:2] != b"\x03\xf6")


def _wsproto_verdict(data):
    """wsproto's server side on data: ("ok", number of frames it read) or ("error", code)."""
    fp = FrameProtocol(client=False, extensions=[])
    fp.receive_bytes(data)
    n = 0
    try:
        for f in fp.received_frames():
            n += 1
            if f.opcode == Opcode.CLOSE:
                break
    except ParseFailed as e:
        return ("error", int(e.code))
    return ("ok", n)


# frames that break one rule now and then: reserved bits, reserved opcodes, no mask,
# fragmentation, control frame sizes, UTF-8, close payloads
broken_frames = st.lists(st.tuples(st.sampled_from([True] * 3 + [False]), st.sampled_from([0] * 12 + [0x40, 0x20, 0x10]),
                                   st.sampled_from([0, 1, 1, 2, 2, 8, 9, 9, 10, 10, 3, 11]),
                                   st.sampled_from([True] * 9 + [False]), payloads), min_size=1, max_size=4)


@settings(max_examples=600, deadline=None)
@given(broken_frames)
def test_broken_frames_get_the_close_code_wsproto_gives(specs):
    """Minimal lengths only: wsproto refuses the others, RFC 6455 asks them of the sender only
    (the decoder takes them: tests/unit/test_websocket.py)."""
    data = b"".join(_frame(*s) for s in specs)
    theirs = _wsproto_verdict(data)
    ours = decode(data, [])
    if theirs[0] == "error":
        assert ours[-1:] == [theirs], (specs, ours)
    else:
        assert not ours or ours[-1][0] != "error", (specs, ours, theirs)


def test_the_accept_key_is_wsprotos():
    for key in (b"dGhlIHNhbXBsZSBub25jZQ==", b"AAAAAAAAAAAAAAAAAAAAAA==", b"x3JJHMbDL1EzLkh9GBhXDw=="):
        assert ws.accept_key(key) == generate_accept_token(key)
