# Reply framing, sans-I/O: the framing decision (Content-Length, chunked or close-delimited;
# keep-alive or close; HEAD and the statuses without a body), the status line, the header
# block, chunk-size lines and the chunked trailer, written into a bytearray at an offset.
# No socket, no clock and no connection here: connection.py, body.py and errors.py call these
# functions, and tests/unit/test_framing.py runs them on both runtimes.
#
# The entry points are plan(resp, req, close), which gives the FR_* bits, and
# write_head(b, p, resp, fr, date); then body_inline and status_line, and the
# writers put and put_uint. Each writer returns the end of what it wrote (or -1 where the
# bytes do not fit), so a caller chains them through one offset and nothing is allocated.
# The lines of the chunked coding (chunk-size lines, the trailer) are written by chunked.py,
# next to its parser, and loaded only for chunked replies.
#
# RFC 9112 section 6.3 (message body length) and 9.3 (persistence); RFC 9110 section 6.4.1
# (1xx, 204 and 304 have no body) and 9.3.2 (HEAD).
from .platform import const
from .lazy import load, drop, is_loaded

# what plan() decides
FR_KEEP_ALIVE = const(1)  # the connection stays open for the next request
FR_CHUNKED = const(2)  # the body goes in chunks: Transfer-Encoding: chunked
_FR_NO_BODY = const(4)  # 1xx, 204 or 304: the status forbids a body
_FR_HEAD = const(8)  # HEAD, or R_O_HEAD_ONLY_RESPONSE: the header only
_FR_SAY_KEEP_ALIVE = const(16)  # kept alive for an HTTP/1.0 client, which must be told

_RF_REUSABLE = const(1)  # = response.RF_REUSABLE
_RF_HEAD_ONLY = const(2)  # = response.RF_HEAD_ONLY
_RF_CHUNKED = const(4)  # = response.RF_CHUNKED
_RF_CONN_CLOSE = const(8)  # = response.RF_CONN_CLOSE
_RF_HTTP10_STRICT = const(16)  # = response.RF_HTTP10_STRICT
_RF_HTTP10_SERVER = const(32)  # = response.RF_HTTP10_SERVER
_RF_HAS_DATE = const(128)  # = response.RF_HAS_DATE
_RF_HAS_CL = const(256)  # = response.RF_HAS_CL
_K_BUFFER = const(1)  # = response.K_BUFFER
_F_CLOSE = const(1)  # = parser.F_CLOSE
_F_KEEP_ALIVE = const(2)  # = parser.F_KEEP_ALIVE
_F_MUST_CLOSE = const(32)  # = parser.F_MUST_CLOSE
_HTTP_METHOD_HEAD = const(2)  # = mhd.HTTP_METHOD_HEAD
_HTTP_VERSION_1_0 = const(1)  # = mhd.HTTP_VERSION_1_0
_SIZE_UNKNOWN = const(0xFFFFFFFFFFFFFFFF)  # = response.SIZE_UNKNOWN
# the header lines the engine adds, at most: Date (37), Connection (24), Content-Length
# (36) or Transfer-Encoding (28), and the empty line; a little over, for a simple check
_HEAD_MORE = const(130)
# the bits of a plan that change a reusable response's cached header fields
_TAIL_BITS = const(19)  # = FR_KEEP_ALIVE | FR_CHUNKED | _FR_SAY_KEEP_ALIVE

_DIGITS = b"0123456789abcdef"
_CRLF = b"\r\n"
_CHUNK_END = b"\r\n0\r\n\r\n"  # the CRLF after a chunk's data, and the last chunk
_LAST_CHUNK = b"0\r\n\r\n"
_CONN_CLOSE = b"Connection: close\r\n"
_CONN_KEEP_ALIVE = b"Connection: Keep-Alive\r\n"
_CL = b"Content-Length: "
_TE_CHUNKED = b"Transfer-Encoding: chunked\r\n"
_lines = {}
_len = len  # a global of this module: found before the builtins, which MicroPython searches in order


def plan(resp, req, close):
    """The framing of the reply `resp` to request `req`, as FR_* bits. `close`: the engine
    closes the connection after this reply for a reason of its own (quiescing, an Expect it
    did not answer)."""
    f = resp.flags
    fr = resp.sc
    fr = _FR_NO_BODY if fr < 200 or fr == 204 or fr == 304 else 0
    if req.method == _HTTP_METHOD_HEAD or f & _RF_HEAD_ONLY:
        fr |= _FR_HEAD
    # chunked for an unknown size (or on request), where the client and the options allow
    if ((resp.size == _SIZE_UNKNOWN or f & _RF_CHUNKED) and not fr & _FR_NO_BODY
            and req.version != _HTTP_VERSION_1_0 and not f & (_RF_HTTP10_STRICT | _RF_HTTP10_SERVER)):
        fr |= FR_CHUNKED
    if (close or req.flags & (_F_CLOSE | _F_MUST_CLOSE) or f & (_RF_CONN_CLOSE | _RF_HTTP10_STRICT)
            or (resp.size == _SIZE_UNKNOWN and not fr & (FR_CHUNKED | _FR_HEAD))):
        return fr  # a body of unknown size and no chunks ends with the connection
    if req.version == _HTTP_VERSION_1_0 or f & _RF_HTTP10_SERVER:
        # an HTTP/1.0 exchange: kept alive only when the client asked, and told so
        return fr | FR_KEEP_ALIVE | _FR_SAY_KEEP_ALIVE if req.flags & _F_KEEP_ALIVE else fr
    return fr | FR_KEEP_ALIVE


