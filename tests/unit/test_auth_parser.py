"""The Authorization header's parser (mhd_micro/auth_parser.py) and Basic credentials,
without sockets: runs on CPython (pytest) and MicroPython (tests/run_unit.py)."""
from testing import unittest, request_over
import mhd_micro as mhd
from mhd_micro import auth_parser as ap
from mhd_micro.parser import parse_head
from mhd_micro.response import release, pool_available

SC_OK = 0
SC_AUTH_ABSENT = 20060
SC_REQ_AUTH_DATA_BROKEN = 40320


def request_with(*auth, strict=0):
    raw = b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\n"
    for v in auth:
        raw += b"Authorization: " + v + b"\r\n"
    r, b, n = request_over(raw + b"\r\n")
    r.conn.daemon.strict = strict
    assert parse_head(r, b, n, strict) == 0
    return r


def basic(*auth):
    return mhd.request_get_info_dynamic(request_with(*auth), mhd.REQUEST_INFO_DYNAMIC_AUTH_BASIC_CREDS)


class TestScheme(unittest.TestCase):
    def test_scheme_any_case_then_space(self):
        self.assertEqual(ap.scheme_value(b"Basic abc", b"basic", False), b"abc")
        self.assertEqual(ap.scheme_value(b"bAsIc    abc", b"basic", False), b"abc")
        self.assertEqual(ap.scheme_value(b"Basic", b"basic", False), b"")
        self.assertIsNone(ap.scheme_value(b"Basicabc", b"basic", False))
        self.assertIsNone(ap.scheme_value(b"Digest a=b", b"basic", False))
        self.assertIsNone(ap.scheme_value(b"Bas", b"basic", False))

    def test_tab_only_when_lenient(self):
        self.assertIsNone(ap.scheme_value(b"Basic\tabc", b"basic", False))
        self.assertEqual(ap.scheme_value(b"Basic\tabc", b"basic", True), b"abc")

    def test_first_field_of_the_scheme(self):
        r = request_with(b"Digest a=b", b"Basic YTpi", b"Basic YzpkZA==")
        self.assertEqual(ap.credentials(r, b"basic"), b"YTpi")
        self.assertEqual(ap.credentials(r, b"digest"), b"a=b")
        self.assertIsNone(ap.credentials(request_with(), b"basic"))


class TestBase64(unittest.TestCase):
    def test_strict(self):
        self.assertEqual(ap.b64decode(b"YWxhZGRpbjpvcGVuc2VzYW1l"), b"aladdin:opensesame")
        self.assertEqual(ap.b64decode(b"YTpiYw=="), b"a:bc")
        self.assertEqual(ap.b64decode(b"YTpiYzE="), b"a:bc1")
        self.assertEqual(ap.b64decode(b""), b"")
        for bad in (b"YTpiYw", b"YTpiYw=", b"YT=iYw==", b"YTpi\xff", b"YTp*", b"====", b"YTpiYw==="):
            self.assertIsNone(ap.b64decode(bad), bad)


class TestBasicCreds(unittest.TestCase):
    def test_user_and_password(self):
        self.assertEqual(basic(b"Basic YWxhZGRpbjpvcGVuc2VzYW1l"), (SC_OK, ("aladdin", "opensesame")))

    def test_colon_in_password_and_empty_parts(self):
        self.assertEqual(basic(b"Basic dTpwOnE="), (SC_OK, ("u", "p:q")))  # u:p:q
        self.assertEqual(basic(b"Basic OnA="), (SC_OK, ("", "p")))  # :p
        self.assertEqual(basic(b"Basic dTo="), (SC_OK, ("u", "")))  # u:

    def test_no_colon_no_password(self):
        self.assertEqual(basic(b"Basic dXNlcg=="), (SC_OK, ("user", None)))
        self.assertEqual(basic(b"Basic"), (SC_OK, ("", None)))  # MHD2: an empty token68

    def test_utf8(self):
        self.assertEqual(basic(b"Basic w6k6w7w="), (SC_OK, ("\u00e9", "\u00fc")))

    def test_absent_and_broken(self):
        self.assertEqual(basic(), (SC_AUTH_ABSENT, None))
        self.assertEqual(basic(b"Digest username=\"a\""), (SC_AUTH_ABSENT, None))
        self.assertEqual(basic(b"Basic !!!!"), (SC_REQ_AUTH_DATA_BROKEN, None))
        self.assertEqual(basic(b"Basic YWJj"), (SC_OK, ("abc", None)))
        self.assertEqual(basic(b"Basic YWJ"), (SC_REQ_AUTH_DATA_BROKEN, None))


