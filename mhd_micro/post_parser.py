# Sans-I/O decoder of POST request bodies: application/x-www-form-urlencoded, multipart/form-data
# and text/plain, as MHD2's POST parser reads them (src/mhd2/post_parser_funcs.c). Nothing here
# touches a socket or a clock, and nothing is copied: names and values are decoded in place in
# the caller's buffer and handed over as offsets. The urlencoded and text/plain states are in
# post_pairs.py, loaded at the first body in one of them: a multipart upload does without them.
#
# The entry points are PostParser.detect(v, enc, start, end) (the encoding from the
# Content-Type value), PostParser.reset(enc, boundary, room, strict) and
# PostParser.step(b, pos, end, final).
#
# Strategy: the caller feeds the (already de-chunked) body through a bytearray. step() returns
# one event at a time and leaves what it found in attributes:
#   NEED_MORE  b[:self.pos] is consumed; b[self.pos:end] must be kept and offered again, with
#              more bytes after it (the caller may move it, e.g. to the front of its buffer)
#   FIELD      a field starts: self.sp[0:8] are the (start, end) spans of its name and, for
#              multipart, its file name, content type and transfer encoding (-1 when absent);
#              has_value is 0 for a name without '=' (and for a part whose body is missing);
#              all decoded in place, before self.pos: the parser never writes there again, so
#              they stay valid until the caller drops them
#   DATA       data_start..data_end (before self.pos): the next piece of the field's value
#   FIELD_END  the current field's value is complete
#   DONE       the body ended (after final=True): self.result is POST_PARSE_RES_OK,
#              _OK_BAD_TERMINATION or _REQUEST_EMPTY
#   ERROR      self.result: POST_PARSE_RES_FAILED_NO_POOL_MEM (a name or a part's header block
#              does not fit in `room` bytes: NEED_MORE would keep `room` bytes or more; fields
#              may have been given before), _PARTIAL_INVALID_POST_FORMAT (fields were given
#              before the format error) or _FAILED_INVALID_POST_FORMAT (none were)
# After any event but NEED_MORE the caller calls step(b, self.pos, end, final) again with the
# same bytes. The parser keeps no absolute offset across NEED_MORE: its state is relative to
# self.pos, so the caller may also keep a field's name at the front of its buffer and feed
# the body behind it (with `self.room` lowered to match). A value's bytes are handed over as they come; only bytes that may begin a
# multipart delimiter (at most len(boundary) + 3) or a split %XX escape are held back, so a
# file of any size streams through a small buffer.
from .platform import const
from .parser import ieq
from .lazy import load

# MHD_PostParseResult
_POST_PARSE_RES_OK = const(0)  # = mhd.POST_PARSE_RES_OK
_POST_PARSE_RES_REQUEST_EMPTY = const(1)  # = mhd.POST_PARSE_RES_REQUEST_EMPTY
_POST_PARSE_RES_OK_BAD_TERMINATION = const(2)  # = mhd.POST_PARSE_RES_OK_BAD_TERMINATION
_POST_PARSE_RES_PARTIAL_INVALID_POST_FORMAT = const(3)  # = mhd.POST_PARSE_RES_PARTIAL_INVALID_POST_FORMAT
_POST_PARSE_RES_FAILED_NO_POOL_MEM = const(60)  # = mhd.POST_PARSE_RES_FAILED_NO_POOL_MEM
_POST_PARSE_RES_FAILED_NO_LARGE_BUF_MEM = const(61)  # = mhd.POST_PARSE_RES_FAILED_NO_LARGE_BUF_MEM
_POST_PARSE_RES_FAILED_UNKNOWN_CNTN_TYPE = const(80)  # = mhd.POST_PARSE_RES_FAILED_UNKNOWN_CNTN_TYPE
_POST_PARSE_RES_FAILED_NO_CNTN_TYPE = const(81)  # = mhd.POST_PARSE_RES_FAILED_NO_CNTN_TYPE
_POST_PARSE_RES_FAILED_HEADER_NO_BOUNDARY = const(82)  # = mhd.POST_PARSE_RES_FAILED_HEADER_NO_BOUNDARY
_POST_PARSE_RES_FAILED_HEADER_MISFORMED = const(83)  # = mhd.POST_PARSE_RES_FAILED_HEADER_MISFORMED
_POST_PARSE_RES_FAILED_HEADER_NOT_MPART = const(84)  # = mhd.POST_PARSE_RES_FAILED_HEADER_NOT_MPART
_POST_PARSE_RES_FAILED_INVALID_POST_FORMAT = const(90)  # = mhd.POST_PARSE_RES_FAILED_INVALID_POST_FORMAT