def status_line(code, http10=False):
    """b"HTTP/1.1 <code> <phrase>\r\n", made once per code and version."""
    key = -code if http10 else code
    line = _lines.get(key)
    if line is None:
        line = _lines[key] = b"HTTP/1.%d %d %s\r\n" % (0 if http10 else 1, code, _phrase(code))
    return line


def keep_status_line(code, line):
    """Keep a status line made elsewhere: daemon_start gives the usual ones (pools.py), so
    that a first reply need not load the phrase table (3.7 KB at once) into a heap the pools
    have taken."""
    _lines[code] = line


def _phrase(code):
    # the table of phrases (status.py) is loaded for a new code and let go again, unless
    # something else holds it: a server sends a few codes, and keeps their lines
    kept = is_loaded("status")
    phrase = load("status").phrase_of(code)
    if not kept:
        drop("status")
    return phrase.encode() if phrase else b"Nonstandard Status"


def write_head(b, p, resp, fr, date):
    """The status line and header fields of `resp` framed as `fr` at b[p:], with the `date`
    line unless the application gave its own. Returns the end, or -1 if they do not fit."""
    # status_line's kept line, looked up here (a call less per reply); made there the first time
    sl = _lines.get(-resp.sc if resp.flags & _RF_HTTP10_SERVER else resp.sc)
    if sl is None:
        sl = status_line(resp.sc, resp.flags & _RF_HTTP10_SERVER)
    if p + _len(sl) + _HEAD_MORE + _len(resp.hdrs) > _len(b):
        return -1
    # put's copies in line: each call of it would cost more than its copy (a keep-alive reply
    # runs these three). The end first: fewer values on the stack keep the frame on the C stack.
    p += _len(sl)
    b[p - _len(sl):p] = sl
    if not resp.flags & _RF_HAS_DATE:
        p += _len(date)
        b[p - _len(date):p] = date
    if resp.tail is not None and fr & _TAIL_BITS == FR_KEEP_ALIVE:
        sl = resp.tail  # (a local reused, for the same reason)
        p += _len(sl)
        b[p - _len(sl):p] = sl
        return p
    return _fields(b, p, resp, fr)


def _fields(b, p, resp, fr):
    """Connection, Content-Length or Transfer-Encoding, the application's fields and the
    empty line. A reusable response keeps these bytes for the usual framing: its next
    keep-alive HTTP/1.1 reply is one copy."""
    s = p
    p = _framing_fields(b, p, resp, fr)
    p = put(b, p, resp.hdrs)
    p = put(b, p, _CRLF)
    if resp.flags & _RF_REUSABLE and fr & _TAIL_BITS == FR_KEEP_ALIVE:
        resp.tail = bytes(memoryview(b)[s:p])
    return p


def _framing_fields(b, p, resp, fr):
    if not fr & FR_KEEP_ALIVE:
        p = put(b, p, _CONN_CLOSE)
    elif fr & _FR_SAY_KEEP_ALIVE:
        p = put(b, p, _CONN_KEEP_ALIVE)
    if fr & FR_CHUNKED:
        return put(b, p, _TE_CHUNKED)
    # no Content-Length without a body, for an unknown size, or where the application gave one
    if fr & _FR_NO_BODY or resp.size == _SIZE_UNKNOWN or resp.flags & (_RF_HAS_CL | _RF_HEAD_ONLY):
        return p
    p = put(b, p, _CL)
    p = put_uint(b, p, resp.size, 10)
    return put(b, p, _CRLF)


def body_inline(b, p, resp, fr):
    """The body right after the header at b[p:], when all of it fits: none (HEAD, 1xx, 204,
    304), an empty one (the last chunk alone when chunked), or a buffer response with room.
    Returns the reply's end, or -1 when the body must follow in segments (body.py)."""
    if fr & (_FR_HEAD | _FR_NO_BODY):
        return p
    n = resp.size
    if not n:
        return put(b, p, _LAST_CHUNK) if fr & FR_CHUNKED else p
    if resp.kind != _K_BUFFER or p + n + 27 > _len(b):  # 27: the chunk framing, at most
        return -1
    if fr & FR_CHUNKED:
        p = load("chunked").chunk_header(b, p, n, None)  # R_O_CHUNKED_ENC: one chunk
    b[p:p + n] = resp.data
    p += n
    return put(b, p, _CHUNK_END) if fr & FR_CHUNKED else p


def put(b, p, data):
    """Copy data into b at p; returns the end."""
    e = p + _len(data)
    b[p:e] = data
    return e


def put_uint(b, p, n, base):
    """Write n in decimal or hex at b[p:], without making a string. Returns the end."""
    e = p + _ndigits(n, base)
    k = e
    while k > p:
        k -= 1
        b[k] = _DIGITS[n % base]
        n //= base
    return e


def _ndigits(n, base):
    k = 1
    while n >= base:
        n //= base
        k += 1
    return k
