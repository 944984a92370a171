"""lib_get_info_fixed/dynamic and the build's feature flags, without sockets (runs on
MicroPython too). A feature reads true only with its flag on and its module present, and a
feature left out behaves as MHD2 built without it."""
import os
import sys

from testing import unittest, request_over
import mhd_micro as mhd
from mhd_micro.parser import parse_head

SC_OK = 0
SC_FEATURE_DISABLED = 50300
SC_INFO_GET_TYPE_UNKNOWN = 60200
ROOT = os.getcwd()  # pytest and tests/run_unit.py both run from the repository root


def fixed(name):
    return mhd.lib_get_info_fixed(getattr(mhd, "LIB_INFO_FIXED_" + name))


def _module(name):
    """The package's module as it is now: daemon_start lets setup modules go (features, libinfo...),
    so a module object imported when this file loaded may no longer be the one the package reads."""
    __import__("mhd_micro." + name)
    return sys.modules["mhd_micro." + name]


class _Flag:
    """Turns a feature flag off for one block, and forgets what libinfo and values cached."""

    def __init__(self, flag, value):
        self.flag = flag
        self.value = value

    def _reset(self):
        _module("libinfo")._cache.clear()
        _module("values")._cookie = None

    def __enter__(self):
        self.features = _module("features")
        self.old = getattr(self.features, self.flag)
        setattr(self.features, self.flag, self.value)
        self._reset()

    def __exit__(self, *exc):
        setattr(self.features, self.flag, self.old)
        self._reset()
        return False


