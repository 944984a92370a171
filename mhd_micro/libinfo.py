# Library information: lib_get_info_fixed and lib_get_info_dynamic (MHD_lib_get_info_*),
# what this build of mhd_micro can do on this runtime.
#
# Every answer is true to the build and the runtime: a feature reads true only if its flag
# is on in features.py, its module is present (importable: a file or frozen into the
# firmware) and the platform supports it. The package imports this module only when the
# application asks (mhd.lib_get_info_fixed), and MHD's numbers are kept (microhttpd2.h,
# enum MHD_LibInfoFixed / MHD_LibInfoDynamic).
#
# Results are Python values: bools for MHD's enum MHD_Bool members, ints for the enums,
# str for VERSION_STRING, and tuples for MHD's structs:
#   TYPES_SOCKETS_POLLING -> (func_select, func_poll, tech_epoll)
#   TLS_BACKENDS, TLS_KEY_PASSWORD_BACKENDS, LIB_INFO_DYNAMIC_TYPE_TLS
#                         -> (tls_supported, backend_gnutls, backend_openssl)
import sys

from .platform import const
from .lazy import load, drop, present

_SC_OK = const(0)  # = mhd.SC_OK
_SC_INFO_GET_TYPE_UNKNOWN = const(60200)  # = mhd.SC_INFO_GET_TYPE_UNKNOWN

# Version: MHD packs it as four BCD bytes 0xMMmmPPBB (major, minor, patch, build), so MHD
# 1.99.0 build 1 is 0x01990001. Ours is the package's VERSION ("0.1.0") packed the same way,
# build byte 0: 0x00010000. Numbers past 99 do not fit a BCD byte; the versions we make don't.
# The string is the package's VERSION (mhd_micro/__init__.py), the one source of truth.

LIB_INFO_FIXED_VERSION_NUM = const(0)
LIB_INFO_FIXED_VERSION_STRING = const(1)
LIB_INFO_FIXED_SUPPORT_LOG_MESSAGES = const(11)
LIB_INFO_FIXED_SUPPORT_AUTO_REPLIES_BODIES = const(12)
LIB_INFO_FIXED_IS_NON_DEBUG = const(13)
LIB_INFO_FIXED_SUPPORT_THREADS = const(14)
LIB_INFO_FIXED_SUPPORT_COOKIE_PARSER = const(15)
LIB_INFO_FIXED_SUPPORT_POST_PARSER = const(16)
LIB_INFO_FIXED_SUPPORT_UPGRADE = const(17)
LIB_INFO_FIXED_HAS_UPGRADE = const(17)  # the manual's name for SUPPORT_UPGRADE
LIB_INFO_FIXED_SUPPORT_AUTH_BASIC = const(20)
LIB_INFO_FIXED_SUPPORT_AUTH_DIGEST = const(21)
LIB_INFO_FIXED_SUPPORT_DIGEST_AUTH_RFC2069 = const(22)
LIB_INFO_FIXED_TYPE_DIGEST_AUTH_MD5 = const(23)
LIB_INFO_FIXED_TYPE_DIGEST_AUTH_SHA256 = const(24)
LIB_INFO_FIXED_TYPE_DIGEST_AUTH_SHA512_256 = const(25)
LIB_INFO_FIXED_SUPPORT_DIGEST_AUTH_AUTH_INT = const(28)
LIB_INFO_FIXED_SUPPORT_DIGEST_AUTH_ALGO_SESSION = const(29)
LIB_INFO_FIXED_SUPPORT_DIGEST_AUTH_USERHASH = const(30)
LIB_INFO_FIXED_TYPES_SOCKETS_POLLING = const(60)
LIB_INFO_FIXED_SUPPORT_AGGREGATE_FD = const(61)
LIB_INFO_FIXED_TYPE_IPV6 = const(62)
LIB_INFO_FIXED_SUPPORT_TCP_FASTOPEN = const(64)
LIB_INFO_FIXED_HAS_AUTODETECT_BIND_PORT = const(65)
LIB_INFO_FIXED_HAS_SENDFILE = const(66)
LIB_INFO_FIXED_HAS_AUTOSUPPRESS_SIGPIPE_INT = const(80)
LIB_INFO_FIXED_HAS_AUTOSUPPRESS_SIGPIPE_EXT = const(81)
LIB_INFO_FIXED_HAS_THREAD_NAMES = const(82)
LIB_INFO_FIXED_TYPE_ITC = const(83)
LIB_INFO_FIXED_SUPPORT_LARGE_FILE = const(84)
LIB_INFO_FIXED_HAS_LARGE_FILE = const(84)  # the manual's name for SUPPORT_LARGE_FILE
LIB_INFO_FIXED_TLS_BACKENDS = const(100)
LIB_INFO_FIXED_TLS_KEY_PASSWORD_BACKENDS = const(102)

