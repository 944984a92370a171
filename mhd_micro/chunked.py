# The chunked transfer coding, sans-I/O, over a connection's buffer like parser.py and
# framing.py: the parser of chunked request bodies, and the writers of a chunked reply's
# chunk-size lines and trailer. Loaded on first need: the first request with a chunked
# body (upload.py drives the parser), the first chunked reply (body.py and framing.py
# call the writers).
#
# The entry points are transfer_encoding(r, b, i), for the field that announces the coding,
# chunk_step(r, b, pos, end, strict), and chunk_header, chunk_header_size, trailer and
# trailer_size.
from .platform import const
from .parser import MORE, NEXT, F_HAS_TE, F_CHUNKED, line_end, has_cr_nul, ieq
from .framing import put, put_uint
from .lazy import load

def transfer_encoding(r, b, i):
    """The Transfer-Encoding field (parser.py found its name's length and first letter)."""
    if not ieq(b, r.hdr[i], r.hdr[i + 1], b"transfer-encoding"):
        return NEXT
    if r.flags & F_HAS_TE:
        return 400
    r.flags |= F_HAS_TE
    if ieq(b, r.hdr[i + 2], r.hdr[i + 3], b"chunked"):
        r.flags |= F_CHUNKED
        return NEXT
    s = r.hdr[i + 2]
    e = r.hdr[i + 3]
    while e > s and b[e - 1] != 44:  # back to the last comma: the coding after it is the last one
        e -= 1
    if has_token(b, s, e, b"chunked"):
        return 400  # chunked before another coding or twice: the body's length is unknown
    return 501  # a coding we do not implement, with chunked last or without (RFC 9112 section 6.1: SHOULD)


def _ieq_ows(b, s, e, lower):
    """ieq on b[s:e] without its leading and trailing spaces and tabs."""
    while s < e and b[s] in (32, 9):
        s += 1
    while e > s and b[e - 1] in (32, 9):
        e -= 1
    return ieq(b, s, e, lower)


def has_token(b, s, e, tok):
    """True if the comma-separated list b[s:e] holds `tok` (lower case), ignoring case and OWS."""
    while s < e:
        c = b.find(b",", s, e)
        if c < 0:
            c = e
        if _ieq_ows(b, s, c, tok):
            return True
        s = c + 1
    return False


# Chunked transfer coding: https://www.rfc-editor.org/rfc/rfc9112#section-7.1
#   chunked-body = *chunk last-chunk trailer-section CRLF
#   chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
# r.chunk_left: bytes of chunk data still due; -1 while a size line is expected,
# -2 for the CRLF after data, -3 in the trailer section, -4 when the body is complete.
CH_SIZE = const(-1)
CH_DATA_CRLF = const(-2)
CH_TRAILER = const(-3)
CH_DONE = const(-4)
_MAX_CHUNK_HEX = const(16)


def chunk_step(r, b, pos, end, strict):
    """Advance the chunked-body state over b[pos:end].

    Returns the new position, with the span of chunk data found in r.data_start..r.data_end (the
    caller consumes it, then calls again); MORE when a line is incomplete (the position
    unchanged); below MORE on an error: minus its status (-400, -413, -431)."""
    r.data_start = r.data_end = pos
    left = r.chunk_left
    if left > 0:
        if end - pos > left:
            end = pos + left
        r.data_end = end
        r.chunk_left = left - (end - pos) or CH_DATA_CRLF
        return end
    r.end = end
    r.strict = strict
    if left == CH_TRAILER:
        return _trailer(r, b, pos)
    left = line_end(r, b, pos)  # now the line's end
    if left < 0:
        if left == MORE:
            return MORE
        return -400
    end = _chunk_line(r, b, pos, left)  # (a local reused: 0 or the error status)
    if end:
        return -end
    return left + 2 if b[left] == 13 else left + 1


