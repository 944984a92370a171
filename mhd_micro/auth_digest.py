# Digest authentication (RFC 7616, and RFC 2069 where the application allows it), as MHD2 has
# it (src/mhd2/auth_digest.c, response_auth_digest.c): the client's parameters
# (REQUEST_INFO_DYNAMIC_AUTH_DIGEST_INFO), the checks (digest_auth_check[_digest]), the
# helpers (digest_auth_calc_*), and the challenge of a 401 reply, with a new nonce each time
# the reply is sent.
#
# Nonces: 12 bytes of SHA-256 over the daemon's entropy (D_OPTION_RANDOM_ENTROPY), a counter,
# the expiry and the client's IP address, then the counter and the expiry (seconds of a
# monotonic clock), 4 bytes each: 40 hex digits. Each one is tracked in a slot of a fixed table taken at daemon start
# (Nonces, only when the daemon has D_OPTION_RANDOM_ENTROPY), chosen by the nonce's first
# bytes: 20 bytes a slot (8 bytes of the nonce, its expiry, the highest nonce count seen and
# a 32-bit window of the counts below it), so a count is accepted once, out of order within
# 32 of the highest (MHD2: 64). A nonce not in its slot any more is stale when its hash shows
# it ours (another nonce took the slot, even within the same second) and it has not expired,
# and wrong when it never was one of ours. As in MHD2, RFC 2069 replies (no
# qop) count as nc 1: their nonces serve once. Not supported, as in MHD2: -sess algorithms,
# auth-int, binding nonces to the URI or realm.
#
# Not in MHD2 (which has it as a TODO): the check refuses a nonce past its expiry as stale.
#
# The entry points are the public functions below, request_info(request) for values.py,
# table(setup, small) for pools.py and fill_nonces(c, end) for the connection's reply.
import struct
from binascii import hexlify

from .platform import const, ticks_ms, ticks_diff, ticks_add, peer_key
from .auth_parser import (credentials, digest_params, unquote, ext_value, from_hex, to_text, quote, same,
                          hash_of, challenge_refused, challenge_action)
from .request import request_path
from .values import percent_decode

_SC_OK = const(0)  # = mhd.SC_OK
_SC_AUTH_ABSENT = const(20060)  # = mhd.SC_AUTH_ABSENT
_SC_REQ_AUTH_DATA_BROKEN = const(40320)  # = mhd.SC_REQ_AUTH_DATA_BROKEN
_SC_RESP_HEADER_VALUE_INVALID = const(60051)  # = mhd.SC_RESP_HEADER_VALUE_INVALID
_SC_RESP_HEADERS_CONFLICT = const(60052)  # = mhd.SC_RESP_HEADERS_CONFLICT
_SC_AUTH_DIGEST_ALGO_NOT_SUPPORTED = const(60240)  # = mhd.SC_AUTH_DIGEST_ALGO_NOT_SUPPORTED
_SC_AUTH_DIGEST_QOP_NOT_SUPPORTED = const(60241)  # = mhd.SC_AUTH_DIGEST_QOP_NOT_SUPPORTED
_RF_NONCES = const(1024)  # = response.RF_NONCES