# MHD_HTTP_PostEncoding (mhd.HTTP_POST_ENCODING_*, also spelt mhd.POST_ENCODING_*)
_HTTP_POST_ENCODING_OTHER = const(0)  # = mhd.HTTP_POST_ENCODING_OTHER
_HTTP_POST_ENCODING_FORM_URLENCODED = const(1)  # = mhd.HTTP_POST_ENCODING_FORM_URLENCODED
_HTTP_POST_ENCODING_MULTIPART_FORMDATA = const(2)  # = mhd.HTTP_POST_ENCODING_MULTIPART_FORMDATA
_HTTP_POST_ENCODING_TEXT_PLAIN = const(3)  # = mhd.HTTP_POST_ENCODING_TEXT_PLAIN

# step() events (private: their names are not interned; post.py and post_pairs.py copy them)
_NEED_MORE = const(0)
_FIELD = const(1)
_DATA = const(2)
_FIELD_END = const(3)
_DONE = const(4)
_ERROR = const(5)
_AGAIN = const(6)  # internal: the state changed, run the next one

# states (self.st); those below _M_PRE are post_pairs.py's
_U_NAME = const(0)
_U_VALUE = const(1)
_T_NAME = const(2)
_T_VALUE = const(3)
_T_EOL = const(4)
_M_PRE = const(5)
_M_TAIL = const(6)
_M_PAD = const(7)
_M_HEAD = const(8)
_M_VALUE = const(9)
_M_EPI = const(10)
_FEND = const(11)
_END = const(12)
_S_DONE = const(13)
_S_ERR = const(14)
_M_START = const(15)  # multipart, at the body's start (_m_pre)

# self.sp: (start, end) spans, one list rather than an attribute each (fewer interned names)
_NAME = const(0)
_FILENAME = const(2)
_CTYPE = const(4)
_TENC = const(6)
_FX = const(8)  # multipart: filename*=
_K = const(10)  # the last parameter's name (_next_param)
_V = const(12)  # and its value; sp[_ESC]: the value has backslash escapes
_ESC = const(14)

# hex digit value + 1, 0 for other bytes (RFC 3986 section 2.1 pct-encoded)
_HEX = bytes(48) + bytes(range(1, 11)) + bytes(7) + bytes(range(11, 17)) + bytes(26) + bytes(range(11, 17)) + bytes(153)