class TestNumbers(unittest.TestCase):
    def test_values_of_the_mhd2_header(self):
        # enum MHD_LibInfoFixed in microhttpd2.h, and the manual's two aliases
        want = {"VERSION_NUM": 0, "VERSION_STRING": 1, "SUPPORT_LOG_MESSAGES": 11,
                "SUPPORT_AUTO_REPLIES_BODIES": 12, "IS_NON_DEBUG": 13, "SUPPORT_THREADS": 14,
                "SUPPORT_COOKIE_PARSER": 15, "SUPPORT_POST_PARSER": 16, "SUPPORT_UPGRADE": 17, "HAS_UPGRADE": 17,
                "SUPPORT_AUTH_BASIC": 20, "SUPPORT_AUTH_DIGEST": 21, "SUPPORT_DIGEST_AUTH_RFC2069": 22,
                "TYPE_DIGEST_AUTH_MD5": 23, "TYPE_DIGEST_AUTH_SHA256": 24, "TYPE_DIGEST_AUTH_SHA512_256": 25,
                "SUPPORT_DIGEST_AUTH_AUTH_INT": 28, "SUPPORT_DIGEST_AUTH_ALGO_SESSION": 29,
                "SUPPORT_DIGEST_AUTH_USERHASH": 30, "TYPES_SOCKETS_POLLING": 60, "SUPPORT_AGGREGATE_FD": 61,
                "TYPE_IPV6": 62, "SUPPORT_TCP_FASTOPEN": 64, "HAS_AUTODETECT_BIND_PORT": 65, "HAS_SENDFILE": 66,
                "HAS_AUTOSUPPRESS_SIGPIPE_INT": 80, "HAS_AUTOSUPPRESS_SIGPIPE_EXT": 81, "HAS_THREAD_NAMES": 82,
                "TYPE_ITC": 83, "SUPPORT_LARGE_FILE": 84, "HAS_LARGE_FILE": 84, "TLS_BACKENDS": 100,
                "TLS_KEY_PASSWORD_BACKENDS": 102}
        for name, value in want.items():
            self.assertEqual(getattr(mhd, "LIB_INFO_FIXED_" + name), value, name)
            sc, _ = fixed(name)
            self.assertEqual(sc, SC_OK, name)
        self.assertEqual(mhd.LIB_INFO_DYNAMIC_INITED_FULLY_ONCE, 0)
        self.assertEqual(mhd.LIB_INFO_DYNAMIC_INITED_FULLY_NOW, 1)
        self.assertEqual(mhd.LIB_INFO_DYNAMIC_TYPE_TLS, 100)
        self.assertEqual(mhd.LIB_INFO_FIXED_DIGEST_ALGO_TYPE_NOT_AVAILABLE, 0)
        self.assertEqual(mhd.LIB_INFO_FIXED_IPV6_TYPE_DUAL_ONLY, 1)

    def test_unknown_items(self):
        self.assertEqual(mhd.lib_get_info_fixed(999), (SC_INFO_GET_TYPE_UNKNOWN, None))
        self.assertEqual(mhd.lib_get_info_fixed(65535), (SC_INFO_GET_TYPE_UNKNOWN, None))
        self.assertEqual(mhd.lib_get_info_dynamic(2), (SC_INFO_GET_TYPE_UNKNOWN, None))

    def test_version_is_packed_bcd(self):
        self.assertEqual(fixed("VERSION_STRING"), (SC_OK, mhd.VERSION))
        self.assertEqual(_module("libinfo").version_num("0.1.0"), 0x00010000)
        self.assertEqual(_module("libinfo").version_num("1.99.0"), 0x01990000)  # MHD 1.99.0 is 0x0199000x
        self.assertEqual(_module("libinfo").version_num("12.3.45"), 0x12034500)
        major, minor, patch = [int(x) for x in mhd.VERSION.split(".")]
        n = fixed("VERSION_NUM")[1]
        self.assertEqual(((n >> 24) >> 4) * 10 + ((n >> 24) & 15), major)
        self.assertEqual((((n >> 16) & 255) >> 4) * 10 + ((n >> 16) & 15), minor)
        self.assertEqual((((n >> 8) & 255) >> 4) * 10 + ((n >> 8) & 15), patch)
        self.assertEqual(mhd.lib_get_info_ver_num(), n)

    def test_dynamic(self):
        self.assertEqual(mhd.lib_get_info_dynamic(mhd.LIB_INFO_DYNAMIC_INITED_FULLY_ONCE), (SC_OK, True))
        self.assertEqual(mhd.lib_get_info_dynamic(mhd.LIB_INFO_DYNAMIC_INITED_FULLY_NOW), (SC_OK, True))
        self.assertEqual(mhd.lib_get_info_dynamic(mhd.LIB_INFO_DYNAMIC_TYPE_TLS), fixed("TLS_BACKENDS"))


