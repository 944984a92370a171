# Sans-I/O HTTP/1.1 request parser: request line, header fields and the chunked body framing,
# read in place from a connection's buffer. Nothing here touches a socket or a clock.
#
# The entry points are parse_head(r, b, end, strict) and chunk_step(r, b, pos, end, strict).
#
# Strategy: the buffer is scanned with bytearray.find (C speed) for line ends, colons and
# forbidden bytes; header fields are stored as (name, value) offsets in r.hdr, never copied.
# Each complete line is processed once; on short input the parser returns MORE and resumes
# at r.line next time. Behaviour that differs between the seven strictness levels follows
# the MHD2 table (docs/strictness.md); the level is an int from -3 (extra permissive) to 3.
from .platform import const

MORE = const(-1)  # the head is not complete yet
DROP = const(-2)  # close the connection without a reply
SIZE_UNKNOWN = 0xFFFFFFFFFFFFFFFF

# request flags (r.flags)
F_CLOSE = const(1)  # "Connection: close" or an HTTP/1.0 request without keep-alive
F_KEEP_ALIVE = const(2)  # "Connection: keep-alive"
F_UPGRADE = const(4)  # "Connection: upgrade"
F_EXPECT_100 = const(8)  # "Expect: 100-continue"
F_CHUNKED = const(16)  # "Transfer-Encoding: chunked"
F_MUST_CLOSE = const(32)  # framing was doubtful (CL+TE): close after the reply
F_HAS_TE = const(64)

# HTTP methods, as enum MHD_HTTP_Method
METHODS = (b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"CONNECT", b"OPTIONS", b"TRACE")
_M_OPTIONS = const(7)
_M_ASTERISK = const(9)
_M_OTHER = const(255)

_MAX_EMPTY_LINES = const(1024)  # MHD_MAX_EMPTY_LINES_SKIP
_MAX_CL_DIGITS = const(18)

# tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
#         / DIGIT / ALPHA                      https://www.rfc-editor.org/rfc/rfc9110#section-5.6.2
_TOKEN = bytearray(128)
for _c in b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz":
    _TOKEN[_c] = 1


def _ieq(b, s, e, lower):
    """True if b[s:e] equals the lower-case ASCII literal `lower`, ignoring case."""
    n = len(lower)
    if e - s != n:
        return False
    for i in range(n):
        if b[s + i] | 0x20 != lower[i]:
            return False
    return True


def _has_token(b, s, e, tok):
    """True if the comma-separated list b[s:e] holds `tok` (lower case), ignoring case and OWS."""
    while s < e:
        c = b.find(b",", s, e)
        if c < 0:
            c = e
        ts, te = s, c
        while ts < te and b[ts] in (32, 9):
            ts += 1
        while te > ts and b[te - 1] in (32, 9):
            te -= 1
        if _ieq(b, ts, te, tok):
            return True
        s = c + 1
    return False


def _line_end(b, s, end, strict):
    """Find the end of the line starting at s. Returns (content_end, next_line_start), or
    None if no LF yet, or (-1, 400) for a bare LF the strictness level forbids."""
    nl = b.find(b"\n", s, end)
    if nl < 0:
        return None
    if nl > s and b[nl - 1] == 13:
        return nl - 1, nl + 1
    # bare LF: https://www.rfc-editor.org/rfc/rfc9112#section-2.2 ("MAY recognize")
    if strict > 0:
        return -1, 400
    return nl, nl + 1


def _fix_cr_nul(b, s, e, strict):
    """Bare CR and NUL inside a line: 400, or (permissive levels) replaced by a space.
    Returns 0 or the error status."""
    for bad, keep_level in ((b"\r", -3), (b"\0", -4)):
        i = b.find(bad, s, e)
        if i < 0:
            continue
        if strict > -1:
            return 400
        if strict <= keep_level:  # -3 keeps a bare CR as it is
            continue
        while i >= 0:
            b[i] = 32
            i = b.find(bad, i + 1, e)
    return 0


