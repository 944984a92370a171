# The application's view of a request: request_get_value, request_get_values_cb and
# request_get_info_fixed/dynamic, decoding values from the buffer only when asked, plus the
# method and version names. The public names of the kinds and infos (VK_*, REQUEST_INFO_*)
# are resolved from enums.py; this module keeps private copies.
#
# The entry points are the request_* functions; the package loads this module on first use.
from .platform import const
from .parser import SIZE_UNKNOWN, F_CHUNKED, ieq
from .request import text
from .lazy import load

_VK_HEADER = const(1)  # = mhd.VK_HEADER
_VK_COOKIE = const(2)  # = mhd.VK_COOKIE
_VK_GET_ARGUMENT = const(4)  # = mhd.VK_GET_ARGUMENT
_VK_POSTDATA = const(8)  # = mhd.VK_POSTDATA
_VK_FOOTER = const(16)  # = mhd.VK_FOOTER
_VK_HEADER_FOOTER = const(17)  # = mhd.VK_HEADER_FOOTER
_VK_GET_POST = const(12)  # = mhd.VK_GET_POST

_SC_OK = const(0)  # = mhd.SC_OK
_SC_INFO_GET_TYPE_UNKNOWN = const(60200)  # = mhd.SC_INFO_GET_TYPE_UNKNOWN
_SC_INFO_GET_TYPE_NOT_APPLICABLE = const(60203)  # = mhd.SC_INFO_GET_TYPE_NOT_APPLICABLE
_SC_FEATURE_DISABLED = const(50300)  # = mhd.SC_FEATURE_DISABLED


def _each_query(r, fn, cls):
    """Calls fn(cls, name, value) for every query argument; stops early if fn returns True.
    `?c` gives value None and `?d=` gives "" (MHD semantics)."""
    if r.query_start < 0:
        return 0
    b = r.conn.buf
    plus = not r.conn.daemon.no_plus
    s, e, n = r.query_start, r.target_end, 0
    while s <= e:
        a = b.find(b"&", s, e)
        if a < 0:
            a = e
        if a > s:
            eq = b.find(b"=", s, a)
            if eq < 0:
                name, value = percent_decode(b, s, a, plus), None
            else:
                name, value = percent_decode(b, s, eq, plus), percent_decode(b, eq + 1, a, plus)
            n += 1
            if fn is not None and fn(cls, name, value):
                return n
        s = a + 1
    return n


def hex_value(c):
    if 48 <= c <= 57:  # before the case fold: it would make digits of bytes 16-25
        return c - 48
    c |= 0x20
    if 97 <= c <= 102:
        return c - 87
    return -1


def percent_decode(b, s, e, plus):
    """Percent-decode b[s:e] (leniently, as MHD: a bad escape stays as it is); '+' is a space
    when plus is true. Returns str, or None for bytes that are not UTF-8."""
    if b.find(b"%", s, e) < 0 and not (plus and b.find(b"+", s, e) >= 0):
        return text(memoryview(b)[s:e])
    out = bytearray()
    i = s
    while i < e:
        c = b[i]
        if c == 37 and i + 2 < e:
            hi, lo = hex_value(b[i + 1]), hex_value(b[i + 2])
            if hi >= 0 and lo >= 0:
                out.append(hi << 4 | lo)
                i += 3
                continue
        out.append(32 if (c == 43 and plus) else c)
        i += 1
    return text(out)


# The cookie parser is an optional module (cookie.py, features.COOKIE_PARSER), imported on
# the first cookie lookup. None: not looked for yet; False: not in this build, so _VK_COOKIE
# gives no values and _REQUEST_INFO_DYNAMIC_NUMBER_COOKIES gives SC_FEATURE_DISABLED.
_cookie = None


def cookie_parser():
    global _cookie
    if _cookie is None:
        _cookie = False
        from .features import COOKIE_PARSER
        if COOKIE_PARSER:
            try:
                _cookie = load("cookie").each_cookie
            except ImportError:
                pass
    return _cookie


