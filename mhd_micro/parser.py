# Sans-I/O HTTP/1.1 request parser: request line, header fields and the chunked body framing,
# read in place from a connection's buffer. Nothing here touches a socket or a clock.
#
# The entry point is parse_head(r, b, end, strict).
#
# Strategy: the buffer is scanned with bytearray.find (C speed) for line ends, colons and
# forbidden bytes; header fields are stored as (name, value) offsets in r.hdr, never copied.
# Each complete line is processed once; on short input the parser returns MORE and resumes
# at r.line next time. Behaviour that differs between the seven strictness levels follows
# the MHD2 table (docs/strictness.md); the level is an int from -3 (extra permissive) to 3.
# This module takes the common shape of a head; the rest (repairs and refusals of unusual
# input) is in strictness.py and the chunked framing in chunked.py, loaded on first need.
from .platform import const
from .lazy import load

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
F_HOST = const(128)  # a Host field was seen
F_SKIPPED = const(256)  # the last field line was skipped (levels <= -2: no colon)

# HTTP methods, as enum MHD_HTTP_Method
METHODS = (b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"CONNECT", b"OPTIONS", b"TRACE")
_HTTP_METHOD_OPTIONS = const(7)  # = mhd.HTTP_METHOD_OPTIONS
_HTTP_METHOD_ASTERISK = const(9)  # = mhd.HTTP_METHOD_ASTERISK
_HTTP_METHOD_OTHER = const(255)  # = mhd.HTTP_METHOD_OTHER

_MAX_CL_DIGITS = const(18)

# A byte's class, one table for two tests: 1 for a tchar, 2 for the other visible ASCII bytes
# (33..126), 0 for the rest (space, control bytes, DEL, bytes past ASCII), which a request target
# takes only as the level allows (_target_chars).
# tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
#         / DIGIT / ALPHA                      https://www.rfc-editor.org/rfc/rfc9110#section-5.6.2
CHARS = bytearray(256)
for _c in range(33, 127):
    CHARS[_c] = 2
for _c in b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz":
    CHARS[_c] = 1


# Every function here is written for MicroPython's frames: a function whose locals and
# value stack need more than 11 words gets its frame from the heap at every call. So the
# work is cut into small functions that pass the request `r` (which carries the buffer end
# and the strictness level for this parse) and keep their state in it.
_SPECIAL_LETTERS = const(0x100128)  # bit (letter & 31) set for h, c, t, e (store)
_SPECIAL_LENGTHS = const(0x24450)  # bit n set for the names' lengths 4, 6, 10, 14, 17 (store)
NEXT = const(-3)  # a field line was taken: go on with the next one
_BAD = const(-4)  # a bare LF the strictness level forbids


def ieq(b, s, e, lower):
    """True if b[s:e] equals the lower-case ASCII literal `lower`, ignoring case."""
    if e - s != len(lower):
        return False
    i = 0
    while s < e:
        if b[s] | 0x20 != lower[i]:
            return False
        s += 1
        i += 1
    return True


def _named(b, s, e, spelled, lower):
    """b[s:e], as long as `lower`, is that name or value: its usual spelling with one find (b is
    the request's bytearray), else ignoring case. (ieq itself takes memoryviews too.)"""
    return b.find(spelled, s, e) == s or ieq(b, s, e, lower)


def line_end(r, b, s):
    """Where the line starting at s ends: the index of its CR LF (or bare LF); MORE if no LF
    has come yet; _BAD for a bare LF the level forbids (https://www.rfc-editor.org/rfc/rfc9112#section-2.2)."""
    nl = b.find(b"\n", s, r.end)
    if nl < 0:
        return MORE
    if nl > s and b[nl - 1] == 13:
        return nl - 1
    return _BAD if r.strict > 0 else nl


def has_cr_nul(b, s, e):
    return b.find(b"\r", s, e) >= 0 or b.find(b"\0", s, e) >= 0