class PostParser:
    """The decoder of one POST body at a time; made once, reset() per request."""

    def __init__(self):
        self.st = _S_DONE
        self.dd = b""  # b"--" + boundary
        self.room = 0  # the most bytes the caller can keep (its buffer's body area)
        self.strict = 0
        self.pos = 0
        self.off = 0  # how far past self.pos a name or the part headers were scanned
        self.after = 0  # the state after FIELD_END
        self.got = 0  # any body byte seen
        self.bad = 0  # the body ended before its end (OK_BAD_TERMINATION)
        self.nfield = 0  # fields given so far (PARTIAL vs FAILED format errors)
        self.dend = 0
        self.result = 0
        self.has_value = 0
        self.sp = [-1] * 15  # the spans (_NAME... _V) and sp[_ESC]
        self.data_start = self.data_end = 0
        self.boundary = None

    def detect(self, v, enc=_HTTP_POST_ENCODING_OTHER, start=0, end=-1):
        """The encoding from the Content-Type value v[start:end] (bytes-like, e.g. the request's
        buffer, or str; None when the header is absent; end -1: len(v)), or the application's
        `enc`. Returns the encoding (1, 2 or 3) or a POST_PARSE_RES_FAILED_* (80 to 84). For
        multipart, self.boundary is the boundary, unquoted (a new bytes); v is not changed.
        https://www.rfc-editor.org/rfc/rfc7578#section-4.1"""
        self.boundary = None
        if enc == _HTTP_POST_ENCODING_FORM_URLENCODED or enc == _HTTP_POST_ENCODING_TEXT_PLAIN:
            return enc
        if v is None:
            return _POST_PARSE_RES_FAILED_NO_CNTN_TYPE
        if isinstance(v, str):
            v = v.encode()
        if end < 0:
            end = len(v)
        end = _rtrim(v, start, end)
        start = _skip_ws(v, start, end)
        i = _after_token(v, start, end, b"application/x-www-form-urlencoded")
        if enc == _HTTP_POST_ENCODING_OTHER and i >= 0 and (i == end or v[i] == 59):  # maybe with parameters
            return _HTTP_POST_ENCODING_FORM_URLENCODED
        i = _after_token(v, start, end, b"multipart/form-data")
        if i == -1:
            if enc == _HTTP_POST_ENCODING_MULTIPART_FORMDATA:
                return _POST_PARSE_RES_FAILED_HEADER_NOT_MPART
            i = _after_token(v, start, end, b"text/plain")
            if i >= 0 and (i == end or v[i] == 59):
                return _HTTP_POST_ENCODING_TEXT_PLAIN
            return _POST_PARSE_RES_FAILED_UNKNOWN_CNTN_TYPE
        # multipart/form-data; boundary=...
        sp = self.sp
        bd = None  # the boundary, as sent
        while i >= 0:
            i = _next_param(sp, v, i, end)
            if i >= 0 and bd is None and ieq(v, sp[_K], sp[_K + 1], b"boundary"):
                bd = bytearray(v[sp[_V]:sp[_V + 1]])
                if sp[_ESC]:
                    bd = bd[:_unquote(bd, 0, len(bd))]
        if i == -2:
            return _POST_PARSE_RES_FAILED_HEADER_MISFORMED
        if not bd:
            return _POST_PARSE_RES_FAILED_HEADER_NO_BOUNDARY
        self.boundary = bytes(bd)  # a new bytes: the header's own bytes stay as they came
        return _HTTP_POST_ENCODING_MULTIPART_FORMDATA

    def reset(self, enc, boundary=None, room=0x3FFFFFFF, strict=0):
        """Start a body. `boundary` (bytes) for multipart; `room`: the most bytes the caller can
        keep between calls (a name or a part's header block longer than that fails with
        FAILED_NO_POOL_MEM); `strict`: the strictness level (bare LF ends a text/plain line at
        levels <= 0, a multipart line at levels <= -2, as MHD2)."""
        self.room = room
        self.strict = strict
        self.off = self.got = self.bad = self.nfield = self.result = 0
        if enc == _HTTP_POST_ENCODING_FORM_URLENCODED:
            self.st = _U_NAME
        elif enc == _HTTP_POST_ENCODING_TEXT_PLAIN:
            self.st = _T_NAME
        else:
            self.dd = b"--" + bytes(boundary)
            self.st = _M_START

    def step(self, b, pos, end, final):
        """Decode from b[pos:end]; `final`: no more body bytes will come. Returns one event."""
        self.pos = pos
        if end > pos:
            self.got = 1
        elif final and not self.got:
            return _finish(self, _POST_PARSE_RES_REQUEST_EMPTY)
        ev = _run(self, b, end, final)
        while ev == _AGAIN:
            ev = _run(self, b, end, final)
        if ev == _NEED_MORE and end - self.pos >= self.room:
            return _finish(self, _POST_PARSE_RES_FAILED_NO_POOL_MEM, _S_ERR)
        return ev


def _run(p, b, e, final):
    st = p.st
    if st == _M_VALUE:  # the hot states first
        return _m_value(p, b, e, final)
    if st < _M_PRE:  # urlencoded and text/plain: post_pairs.py, loaded for those bodies only
        return load("post_pairs").run(p, b, e, final)
    if st == _FEND:
        p.st = p.after
        return _FIELD_END
    if st == _M_HEAD:
        return _m_head(p, b, e, final)
    if st == _M_PRE or st == _M_START:
        return _m_pre(p, b, e, final)
    if st == _M_TAIL:
        return _m_tail(p, b, e, final)
    if st == _M_PAD:
        return _m_pad(p, b, e, final)
    if st == _M_EPI:
        p.pos = e  # the epilogue is read past (RFC 2046 section 5.1.1)
        return _finish(p, _POST_PARSE_RES_OK) if final else _NEED_MORE
    if st == _END:
        return _finish(p, _POST_PARSE_RES_OK_BAD_TERMINATION if p.bad else _POST_PARSE_RES_OK)
    return _DONE if st == _S_DONE else _ERROR


def _finish(p, result, st=_S_DONE):
    """The body's end (DONE), or with st _S_ERR a failure (ERROR), with its result."""
    p.result = result
    p.st = st
    return _DONE if st == _S_DONE else _ERROR