LIB_INFO_FIXED_DIGEST_ALGO_TYPE_NOT_AVAILABLE = const(0)
LIB_INFO_FIXED_DIGEST_ALGO_TYPE_BUILT_IN = const(1)
LIB_INFO_FIXED_DIGEST_ALGO_TYPE_EXTERNAL_NEVER_FAIL = const(2)
LIB_INFO_FIXED_DIGEST_ALGO_TYPE_EXTERNAL_MAY_FAIL = const(3)
LIB_INFO_FIXED_IPV6_TYPE_NONE = const(0)
LIB_INFO_FIXED_IPV6_TYPE_DUAL_ONLY = const(1)
LIB_INFO_FIXED_IPV6_TYPE_IPV6_PURE = const(2)
LIB_INFO_FIXED_ITC_TYPE_NONE = const(0)
LIB_INFO_FIXED_ITC_TYPE_SOCKETPAIR = const(1)
LIB_INFO_FIXED_ITC_TYPE_PIPE = const(2)
LIB_INFO_FIXED_ITC_TYPE_EVENTFD = const(3)

LIB_INFO_DYNAMIC_INITED_FULLY_ONCE = const(0)
LIB_INFO_DYNAMIC_INITED_FULLY_NOW = const(1)
LIB_INFO_DYNAMIC_TYPE_TLS = const(100)

# feature flag (features.py) -> its module in mhd_micro/; tools/build.py has the same table
MODULES = {
    "COOKIE_PARSER": "cookie",
    "LARGE_FILE": "fd",
    "UPGRADE": "upgrade",
    "POST_PARSER": "post",
    "AUTH_BASIC": "auth_basic",
    "AUTH_DIGEST": "auth_digest",
    "TLS": "tls",
}

_NO_TLS = (False, False, False)
_MICROPYTHON = sys.implementation.name == "micropython"
_cache = {}


def version_string():
    return sys.modules["mhd_micro"].VERSION


