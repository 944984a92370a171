# The request: what the parser found, as offsets into the connection's buffer, and the
# application's view of it (request_get_value, request_get_values_cb, request_get_info_*).
#
# The entry points are Request (one per connection slot, made at daemon start and reset for
# every request) and the request_* functions, which decode values only when asked.
from array import array

from .platform import const
from .parser import SIZE_UNKNOWN, F_CHUNKED

VK_HEADER = const(1)
VK_COOKIE = const(2)
VK_GET_ARGUMENT = const(4)
VK_POSTDATA = const(8)
VK_FOOTER = const(16)

_SC_OK = const(0)
_SC_INFO_GET_TYPE_UNKNOWN = const(60200)
_SC_INFO_GET_TYPE_NOT_APPLICABLE = const(60203)
_SC_FEATURE_DISABLED = const(50300)


class Action:
    """The one action slot of a request (MHD keeps it inside the request too): an action
    constructor fills it and returns it, so making an action allocates nothing."""

    def __init__(self, request):
        self.request = request
        self.kind = 0
        self.response = None


class Request:
    def __init__(self, conn, nfields):
        self.conn = conn
        self.action = Action(self)
        # (name start, name end, value start, value end) for each header field
        self.hdr = array("H" if len(conn.buf) < 65536 else "I", bytes(2 * 4 * nfields))
        self.app_context = None
        self.reset()

    def reset(self):
        self.phase = 0
        self.line = 0
        self.head_start = 0
        self.body_start = 0
        self.head_size = 0
        self.empty_lines = 0
        self.last_skipped = False
        self.nhdr = 0
        self.hosts = 0
        self.flags = 0
        self.cl = -1
        self.upload_size = 0
        self.received = 0
        self.chunk_left = -1
        self.nfooters = 0
        self.data_s = self.data_e = 0
        self.error = 0
        self.method = 0
        self.version = 0
        self.ms = self.me = self.ts = self.te = self.ps = self.pe = 0
        self.qs = -1
        self.uri_logged = False
        self.action.kind = 0
        self.action.response = None
        self.app_context = None


def _hex(c):
    c |= 0x20
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    return -1


def _unquote(b, s, e, plus):
    """Percent-decode b[s:e] (leniently, as MHD: a bad escape stays as it is); '+' is a space
    when plus is true. Returns str, or None for bytes that are not UTF-8."""
    mv = memoryview(b)[s:e]
    if b.find(b"%", s, e) >= 0 or (plus and b.find(b"+", s, e) >= 0):
        out = bytearray()
        i = s
        while i < e:
            c = b[i]
            if c == 37 and i + 2 < e:
                hi, lo = _hex(b[i + 1]), _hex(b[i + 2])
                if hi >= 0 and lo >= 0:
                    out.append(hi << 4 | lo)
                    i += 3
                    continue
            out.append(32 if (c == 43 and plus) else c)
            i += 1
        mv = out
    try:
        return str(mv, "utf-8")
    except (ValueError, UnicodeError):  # MicroPython raises UnicodeError, CPython its ValueError subclass
        return None


def request_path(r):
    return _unquote(r.conn.buf, r.ps, r.pe, False)


def _each_query(r, fn, cls):
    """Calls fn(cls, name, value) for every query argument; stops early if fn returns True.
    `?c` gives value None and `?d=` gives "" (MHD semantics)."""
    if r.qs < 0:
        return 0
    b = r.conn.buf
    plus = not r.conn.daemon.opt_no_plus_space
    s, e, n = r.qs, r.te, 0
    while s <= e:
        a = b.find(b"&", s, e)
        if a < 0:
            a = e
        if a > s:
            eq = b.find(b"=", s, a)
            if eq < 0:
                name, value = _unquote(b, s, a, plus), None
            else:
                name, value = _unquote(b, s, eq, plus), _unquote(b, eq + 1, a, plus)
            n += 1
            if fn is not None and fn(cls, name, value):
                return n
        s = a + 1
    return n


# The cookie parser is an optional module (cookie.py, features.COOKIE_PARSER), imported on
# the first cookie lookup. None: not looked for yet; False: not in this build, so VK_COOKIE
# gives no values and REQUEST_INFO_DYNAMIC_NUMBER_COOKIES gives SC_FEATURE_DISABLED.
_cookie = None


def _cookie_parser():
    global _cookie
    if _cookie is None:
        _cookie = False
        from .features import COOKIE_PARSER
        if COOKIE_PARSER:
            try:
                from .cookie import each_cookie
                _cookie = each_cookie
            except ImportError:
                pass
    return _cookie


def _each_cookie(r, fn, cls):
    each = _cookie_parser()
    return each(r, fn, cls) if each else 0


def _each_header(r, fn, cls):
    b = r.conn.buf
    hdr = r.hdr
    mv = memoryview(b)
    for k in range(0, r.nhdr * 4, 4):
        try:
            name = str(mv[hdr[k]:hdr[k + 1]], "utf-8")
            value = str(mv[hdr[k + 2]:hdr[k + 3]], "utf-8")
        except (ValueError, UnicodeError):  # not UTF-8: give the bytes as latin-1 would
            name = "".join(chr(c) for c in mv[hdr[k]:hdr[k + 1]])
            value = "".join(chr(c) for c in mv[hdr[k + 2]:hdr[k + 3]])
        if fn is not None and fn(cls, name, value):
            return k // 4 + 1
    return r.nhdr