def parse_head(r, b, end, strict):
    """Parse the request head in b[r.line:end].

    Returns MORE when more bytes are needed, 0 when the head is complete (r.body_start is the
    first byte after it), DROP to close without a reply, or the HTTP status of the error reply
    (400, 413, 417, 431, 501, 505; 301 for a request target with spaces at levels 0 and -1)."""
    r.end = end
    r.strict = strict
    if not r.phase:
        # When the whole head is here and holds no NUL and no TAB (the usual case), say so
        # once in r.clean_end: a line before it ends at its first CR, and unless that CR is
        # bare the line skips the checks for bare CR, NUL and TAB (in the request line and in
        # field names: one search of the head costs about what a search per name did). A bare
        # LF must still end a line (levels 0 and below): _start looks for one in the request
        # line, and _clean walks the field lines and counts their LFs once at the end (a
        # search per line costs a call per line); at a line that is not clean, or an LF too
        # many, _lines takes them all again the long way.
        # Levels 1 and up take every line the long way, where _lines checks the field's bytes
        # (bad_field): store() then has no test of the level to make for each field.
        if strict > 0:
            r.clean_end = 0
        else:
            strict = r.line  # the head's start (a local reused: the frame stays on the C stack)
            # usually the head is all that came: it ends the bytes (one search of 4 bytes, no longer)
            if end - strict < 4 or b.find(b"\r\n\r\n", end - 4, end) < 0:
                end = b.find(b"\r\n\r\n", strict, end) + 4
            if end < 4 or b.find(b"\0", strict, end) >= 0 or b.find(b"\t", strict, end) >= 0:
                end = 0  # not complete, or not clean
            r.clean_end = end
        strict = _start(r, b)
        if strict:
            return strict
    return _clean(r, b) if r.clean_end else _lines(r, b)


def _start(r, b):
    """Empty lines, then the request line. Returns 0 once it is parsed, else a status
    (parts found by _split, read by _method, _version and _target)."""
    while True:
        s = r.line
        ce = b.find(b"\r", s) if s < r.clean_end else -1
        if ce < 0 or b.find(b"\n", s, ce + 2) != ce + 1:  # not clean, a bare CR or LF: the long way (parse_head)
            r.clean_end = 0
            ce = line_end(r, b, s)
            if ce < 0:
                return 400 if ce == _BAD else MORE
        r.line = ce + 2 if b[ce] == 13 else ce + 1
        if ce > s:
            break
        st = load("strictness").empty_line(r)
        if st:
            return st
    r.head_start = s
    r.phase = 1
    # request-line = method SP request-target SP HTTP-version  https://www.rfc-editor.org/rfc/rfc9112#section-3
    if ce >= r.clean_end and has_cr_nul(b, s, ce) and load("strictness").fix_cr_nul(b, s, ce, r.strict):
        return 400
    if r.strict < 0 or (r.strict == 0 and ce >= r.clean_end and b.find(b"\t", s, ce) >= 0):  # (clean: no TAB)
        load("strictness").relax(b, s, ce, r.strict)  # TAB (and below 0, VT and FF) as delimiters
    if (ce - s >= 14 and b.find(b"GET ", s, s + 4) == s and b.find(b" HTTP/1.1", ce - 9, ce) == ce - 9
            and b[s + 4] != 32 and b[ce - 10] != 32):
        # the usual line, GET target HTTP/1.1 (the target neither empty nor starting or ending
        # with a space): what _split, _method and _version would find, at every level, in two searches
        r.method_end = s + 3
        r.target_start = s + 4
        r.target_end = ce - 9
        r.method = 1  # GET
        r.version = 2  # MHD_HTTP_VERSION_1_1
        return _target(r, b)
    return _split(r, b, s, ce) or _method(r, b) or _version(r, b, ce) or _target(r, b)


