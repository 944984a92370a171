# Responses: status, headers and a body source, from a fixed pool, reference counted.
#
# The entry points are the response_from_* constructors, response_add_header,
# response_set_option(s) and response_destroy. The connection reads a response through
# its fields (sc, hdrs, flags, kind, data, size) and gives it back with release().
#
# Rules (MHD2 manual, "Responses"): a response is frozen once it became an action; a
# response that is not reusable is consumed by its action; a reusable one is shared by any
# number of connections at once and lives until response_destroy and the last send.
from .platform import const

# response flags: options (R_O_*) and what the application's own headers said
RF_REUSABLE = const(1)
RF_HEAD_ONLY = const(2)
RF_CHUNKED = const(4)
RF_CONN_CLOSE = const(8)
RF_HTTP10_STRICT = const(16)
RF_HTTP10_SERVER = const(32)
RF_INSANITY_CL = const(64)
RF_HAS_DATE = const(128)
RF_HAS_CL = const(256)

# body kinds
K_BUFFER = const(1)  # data: a bytes-like object sent as it is
K_IOVEC = const(2)  # data: a tuple of bytes-like objects, sent one after the other
K_READER = const(3)  # reader(response, pos, mv) -> n fills mv from a file or pipe (fd.py)
K_CALLBACK = const(4)  # data: dyn_cont(cls, ctx, pos, buf, max) -> DCC action (dcc.py)

SIZE_UNKNOWN = 0xFFFFFFFFFFFFFFFF

R_O_END = const(0)
R_O_REUSABLE = const(20)
R_O_HEAD_ONLY_RESPONSE = const(40)
R_O_CHUNKED_ENC = const(41)
R_O_CONN_CLOSE = const(60)
R_O_HTTP_1_0_COMPATIBLE_STRICT = const(80)
R_O_HTTP_1_0_SERVER = const(81)
R_O_INSANITY_HEADER_CONTENT_LENGTH = const(100)
R_O_TERMINATION_CALLBACK = const(121)
_OPTION_FLAGS = {
    R_O_REUSABLE: RF_REUSABLE,
    R_O_HEAD_ONLY_RESPONSE: RF_HEAD_ONLY,
    R_O_CHUNKED_ENC: RF_CHUNKED,
    R_O_CONN_CLOSE: RF_CONN_CLOSE,
    R_O_HTTP_1_0_COMPATIBLE_STRICT: RF_HTTP10_STRICT,
    R_O_HTTP_1_0_SERVER: RF_HTTP10_SERVER,
    R_O_INSANITY_HEADER_CONTENT_LENGTH: RF_INSANITY_CL,
}

_SC_OK = const(0)
_SC_TOO_LATE = const(60001)
_SC_OPTION_UNKNOWN = const(60021)
_SC_RESP_HEADER_NAME_INVALID = const(60050)
_SC_RESP_HEADER_VALUE_INVALID = const(60051)
_SC_RESP_HEADERS_CONFLICT = const(60052)
_SC_RESP_POINTER_NULL = const(60060)
_SC_RESPONSE_CANNOT_CLEAR_REUSE = const(50520)


class Response:
    def __init__(self):
        self.hdrs = []
        self.clear()

    def clear(self):
        self.sc = 0
        self.hdrs.clear()
        self.hdr_len = 0  # bytes of all lines in hdrs
        self.flags = 0
        self.refs = 0
        self.frozen = False
        self.kind = 0
        self.data = None
        self.size = 0
        self.free_cb = None
        self.free_cb_cls = None
        self.ended_cb = None
        self.ended_cb_cls = None
        self.dyn_cls = None  # K_CALLBACK: the dyn_cont closure; K_READER: the file or fd
        self.reader = None  # K_READER: reader(response, pos, mv) -> bytes read, 0 at the end
        self.sendfile = None  # K_READER on CPython: sendfile(sock, response, pos, n) -> sent
        self.closer = None  # called once when the response is recycled (closes a file)


# The pool: responses are made once (pool_reserve at daemon start) and recycled.
_free = []
_pool = [0, 16]  # [responses made, most that may exist]


def pool_reserve(limit):
    """Set the pool size and make every response now, so serving allocates none."""
    _pool[1] = limit
    while _pool[0] < limit:
        _free.append(Response())
        _pool[0] += 1


def pool_available():
    return len(_free) + _pool[1] - _pool[0]


def _new(sc, kind, data, size):
    if not 100 <= sc <= 999:
        return None
    if _free:
        r = _free.pop()
    elif _pool[0] < _pool[1]:
        r = Response()
        _pool[0] += 1
    else:
        return None  # pool exhausted: the application's None closes the connection, as in MHD
    r.sc = sc
    r.kind = kind
    r.data = data
    r.size = size
    r.refs = 1
    return r


def release(r):
    """Drop one reference; the last one calls the free callback and recycles the response."""
    r.refs -= 1
    if r.refs > 0:
        return
    cb = r.free_cb
    cls = r.free_cb_cls
    closer = r.closer
    if closer is not None:
        closer(r)
    r.clear()
    _free.append(r)
    if cb is not None:
        cb(cls)