def parse_head(r, b, end, strict):
    """Parse the request head in b[r.line:end].

    Returns MORE when more bytes are needed, 0 when the head is complete (r.body_start is the
    first byte after it), DROP to close without a reply, or the HTTP status of the error reply
    (400, 417, 431, 501, 505; 301 for a request target with spaces at levels 0 and -1)."""
    s = r.line
    if r.phase == 0:
        # Empty lines before the request line: https://www.rfc-editor.org/rfc/rfc9112#section-2.2
        while True:
            le = _line_end(b, s, end, strict)
            if le is None:
                r.line = s
                return MORE
            ce, nxt = le
            if ce < 0:
                return nxt
            if ce > s:
                break
            r.empty_lines += 1
            n = r.empty_lines
            if strict >= 2:
                return 400
            if (strict == 1 and n > 1) or (strict > -3 and n > _MAX_EMPTY_LINES):
                return DROP
            s = nxt
        r.head_start = s
        st = _request_line(r, b, s, ce, strict)
        if st:
            return st
        r.phase = 1
        s = nxt
        r.line = s
    hdr = r.hdr
    while True:
        le = _line_end(b, s, end, strict)
        if le is None:
            r.line = s
            return MORE
        ce, nxt = le
        if ce < 0:
            return nxt
        if ce == s:  # the empty line ending the header section
            r.body_start = nxt
            return _head_done(r, b, strict)
        st = _fix_cr_nul(b, s, ce, strict)
        if st:
            return st
        c = b[s]
        if c == 32 or c == 9:
            # obs-fold or whitespace before the first field: https://www.rfc-editor.org/rfc/rfc9112#section-5.2
            if r.nhdr == 0 or r.last_skipped:
                if strict > -1:
                    return 400
                s = nxt  # the line is ignored
                continue
            if strict > 0:
                return 400
            i = r.nhdr * 4 - 4
            for k in range(hdr[i + 3], s):  # fold into the previous value: CRLF becomes spaces
                b[k] = 32
            ve = ce
            while ve > s and b[ve - 1] in (32, 9):
                ve -= 1
            hdr[i + 3] = ve if ve > s else hdr[i + 3]
            s = nxt
            r.line = s
            continue
        colon = b.find(b":", s, ce)
        if colon < 0:  # field line without ':'
            if strict > -2:
                return 400
            r.last_skipped = True
            s = nxt
            continue
        r.last_skipped = False
        ne = colon
        if ne > s and b[ne - 1] in (32, 9):  # whitespace before ':': RFC 9112 section 5.1 says 400
            if strict > -3:
                return 400
            while ne > s and b[ne - 1] in (32, 9):
                ne -= 1
        if ne == s or b.find(b" ", s, ne) >= 0 or b.find(b"\t", s, ne) >= 0:
            if strict > -2:
                return 400
        vs = colon + 1
        while vs < ce and b[vs] in (32, 9):
            vs += 1
        ve = ce
        while ve > vs and b[ve - 1] in (32, 9):
            ve -= 1
        i = r.nhdr * 4
        if i >= len(hdr):
            return 431
        hdr[i] = s
        hdr[i + 1] = ne
        hdr[i + 2] = vs
        hdr[i + 3] = ve
        r.nhdr += 1
        st = _special_field(r, b, s, ne, vs, ve, strict)
        if st:
            return st
        s = nxt
        r.line = s