def _lines(r, b):
    """The field lines, up to the empty line that ends the head. Returns a status or MORE."""
    s = r.line  # the line's start
    while True:
        r.line = s  # where a parse that needs more bytes goes on
        ce = line_end(r, b, s)
        if ce < 0:
            return 400 if ce == _BAD else MORE
        if ce > s and has_cr_nul(b, s, ce) and load("strictness").fix_cr_nul(b, s, ce, r.strict):
            return 400
        if r.flags & F_SKIPPED:  # the line after a skipped one (odd_name)
            load("strictness").unskip(r, b, s, ce)
        if r.strict > 0 and ce > s and load("strictness").bad_field(b, s, ce):  # (parse_head)
            return 400
        if ce == s:
            c = 0  # the empty line: the head is complete
        else:  # field-line = field-name ":" OWS field-value OWS  (https://www.rfc-editor.org/rfc/rfc9112#section-5)
            c = b.find(b":", s, ce)
            if c <= s or b.find(b" ", s, c) >= 0 or b.find(b"\t", s, c) >= 0:
                # no ':', an empty name or whitespace (a line that starts with it is a fold): the level decides
                c = load("strictness").odd_name(r, b, s, ce)
            else:
                c = store(r, b, s, c, ce)
        s = ce + 2 if b[ce] == 13 else ce + 1
        if c != NEXT:  # c: the line's status
            r.line = s
            if c:
                return c
            r.body_start = s
            return _head_done(r, b)


def _clean(r, b):
    """The field lines of a clean head (parse_head), from r.line: each ends at its first CR,
    which must be followed by LF. Returns what _lines would. _lines takes all of them again,
    the long way, at a bare CR or LF, a line odd_name decides (it may change bytes: a fold) or
    a status. (The long way gives the same answers for the lines taken here.)"""
    s = r.line
    while True:
        ce = b.find(b"\r", s)
        if b[ce + 1] != 10:  # a bare CR
            break
        if ce == s:  # the empty line. No line was searched for a bare LF: one count does it for
            # all (a search per line costs a call per line); each line ends in CR LF, as seen
            if b.count(b"\n", r.line, s) != r.nhdr:
                break
            r.line = r.body_start = s + 2
            return _head_done(r, b)
        c = b.find(b":", s, ce)
        # _lines' test of the name (which holds no TAB: parse_head), and its store
        if c <= s or b.find(b" ", s, c) >= 0 or store(r, b, s, c, ce) != NEXT:
            break
        s = ce + 2
    r.clean_end = r.nhdr = r.flags = 0  # the long way, from the first field line again: the
    r.cl = -1  # fields' state as _start left it
    return _lines(r, b)


def store(r, b, s, c, e):
    """Keep the field whose name is b[s:c], c its ':', and whose value runs to the line's end
    e: offsets in r.hdr, the value without OWS."""
    i = r.nhdr * 4
    if i >= r.hdr_cap:
        return 431
    h = r.hdr
    h[i] = s
    h[i + 1] = c
    # Is it one of the fields _special acts on? Its first letter, h c t e in either case: bits 8,
    # 3, 20 and 5 of _SPECIAL_LETTERS, then its length, 4, 6, 10, 14 or 17: a bit of
    # _SPECIAL_LENGTHS, which spares Cache-Control and Cookie a call (a few other names pass
    # both: _special looks again). Shifted right: 1 << 30 would be a long int on a 32-bit board.
    # The answer goes in s, which is done with (one local less keeps the frame on the C stack).
    s = _SPECIAL_LETTERS >> (b[s] & 31) & 1 and _SPECIAL_LENGTHS >> (c - s) & 1
    c += 1
    if b[c] == 32:  # the usual single space
        c += 1
    if b[c] <= 32:  # more OWS? (a byte test each spared for the usual value)
        while b[c] == 32 or b[c] == 9:  # == is quicker than `in` on MicroPython; b[e] is CR or LF
            c += 1
    if b[e - 1] <= 32:
        while e > c and (b[e - 1] == 32 or b[e - 1] == 9):
            e -= 1
    h[i + 2] = c
    h[i + 3] = e
    r.nhdr = (i >> 2) + 1  # one read of r.nhdr less than += 1
    if s:
        return _special(r, b, i)
    return NEXT