class TestThisBuild(unittest.TestCase):
    """The repository's copy: everything whose module exists is on."""

    def test_features_with_modules(self):
        self.assertEqual(fixed("SUPPORT_COOKIE_PARSER"), (SC_OK, True))
        self.assertEqual(fixed("SUPPORT_POST_PARSER"), (SC_OK, True))
        self.assertEqual(fixed("SUPPORT_UPGRADE"), (SC_OK, True))
        self.assertEqual(fixed("HAS_UPGRADE"), (SC_OK, True))
        self.assertEqual(fixed("SUPPORT_LOG_MESSAGES"), (SC_OK, True))
        self.assertEqual(fixed("SUPPORT_AUTO_REPLIES_BODIES"), (SC_OK, True))
        # large files: fd.py is here; past 2 GiB only where this runtime can (CPython can)
        large = fixed("SUPPORT_LARGE_FILE")[1]
        self.assertEqual(large, _module("libinfo").platform_large_file() and _module("libinfo").feature("LARGE_FILE")
                         and mhd.fd.large_file_supported())
        if sys.implementation.name == "cpython":
            self.assertTrue(large)
        self.assertEqual(fixed("HAS_LARGE_FILE"), (SC_OK, large))

    def test_auth_is_there(self):
        self.assertEqual(fixed("SUPPORT_AUTH_BASIC"), (SC_OK, True))
        for name in ("SUPPORT_AUTH_DIGEST", "SUPPORT_DIGEST_AUTH_RFC2069", "SUPPORT_DIGEST_AUTH_USERHASH"):
            self.assertEqual(fixed(name), (SC_OK, True), name)
        # the algorithms this runtime's hashlib has: MD5 and SHA-256 on both test runtimes,
        # SHA-512/256 on CPython (OpenSSL) and not on MicroPython
        self.assertEqual(fixed("TYPE_DIGEST_AUTH_MD5"), (SC_OK, 2))  # DIGEST_ALGO_TYPE_EXTERNAL_NEVER_FAIL
        self.assertEqual(fixed("TYPE_DIGEST_AUTH_SHA256"), (SC_OK, 2))
        self.assertEqual(fixed("TYPE_DIGEST_AUTH_SHA512_256"), (SC_OK, 2 if sys.implementation.name == "cpython" else 0))
        with _Flag("AUTH_DIGEST", False):
            for name in ("SUPPORT_AUTH_DIGEST", "TYPE_DIGEST_AUTH_MD5"):
                self.assertEqual(fixed(name)[1], 0, name)
            d = mhd.daemon_create(lambda *a: None)
            self.assertEqual(mhd.daemon_set_option(d, mhd.D_OPTION_RANDOM_ENTROPY(b"x")), SC_FEATURE_DISABLED)

    def test_auth_basic_left_out(self):
        r = _request()
        with _Flag("AUTH_BASIC", False):
            self.assertEqual(fixed("SUPPORT_AUTH_BASIC"), (SC_OK, False))
            self.assertEqual(mhd.request_get_info_dynamic(r, mhd.REQUEST_INFO_DYNAMIC_AUTH_BASIC_CREDS),
                             (SC_FEATURE_DISABLED, None))
        self.assertEqual(mhd.request_get_info_dynamic(r, mhd.REQUEST_INFO_DYNAMIC_AUTH_BASIC_CREDS), (20060, None))

    def test_later_features_read_false(self):
        for name in ("SUPPORT_DIGEST_AUTH_AUTH_INT", "SUPPORT_DIGEST_AUTH_ALGO_SESSION", "SUPPORT_THREADS",
                     "SUPPORT_AGGREGATE_FD", "SUPPORT_TCP_FASTOPEN", "HAS_THREAD_NAMES"):
            self.assertEqual(fixed(name), (SC_OK, False), name)
        self.assertEqual(fixed("TYPE_ITC"), (SC_OK, 0))

    def test_tls_backends(self):
        # tls.py is here and both runtimes have ssl: OpenSSL on CPython (which reads encrypted
        # keys), mbedTLS on MicroPython (neither of MHD's backends; no key passwords)
        cpython = sys.implementation.name == "cpython"
        self.assertEqual(fixed("TLS_BACKENDS"), (SC_OK, (True, False, cpython)))
        self.assertEqual(fixed("TLS_KEY_PASSWORD_BACKENDS"), (SC_OK, (cpython, False, cpython)))

    def test_a_build_without_tls_reads_false(self):
        with _Flag("TLS", False):  # the module's presence alone is no feature
            self.assertEqual(fixed("TLS_BACKENDS"), (SC_OK, (False, False, False)))

    def test_platform_answers(self):
        from mhd_micro import platform
        self.assertEqual(fixed("TYPES_SOCKETS_POLLING"), (SC_OK, (False, True, False)))
        self.assertEqual(fixed("TYPE_IPV6"), (SC_OK, 1 if platform.HAS_IPV6 else 0))
        self.assertEqual(fixed("HAS_SENDFILE"), (SC_OK, bool(platform.HAS_SENDFILE)))
        self.assertEqual(fixed("HAS_AUTODETECT_BIND_PORT"), (SC_OK, True))

    def test_no_debug_assertions_in_the_package(self):
        # IS_NON_DEBUG reads true because mhd_micro has no assert statements: keep it so
        self.assertEqual(fixed("IS_NON_DEBUG"), (SC_OK, True))
        pkg = ROOT + "/mhd_micro"
        for name in os.listdir(pkg):
            if name.endswith(".py"):
                with open(pkg + "/" + name) as f:
                    for line in f:
                        self.assertFalse(line.strip().startswith("assert "), name + ": " + line)

    def test_asking_leaves_no_module_loaded(self):
        for mod in ("cookie", "fd", "tls"):
            if "mhd_micro." + mod in sys.modules:
                continue  # another test loaded it: nothing to see
            self.assertTrue(_module("libinfo").present(mod))
            self.assertFalse("mhd_micro." + mod in sys.modules)