def _bad_format(p):
    # MHD2: PARTIAL when some field was given to the application, else FAILED
    return _finish(p, _POST_PARSE_RES_PARTIAL_INVALID_POST_FORMAT if p.nfield else _POST_PARSE_RES_FAILED_INVALID_POST_FORMAT,
                   _S_ERR)


def _data(p, s, e):
    if e == s:
        return _AGAIN
    p.data_start = s
    p.data_end = e
    return _DATA


# ---- %-decoding (urlencoded values; multipart names and file names)


def _pct(b, s, e):
    """Decode b[s:e] in place: %XX to its byte; a '%' without two hex digits stays as it is
    (MHD2's lenient decoding). Returns the end of the decoded bytes. (post_pairs.py turns '+'
    into a space first.)"""
    r = b.find(b"%", s, e)
    if r < 0:
        return e
    # a byte loop from the first '%': slices would allocate (MicroPython has no in-place memmove)
    w = r
    while r < e:
        c = b[r]
        if c == 37 and r + 2 < e and _HEX[b[r + 1]] and _HEX[b[r + 2]]:
            c = _HEX[b[r + 1]] * 16 + _HEX[b[r + 2]] - 17
            r += 2
        b[w] = c
        w += 1
        r += 1
    return w


# ---- multipart/form-data: https://www.rfc-editor.org/rfc/rfc7578 , https://www.rfc-editor.org/rfc/rfc2046#section-5.1.1
#   preamble CRLF "--" boundary padding CRLF part-headers CRLF body CRLF "--" boundary ... "--" epilogue
# The CRLF before "--boundary" belongs to the delimiter. The body may start with "--boundary".
# Bare LF line ends only at strictness levels <= -2 (MHD2: dangerous in this encoding).


def _m_pre(p, b, e, final):
    """The preamble: read past up to the first delimiter."""
    s = p.pos
    if p.st == _M_START:  # the body may start with "--boundary", without a line break before it
        n = _match(b, s, e, p.dd)
        if n == len(p.dd):
            p.pos += n
            p.st = _M_TAIL
            return _AGAIN
        if n == e - s and not final:
            return _NEED_MORE  # too few bytes to tell
        p.st = _M_PRE
    k = _find_delim(p, b, s, e)
    if k >= 0:
        p.pos = p.dend
        p.st = _M_TAIL
        return _AGAIN
    if final:  # no delimiter at all: no fields, and MHD2 says OK
        p.pos = e
        return _finish(p, _POST_PARSE_RES_OK)
    p.pos = _hold(p, b, s, e)
    return _NEED_MORE


def _m_tail(p, b, e, final):
    """Right after "--boundary": "--" closes the body, anything else is padding to the line end."""
    s = p.pos
    if e - s < 2 and (s == e or b[s] == 45):
        if not final:
            return _NEED_MORE
        p.bad = 1
        p.st = _END
        return _AGAIN
    if b[s] == 45 and b[s + 1] == 45:
        p.pos = s + 2
        p.st = _M_EPI
        return _AGAIN
    p.st = _M_PAD
    return _AGAIN


def _m_pad(p, b, e, final):
    """transport-padding CRLF after a delimiter (MHD2 reads past any bytes but a lone CR)."""
    k = b.find(b"\n", p.pos, e)
    c = b.find(b"\r", p.pos, e if k < 0 else k)
    if k < 0:  # no LF yet: keep a CR at the end
        if c >= 0 and c < e - 1:
            return _bad_format(p)
        if final:
            p.bad = 1
            p.st = _END
            return _AGAIN
        p.pos = c if c >= 0 else e
        return _NEED_MORE
    if (c >= 0 and c != k - 1) or (c < 0 and p.strict > -2):
        return _bad_format(p)
    p.pos = k + 1
    p.off = 0
    p.has_value = 1
    sp = p.sp
    sp[_NAME] = sp[_FILENAME] = sp[_FX] = sp[_CTYPE] = sp[_TENC] = -1
    p.st = _M_HEAD
    return _AGAIN