def _split(r, b, s, e):
    """Find the three parts: method r.head_start..r.method_end, target r.target_start..r.target_end, version r.version_start..e."""
    r.method_end = b.find(b" ", s, e)
    if r.method_end <= s:
        return 400
    s = r.method_end + 1  # the target's start
    if r.strict < 0:  # runs of whitespace count as one delimiter
        while s < e and b[s] == 32:
            s += 1
    r.version_start = b.rfind(b" ", s, e) + 1
    te = r.version_start - 1
    if r.version_start <= s or te <= s:
        return 400
    if r.strict < 0:
        while te > s and b[te - 1] == 32:
            te -= 1
    elif b[s] == 32 or b[te - 1] == 32:
        return 400  # two spaces in a row: only levels below 0 take them as one
    r.target_start = s
    r.target_end = te
    return 0


def _method(r, b):
    """method = token; known ones as MHD_HTTP_Method, others HTTP_METHOD_OTHER."""
    s = r.head_start
    e = r.method_end
    while s < e:
        if CHARS[b[s]] != 1:  # not a tchar
            return 400
        s += 1
    r.method = _method_id(b, r.head_start, e)
    return 0


def _method_id(b, s, e):
    n = e - s
    k = 0
    while k < len(METHODS):
        m = METHODS[k]
        k += 1
        if len(m) == n and b.find(m, s, e) == s:
            return k
    return _HTTP_METHOD_OTHER


def _version(r, b, e):
    """HTTP-version = "HTTP/" DIGIT "." DIGIT  https://www.rfc-editor.org/rfc/rfc9112#section-2.3"""
    vs = r.version_start
    if e - vs != 8 or b.find(b"HTTP/", vs, e) != vs or b[vs + 6] != 46:
        return 400
    major = b[vs + 5] - 48
    minor = b[vs + 7] - 48
    if not (0 <= major <= 9 and 0 <= minor <= 9):
        return 400
    if major != 1 or minor > 1:
        return 505
    r.version = minor + 1  # MHD_HTTP_VERSION_1_0 = 1, _1_1 = 2
    return 0


def _target(r, b):
    """request-target: origin-form, asterisk-form (OPTIONS) or absolute-form; no CTLs, and
    spaces only as the level allows. Sets the path (r.path_start..r.path_end) and query (r.query_start..r.target_end)."""
    ts = r.target_start
    te = r.target_end
    # (a one-byte target, "/" or "*", by the table alone: no call)
    c = _target_chars(r, b, ts, te) if te - ts > 1 or not CHARS[b[ts]] else 0
    if c:
        if c == 400 or r.strict > 0:
            return 400
        if r.strict > -2:
            return 301
    c = b[ts]
    ps = ts
    if c == 42 and te == ts + 1:  # "*"
        if r.method != _HTTP_METHOD_OPTIONS:
            return 400
        r.method = _HTTP_METHOD_ASTERISK
    elif c != 47:  # absolute-form: scheme "://" authority path
        c = b.find(b"://", ts, te)
        if c < 0:
            return 400
        ps = b.find(b"/", c + 3, te)
        if ps < 0:
            ps = te
        c = b.find(b"?", c + 3, ps)  # the authority ends at "?" too (RFC 3986 section 3.2)
        if c >= 0:
            ps = c
    c = b.find(b"?", ps, te)
    r.path_start = ps
    r.path_end = c if c >= 0 else te
    r.query_start = c + 1 if c >= 0 else -1
    return 0


def _target_chars(r, b, s, e):
    """0 if b[s:e] has no control bytes or spaces, 1 if it has spaces, else 400. Levels 1 and
    up also refuse bytes past ASCII, which a URI cannot hold (RFC 3986 section 2). A target's
    start that equals r.path_key, the path of an earlier request on this slot (the same daemon,
    so the same level), is not looked at again."""
    k = CHARS
    if e - s > 4:  # (for a short target the search and the steps of four cost more than they spare)
        # the last path request_path gave was accepted at this level: its bytes need no second look
        if r.path_key is not None and b.find(r.path_key, s, e) == s:
            s += len(r.path_key)
        # the usual bytes (33..126) by the table, four to a test: a Python step per byte costs most
        e -= 3
        while s < e and k[b[s]] and k[b[s + 1]] and k[b[s + 2]] and k[b[s + 3]]:
            s += 4
        e += 3
    sp = 0
    while s < e:
        if not k[b[s]]:
            if b[s] == 32:
                sp = 1
            elif b[s] < 128 or r.strict > 0:  # a control byte or DEL; past ASCII only at levels 1 and up
                return 400
        s += 1
    return sp