_DAUTH_OK = const(1)  # = mhd.DAUTH_OK
_DAUTH_ERROR = const(0)  # = mhd.DAUTH_ERROR
_DAUTH_HEADER_MISSING = const(-1)  # = mhd.DAUTH_HEADER_MISSING
_DAUTH_HEADER_BROKEN = const(-9)  # = mhd.DAUTH_HEADER_BROKEN
_DAUTH_UNSUPPORTED_ALGO = const(-10)  # = mhd.DAUTH_UNSUPPORTED_ALGO
_DAUTH_UNSUPPORTED_QOP = const(-11)  # = mhd.DAUTH_UNSUPPORTED_QOP
_DAUTH_INVALID_USERDIGEST_SIZE = const(-15)  # = mhd.DAUTH_INVALID_USERDIGEST_SIZE
_DAUTH_WRONG_USERNAME = const(-17)  # = mhd.DAUTH_WRONG_USERNAME
_DAUTH_WRONG_REALM = const(-18)  # = mhd.DAUTH_WRONG_REALM
_DAUTH_WRONG_URI = const(-19)  # = mhd.DAUTH_WRONG_URI
_DAUTH_WRONG_QOP = const(-20)  # = mhd.DAUTH_WRONG_QOP
_DAUTH_WRONG_ALGO = const(-21)  # = mhd.DAUTH_WRONG_ALGO
_DAUTH_TOO_LARGE = const(-22)  # = mhd.DAUTH_TOO_LARGE
_DAUTH_NONCE_STALE = const(-25)  # = mhd.DAUTH_NONCE_STALE
_DAUTH_NONCE_WRONG = const(-33)  # = mhd.DAUTH_NONCE_WRONG
_DAUTH_RESPONSE_WRONG = const(-34)  # = mhd.DAUTH_RESPONSE_WRONG

_BASE_MD5 = const(1)  # = mhd.DIGEST_BASE_ALGO_MD5
_BASE_SHA256 = const(2)  # = mhd.DIGEST_BASE_ALGO_SHA256
_BASE_SHA512_256 = const(4)  # = mhd.DIGEST_BASE_ALGO_SHA512_256
_NON_SESSION = const(64)  # = mhd.DIGEST_AUTH_ALGO_NON_SESSION
_SESSION = const(128)  # = mhd.DIGEST_AUTH_ALGO_SESSION
_QOP_NONE = const(1)  # = mhd.DIGEST_AUTH_QOP_NONE
_QOP_AUTH = const(2)  # = mhd.DIGEST_AUTH_QOP_AUTH
_QOP_AUTH_INT = const(4)  # = mhd.DIGEST_AUTH_QOP_AUTH_INT
_UNAME_MISSING = const(0)  # = mhd.DIGEST_AUTH_UNAME_TYPE_MISSING
_UNAME_STANDARD = const(4)  # = mhd.DIGEST_AUTH_UNAME_TYPE_STANDARD
_UNAME_EXTENDED = const(8)  # = mhd.DIGEST_AUTH_UNAME_TYPE_EXTENDED
_UNAME_USERHASH = const(2)  # = mhd.DIGEST_AUTH_UNAME_TYPE_USERHASH
_UNAME_INVALID = const(1)  # = mhd.DIGEST_AUTH_UNAME_TYPE_INVALID
_NC_NUMBER = const(1)  # = mhd.DIGEST_AUTH_NC_NUMBER
_NC_ZERO = const(2)  # = mhd.DIGEST_AUTH_NC_ZERO
_NC_NONE = const(3)  # = mhd.DIGEST_AUTH_NC_NONE
_NC_TOO_LONG = const(4)  # = mhd.DIGEST_AUTH_NC_TOO_LONG
_NC_TOO_LARGE = const(5)  # = mhd.DIGEST_AUTH_NC_TOO_LARGE
_NC_BROKEN = const(0)  # not a number (MHD2's mhd_GET_RQ_NC_BROKEN)

_MAX_PARAM = const(65535)  # MHD2's mhd_AUTH_DIGEST_MAX_PARAM_SIZE
_NONCE_LEN = const(40)  # hex digits
_PLACE = b'nonce="########################################"'  # filled when the reply is sent
_SLOT = "<8sIII"  # nonce bytes 4..12, expiry, highest nc, the window of nc below it
_SLOT_SIZE = const(20)
_TRIES = const(4)  # slots tried for a new nonce before one waiting for its client is taken

# (base algorithm, name in the headers, hashlib name)
_ALGOS = ((_BASE_MD5, b"MD5", "md5"), (_BASE_SHA256, b"SHA-256", "sha256"), (_BASE_SHA512_256, b"SHA-512-256", "sha512_256"))