def _request_line(r, b, s, e, strict):
    """request-line = method SP request-target SP HTTP-version
    https://www.rfc-editor.org/rfc/rfc9112#section-3 . Returns 0 or the error status."""
    st = _fix_cr_nul(b, s, e, strict)
    if st:
        return st
    if strict <= 0:
        # TAB (levels <= 0), VT and FF (levels <= -1) accepted as delimiters
        for i in range(s, e):
            c = b[i]
            if c == 9 or (strict < 0 and (c == 11 or c == 12)):
                b[i] = 32
    sp1 = b.find(b" ", s, e)
    if sp1 <= s:
        return 400
    ts = sp1 + 1
    if strict < 0:  # runs of whitespace count as one delimiter
        while ts < e and b[ts] == 32:
            ts += 1
    vs = e
    while vs > ts and b[vs - 1] != 32:
        vs -= 1
    te = vs - 1
    if vs <= ts or te <= ts:
        return 400
    if strict < 0:
        while te > ts and b[te - 1] == 32:
            te -= 1
    elif b[ts] == 32 or b[te - 1] == 32:
        return 400  # two spaces in a row: only levels below 0 take them as one
    # method = token
    for i in range(s, sp1):
        c = b[i]
        if c > 127 or not _TOKEN[c]:
            return 400
    r.ms = s
    r.me = sp1
    m = _M_OTHER
    for k in range(len(METHODS)):
        if b.find(METHODS[k], s, sp1) == s and sp1 - s == len(METHODS[k]):
            m = k + 1
            break
    # HTTP-version = "HTTP/" DIGIT "." DIGIT   https://www.rfc-editor.org/rfc/rfc9112#section-2.3
    if e - vs != 8 or b.find(b"HTTP/", vs, e) != vs or b[vs + 6] != 46:
        return 400
    major = b[vs + 5] - 48
    minor = b[vs + 7] - 48
    if not (0 <= major <= 9 and 0 <= minor <= 9):
        return 400
    if major != 1 or minor > 1:
        return 505
    r.version = minor + 1  # MHD_HTTP_VERSION_1_0 = 1, _1_1 = 2
    r.ts = ts
    r.te = te
    # request-target: no CTLs; spaces depend on the strictness level
    space = False
    for i in range(ts, te):
        c = b[i]
        if c <= 32 or c == 127:
            if c != 32:
                return 400
            space = True
    if space:
        if strict > 0:
            return 400
        if strict > -2:
            return 301
    c = b[ts]
    if c == 42 and te == ts + 1:  # "*", asterisk-form
        if m != _M_OPTIONS:
            return 400
        m = _M_ASTERISK
        ps = ts
    elif c == 47:  # origin-form
        ps = ts
    else:  # absolute-form: scheme "://" authority path
        k = b.find(b"://", ts, te)
        if k < 0:
            return 400
        ps = b.find(b"/", k + 3, te)
        if ps < 0:
            ps = te
    q = b.find(b"?", ps, te)
    r.ps = ps
    r.pe = q if q >= 0 else te
    r.qs = q + 1 if q >= 0 else -1
    r.method = m
    return 0


def _special_field(r, b, ns, ne, vs, ve, strict):
    """The fields the engine itself acts on. Returns 0 or the error status."""
    n = ne - ns
    c = b[ns] | 0x20
    if n == 4 and c == 104 and _ieq(b, ns, ne, b"host"):
        r.hosts += 1
        if r.hosts > 1 and strict > -3:
            return 400
    elif n == 14 and c == 99 and _ieq(b, ns, ne, b"content-length"):
        # Content-Length = 1*DIGIT   https://www.rfc-editor.org/rfc/rfc9110#section-8.6
        if ve == vs:
            return 400
        v = 0
        for i in range(vs, ve):
            d = b[i] - 48
            if d < 0 or d > 9:
                return 400
            v = v * 10 + d
        if ve - vs > _MAX_CL_DIGITS:
            return 413
        if r.cl >= 0:
            if r.cl != v or strict > 0:
                return 400
        r.cl = v
    elif n == 17 and c == 116 and _ieq(b, ns, ne, b"transfer-encoding"):
        if r.flags & F_HAS_TE:
            return 400
        r.flags |= F_HAS_TE
        if _ieq(b, vs, ve, b"chunked"):
            r.flags |= F_CHUNKED
        elif _has_token(b, vs, ve, b"chunked"):
            return 400  # "chunked" not the only coding: framing can't be trusted
        else:
            return 501  # a transfer coding we do not implement (RFC 9112 section 6.1)
    elif n == 10 and c == 99 and _ieq(b, ns, ne, b"connection"):
        if _has_token(b, vs, ve, b"close"):
            r.flags |= F_CLOSE
        if _has_token(b, vs, ve, b"keep-alive"):
            r.flags |= F_KEEP_ALIVE
        if _has_token(b, vs, ve, b"upgrade"):
            r.flags |= F_UPGRADE
    elif n == 6 and c == 101 and _ieq(b, ns, ne, b"expect"):
        if _ieq(b, vs, ve, b"100-continue"):
            r.flags |= F_EXPECT_100
        elif strict > 0:
            return 417
    return 0