class TestDigestParams(unittest.TestCase):
    def test_tokens_and_quoted(self):
        p = ap.digest_params(b'username="Mufasa", realm="a b", nonce=abc, uri="/dir/index.html", '
                             b'qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae4", opaque="5ccc"')
        self.assertEqual(p[b"username"], (b"Mufasa", False))
        self.assertEqual(p[b"realm"], (b"a b", False))
        self.assertEqual(p[b"nonce"], (b"abc", False))
        self.assertEqual(p[b"qop"], (b"auth", False))
        self.assertEqual(p[b"nc"], (b"00000001", False))
        self.assertEqual(len(p), 9)

    def test_names_any_case_blanks_and_unknown(self):
        p = ap.digest_params(b'UserName = "a" ,\tfoo="x,\\"y", bar, REALM=r,, ,nc=1')
        self.assertEqual(p, {b"username": (b"a", False), b"realm": (b"r", False), b"nc": (b"1", False)})

    def test_escapes(self):
        p = ap.digest_params(b'username="a\\"b\\\\c"')
        self.assertEqual(p[b"username"], (b'a\\"b\\\\c', True))
        self.assertEqual(ap.unquote(p[b"username"][0]), b'a"b\\c')
        self.assertEqual(ap.unquote(b"plain"), b"plain")

    def test_extended_name(self):
        p = ap.digest_params(b"username*=UTF-8''J%C3%A4s%C3%B8n, realm=r")
        self.assertEqual(p[b"username*"], (b"UTF-8''J%C3%A4s%C3%B8n", False))
        self.assertEqual(ap.ext_value(p[b"username*"][0]).decode(), "J\u00e4s\u00f8n")
        self.assertEqual(ap.ext_value(b"utf-8'en'abc"), b"abc")
        for bad in (b"ISO-8859-1''abc", b"UTF-8'abc", b"UTF-8''a%2", b"UTF-8''a%zz", b"UTF-8'e n'a", b"abc"):
            self.assertIsNone(ap.ext_value(bad), bad)

    def test_broken(self):
        for bad in (b'username="abc', b"username", b"username realm=x", b"=x", b"username=a;b", b"username=a b",
                    b'username="a"x', b"nonce=a\x00", b'foo="unclosed', b"foo;bar", b'username="a\x00"'):
            self.assertIsNone(ap.digest_params(bad), bad)

    def test_empty_value(self):
        self.assertEqual(ap.digest_params(b'nonce="", nc='), {b"nonce": (b"", False), b"nc": (b"", False)})


class TestHelpers(unittest.TestCase):
    def test_hex(self):
        self.assertEqual(ap.from_hex(b"00fFa5"), b"\x00\xff\xa5")
        self.assertIsNone(ap.from_hex(b"abc"))
        self.assertIsNone(ap.from_hex(b"zz"))
        self.assertIsNone(ap.from_hex(b"\x13\x10"))  # control bytes are no digits (request._hex once took them)

    def test_same(self):
        self.assertTrue(ap.same(b"abc", b"abc"))
        self.assertFalse(ap.same(b"abc", b"abd"))
        self.assertFalse(ap.same(b"abc", b"ab"))

    def test_quote(self):
        self.assertEqual(ap.quote('a"b\\c'), 'a\\"b\\\\c')


class TestBasicChallenge(unittest.TestCase):
    def test_header_and_refusals(self):
        r = mhd.response_from_empty(401)
        self.assertEqual(mhd.response_add_auth_basic_challenge(r, 'My "realm"', True), SC_OK)
        self.assertIn(b'WWW-Authenticate: Basic realm="My \\"realm\\"", charset="UTF-8"\r\n', r.hdrs)
        self.assertEqual(mhd.response_add_auth_basic_challenge(r, "x", False), mhd.SC_RESP_HEADERS_CONFLICT)
        mhd.response_destroy(r)
        r = mhd.response_from_empty(401)
        self.assertEqual(mhd.response_add_auth_basic_challenge(r, "", False), mhd.SC_RESP_HEADER_VALUE_INVALID)
        self.assertEqual(mhd.response_add_auth_basic_challenge(r, "a\r\nb", False), mhd.SC_RESP_HEADER_VALUE_INVALID)
        self.assertEqual(mhd.response_add_auth_basic_challenge(r, "plain", False), SC_OK)
        self.assertTrue(r.hdrs.endswith(b'WWW-Authenticate: Basic realm="plain"\r\n'))
        mhd.response_destroy(r)
        r = mhd.response_from_empty(403)
        self.assertEqual(mhd.response_add_auth_basic_challenge(r, "x", False), mhd.SC_RESP_HTTP_CODE_NOT_SUITABLE)
        mhd.response_destroy(r)
        self.assertEqual(mhd.response_add_auth_basic_challenge(None, "x", False), mhd.SC_RESP_POINTER_NULL)

    def test_action_variants(self):
        free = pool_available()
        req = request_with()
        r = mhd.response_from_empty(401)
        act = mhd.action_basic_auth_challenge_a(req, "x", False, r)
        self.assertIsNotNone(act)
        self.assertEqual(mhd.response_add_auth_basic_challenge(r, "y", False), mhd.SC_TOO_LATE)
        release(act.response)  # as the connection does after sending: back to the pool
        # a failed challenge: _a aborts (None), _p sends the response without it
        req = request_with()
        r = mhd.response_from_empty(403)
        self.assertIsNone(mhd.action_basic_auth_challenge_a(req, "x", False, r))
        req = request_with()
        r = mhd.response_from_empty(403)
        act = mhd.action_basic_auth_challenge_p(req, "x", False, r)
        self.assertIsNotNone(act)
        self.assertEqual(act.response.sc, 403)
        release(act.response)
        self.assertEqual(pool_available(), free)  # _a destroyed its response