def _hasher(algo):
    """hashlib's constructor for the base algorithm of `algo`, None if unknown or not here."""
    for base, _, name in _ALGOS:
        if algo & 0x3F == base:
            return hash_of(name)
    return None


def _h(new, *parts):
    """The hex digest of the parts joined with ':' (bytes)."""
    return hexlify(new(b":".join(parts)).digest())


def digest_get_hash_size(algo):
    """16 for MD5, 32 for SHA-256 and SHA-512/256 (session or not), 0 otherwise."""
    base = algo & 0x3F
    return 16 if base == _BASE_MD5 else 32 if base in (_BASE_SHA256, _BASE_SHA512_256) else 0


def _calc(algo, *parts):
    new = _hasher(algo)
    if new is None or algo & 0x3F not in (_BASE_MD5, _BASE_SHA256, _BASE_SHA512_256):
        return _SC_AUTH_DIGEST_ALGO_NOT_SUPPORTED, None
    return _SC_OK, new(b":".join(p.encode() for p in parts)).digest()


def digest_auth_calc_userdigest(algo, username, realm, password):
    """(SC_OK, H(username:realm:password) as bytes), or (SC_AUTH_DIGEST_ALGO_NOT_SUPPORTED, None)."""
    return _calc(algo, username, realm, password)


def digest_auth_calc_userhash(algo, username, realm):
    """(SC_OK, H(username:realm) as bytes), or (SC_AUTH_DIGEST_ALGO_NOT_SUPPORTED, None)."""
    return _calc(algo, username, realm)


def digest_auth_calc_userhash_hex(algo, username, realm):
    """(SC_OK, H(username:realm) as lower-case hex str), or (SC_AUTH_DIGEST_ALGO_NOT_SUPPORTED, None)."""
    sc, h = _calc(algo, username, realm)
    return sc, None if h is None else hexlify(h).decode()


# -- the client's parameters -----------------------------------------------------------------
def _algo(p):
    """The client's algorithm (DIGEST_AUTH_ALGO_*); MD5 when absent, 0 when unknown."""
    v = p.get(b"algorithm")
    if v is None:
        return _BASE_MD5 | _NON_SESSION
    v = unquote(v[0]).lower()
    for base, name, _ in _ALGOS:
        n = name.lower()
        if v == n:
            return base | _NON_SESSION
        if v == n + b"-sess":
            return base | _SESSION
    return 0


def _qop(p):
    v = p.get(b"qop")
    if v is None:
        return _QOP_NONE
    v = unquote(v[0]).lower()
    return _QOP_AUTH if v == b"auth" else _QOP_AUTH_INT if v == b"auth-int" else 0


def _nc(p):
    """(DIGEST_AUTH_NC_* or _NC_BROKEN, value)."""
    v = p.get(b"nc")
    if v is None:
        return _NC_NONE, 0
    raw, escaped = v
    if escaped and len(raw) > 16:
        return _NC_TOO_LONG, 0
    raw = unquote(raw)
    if not raw or from_hex(raw if len(raw) % 2 == 0 else b"0" + raw) is None:
        return _NC_BROKEN, 0
    n = int(raw, 16)
    if n > 0xFFFFFFFF:
        return _NC_TOO_LARGE, 0
    return (_NC_NUMBER if n else _NC_ZERO), n


def _userhash(p):
    v = p.get(b"userhash")
    return v is not None and unquote(v[0]).lower() == b"true"


def _text(p, name):
    v = p.get(name)
    return None if v is None else to_text(unquote(v[0]))


def _params(request):
    """(SC_OK, params), (SC_AUTH_ABSENT, None) or (SC_REQ_AUTH_DATA_BROKEN, None)."""
    v = credentials(request, b"digest")
    if v is None:
        return _SC_AUTH_ABSENT, None
    p = digest_params(v)
    return (_SC_REQ_AUTH_DATA_BROKEN, None) if p is None else (_SC_OK, p)