def _special(r, b, i):
    """The fields the engine itself acts on, picked by the name's length and first letter."""
    ns = r.hdr[i]
    n = r.hdr[i + 1] - ns
    c = b[ns] | 0x20
    if n == 4 and c == 104:  # every request has a Host: its test here, without a call of _named
        i = ns + 4
        if b.find(b"Host", ns, i) == ns or ieq(b, ns, i, b"host"):
            c = r.flags  # one read (c, the letter, is done with)
            if c & F_HOST and r.strict > -3:
                return 400  # a second Host
            r.flags = c | F_HOST
        return NEXT
    if n == 14 and c == 99:
        return _content_length(r, b, i)
    if n == 17 and c == 116:
        return load("chunked").transfer_encoding(r, b, i)
    if n == 10 and c == 99:
        return _connection(r, b, i, ns)
    if n == 6 and c == 101:
        return _expect(r, b, i)
    return NEXT


def _content_length(r, b, i):
    """Content-Length = 1*DIGIT  https://www.rfc-editor.org/rfc/rfc9110#section-8.6"""
    if not _named(b, r.hdr[i], r.hdr[i + 1], b"Content-Length", b"content-length"):
        return NEXT
    v = _digits(b, r.hdr[i + 2], r.hdr[i + 3])
    if v < 0:
        return 400
    if r.hdr[i + 3] - r.hdr[i + 2] > _MAX_CL_DIGITS:
        return 413
    if r.cl >= 0 and (r.cl != v or r.strict > 0):
        return 400
    r.cl = v
    return NEXT


def _digits(b, s, e):
    """The decimal number b[s:e] (no sign, no spaces), or -1."""
    if e == s:
        return -1
    v = 0
    while s < e:
        if not 48 <= b[s] <= 57:
            return -1
        v = v * 10 + b[s] - 48
        s += 1
    return v


def _connection(r, b, i, s):
    """Connection = #connection-option (https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1):
    close, keep-alive and upgrade set flags; the list is read once. s: the name's start (10 bytes)."""
    # _named's test without its call: browsers send this field with every request
    if b.find(b"Connection", s, s + 10) != s and not ieq(b, s, s + 10, b"connection"):
        return NEXT
    s = r.hdr[i + 2]
    i = r.hdr[i + 3]  # the value's end (one local less keeps the frame on the C stack)
    if i - s == 10 and b.find(b"keep-alive", s, i) == s:  # what browsers send: one option, no OWS
        r.flags |= F_KEEP_ALIVE
        return NEXT
    while s < i:
        c = b.find(b",", s, i)
        if c < 0:
            c = i
        _option(r, b, s, c)
        s = c + 1
    return NEXT


def _option(r, b, s, e):
    """The connection option b[s:e] (OWS around it): keep-alive, close and upgrade set their
    flag, ignoring case; others do nothing."""
    while s < e and b[s] in (32, 9):
        s += 1
    while e > s and b[e - 1] in (32, 9):
        e -= 1
    if e - s == 10 and _named(b, s, e, b"keep-alive", b"keep-alive"):
        r.flags |= F_KEEP_ALIVE
    elif e - s == 5 and _named(b, s, e, b"close", b"close"):
        r.flags |= F_CLOSE
    elif e - s == 7 and _named(b, s, e, b"Upgrade", b"upgrade"):
        r.flags |= F_UPGRADE


def _expect(r, b, i):
    if not ieq(b, r.hdr[i], r.hdr[i + 1], b"expect"):
        return NEXT
    if ieq(b, r.hdr[i + 2], r.hdr[i + 3], b"100-continue"):
        r.flags |= F_EXPECT_100
    elif r.strict > 0:
        return 417
    return NEXT


def _head_done(r, b):
    """Checks that need the whole header section; sets the body framing."""
    f = r.flags
    strict = r.strict
    if r.version == 2 and not f & F_HOST and strict > -3:
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
    return 0