def _each_cookie(r, fn, cls):
    each = cookie_parser()
    return each(r, fn, cls) if each else 0


def _each_header(r, fn, cls):
    return _each_field(r, fn, cls, 0, r.nhdr)


def _each_footer(r, fn, cls):
    """The trailer fields of a chunked request body, once it is read (kept after the head's)."""
    return _each_field(r, fn, cls, r.nhdr, r.nhdr + r.nfooters)


def _each_field(r, fn, cls, first, end):
    b = r.conn.buf
    hdr = r.hdr
    for k in range(first * 4, end * 4, 4):
        if fn is not None and fn(cls, _text(b, hdr[k], hdr[k + 1]), _text(b, hdr[k + 2], hdr[k + 3])):
            return k // 4 + 1 - first
    return end - first


def _each_post(r, fn, cls):
    """The fields action_parse_post kept (post_fields.py, loaded only if the request has a form)."""
    if r.post is None:
        return 0
    return load("post_fields").each_field(r, None if fn is None else lambda c, n, v, *more: fn(c, n, v), cls)


_KINDS = ((_VK_HEADER, _each_header), (_VK_COOKIE, _each_cookie), (_VK_GET_ARGUMENT, _each_query),
          (_VK_POSTDATA, _each_post), (_VK_FOOTER, _each_footer))


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
    """The first value named `key` among the kinds in `kind` (header names ignore case), as
    str; None if absent or, for `?c`, when the argument has no value. Names are compared in
    the buffer: only the value found becomes a string."""
    if kind & _VK_HEADER:
        i = _find_field(request, key.lower().encode(), 0, request.nhdr)
        if i >= 0:
            return _text(request.conn.buf, request.hdr[i + 2], request.hdr[i + 3])
    if kind & _VK_GET_ARGUMENT and request.query_start >= 0:
        v = _find_arg(request, key)
        if v is not _ABSENT:
            return v
    if kind & _VK_COOKIE:
        v = _first(_each_cookie, request, key)
        if v is not None:
            return v
    if kind & _VK_POSTDATA:
        v = _first(_each_post, request, key)
        if v is not None:
            return v
    if kind & _VK_FOOTER:
        i = _find_field(request, key.lower().encode(), request.nhdr, request.nhdr + request.nfooters)
        if i >= 0:
            return _text(request.conn.buf, request.hdr[i + 2], request.hdr[i + 3])
    return None


_ABSENT = object()


def _first(each, request, key):
    """The value of the first name `key` that each(request, fn, cls) visits, or None."""
    found = [None]

    def match(_, name, value):
        if name == key:
            found[0] = value
            return True
        return False

    each(request, match, None)
    return found[0]


def _find_field(r, lkey, first, end):
    """Where in r.hdr the first field named lkey (lower-case bytes) is among fields
    first..end (the head's, then the trailer's), or -1."""
    b = r.conn.buf
    h = r.hdr
    i = first * 4
    while i < end * 4:
        if ieq(b, h[i], h[i + 1], lkey):
            return i
        i += 4
    return -1


def _text(b, s, e):
    try:
        return str(memoryview(b)[s:e], "utf-8")
    except (ValueError, UnicodeError):  # not UTF-8: give the bytes as latin-1 would
        return "".join(chr(c) for c in memoryview(b)[s:e])


def _find_arg(r, key):
    """The value of the first query argument named `key` (None for `?key`), or _ABSENT."""
    b = r.conn.buf
    plus = not r.conn.daemon.no_plus
    kb = key.encode()
    s = r.query_start
    while s <= r.target_end:
        a = b.find(b"&", s, r.target_end)
        if a < 0:
            a = r.target_end
        eq = b.find(b"=", s, a)
        if a > s and _arg_is(b, s, a if eq < 0 else eq, kb, key, plus):
            return None if eq < 0 else percent_decode(b, eq + 1, a, plus)
        s = a + 1
    return _ABSENT


def _arg_is(b, s, e, kb, key, plus):
    if b.find(b"%", s, e) < 0 and not (plus and b.find(b"+", s, e) >= 0):
        return e - s == len(kb) and b.find(kb, s, e) == s  # no escapes: compare the bytes
    return percent_decode(b, s, e, plus) == key