def request_info(request):
    """REQUEST_INFO_DYNAMIC_AUTH_DIGEST_INFO: (SC_OK, (algo, uname_type, username,
    userhash_hex, userhash_bin, opaque, realm, qop, cnonce_len, nc_type, nc)), MHD's struct
    MHD_AuthDigestInfo as a tuple (userhash_bin_size is len(userhash_bin)); or
    (SC_AUTH_ABSENT, None), or (SC_REQ_AUTH_DATA_BROKEN, None) when the username is missing
    or invalid or nc is not a number."""
    sc, p = _params(request)
    if sc:
        return sc, None
    uname = p.get(b"username")
    ext = p.get(b"username*")
    user = uhex = ubin = None
    if uname is not None:
        kind = _UNAME_INVALID if ext is not None else _UNAME_USERHASH if _userhash(p) else _UNAME_STANDARD
    elif ext is not None:
        kind = _UNAME_EXTENDED if not ext[1] and not _userhash(p) else _UNAME_INVALID
    else:
        kind = _UNAME_MISSING
    if kind == _UNAME_STANDARD:
        user = _text(p, b"username")
    elif kind == _UNAME_USERHASH:
        uhex = _text(p, b"username")
        ubin = from_hex(unquote(uname[0]))
        if ubin is None:
            kind = _UNAME_INVALID
    elif kind == _UNAME_EXTENDED:
        raw = ext_value(ext[0])
        if raw is None:
            kind = _UNAME_INVALID
        else:
            user = to_text(raw)
    nc_type, nc = _nc(p)
    if kind in (_UNAME_MISSING, _UNAME_INVALID) or nc_type == _NC_BROKEN:
        return _SC_REQ_AUTH_DATA_BROKEN, None
    cnonce = p.get(b"cnonce")
    return _SC_OK, (_algo(p), kind, user, uhex, ubin, _text(p, b"opaque"), _text(p, b"realm"), _qop(p),
                    0 if cnonce is None else len(cnonce[0]), nc_type, nc)


# -- the checks ------------------------------------------------------------------------------
def digest_auth_check(request, realm, username, password, max_nc, mqop, malgo):
    """Check the client's Digest credentials against `password`. max_nc: the highest nonce
    count accepted (0: the daemon's D_OPTION_AUTH_DIGEST_DEF_MAX_NC); mqop, malgo: what the
    client may use (DIGEST_AUTH_MULT_QOP_*, DIGEST_AUTH_MULT_ALGO_*). Returns DAUTH_OK or
    the DAUTH_* reason."""
    return _check(request, realm, username, password, None, max_nc, mqop, malgo)


def digest_auth_check_digest(request, realm, username, userdigest, max_nc, mqop, malgo):
    """As digest_auth_check, with userdigest = H(username:realm:password) (bytes, see
    digest_auth_calc_userdigest) instead of the password; malgo must name one base algorithm."""
    bases = 0
    for base, _, _ in _ALGOS:
        if malgo & base:
            bases += 1
    if bases != 1 or _hasher(malgo) is None:
        return _DAUTH_UNSUPPORTED_ALGO
    if len(userdigest) != digest_get_hash_size(malgo):
        return _DAUTH_INVALID_USERDIGEST_SIZE
    return _check(request, realm, username, None, userdigest, max_nc, mqop, malgo)


