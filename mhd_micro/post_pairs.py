# The name=value encodings of POST bodies for post_parser.py: application/x-www-form-urlencoded
# and text/plain. Apart from the multipart decoder so that a multipart upload (a board's file
# upload) does not load them; post_parser.py loads this module at the first body in one of
# them. Sans-I/O, as post_parser.py: the state stays in the PostParser.
from .platform import const
from .post_parser import _finish, _bad_format, _data, _pct

_POST_PARSE_RES_OK = const(0)  # = mhd.POST_PARSE_RES_OK
_POST_PARSE_RES_OK_BAD_TERMINATION = const(2)  # = mhd.POST_PARSE_RES_OK_BAD_TERMINATION
_NEED_MORE = const(0)  # = post_parser._NEED_MORE
_FIELD = const(1)  # = post_parser._FIELD
_AGAIN = const(6)  # = post_parser._AGAIN
_U_NAME = const(0)  # = post_parser._U_NAME
_U_VALUE = const(1)  # = post_parser._U_VALUE
_T_NAME = const(2)  # = post_parser._T_NAME
_T_VALUE = const(3)  # = post_parser._T_VALUE
_T_EOL = const(4)  # = post_parser._T_EOL
_FEND = const(11)  # = post_parser._FEND
_NAME = const(0)  # = post_parser._NAME
_FILENAME = const(2)  # = post_parser._FILENAME
_FX = const(8)  # = post_parser._FX


def run(p, b, e, final):
    """The step of post_parser._run for this module's states (below _M_PRE)."""
    st = p.st
    if st == _U_VALUE:  # the hot states first
        return _u_value(p, b, e, final)
    if st == _T_VALUE:
        return _t_value(p, b, e, final)
    if st == _U_NAME:
        return _u_name(p, b, e, final)
    if st == _T_NAME:
        return _t_name(p, b, e, final)
    return _t_eol(p, b, e, final)


def _field(p, s, e):
    """A field named b[s:e] starts (urlencoded and text/plain); p.has_value is set."""
    sp = p.sp
    sp[_NAME] = s
    sp[_NAME + 1] = e
    for k in range(_FILENAME, _FX):  # no file name, content type or transfer encoding
        sp[k] = -1
    p.nfield += 1
    return _FIELD


# ---- application/x-www-form-urlencoded: name=value&name=value
# https://url.spec.whatwg.org/#application/x-www-form-urlencoded ; as MHD2: '+' is a space, a
# bad %-escape stays as it is, "&&" and "=v" give a field with an empty name, a name without
# '=' a field without a value.


def _u_name(p, b, e, final):
    s = p.pos
    k = _eq_amp(b, s + p.off, e)
    if k < 0:
        if not final:
            p.off = e - s
            return _NEED_MORE
        if e == s:
            return _finish(p, _POST_PARSE_RES_OK)
        k = e
    p.off = 0
    p.has_value = 1 if k < e and b[k] == 61 else 0
    p.pos = k + 1 if k < e else e
    p.st = _U_VALUE if p.has_value else _FEND
    p.after = _U_NAME
    k = _plus_pct(b, s, k)
    return _field(p, s, k)


def _u_value(p, b, e, final):
    s = p.pos
    k = b.find(b"&", s, e)
    if k >= 0 or final:
        if k < 0:
            k = e
        p.pos = k + 1 if k < e else e
        p.st = _FEND
    else:
        k = _split_pct(b, s, e)
        if k == s:
            return _NEED_MORE
        p.pos = k
    k = _plus_pct(b, s, k)
    return _data(p, s, k)


def _plus_pct(b, s, e):
    """'+' to a space, then post_parser._pct: an urlencoded name or value, in place."""
    k = b.find(b"+", s, e)
    while k >= 0:
        b[k] = 32
        k = b.find(b"+", k + 1, e)
    return _pct(b, s, e)


def _split_pct(b, s, e):
    """Where to stop so that no %XX escape is cut: before a '%' among the last two bytes."""
    if e - 2 >= s and b[e - 2] == 37:
        return e - 2
    if e - 1 >= s and b[e - 1] == 37:
        return e - 1
    return e


def _eq_amp(b, s, e):
    """The first '=' or '&' in b[s:e], or -1."""
    i = b.find(b"=", s, e)
    j = b.find(b"&", s, e if i < 0 else i)
    return j if j >= 0 else i


# ---- text/plain: name=value CRLF (HTML: https://html.spec.whatwg.org/#text/plain-encoding-algorithm)
# as MHD2: no decoding; a line without '=' is a field without a value; empty lines are skipped;
# a bare LF ends a line at strictness levels <= 0; a CR not followed by LF is a format error; a
# last line without its CRLF is given, with OK_BAD_TERMINATION.


def _t_name(p, b, e, final):
    s = p.pos
    k = _eol_eq(b, s + p.off, e)
    if k < 0:
        if not final:
            p.off = e - s
            return _NEED_MORE
        if e == s:
            return _finish(p, _POST_PARSE_RES_OK_BAD_TERMINATION if p.bad else _POST_PARSE_RES_OK)
        k = e
    p.off = 0
    if k < e and b[k] == 61:  # '='
        if k == s:  # "=" and the line end: skipped as an empty line, as MHD2
            if k + 1 == e and not final:
                return _NEED_MORE
            if k + 1 == e or b[k + 1] == 13 or b[k + 1] == 10:
                p.pos = k + 1
                p.after = _T_NAME
                p.st = _T_EOL
                return _AGAIN
        p.pos = k + 1
        p.st = _T_VALUE
        p.has_value = 1
        return _field(p, s, k)
    p.pos = k
    p.st = _T_EOL
    if k == s:  # an empty line
        p.after = _T_NAME
        return _AGAIN
    p.after = _FEND
    p.has_value = 0
    return _field(p, s, k)


def _t_value(p, b, e, final):
    s = p.pos
    k = _find_eol(b, s, e)
    if k >= 0 or final:
        if k < 0:
            k = e
        p.after = _FEND
        p.st = _T_EOL
    elif s == e:
        return _NEED_MORE
    else:
        k = e
    p.pos = k
    return _data(p, s, k)


def _t_eol(p, b, e, final):
    """The line end at p.pos: CR LF, or a bare LF at levels <= 0."""
    s = p.pos
    if s == e or (b[s] == 13 and s + 1 == e):
        if not final:
            return _NEED_MORE
        p.bad = 1
        p.pos = e
    elif b[s] == 13:
        if b[s + 1] != 10:
            return _bad_format(p)
        p.pos = s + 2
    elif p.strict > 0:
        return _bad_format(p)
    else:
        p.pos = s + 1
    p.st = p.after
    p.after = _T_NAME
    return _AGAIN


def _find_eol(b, s, e):
    """The first CR or LF in b[s:e], or -1."""
    i = b.find(b"\r", s, e)
    if i < 0:
        return b.find(b"\n", s, e)
    j = b.find(b"\n", s, i)
    return j if j >= 0 else i


def _eol_eq(b, s, e):
    """The first CR, LF or '=' in b[s:e], or -1."""
    i = _find_eol(b, s, e)
    j = b.find(b"=", s, e if i < 0 else i)
    return j if j >= 0 else i