# request_get_info_fixed / request_get_info_dynamic
_REQUEST_INFO_FIXED_HTTP_VER = const(1)  # = mhd.REQUEST_INFO_FIXED_HTTP_VER
_REQUEST_INFO_FIXED_HTTP_METHOD = const(2)  # = mhd.REQUEST_INFO_FIXED_HTTP_METHOD
_REQUEST_INFO_FIXED_DAEMON = const(20)  # = mhd.REQUEST_INFO_FIXED_DAEMON
_REQUEST_INFO_FIXED_CONNECTION = const(21)  # = mhd.REQUEST_INFO_FIXED_CONNECTION
_REQUEST_INFO_FIXED_STREAM = const(22)  # = mhd.REQUEST_INFO_FIXED_STREAM
_REQUEST_INFO_FIXED_APP_CONTEXT = const(30)  # = mhd.REQUEST_INFO_FIXED_APP_CONTEXT
_REQUEST_INFO_DYNAMIC_HTTP_METHOD_STRING = const(1)  # = mhd.REQUEST_INFO_DYNAMIC_HTTP_METHOD_STRING
_REQUEST_INFO_DYNAMIC_URI = const(2)  # = mhd.REQUEST_INFO_DYNAMIC_URI
_REQUEST_INFO_DYNAMIC_NUMBER_URI_PARAMS = const(3)  # = mhd.REQUEST_INFO_DYNAMIC_NUMBER_URI_PARAMS
_REQUEST_INFO_DYNAMIC_NUMBER_COOKIES = const(4)  # = mhd.REQUEST_INFO_DYNAMIC_NUMBER_COOKIES
_REQUEST_INFO_DYNAMIC_HEADER_SIZE = const(5)  # = mhd.REQUEST_INFO_DYNAMIC_HEADER_SIZE
_REQUEST_INFO_DYNAMIC_NUMBER_POST_PARAMS = const(6)  # = mhd.REQUEST_INFO_DYNAMIC_NUMBER_POST_PARAMS
_REQUEST_INFO_DYNAMIC_UPLOAD_PRESENT = const(10)  # = mhd.REQUEST_INFO_DYNAMIC_UPLOAD_PRESENT
_REQUEST_INFO_DYNAMIC_UPLOAD_CHUNKED = const(11)  # = mhd.REQUEST_INFO_DYNAMIC_UPLOAD_CHUNKED
_REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TOTAL = const(12)  # = mhd.REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TOTAL
_REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_RECIEVED = const(13)  # = mhd.REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_RECIEVED
_REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TO_RECIEVE = const(14)  # = mhd.REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TO_RECIEVE
_REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_PROCESSED = const(15)  # = mhd.REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_PROCESSED
_REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TO_PROCESS = const(16)  # = mhd.REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TO_PROCESS
_REQUEST_INFO_DYNAMIC_AUTH_DIGEST_INFO = const(42)  # = mhd.REQUEST_INFO_DYNAMIC_AUTH_DIGEST_INFO
_REQUEST_INFO_DYNAMIC_AUTH_BASIC_CREDS = const(51)  # = mhd.REQUEST_INFO_DYNAMIC_AUTH_BASIC_CREDS
_BODY_MODE_FULL = const(2)  # = upload._FULL; bytes collected, not given yet


def request_get_info_fixed(request, info):
    """Returns (SC_OK, value) or (error code, None)."""
    c = request.conn
    if info == _REQUEST_INFO_FIXED_HTTP_VER:
        return _SC_OK, request.version
    if info == _REQUEST_INFO_FIXED_HTTP_METHOD:
        return _SC_OK, request.method
    if info == _REQUEST_INFO_FIXED_DAEMON:
        return _SC_OK, c.daemon
    if info in (_REQUEST_INFO_FIXED_CONNECTION, _REQUEST_INFO_FIXED_STREAM):
        return _SC_OK, c
    if info == _REQUEST_INFO_FIXED_APP_CONTEXT:
        return _SC_OK, request.app_context
    return _SC_INFO_GET_TYPE_UNKNOWN, None


