# Response headers: response_add_header with every rule of the MHD2 manual (including those
# MHD2 documents but does not enforce), and the predefined headers (PREDEF_*).
#
# The entry points are response_add_header and response_add_predef_header.
from .platform import const
from .response import RF_CONN_CLOSE, RF_CHUNKED, RF_INSANITY_CL, RF_HEAD_ONLY, RF_HAS_CL, RF_HAS_DATE, RF_FROZEN

_SC_OK = const(0)  # = mhd.SC_OK
_SC_TOO_LATE = const(60001)  # = mhd.SC_TOO_LATE
_SC_RESP_HEADER_NAME_INVALID = const(60050)  # = mhd.SC_RESP_HEADER_NAME_INVALID
_SC_RESP_HEADER_VALUE_INVALID = const(60051)  # = mhd.SC_RESP_HEADER_VALUE_INVALID
_SC_RESP_HEADERS_CONFLICT = const(60052)  # = mhd.SC_RESP_HEADERS_CONFLICT
_SC_RESP_POINTER_NULL = const(60060)  # = mhd.SC_RESP_POINTER_NULL


def _bad(s, chars):
    for ch in chars:
        if ch in s:
            return True
    return False


def response_add_header(response, name, value):
    """Add a header line. Returns SC_OK or the reason it was refused (MHD2 rules, including
    those MHD2 documents but does not enforce)."""
    if response is None:
        return _SC_RESP_POINTER_NULL
    if response.flags & RF_FROZEN:
        return _SC_TOO_LATE
    if not name or _bad(name, " \t\r\n:\0"):
        return _SC_RESP_HEADER_NAME_INVALID
    if _bad(value, "\t\r\n\0"):
        return _SC_RESP_HEADER_VALUE_INVALID
    lname = name.lower()
    lvalue = value.strip().lower()
    f = response.flags
    if lname == "connection":
        # only "close" and "keep-alive"; the engine writes the header itself
        if lvalue == "close":
            response.flags = f | RF_CONN_CLOSE
            return _SC_OK
        return _SC_OK if lvalue == "keep-alive" else _SC_RESP_HEADER_VALUE_INVALID
    if lname == "transfer-encoding":
        if lvalue == "chunked":
            response.flags = f | RF_CHUNKED
            return _SC_OK
        return _SC_OK if lvalue == "identity" else _SC_RESP_HEADER_VALUE_INVALID
    if lname == "content-length":
        if not f & (RF_INSANITY_CL | RF_HEAD_ONLY):
            return _SC_RESP_HEADERS_CONFLICT
        response.flags = f | RF_HAS_CL
    elif lname == "date":
        response.flags = f | RF_HAS_DATE
    line = b"%s: %s\r\n" % (name.encode(), value.encode())
    response.hdrs += line
    return _SC_OK


# Predefined headers: the HPACK static table's header names (RFC 7541, Appendix A), by index.
_PREDEF = ("", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "Accept-Charset", "Accept-Encoding",
           "Accept-Language", "Accept-Ranges", "Accept", "Access-Control-Allow-Origin", "Age", "Allow",
           "Authorization", "Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language",
           "Content-Length", "Content-Location", "Content-Range", "Content-Type", "Cookie", "Date", "ETag",
           "Expect", "Expires", "From", "Host", "If-Match", "If-Modified-Since", "If-None-Match", "If-Range",
           "If-Unmodified-Since", "Last-Modified", "Link", "Location", "Max-Forwards", "Proxy-Authenticate",
           "Proxy-Authorization", "Range", "Referer", "Refresh", "Retry-After", "Server", "Set-Cookie",
           "Strict-Transport-Security", "Transfer-Encoding", "User-Agent", "Vary", "Via", "WWW-Authenticate")


def predef_header_to_string(stk):
    """The header name of a PREDEF_* code, or None."""
    if 0 <= stk < len(_PREDEF) and _PREDEF[stk]:
        return _PREDEF[stk]
    return None


def response_add_predef_header(response, stk, content):
    name = predef_header_to_string(stk)
    if name is None:
        return _SC_RESP_HEADER_NAME_INVALID
    return response_add_header(response, name, content)


def resolve(name):
    """PREDEF_<NAME> -> its code."""
    if name.startswith("PREDEF_"):
        want = name[7:]
        for i in range(len(_PREDEF)):
            if _PREDEF[i] and _PREDEF[i].upper().replace("-", "_") == want:
                return i
    return None