def _check(r, realm, username, password, userdigest, max_nc, mqop, malgo):
    # MHD2's order of checks (digest_auth_check_all_inner), so that the same request gets the
    # same DAUTH_* code
    sc, p = _params(r)
    if sc:
        return _DAUTH_HEADER_MISSING if sc == _SC_AUTH_ABSENT else _DAUTH_HEADER_BROKEN
    algo = _algo(p)
    if algo & malgo != algo:
        return _DAUTH_WRONG_ALGO
    new = _hasher(algo)
    if not algo or algo & _SESSION or new is None:
        return _DAUTH_UNSUPPORTED_ALGO
    qop = _qop(p)
    if qop & mqop != qop:
        return _DAUTH_WRONG_QOP
    if qop in (0, _QOP_AUTH_INT):
        return _DAUTH_UNSUPPORTED_QOP
    size = digest_get_hash_size(algo)
    uname = p.get(b"username")
    ext = p.get(b"username*")
    userhash = _userhash(p)
    if (uname is None) == (ext is None) or (ext is not None and (len(ext[0]) < 7 or userhash)):
        return _DAUTH_HEADER_BROKEN  # none or both, or a broken extended one
    if userhash and not 2 * size <= len(uname[0]) <= 4 * size:
        return _DAUTH_WRONG_USERNAME
    rc = _sizes(p, qop)
    if rc:
        return rc
    if unquote(p[b"realm"][0]) != realm.encode():
        return _DAUTH_WRONG_REALM
    user = username.encode()
    if userhash:
        if not same(unquote(uname[0]).lower(), _h(new, user, realm.encode())):
            return _DAUTH_WRONG_USERNAME
    elif uname is not None:
        if unquote(uname[0]) != user:
            return _DAUTH_WRONG_USERNAME
    else:
        raw = ext_value(ext[0])
        if raw is None:
            return _DAUTH_HEADER_BROKEN
        if raw != user:
            return _DAUTH_WRONG_USERNAME
    nc_type, nc = _nc(p)
    if nc_type == _NC_NONE:
        if qop != _QOP_NONE:
            return _DAUTH_HEADER_BROKEN
        nc = 1  # RFC 2069: the nonce serves once
    elif nc_type in (_NC_TOO_LONG, _NC_TOO_LARGE):
        return _DAUTH_NONCE_STALE
    elif nc_type == _NC_BROKEN or qop == _QOP_NONE or not nc:
        return _DAUTH_HEADER_BROKEN
    table = r.conn.daemon.dauth
    if table is None:
        return _DAUTH_ERROR  # no D_OPTION_RANDOM_ENTROPY: no nonces were made
    if nc > (max_nc or table.max_nc):
        return _DAUTH_NONCE_STALE
    nonce = unquote(p[b"nonce"][0])
    rc = table.check(nonce, nc, r.conn.addr)
    if rc != _DAUTH_OK:
        return rc
    uri = unquote(p[b"uri"][0])
    if not _uri_is(r, uri):
        return _DAUTH_WRONG_URI
    b = r.conn.buf
    ha2 = _h(new, bytes(memoryview(b)[r.head_start:r.method_end]), uri)
    ha1 = hexlify(userdigest) if userdigest is not None else _h(new, user, realm.encode(), password.encode())
    got = from_hex(unquote(p[b"response"][0]))
    if got is None or len(got) != size:
        return _DAUTH_RESPONSE_WRONG
    if qop == _QOP_NONE:
        want = new(b":".join((ha1, nonce, ha2))).digest()
    else:
        want = new(b":".join((ha1, nonce, unquote(p[b"nc"][0]), unquote(p[b"cnonce"][0]),
                               unquote(p[b"qop"][0]), ha2))).digest()
    return _DAUTH_OK if same(got, want) else _DAUTH_RESPONSE_WRONG


def _sizes(p, qop):
    """The required parameters are there and not too large: 0, or the DAUTH_* code."""
    realm = p.get(b"realm")
    if realm is None:
        return _DAUTH_HEADER_BROKEN
    if len(realm[0]) > _MAX_PARAM:
        return _DAUTH_TOO_LARGE
    if qop != _QOP_NONE:
        nc = p.get(b"nc")
        cnonce = p.get(b"cnonce")
        if nc is None or not nc[0] or len(nc[0]) > 32 or cnonce is None or not cnonce[0]:
            return _DAUTH_HEADER_BROKEN
        if len(cnonce[0]) > _MAX_PARAM:
            return _DAUTH_TOO_LARGE
    for name in (b"uri", b"nonce", b"response"):
        v = p.get(name)
        if v is None or not v[0]:
            return _DAUTH_HEADER_BROKEN
    if len(p[b"uri"][0]) > _MAX_PARAM:
        return _DAUTH_TOO_LARGE
    if len(p[b"nonce"][0]) > 2 * _NONCE_LEN:
        return _DAUTH_NONCE_WRONG
    if len(p[b"response"][0]) > 4 * 32:
        return _DAUTH_RESPONSE_WRONG
    return 0


