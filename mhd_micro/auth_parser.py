# The Authorization header, for auth_basic.py and auth_digest.py, and what both share.
#
# The parsing is sans-I/O: functions of bytes, unit-tested on both runtimes
# (tests/unit/test_auth_parser.py). MHD2's rules (src/mhd2/request_auth_get.c, auth_digest.c):
# the first Authorization field whose value starts with the scheme (any case) followed by a
# space, or that is the scheme alone; Digest parameters as `name=token` or `name="quoted"`,
# separated by commas, unknown names skipped, anything else (no '=', a ';', a NUL, an
# unclosed quote, garbage after a value) makes the header broken.
#
# The entry points: credentials(request, scheme), b64decode, digest_params, unquote, ext_value,
# from_hex, hash_of; challenge_refused and challenge_action for the challenge functions of both modules;
# same (constant-time compare).
from .platform import const
from .parser import ieq
from .values import hex_value

_SC_OK = const(0)  # = mhd.SC_OK
_SC_TOO_LATE = const(60001)  # = mhd.SC_TOO_LATE
_SC_RESP_POINTER_NULL = const(60060)  # = mhd.SC_RESP_POINTER_NULL
_SC_RESP_HTTP_CODE_NOT_SUITABLE = const(60061)  # = mhd.SC_RESP_HTTP_CODE_NOT_SUITABLE
_SC_RESP_HEADER_VALUE_INVALID = const(60051)  # = mhd.SC_RESP_HEADER_VALUE_INVALID
_RF_FROZEN = const(512)  # = response.RF_FROZEN


def scheme_value(v, scheme, tab):
    """The credentials after `scheme` (lower-case bytes) in the field value v (bytes), leading
    blanks skipped; None if v is not of that scheme. tab: a tab may follow the scheme
    (MHD2 at strictness -2 and below)."""
    n = len(scheme)
    if len(v) < n or v[:n].lower() != scheme:
        return None
    if len(v) == n:
        return b""
    if v[n] != 32 and not (tab and v[n] == 9):
        return None
    i = n + 1
    while i < len(v) and v[i] in (32, 9):
        i += 1
    return v[i:]


def credentials(request, scheme):
    """The credentials of the first Authorization field of `scheme` (lower-case bytes) in
    the request's head, as bytes; None if there is none."""
    b = request.conn.buf
    h = request.hdr
    tab = request.conn.daemon.strict <= -2
    for i in range(0, request.nhdr * 4, 4):
        if ieq(b, h[i], h[i + 1], b"authorization"):
            v = scheme_value(bytes(memoryview(b)[h[i + 2]:h[i + 3]]), scheme, tab)
            if v is not None:
                return v
    return None


_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def b64decode(s):
    """Strict base64 (RFC 4648 with padding) to bytes; None if s is not that."""
    if len(s) % 4:
        return None
    out = bytearray()
    acc = bits = 0
    pad = 0
    for i in range(len(s)):
        c = s[i]
        if c == 61:  # '='
            pad += 1
            if pad > 2 or i < len(s) - 2:
                return None
            continue
        if pad:
            return None
        v = _B64.find(bytes((c,)))
        if v < 0:
            return None
        acc = (acc << 6 | v) & 0xFFFFFF
        bits += 6
        if bits >= 8:
            bits -= 8
            out.append(acc >> bits & 0xFF)
    return bytes(out)


# The Digest parameters MHD2 reads; any other is skipped
DIGEST_NAMES = (b"nonce", b"opaque", b"algorithm", b"response", b"username", b"username*", b"realm",
                b"uri", b"qop", b"cnonce", b"nc", b"userhash")


def digest_params(v):
    """The Digest parameters of the credentials v (bytes): {name: (raw value, escaped)},
    `escaped` when the quoted value has backslash escapes (unquote() it). Names are lower
    case; a repeated name keeps its last value. None if the header is broken."""
    out = {}
    n = len(v)
    i = 0
    while i < n:
        s = i
        while i < n and v[i] not in b"= \t,;\"\0":
            i += 1
        name = v[s:i].lower()
        if name not in DIGEST_NAMES:
            if i == s and v[i] == 61:
                return None  # '=' with no name
            i = _skip(v, i)  # an unknown parameter: skipped up to its ',', as MHD2 does
            if i < 0:
                return None
        else:
            while i < n and v[i] in (32, 9):
                i += 1
            if i == n or v[i] != 61:
                return None  # a known name without '='
            i += 1
            while i < n and v[i] in (32, 9):
                i += 1
            escaped = False
            if i < n and v[i] == 34:  # '"'
                i += 1
                vs = i
                while i < n and v[i] != 34:
                    if v[i] == 92:  # '\\'
                        escaped = True
                        i += 1
                    if i < n and v[i] == 0:
                        return None
                    i += 1
                if i >= n:
                    return None  # no closing quote
                value = v[vs:i]
                i += 1
            else:
                vs = i
                while i < n and v[i] not in b", \t;\0":
                    i += 1
                if i < n and v[i] in b";\0":
                    return None
                value = v[vs:i]
            while i < n and v[i] in (32, 9):
                i += 1
            if i < n and v[i] != 44:  # garbage after the value
                return None
            out[name] = (value, escaped)
        if i < n:
            i += 1  # the ','
        while i < n and v[i] in (32, 9):
            i += 1
    return out