def _m_head(p, b, e, final):
    """A part's header block, kept whole from p.pos until its empty line; spans relative to p.pos."""
    ls = p.pos + p.off
    if _match(b, ls, e, p.dd) == len(p.dd):  # a delimiter among the headers: the part has no body
        return _no_body(p, _M_TAIL, ls)
    k = b.find(b"\n", ls, e)
    if k < 0:
        if not final:
            return _NEED_MORE
        p.bad = 1  # as MHD2: a named part cut in its headers is given, without a value
        return _no_body(p, _END, e)
    p.off = k + 1 - p.pos
    e = k - 1 if k > ls and b[k - 1] == 13 else k
    if (e == k and p.strict > -2) or b.find(b"\r", ls, e) >= 0:
        return _bad_format(p)
    n = e - ls
    if n:  # a header line
        if n >= 20 and ieq(b, ls, ls + 20, b"content-disposition:"):
            return _bad_format(p) if _disposition(p, b, ls + 20, e) else _AGAIN
        if n >= 13 and ieq(b, ls, ls + 13, b"content-type:"):
            e = _rtrim(b, ls + 13, e)
            p.sp[_CTYPE] = _skip_ws(b, ls + 13, e) - p.pos
            p.sp[_CTYPE + 1] = e - p.pos
        elif n >= 26 and ieq(b, ls, ls + 26, b"content-transfer-encoding:"):
            e = _rtrim(b, ls + 26, e)
            p.sp[_TENC] = _skip_ws(b, ls + 26, e) - p.pos
            p.sp[_TENC + 1] = e - p.pos
        return _AGAIN  # other fields are ignored (RFC 7578 section 4.8)
    if p.sp[_NAME] < 0:  # the empty line after the headers; MHD2: a part without a name is a format error
        return _bad_format(p)
    p.st = _M_VALUE
    return _part(p, k + 1)


def _no_body(p, after, pos):
    """A part ends before its headers do: FIELD without a value (if it has a name)."""
    if p.sp[_NAME] < 0:
        if after == _END:
            p.st = _END
            return _AGAIN
        return _bad_format(p)
    p.has_value = 0
    p.after = after
    p.st = _FEND
    return _part(p, pos + len(p.dd) if after == _M_TAIL else pos)


def _part(p, pos):
    """FIELD for the part whose headers start at p.pos; the body goes on at `pos`."""
    s = p.pos
    sp = p.sp
    if sp[_FX] >= 0:  # filename* wins over filename (RFC 6266 section 4.3)
        sp[_FILENAME] = sp[_FX]
        sp[_FILENAME + 1] = sp[_FX + 1]
    for k in range(_NAME, _FX, 2):  # the spans were relative to the headers' start
        if sp[k] >= 0:
            sp[k] += s
            sp[k + 1] += s
        else:
            sp[k + 1] = -1
    p.pos = pos
    p.off = 0
    p.nfield += 1
    return _FIELD


def _disposition(p, b, s, e):
    """Content-Disposition: form-data; name="..."; filename="..."; filename*=UTF-8''...
    https://www.rfc-editor.org/rfc/rfc7578#section-4.2 . The name and filename are unquoted
    (quoted-string: RFC 9110 section 5.6.4) and %-decoded as MHD2 does (HTML encodes '"' as %22).
    Another disposition type is ignored; a second name (or filename) in the part is an error."""
    e = _rtrim(b, s, e)
    i = _after_token(b, _skip_ws(b, s, e), e, b"form-data")
    if i == -1:
        return 0
    sp = p.sp
    while i >= 0:
        i = _next_param(sp, b, i, e)
        if i < 0:
            break
        # keep name, filename and filename*; a second name or filename is an error
        ks = sp[_K]
        n = sp[_K + 1] - ks
        k = _NAME if n == 4 and ieq(b, ks, ks + 4, b"name") else -1
        if n == 8 and ieq(b, ks, ks + 8, b"filename"):
            k = _FILENAME
        elif n == 9 and ieq(b, ks, ks + 9, b"filename*"):
            k = _FX
        if k < 0:
            continue
        if k != _FX and sp[k] >= 0:
            return 1
        vs = sp[_V]
        ve = _unquote(b, vs, sp[_V + 1]) if sp[_ESC] else sp[_V + 1]
        if k == _FX:
            # ext-value = charset "'" [ language ] "'" value-chars (RFC 8187 section 3.2.1): the
            # %-decoded value-chars, as sent (UTF-8 by RFC 8187, or ISO-8859-1); the first one wins
            q = b.find(b"'", vs, ve)
            vs = b.find(b"'", q + 1, ve) + 1 if q >= 0 else 0
            if not vs or sp[_FX] >= 0:
                continue
        sp[k] = vs - p.pos
        sp[k + 1] = _pct(b, vs, ve) - p.pos
    return 1 if i == -2 else 0