def response_from_buffer(sc, buffer, free_cb=None, free_cb_cls=None):
    """A response whose body is `buffer`, sent as it is (not copied); free_cb(free_cb_cls)
    runs once after the last use. None if sc is not a 3-digit status or the pool is empty."""
    r = _new(sc, K_BUFFER, buffer, len(buffer))
    if r is not None:
        r.free_cb = free_cb
        r.free_cb_cls = free_cb_cls
    return r


def response_from_buffer_static(sc, buffer):
    return _new(sc, K_BUFFER, buffer, len(buffer))


def response_from_buffer_copy(sc, buffer):
    return _new(sc, K_BUFFER, bytes(buffer), len(buffer))


def response_from_empty(sc):
    return _new(sc, K_BUFFER, b"", 0)


def response_from_iovec(sc, iov, free_cb=None, free_cb_cls=None):
    """A body made of several buffers sent in order, none copied (the list is copied).
    free_cb(free_cb_cls) runs once after the last use."""
    iov = tuple(iov)
    size = 0
    for part in iov:
        size += len(part)
    r = _new(sc, K_IOVEC, iov, size)
    if r is not None:
        r.free_cb = free_cb
        r.free_cb_cls = free_cb_cls
    return r


def response_from_callback(sc, size, dyn_cont, dyn_cont_cls=None, dyn_cont_fc=None):
    """A body produced by dyn_cont(dyn_cont_cls, ctx, pos, buf, max), which writes into the
    connection's buffer `buf` (a memoryview of max bytes) and returns a DCC action. `size`
    may be SIZE_UNKNOWN: chunked for HTTP/1.1 clients, close-delimited for HTTP/1.0.
    dyn_cont_fc(dyn_cont_cls) runs once when the response is destroyed."""
    if dyn_cont is None:
        return None
    r = _new(sc, K_CALLBACK, dyn_cont, size)
    if r is not None:
        r.dyn_cls = dyn_cont_cls
        r.free_cb = dyn_cont_fc
        r.free_cb_cls = dyn_cont_cls
    return r


def response_destroy(response):
    """Drop the application's reference: needed for reusable responses and unused ones."""
    if response is None or response.refs <= 0:
        return
    if response.frozen and not response.flags & RF_REUSABLE:
        return  # consumed by its action: the connection owns the last reference
    release(response)


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
    if response.frozen:
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
    response.hdrs.append(line)
    response.hdr_len += len(line)
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


def R_OPTION_REUSABLE(value):
    return (R_O_REUSABLE, value)


def R_OPTION_HEAD_ONLY_RESPONSE(value):
    return (R_O_HEAD_ONLY_RESPONSE, value)


def R_OPTION_CHUNKED_ENC(value):
    return (R_O_CHUNKED_ENC, value)


def R_OPTION_CONN_CLOSE(value):
    return (R_O_CONN_CLOSE, value)


def R_OPTION_HTTP_1_0_COMPATIBLE_STRICT(value):
    return (R_O_HTTP_1_0_COMPATIBLE_STRICT, value)


def R_OPTION_HTTP_1_0_SERVER(value):
    return (R_O_HTTP_1_0_SERVER, value)


def R_OPTION_INSANITY_HEADER_CONTENT_LENGTH(value):
    return (R_O_INSANITY_HEADER_CONTENT_LENGTH, value)


def R_OPTION_TERMINATION_CALLBACK(ended_cb, ended_cb_cls=None):
    return (R_O_TERMINATION_CALLBACK, ended_cb, ended_cb_cls)


def R_OPTION_TERMINATE():
    return (R_O_END,)


def response_set_option(response, option):
    """Apply one option made by an R_OPTION_* function. Returns SC_OK or the error."""
    if response is None:
        return _SC_RESP_POINTER_NULL
    if response.frozen:
        return _SC_TOO_LATE
    code = option[0]
    if code == R_O_TERMINATION_CALLBACK:
        response.ended_cb = option[1]
        response.ended_cb_cls = option[2]
        return _SC_OK
    flag = _OPTION_FLAGS.get(code)
    if flag is None:
        return _SC_OPTION_UNKNOWN
    if option[1]:
        response.flags |= flag
    elif flag == RF_REUSABLE and response.flags & RF_REUSABLE:
        return _SC_RESPONSE_CANNOT_CLEAR_REUSE
    else:
        response.flags &= ~flag
    return _SC_OK


def response_set_options(response, options, options_max_num=None):
    """Apply options in order up to R_OPTION_TERMINATE() or options_max_num; returns the
    first failing code, or SC_OK."""
    n = len(options) if options_max_num is None else min(options_max_num, len(options))
    for i in range(n):
        if options[i][0] == R_O_END:
            break
        rc = response_set_option(response, options[i])
        if rc != _SC_OK:
            return rc
    return _SC_OK


def RESPONSE_SET_OPTIONS(response, *options):
    return response_set_options(response, options)