def _head_done(r, b, strict):
    """Checks that need the whole header section; sets the body framing."""
    f = r.flags
    if r.version == 2 and r.hosts == 0 and strict > -3:
        return 400  # https://www.rfc-editor.org/rfc/rfc9112#section-3.2
    if r.version == 1 and not f & F_KEEP_ALIVE:
        f |= F_CLOSE
    if f & F_HAS_TE:
        if r.version == 1 and strict > 0:
            return 400  # Transfer-Encoding in HTTP/1.0: https://www.rfc-editor.org/rfc/rfc9112#section-6.1
        if r.cl >= 0:
            # CL + TE: request smuggling shape. https://www.rfc-editor.org/rfc/rfc9112#section-6.1
            if strict > 0:
                return 400
            r.cl = -1
            f |= F_MUST_CLOSE
        if r.version == 1:
            f |= F_MUST_CLOSE
        r.upload_size = SIZE_UNKNOWN
    elif r.cl > 0:
        r.upload_size = r.cl
    r.flags = f
    r.head_size = r.body_start - r.head_start
    return 0


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

    Returns (as r.data_s, r.data_e) the span of chunk data found, and the new position;
    the caller consumes the data, then calls again. Returns MORE when a line is incomplete
    (with the position unchanged), or an error status (400, 413) as a negative of itself
    would be ambiguous, so errors are reported through r.error and a return of -2."""
    r.data_s = r.data_e = pos
    left = r.chunk_left
    if left > 0:
        n = end - pos
        if n > left:
            n = left
        r.data_e = pos + n
        left -= n
        r.chunk_left = left if left else CH_DATA_CRLF
        return pos + n
    le = _line_end(b, pos, end, strict)
    if le is None:
        return MORE
    ce, nxt = le
    if ce < 0:
        r.error = nxt
        return DROP
    if left == CH_DATA_CRLF:
        if ce != pos:
            r.error = 400
            return DROP
        r.chunk_left = CH_SIZE
        return nxt
    if left == CH_TRAILER:
        if ce == pos:
            r.chunk_left = CH_DONE
            return nxt
        if b.find(b":", pos, ce) <= pos or _fix_cr_nul(b, pos, ce, strict):
            r.error = 400
            return DROP
        r.nfooters += 1
        return nxt
    # chunk-size [ chunk-ext ]
    v = 0
    i = pos
    while i < ce:
        c = b[i] | 0x20
        if 48 <= c <= 57:
            d = c - 48
        elif 97 <= c <= 102:
            d = c - 87
        else:
            break
        v = (v << 4) | d
        i += 1
    if i == pos:
        r.error = 400
        return DROP
    if i - pos > _MAX_CHUNK_HEX:
        r.error = 413
        return DROP
    if i < ce:
        k = i
        while k < ce and b[k] in (32, 9):  # BWS before chunk-ext; level 2 and up refuse it
            k += 1
        ch = b[k] if k < ce else 0
        if ch != 59 or (k > i and strict > 1):
            r.error = 400
            return DROP
        if b.find(b"\r", k, ce) >= 0 or b.find(b"\0", k, ce) >= 0:
            r.error = 400
            return DROP
    r.chunk_left = v if v else CH_TRAILER
    return nxt