def _hold(p, b, s, e):
    """Where the bytes that may begin a delimiter ("\\r\\n--boundary", or "\\n--boundary") start
    at the end of b[s:e]; e if none. The boundary holds no CR or LF (RFC 2046 section 5.1.1)."""
    j = e - len(p.dd)
    if j < s:
        j = s
    j = b.rfind(b"\n", j, e)
    if j >= 0 and _match(b, j + 1, e, p.dd) == e - j - 1:
        return j - 1 if j > s and b[j - 1] == 13 else j
    return e - 1 if e > s and b[e - 1] == 13 else e


def _find_delim(p, b, s, e):
    """The start of the first delimiter in b[s:e] (its CR, or its LF at levels <= -2), -1 if
    none; p.dend is the index after its "--boundary"."""
    k = b.find(p.dd, s, e)
    while k >= 0:
        if k > s and b[k - 1] == 10:
            p.dend = k + len(p.dd)
            if k - 1 > s and b[k - 2] == 13:
                return k - 2
            if p.strict <= -2:
                return k - 1
        k = b.find(p.dd, k + 1, e)
    return -1


def _m_value(p, b, e, final):
    s = p.pos
    k = _find_delim(p, b, s, e)
    if k >= 0:
        p.pos = p.dend
        p.after = _M_TAIL
        p.st = _FEND
    elif final:  # no closing delimiter: what came is the value (MHD2: OK_BAD_TERMINATION)
        k = p.pos = e
        p.bad = 1
        p.after = _END
        p.st = _FEND
    else:
        k = p.pos = _hold(p, b, s, e)
        if k == s:
            return _NEED_MORE
    return _data(p, s, k)


# ---- helpers for header values


def _match(b, s, e, d):
    """How many bytes of b[s:e] match the start of d (stops at the first difference)."""
    i = 0
    n = min(e - s, len(d))
    while i < n and b[s + i] == d[i]:
        i += 1
    return i


def _rtrim(b, s, e):
    """The end of b[s:e] without its trailing spaces and tabs."""
    while e > s and (b[e - 1] == 32 or b[e - 1] == 9):
        e -= 1
    return e


def _skip_ws(b, i, e):
    while i < e and (b[i] == 32 or b[i] == 9):
        i += 1
    return i


def _after_token(b, s, e, name):
    """If b[s:e] starts with the token `name` (lower case, any case in b): the index after it and
    its whitespace; -1 if it does not; -2 if other bytes follow (MHD2's "bad format")."""
    n = len(name)
    if e - s < n or not ieq(b, s, s + n, name):
        return -1
    i = _skip_ws(b, s + n, e)
    if i == e or b[i] == 59 or b[i] == 44:
        return i
    return -1 if i == s + n else -2


def _next_param(sp, b, i, e):
    """The next `; name=value` from b[i:e] (RFC 9110 section 5.6.6): sets the spans sp[_K] (the
    name) and sp[_V] (the value, inside the quotes; quoted-string: RFC 9110 section 5.6.4) and
    sp[_ESC] (it has backslash escapes). Returns the index after it, -1 at the end of the
    parameters, -2 if misformed."""
    i = _skip_ws(b, i, e)
    if i == e or b[i] == 44:  # ',': the next token
        return -1
    if b[i] != 59:  # garbage after the token or a value
        return -2
    i = _skip_ws(b, i + 1, e)
    if i == e:
        return -1
    sp[_K] = i
    while b[i] != 61:
        if b[i] == 59 or b[i] == 44:
            return -2  # a parameter without a value
        i += 1
        if i == e:
            return -2
    sp[_K + 1] = i
    i += 1
    sp[_ESC] = 0
    q = i < e and b[i] == 34
    if q:
        i += 1
    sp[_V] = i
    if not q:
        while i < e and b[i] not in (32, 9, 59, 44):
            i += 1
        sp[_V + 1] = i
        return i
    while i < e and b[i] != 34:
        if b[i] == 92:
            sp[_ESC] = 1
            i += 1
        i += 1
    if i >= e:
        return -2  # no closing quote
    sp[_V + 1] = i
    return i + 1


def _unquote(b, s, e):
    """Remove quoted-pair backslashes from b[s:e] in place; returns the new end."""
    w = s
    while s < e:
        if b[s] == 92:
            s += 1
        b[w] = b[s]
        w += 1
        s += 1
    return w