_KINDS = ((VK_HEADER, _each_header), (VK_COOKIE, _each_cookie), (VK_GET_ARGUMENT, _each_query))


def request_get_values_cb(request, kind, iterator=None, cls=None):
    """Calls iterator(cls, kind, name, value) for each value of the kinds in the bitmask
    `kind`. As in MHD, the iterator returns YES (True) to go on and NO (False) to stop; None
    goes on. With no iterator, counts. Returns the number of values visited."""
    total = 0
    for k, each in _KINDS:
        if kind & k:
            if iterator is None:
                total += each(request, None, None)
                continue
            state = [0, False]

            def visit(_, name, value, k=k, state=state):
                state[0] += 1
                if iterator(cls, k, name, value) is False:
                    state[1] = True
                    return True
                return False

            each(request, visit, None)
            total += state[0]
            if state[1]:
                break
    return total


def request_get_value(request, kind, key):
    """The first value named `key` (case-insensitive for headers) among the kinds in `kind`,
    as str; None if absent or, for `?c`, when the argument has no value."""
    found = [None]
    lkey = key.lower()

    def match(_, name, value):
        if name == key or name.lower() == lkey:
            found[0] = value
            return True
        return False

    for k, each in _KINDS:
        if kind & k:
            each(request, match, None)
            if found[0] is not None:
                break
    return found[0]


# request_get_info_fixed / request_get_info_dynamic
REQUEST_INFO_FIXED_HTTP_VER = const(1)
REQUEST_INFO_FIXED_HTTP_METHOD = const(2)
REQUEST_INFO_FIXED_DAEMON = const(20)
REQUEST_INFO_FIXED_CONNECTION = const(21)
REQUEST_INFO_FIXED_STREAM = const(22)
REQUEST_INFO_FIXED_APP_CONTEXT = const(30)
REQUEST_INFO_DYNAMIC_HTTP_METHOD_STRING = const(1)
REQUEST_INFO_DYNAMIC_URI = const(2)
REQUEST_INFO_DYNAMIC_NUMBER_URI_PARAMS = const(3)
REQUEST_INFO_DYNAMIC_NUMBER_COOKIES = const(4)
REQUEST_INFO_DYNAMIC_HEADER_SIZE = const(5)
REQUEST_INFO_DYNAMIC_NUMBER_POST_PARAMS = const(6)
REQUEST_INFO_DYNAMIC_UPLOAD_PRESENT = const(10)
REQUEST_INFO_DYNAMIC_UPLOAD_CHUNKED = const(11)
REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TOTAL = const(12)
REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_RECIEVED = const(13)
REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TO_RECIEVE = const(14)


def request_get_info_fixed(request, info):
    """Returns (SC_OK, value) or (error code, None)."""
    c = request.conn
    if info == REQUEST_INFO_FIXED_HTTP_VER:
        return _SC_OK, request.version
    if info == REQUEST_INFO_FIXED_HTTP_METHOD:
        return _SC_OK, request.method
    if info == REQUEST_INFO_FIXED_DAEMON:
        return _SC_OK, c.daemon
    if info in (REQUEST_INFO_FIXED_CONNECTION, REQUEST_INFO_FIXED_STREAM):
        return _SC_OK, c
    if info == REQUEST_INFO_FIXED_APP_CONTEXT:
        return _SC_OK, request.app_context
    return _SC_INFO_GET_TYPE_UNKNOWN, None


def request_get_info_dynamic(request, info):
    """Returns (SC_OK, value) or (error code, None)."""
    b = request.conn.buf
    if info == REQUEST_INFO_DYNAMIC_HTTP_METHOD_STRING:
        return _SC_OK, str(memoryview(b)[request.ms:request.me], "utf-8")
    if info == REQUEST_INFO_DYNAMIC_URI:
        return _SC_OK, str(memoryview(b)[request.ts:request.te], "utf-8")
    if info == REQUEST_INFO_DYNAMIC_NUMBER_URI_PARAMS:
        return _SC_OK, _each_query(request, None, None)
    if info == REQUEST_INFO_DYNAMIC_NUMBER_COOKIES:
        if not _cookie_parser():
            return _SC_FEATURE_DISABLED, None
        return _SC_OK, _each_cookie(request, None, None)
    if info == REQUEST_INFO_DYNAMIC_HEADER_SIZE:
        return _SC_OK, request.head_size
    if info == REQUEST_INFO_DYNAMIC_NUMBER_POST_PARAMS:
        return _SC_INFO_GET_TYPE_NOT_APPLICABLE, None
    chunked = bool(request.flags & F_CHUNKED)
    present = chunked or request.cl > 0
    if info == REQUEST_INFO_DYNAMIC_UPLOAD_PRESENT:
        return _SC_OK, present
    if info == REQUEST_INFO_DYNAMIC_UPLOAD_CHUNKED:
        return _SC_OK, chunked
    if info == REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TOTAL:
        return _SC_OK, request.upload_size
    if info == REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_RECIEVED:
        return _SC_OK, request.received
    if info == REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TO_RECIEVE:
        if chunked:
            return _SC_OK, SIZE_UNKNOWN
        return _SC_OK, request.upload_size - request.received
    return _SC_INFO_GET_TYPE_UNKNOWN, None