def version_num(version=None):
    """"a.b.c" packed as MHD packs its version: one BCD byte each, then a build byte 0."""
    if version is None:
        version = version_string()
    n = 0
    for part in (version.split(".") + ["0", "0"])[:3]:
        v = int(part)
        n = (n << 8) | ((v // 10) << 4) | (v % 10)
    return n << 8


def lib_get_info_ver_num():
    """MHD's inline helper: the version number alone (LIB_INFO_FIXED_VERSION_NUM)."""
    return version_num()


def feature(flag):
    """True if the build has feature `flag` ("COOKIE_PARSER"...): flag on and module present."""
    v = _cache.get(flag)
    if v is None:
        from . import features
        v = bool(getattr(features, flag, False))
        mod = MODULES.get(flag)
        if v and mod is not None:
            v = present(mod)
        _cache[flag] = v
    return v


def platform_large_file():
    """Whether this runtime can seek and read files past 2 GiB. CPython: yes (Python ints,
    64-bit off_t). MicroPython: its file offsets are machine words (mp_off_t), so only a 64-bit
    build can (the unix port on a 64-bit host); ESP32 and RP2040 are 32-bit, and littlefs caps
    a file at 2 GiB anyway."""
    from .platform import HAS_LARGE_FILE
    return HAS_LARGE_FILE


def _large_file():
    if not feature("LARGE_FILE"):
        return False
    # fd.py refuses ranges past 2 GiB where its own check says no: that must agree
    loaded = "mhd_micro.fd" in sys.modules
    check = getattr(load("fd"), "large_file_supported", None)
    ok = check is None or bool(check())
    if not loaded:
        drop("fd")
    return ok and platform_large_file()


def _digest_algo(name):
    # the runtime's hashlib does the hashing, when it has the algorithm (auth_parser.hash_of,
    # the one auth_digest.py uses)
    if not feature("AUTH_DIGEST"):
        return LIB_INFO_FIXED_DIGEST_ALGO_TYPE_NOT_AVAILABLE
    try:
        from .auth_parser import hash_of
        if hash_of(name) is not None:
            return LIB_INFO_FIXED_DIGEST_ALGO_TYPE_EXTERNAL_NEVER_FAIL
    except ImportError:
        pass
    return LIB_INFO_FIXED_DIGEST_ALGO_TYPE_NOT_AVAILABLE


def _tls(password):
    if not feature("TLS"):
        return _NO_TLS
    try:
        import ssl
    except ImportError:
        return _NO_TLS
    if _MICROPYTHON:  # mbedTLS (or axTLS): neither of MHD's backends, no key passwords
        return _NO_TLS if password else (True, False, False)
    return (True, False, "OpenSSL" in getattr(ssl, "OPENSSL_VERSION", ""))


def _sigpipe_suppressed():
    # boards have no SIGPIPE; CPython ignores it from startup; the unix port of MicroPython
    # ignores it too (a write to a closed socket raises OSError EPIPE)
    return True


def _fixed(info):
    from . import platform as pf
    if info == LIB_INFO_FIXED_VERSION_NUM:
        return version_num()
    if info == LIB_INFO_FIXED_VERSION_STRING:
        return version_string()
    if info == LIB_INFO_FIXED_SUPPORT_LOG_MESSAGES:
        return feature("LOG_MESSAGES")
    if info == LIB_INFO_FIXED_SUPPORT_AUTO_REPLIES_BODIES:
        return feature("AUTO_REPLY_BODIES")
    if info == LIB_INFO_FIXED_IS_NON_DEBUG:
        return True  # mhd_micro has no debug assertions (tests/unit/test_libinfo.py checks)
    if info in (LIB_INFO_FIXED_SUPPORT_THREADS, LIB_INFO_FIXED_SUPPORT_AGGREGATE_FD,
                LIB_INFO_FIXED_SUPPORT_TCP_FASTOPEN, LIB_INFO_FIXED_HAS_THREAD_NAMES,
                LIB_INFO_FIXED_SUPPORT_DIGEST_AUTH_AUTH_INT, LIB_INFO_FIXED_SUPPORT_DIGEST_AUTH_ALGO_SESSION):
        return False  # one thread, poll() only, no TFO; MHD never has auth-int or -sess
    if info == LIB_INFO_FIXED_SUPPORT_COOKIE_PARSER:
        return feature("COOKIE_PARSER")
    if info == LIB_INFO_FIXED_SUPPORT_POST_PARSER:
        return feature("POST_PARSER")
    if info == LIB_INFO_FIXED_SUPPORT_UPGRADE:
        return feature("UPGRADE")
    if info == LIB_INFO_FIXED_SUPPORT_AUTH_BASIC:
        return feature("AUTH_BASIC")
    if info in (LIB_INFO_FIXED_SUPPORT_AUTH_DIGEST, LIB_INFO_FIXED_SUPPORT_DIGEST_AUTH_RFC2069,
                LIB_INFO_FIXED_SUPPORT_DIGEST_AUTH_USERHASH):
        return feature("AUTH_DIGEST")  # as in MHD: all three come with the digest module
    if info == LIB_INFO_FIXED_TYPE_DIGEST_AUTH_MD5:
        return _digest_algo("md5")
    if info == LIB_INFO_FIXED_TYPE_DIGEST_AUTH_SHA256:
        return _digest_algo("sha256")
    if info == LIB_INFO_FIXED_TYPE_DIGEST_AUTH_SHA512_256:
        return _digest_algo("sha512_256")
    if info == LIB_INFO_FIXED_TYPES_SOCKETS_POLLING:
        return (False, True, False)  # the daemon polls with poll() (select.poll) only
    if info == LIB_INFO_FIXED_TYPE_IPV6:
        # the daemon binds "::" dual stack and never IPv6-only
        return LIB_INFO_FIXED_IPV6_TYPE_DUAL_ONLY if pf.HAS_IPV6 else LIB_INFO_FIXED_IPV6_TYPE_NONE
    if info == LIB_INFO_FIXED_HAS_AUTODETECT_BIND_PORT:
        # CPython asks getsockname(); MicroPython has none, so the platform picks a free port
        # itself and knows it (but not the port of a socket given with D_OPTION_LISTEN_SOCKET)
        return True
    if info == LIB_INFO_FIXED_HAS_SENDFILE:
        return bool(pf.HAS_SENDFILE) and feature("LARGE_FILE")  # sendfile serves fd.py's responses
    if info in (LIB_INFO_FIXED_HAS_AUTOSUPPRESS_SIGPIPE_INT, LIB_INFO_FIXED_HAS_AUTOSUPPRESS_SIGPIPE_EXT):
        return _sigpipe_suppressed()
    if info == LIB_INFO_FIXED_TYPE_ITC:
        return LIB_INFO_FIXED_ITC_TYPE_NONE  # no threads, nothing to wake
    if info == LIB_INFO_FIXED_SUPPORT_LARGE_FILE:
        return _large_file()
    if info == LIB_INFO_FIXED_TLS_BACKENDS:
        return _tls(False)
    if info == LIB_INFO_FIXED_TLS_KEY_PASSWORD_BACKENDS:
        return _tls(True)
    raise KeyError(info)


def lib_get_info_fixed(info):
    """(SC_OK, value) for an LIB_INFO_FIXED_* item, or (SC_INFO_GET_TYPE_UNKNOWN, None).
    The value never changes while the program runs: the application may keep it."""
    try:
        return _SC_OK, _fixed(info)
    except KeyError:
        return _SC_INFO_GET_TYPE_UNKNOWN, None


def lib_get_info_dynamic(info):
    """(SC_OK, value) for an LIB_INFO_DYNAMIC_* item, or (SC_INFO_GET_TYPE_UNKNOWN, None).
    mhd_micro has no lazy global set-up: importing it initialises it fully, so both
    INITED_FULLY_* read true; TYPE_TLS is what TLS_BACKENDS says (ssl is there or not)."""
    if info in (LIB_INFO_DYNAMIC_INITED_FULLY_ONCE, LIB_INFO_DYNAMIC_INITED_FULLY_NOW):
        return _SC_OK, True
    if info == LIB_INFO_DYNAMIC_TYPE_TLS:
        return _SC_OK, _tls(False)
    return _SC_INFO_GET_TYPE_UNKNOWN, None