def _chunk_line(r, b, s, e):
    """The CRLF after chunk data, a trailer field line, or chunk-size [ chunk-ext ].
    Returns 0 or the error status."""
    left = r.chunk_left
    if left == CH_DATA_CRLF:
        if e != s:
            return 400
        r.chunk_left = CH_SIZE
        return 0
    i = _hex_end(b, s, e)
    if i == s:
        return 400
    if i - s > _MAX_CHUNK_HEX:
        return 413
    if i < e and _chunk_ext(r, b, i, e):
        return 400
    i = _hex_value(b, s, i)
    r.chunk_left = i if i else CH_TRAILER
    return 0


def _trailer(r, b, pos):
    """trailer-section CRLF, taken whole: its fields are kept as offsets (VK_FOOTER), so it
    is parsed only once all of it is in the buffer. Returns the position after it, MORE, or
    minus the error status."""
    s = pos
    while True:  # is the empty line that ends it here yet?
        e = line_end(r, b, s)
        if e < 0:
            if e == MORE:
                return MORE
            return -400
        if e == s:
            break
        s = e + 2 if b[e] == 13 else e + 1
    s = pos
    while True:
        e = line_end(r, b, s)
        n = e + 2 if b[e] == 13 else e + 1
        if e == s:
            r.chunk_left = CH_DONE
            return n
        e = _footer(r, b, s, e)
        if e:
            return -e
        s = n


def _footer(r, b, s, e):
    """field-line of the trailer, kept after the head's fields in r.hdr. Returns 0 or 400, or
    431 when the field index is full."""
    c = b.find(b":", s, e)
    if c <= s or (has_cr_nul(b, s, e) and load("strictness").fix_cr_nul(b, s, e, r.strict)):
        return 400
    i = (r.nhdr + r.nfooters) * 4
    h = r.hdr
    if i >= len(h):
        return 431
    vs = c + 1
    while vs < e and b[vs] in (32, 9):
        vs += 1
    while e > vs and b[e - 1] in (32, 9):
        e -= 1
    h[i] = s
    h[i + 1] = c
    h[i + 2] = vs
    h[i + 3] = e
    r.nfooters += 1
    return 0


def _hex_value(b, s, e):
    v = 0
    while s < e:
        c = b[s] | 0x20
        v = (v << 4) | (c - 48 if c <= 57 else c - 87)
        s += 1
    return v


def _hex_end(b, s, e):
    """The end of the hex digits starting at s."""
    while s < e:
        c = b[s] | 0x20
        if not (48 <= c <= 57 or 97 <= c <= 102):
            break
        s += 1
    return s


def _chunk_ext(r, b, i, e):
    """chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ): true if bad.
    BWS before ';' is refused at levels 2 and 3."""
    k = i
    while k < e and b[k] in (32, 9):
        k += 1
    if k == e or b[k] != 59 or (k > i and r.strict > 1):
        return True
    return has_cr_nul(b, k, e)


# The reply side: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
def chunk_header_size(size, ext):
    """The length of the chunk-size line for `size` with the extension `ext` (bytes or None)."""
    n = 3 + len(ext) if ext else 2
    while True:
        n += 1
        size >>= 4
        if not size:
            return n


def chunk_header(b, p, size, ext):
    """chunk-size [ ";" chunk-ext ] CRLF at b[p:]; returns the end."""
    p = put_uint(b, p, size, 16)
    if ext:
        b[p] = 59  # ';'
        p = put(b, p + 1, ext)
    return put(b, p, b"\r\n")


def trailer_size(footers):
    """The bytes trailer() needs for all of `footers`."""
    n = 5
    for name, value in footers or ():
        n += len(name) + len(value) + 4
    return n


def trailer(b, p, footers):
    """last-chunk trailer-section CRLF at b[p:]: "0", the footers [(name, value)...] that
    fit in b (the rest are dropped: see trailer_size), the empty line. Returns the end."""
    p = put(b, p, b"0\r\n")
    for name, value in footers or ():
        if p + len(name) + len(value) + 6 > len(b):
            break
        p = put(b, p, name.encode())
        p = put(b, p, b": ")
        p = put(b, p, value.encode())
        p = put(b, p, b"\r\n")
    return put(b, p, b"\r\n")