_RAW = b"GET /?q=1 HTTP/1.1\r\nHost: x\r\nCookie: a=1; b=two\r\n\r\n"


def _request():
    r, b, n = request_over(_RAW)
    assert parse_head(r, b, n, 0) == 0  # in the test, not the package
    return r


class TestWithoutTheCookieParser(unittest.TestCase):
    def test_with_it(self):
        r = _request()
        self.assertEqual(mhd.request_get_value(r, mhd.VK_COOKIE, "b"), "two")
        self.assertEqual(mhd.request_get_values_cb(r, mhd.VK_COOKIE), 2)
        self.assertEqual(mhd.request_get_info_dynamic(r, mhd.REQUEST_INFO_DYNAMIC_NUMBER_COOKIES), (SC_OK, 2))

    def test_without_it(self):
        with _Flag("COOKIE_PARSER", False):
            self.assertEqual(fixed("SUPPORT_COOKIE_PARSER"), (SC_OK, False))
            r = _request()
            self.assertIsNone(mhd.request_get_value(r, mhd.VK_COOKIE, "b"))
            self.assertEqual(mhd.request_get_values_cb(r, mhd.VK_COOKIE), 0)
            seen = []
            mhd.request_get_values_cb(r, mhd.VK_COOKIE | mhd.VK_GET_ARGUMENT, lambda c, k, n, v: seen.append(n))
            self.assertEqual(seen, ["q"])  # the other kinds still work
            self.assertEqual(mhd.request_get_info_dynamic(r, mhd.REQUEST_INFO_DYNAMIC_NUMBER_COOKIES),
                             (SC_FEATURE_DISABLED, None))
            # as MHD2 built without cookies: "do not disable" is fine, disabling is refused
            d = mhd.daemon_create(lambda *a: None)
            self.assertEqual(mhd.daemon_set_option(d, mhd.D_OPTION_DISABLE_COOKIES(False)), SC_OK)
            self.assertEqual(mhd.daemon_set_option(d, mhd.D_OPTION_DISABLE_COOKIES(True)), SC_FEATURE_DISABLED)
        d = mhd.daemon_create(lambda *a: None)
        self.assertEqual(mhd.daemon_set_option(d, mhd.D_OPTION_DISABLE_COOKIES(True)), SC_OK)


class TestDaemonFlags(unittest.TestCase):
    def test_auto_reply_bodies(self):
        from mhd_micro.errors import error_body
        d = mhd.daemon_create(lambda *a: None)
        self.assertIn(b"Not Found", error_body(d, 404))
        with _Flag("AUTO_REPLY_BODIES", False):
            self.assertEqual(fixed("SUPPORT_AUTO_REPLIES_BODIES"), (SC_OK, False))
            d = mhd.daemon_create(lambda *a: None)
            self.assertEqual(error_body(d, 404), b"")

    def test_log_messages(self):
        got = []
        d = mhd.daemon_create(lambda *a: None)
        mhd.daemon_set_option(d, mhd.D_OPTION_LOG_CALLBACK(lambda cls, sc, msg: got.append(sc)))
        d.log(10000, "x")
        self.assertEqual(got, [10000])
        with _Flag("LOG_MESSAGES", False):
            self.assertEqual(fixed("SUPPORT_LOG_MESSAGES"), (SC_OK, False))
            d.log(10000, "y")
        self.assertEqual(got, [10000])