def request_get_info_dynamic(request, info):
    """Returns (SC_OK, value) or (error code, None)."""
    b = request.conn.buf
    if info == _REQUEST_INFO_DYNAMIC_HTTP_METHOD_STRING:
        return _SC_OK, str(memoryview(b)[request.head_start:request.method_end], "utf-8")
    if info == _REQUEST_INFO_DYNAMIC_URI:
        return _SC_OK, str(memoryview(b)[request.target_start:request.target_end], "utf-8")
    if info == _REQUEST_INFO_DYNAMIC_NUMBER_URI_PARAMS:
        return _SC_OK, _each_query(request, None, None)
    if info == _REQUEST_INFO_DYNAMIC_NUMBER_COOKIES:
        if not cookie_parser():
            return _SC_FEATURE_DISABLED, None
        return _SC_OK, _each_cookie(request, None, None)
    if info == _REQUEST_INFO_DYNAMIC_HEADER_SIZE:
        return _SC_OK, request.body_start - request.head_start
    if info == _REQUEST_INFO_DYNAMIC_NUMBER_POST_PARAMS:
        if request.post is None:
            return _SC_INFO_GET_TYPE_NOT_APPLICABLE, None
        return _SC_OK, _each_post(request, None, None)
    if info == _REQUEST_INFO_DYNAMIC_AUTH_BASIC_CREDS:
        return _auth("AUTH_BASIC", "auth_basic", request)
    if info == _REQUEST_INFO_DYNAMIC_AUTH_DIGEST_INFO:
        return _auth("AUTH_DIGEST", "auth_digest", request)
    chunked = bool(request.flags & F_CHUNKED)
    present = chunked or request.cl > 0
    if info == _REQUEST_INFO_DYNAMIC_UPLOAD_PRESENT:
        return _SC_OK, present
    if info == _REQUEST_INFO_DYNAMIC_UPLOAD_CHUNKED:
        return _SC_OK, chunked
    if info == _REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TOTAL:
        return _SC_OK, request.upload_size
    if info == _REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_RECIEVED:
        return _SC_OK, request.received
    if info == _REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TO_RECIEVE:
        if chunked:
            return _SC_OK, SIZE_UNKNOWN
        return _SC_OK, request.upload_size - request.received
    done = 0 if request.body_mode == _BODY_MODE_FULL else request.got  # given to the application
    if info == _REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_PROCESSED:
        return _SC_OK, done
    if info == _REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TO_PROCESS:
        return _SC_OK, SIZE_UNKNOWN if chunked else request.upload_size - done
    return _SC_INFO_GET_TYPE_UNKNOWN, None


def _auth(flag, module, request):
    # the credentials, parsed by the module of their scheme; SC_FEATURE_DISABLED if the
    # build left it out (tools/build.py --without auth_basic / auth_digest)
    from . import features
    try:
        if getattr(features, flag):
            return load(module).request_info(request)
    except ImportError:
        pass
    return _SC_FEATURE_DISABLED, None


_HTTP_METHOD_ASTERISK = const(9)  # = mhd.HTTP_METHOD_ASTERISK
_HTTP_VERSION_1_0 = const(1)  # = mhd.HTTP_VERSION_1_0
_HTTP_VERSION_1_1 = const(2)  # = mhd.HTTP_VERSION_1_1


def http_method_to_string(method):
    """"GET" for HTTP_METHOD_GET...; "*" for HTTP_METHOD_ASTERISK; None otherwise."""
    from .parser import METHODS
    if 1 <= method <= len(METHODS):
        return METHODS[method - 1].decode()
    return "*" if method == _HTTP_METHOD_ASTERISK else None


def protocol_version_to_string(version):
    if version == _HTTP_VERSION_1_0:
        return "HTTP/1.0"
    if version == _HTTP_VERSION_1_1:
        return "HTTP/1.1"
    return None