def _uri_is(r, uri):
    """Whether the client's uri is this request's target: the same bytes, or the same path
    and query once percent-decoded (MHD2 compares the decoded path and the arguments)."""
    b = r.conn.buf
    target = bytes(memoryview(b)[r.target_start:r.target_end])
    if uri == target:
        return True
    q = uri.find(b"?")
    path = uri if q < 0 else uri[:q]
    if percent_decode(path, 0, len(path), False) != request_path(r):
        return False
    query = b"" if q < 0 else uri[q + 1:]
    mine = b"" if r.query_start < 0 else target[r.query_start - r.target_start:]
    return percent_decode(query, 0, len(query), True) == percent_decode(mine, 0, len(mine), True)


# -- the nonce table -------------------------------------------------------------------------
class Nonces:
    """The daemon's nonces (one table, taken at daemon start: pools.py)."""

    def __init__(self, entropy, size, timeout, max_nc):
        self.entropy = bytes(entropy)
        self.size = size
        self.timeout = timeout
        self.max_nc = max_nc
        self.slots = bytearray(size * _SLOT_SIZE)
        self.made = 0
        self.last = -1  # the slot of the last nonce made
        self.sha256 = hash_of("sha256")
        self.tick = ticks_ms()
        self.secs = 1  # a monotonic clock in seconds, from the platform's wrapping ticks

    def now(self):
        d = ticks_diff(ticks_ms(), self.tick)
        if d >= 1000:
            self.secs += d // 1000
            self.tick = ticks_add(self.tick, d // 1000 * 1000)
        return self.secs

    def _slot(self, nonce_bin):
        return (nonce_bin[0] | nonce_bin[1] << 8 | nonce_bin[2] << 16) % self.size * _SLOT_SIZE

    def new(self, addr):
        """A new nonce (hex bytes) for a client at `addr`, recorded in its slot."""
        now = self.now()
        exp = (now + self.timeout) & 0xFFFFFFFF
        k = 0
        while True:
            # a slot is taken from a nonce still waiting for its client only when a few tries
            # find no other (as MHD's retry), and never from the nonce made just before: the
            # challenges of one reply would else overwrite each other now and then, and the
            # client's answer to the first would be stale
            self.made = (self.made + 1) & 0xFFFFFFFF
            nonce_bin = self._hash(self.made, exp, addr) + struct.pack("<II", self.made, exp)
            at = self._slot(nonce_bin)
            slot_exp, top = struct.unpack_from("<II", self.slots, at + 8)
            if (at != self.last or self.size == 1) and (k >= _TRIES or not slot_exp or slot_exp < now or top):
                break  # empty, expired, used by its client, or tried enough
            k += 1
        self.last = at
        struct.pack_into(_SLOT, self.slots, at, nonce_bin[4:12], exp, 0, 0)
        return hexlify(nonce_bin)

    def _hash(self, made, exp, addr):
        """The 12 bytes that make a nonce ours: only this daemon's entropy gives them. Over the
        client's IP, not its port: its next connection may bring the nonce."""
        key = peer_key(addr)
        return self.sha256(b"%s:%d:%d:%s" % (self.entropy, made, exp, key if isinstance(key, bytes) else
                                             str(key).encode())).digest()[:12]

    def check(self, nonce, nc, addr):
        """Whether nonce (hex bytes) is ours (made for a client at `addr`), in time, and nc was
        not used with it yet: DAUTH_OK, DAUTH_NONCE_STALE or DAUTH_NONCE_WRONG. An OK records nc."""
        if len(nonce) != _NONCE_LEN or nonce.lower() != nonce:
            return _DAUTH_NONCE_WRONG  # ours are lower-case hex
        nonce_bin = from_hex(nonce)
        if nonce_bin is None:
            return _DAUTH_NONCE_WRONG
        made, exp = struct.unpack_from("<II", nonce_bin, 12)
        at = self._slot(nonce_bin)
        fp, slot_exp, top, window = struct.unpack_from(_SLOT, self.slots, at)
        now = self.now()
        if not (slot_exp and slot_exp == exp and same(fp, nonce_bin[4:12])):  # 0: an empty slot
            # not in its slot: another nonce took it (stale, once its hash shows it ours), or never ours
            if exp - self.timeout <= now and same(self._hash(made, exp, addr), nonce_bin[:12]):
                return _DAUTH_NONCE_STALE
            return _DAUTH_NONCE_WRONG
        if now > exp:
            return _DAUTH_NONCE_STALE
        if nc > top:
            jump = nc - top
            window = (window << jump | 1 << (jump - 1)) & 0xFFFFFFFF if jump <= 32 else 0
            top = nc
        elif nc == top or top - nc > 32 or window & 1 << (top - nc - 1):
            return _DAUTH_NONCE_STALE  # used already, or too far behind to tell
        else:
            window |= 1 << (top - nc - 1)
        struct.pack_into("<II", self.slots, at + 12, top, window)
        return _DAUTH_OK


def fill_nonces(c, end):
    """The connection's reply header, c.buf[c.rlen:end], has Digest challenges: give each a
    new nonce (a reusable response is sent with new ones each time, as in MHD2)."""
    b = c.buf
    table = c.daemon.dauth
    i = b.find(_PLACE, c.rlen, end)
    while i >= 0:
        # without D_OPTION_RANDOM_ENTROPY no nonce can be checked: one that never passes
        nonce = b"0" * _NONCE_LEN if table is None else table.new(c.addr)
        b[i + 7:i + 7 + _NONCE_LEN] = nonce
        i = b.find(_PLACE, i + len(_PLACE), end)


# -- the challenge ---------------------------------------------------------------------------
def response_add_auth_digest_challenge(response, realm, opaque, domain, indicate_stale, mqop, malgo,
                                       userhash_support, prefer_utf8):
    """Add one `WWW-Authenticate: Digest ...` challenge per algorithm of malgo that this
    runtime has (MD5, SHA-256, SHA-512/256) to a 401 response. Only RFC 2069 in mqop
    (DIGEST_AUTH_MULT_QOP_NONE): no qop, userhash or charset, as RFC 2069 has them. The
    nonces are made when the reply is sent. Returns SC_OK, or SC_RESP_POINTER_NULL,
    SC_TOO_LATE, SC_RESP_HTTP_CODE_NOT_SUITABLE, SC_RESP_HEADER_VALUE_INVALID (realm empty
    or with CR/LF; opaque with CR/LF; domain with CR/LF or '"'), SC_RESP_HEADERS_CONFLICT
    (a Digest challenge is there already), SC_AUTH_DIGEST_ALGO_NOT_SUPPORTED,
    SC_AUTH_DIGEST_QOP_NOT_SUPPORTED."""
    rc = challenge_refused(response, realm)
    if rc:
        return rc
    for s, bad in ((opaque, "\r\n"), (domain, '\r\n"')):
        for ch in bad:
            if s and ch in s:
                return _SC_RESP_HEADER_VALUE_INVALID
    if not malgo & _NON_SESSION:
        return _SC_AUTH_DIGEST_ALGO_NOT_SUPPORTED
    if not mqop & (_QOP_NONE | _QOP_AUTH):
        return _SC_AUTH_DIGEST_QOP_NOT_SUPPORTED
    if response.flags & _RF_NONCES:
        return _SC_RESP_HEADERS_CONFLICT
    rfc2069 = mqop & (_QOP_NONE | _QOP_AUTH) == _QOP_NONE
    tail = b""
    if opaque:
        tail += b', opaque="%s"' % quote(opaque).encode()
    if domain:
        tail += b', domain="%s"' % domain.encode()
    if indicate_stale:
        tail += b", stale=true"
    if not rfc2069:
        tail += (b", charset=UTF-8" if prefer_utf8 else b"") + (b", userhash=true" if userhash_support else b"")
    lines = b""
    for base, name, hname in _ALGOS:
        if malgo & base and hash_of(hname) is not None:
            algo = b"" if rfc2069 and base == _BASE_MD5 else b", algorithm=" + name
            lines += b'WWW-Authenticate: Digest realm="%s"%s%s, %s%s\r\n' % (
                quote(realm).encode(), b"" if rfc2069 else b', qop="auth"', algo, _PLACE, tail)
    if not lines:
        return _SC_AUTH_DIGEST_ALGO_NOT_SUPPORTED
    response.hdrs += lines
    response.flags |= _RF_NONCES
    return _SC_OK


def action_digest_auth_challenge(request, realm, opaque, domain, indicate_stale, mqop, malgo, userhash_support,
                                 prefer_utf8, response, abort_if_failed):
    """`response` (a 401) with the Digest challenge as the request's action. If the challenge
    cannot be added: the response is sent without it, or, with abort_if_failed, destroyed
    and the request aborted (None)."""
    rc = response_add_auth_digest_challenge(response, realm, opaque, domain, indicate_stale, mqop, malgo,
                                            userhash_support, prefer_utf8)
    return challenge_action(request, response, rc, abort_if_failed)


def action_digest_auth_challenge_p(request, realm, opaque, domain, indicate_stale, mqop, malgo, userhash_support,
                                   prefer_utf8, response):
    return action_digest_auth_challenge(request, realm, opaque, domain, indicate_stale, mqop, malgo,
                                        userhash_support, prefer_utf8, response, False)


def action_digest_auth_challenge_a(request, realm, opaque, domain, indicate_stale, mqop, malgo, userhash_support,
                                   prefer_utf8, response):
    return action_digest_auth_challenge(request, realm, opaque, domain, indicate_stale, mqop, malgo,
                                        userhash_support, prefer_utf8, response, True)


_D_O_RANDOM_ENTROPY = const(400)  # = mhd.D_O_RANDOM_ENTROPY
_D_O_AUTH_DIGEST_MAP_SIZE = const(401)  # = mhd.D_O_AUTH_DIGEST_MAP_SIZE
_D_O_AUTH_DIGEST_NONCE_TIMEOUT = const(403)  # = mhd.D_O_AUTH_DIGEST_NONCE_TIMEOUT
_D_O_AUTH_DIGEST_DEF_MAX_NC = const(404)  # = mhd.D_O_AUTH_DIGEST_DEF_MAX_NC


def table(setup, small):
    """daemon_start (pools.py): the nonce table of a daemon with D_OPTION_RANDOM_ENTROPY
    (setup: its options). Defaults as MHD2's (90 s, nc up to 1000, 1000 slots), but 128
    slots (2.5 KB) on a small board."""
    entropy = setup[_D_O_RANDOM_ENTROPY]  # (buf,) or MHD's (buf_size, buf)
    return Nonces(entropy[-1], setup.get(_D_O_AUTH_DIGEST_MAP_SIZE, (0,))[0] or (128 if small else 1000),
                  setup.get(_D_O_AUTH_DIGEST_NONCE_TIMEOUT, (0,))[0] or 90,
                  setup.get(_D_O_AUTH_DIGEST_DEF_MAX_NC, (0,))[0] or 1000)