def _skip(v, i):
    """Past an unknown parameter up to its ',' (quoted parts skipped); -1 if broken."""
    n = len(v)
    while i < n and v[i] != 44:
        c = v[i]
        if c in b";\0":
            return -1
        if c == 34:
            i += 1
            while i < n and v[i] != 34:
                i += 2 if v[i] == 92 else 1
            if i >= n:
                return -1
        i += 1
    return i


def unquote(s):
    """A quoted-string's content without its backslash escapes."""
    if s.find(b"\\") < 0:
        return s
    out = bytearray()
    i = 0
    while i < len(s):
        if s[i] == 92 and i + 1 < len(s):
            i += 1
        out.append(s[i])
        i += 1
    return bytes(out)


def from_hex(s):
    """Hex digits (either case) to bytes; None if not an even number of them."""
    if len(s) % 2:
        return None
    out = bytearray(len(s) // 2)
    for i in range(0, len(s), 2):
        hi, lo = hex_value(s[i]), hex_value(s[i + 1])
        if hi < 0 or lo < 0:
            return None
        out[i // 2] = hi << 4 | lo
    return bytes(out)


def ext_value(s):
    """RFC 5987 ext-value `UTF-8'lang'pct-encoded` (the charset in any case, only UTF-8 as
    RFC 7616 says) decoded to bytes; None if s is not one."""
    if len(s) < 7 or s[:6].lower() != b"utf-8'":
        return None
    q = s.find(b"'", 6)
    if q < 0 or s[6:q].find(b" ") >= 0 or s[6:q].find(b'"') >= 0 or s[6:q].find(b",") >= 0:
        return None
    out = bytearray()
    i = q + 1
    while i < len(s):
        c = s[i]
        if c == 37:  # '%': strict, two hex digits
            if i + 2 >= len(s):
                return None
            hi, lo = hex_value(s[i + 1]), hex_value(s[i + 2])
            if hi < 0 or lo < 0:
                return None
            out.append(hi << 4 | lo)
            i += 3
            continue
        out.append(c)
        i += 1
    return bytes(out)


def to_text(b):
    """Bytes of a name or password as str: UTF-8, or latin-1 for other bytes (values.py's rule)."""
    try:
        return str(b, "utf-8")
    except (ValueError, UnicodeError):
        return "".join(chr(c) for c in b)


def quote(s):
    """A str as the content of a quoted-string: '"' and '\\' escaped."""
    return s.replace("\\", "\\\\").replace('"', '\\"')


def hash_of(name):
    """hashlib's constructor for "md5", "sha256" or "sha512_256", None where this runtime has
    none (MicroPython's hashlib has md5 on some ports only, and never SHA-512/256; CPython
    has SHA-512/256 through OpenSSL's hashlib.new)."""
    import hashlib
    new = getattr(hashlib, name, None)
    if new is None and hasattr(hashlib, "new"):
        try:
            hashlib.new(name)
        except ValueError:
            return None

        def new(data=b""):
            return hashlib.new(name, data)
    return new


def same(a, b):
    """a == b for bytes, in a time that depends only on their lengths (secrets)."""
    if len(a) != len(b):
        return False
    d = 0
    for i in range(len(a)):
        d |= a[i] ^ b[i]
    return d == 0


# -- the challenge functions' shared rules ---------------------------------------------------
def challenge_refused(response, realm):
    """Why a challenge cannot be added to `response` (MHD2's checks, in its order), or SC_OK."""
    if response is None:
        return _SC_RESP_POINTER_NULL
    if response.flags & _RF_FROZEN:
        return _SC_TOO_LATE
    if response.sc != 401:
        return _SC_RESP_HTTP_CODE_NOT_SUITABLE
    if not realm or "\r" in realm or "\n" in realm:
        return _SC_RESP_HEADER_VALUE_INVALID
    return _SC_OK


def challenge_action(request, response, rc, abort_if_failed):
    """MHD2's static inline action_*_auth_challenge: the response as the action, unless adding
    the challenge failed (rc) and abort_if_failed: then the response is destroyed and the
    request aborted (None)."""
    from .action import action_from_response
    if rc and abort_if_failed:
        if response is not None:
            from .response import response_destroy
            response_destroy(response)
        return None
    return action_from_response(request, response)
