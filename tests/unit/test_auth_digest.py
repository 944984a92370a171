"""Digest authentication without sockets (mhd_micro/auth_digest.py): the nonce table (stale,
replayed and out-of-order nonce counts, overwritten and forged nonces), the checks with
every DAUTH_* result the client can cause, RFC 7616's examples, the helpers and the
challenge. Runs on CPython (pytest) and MicroPython (tests/run_unit.py)."""
import hashlib
import sys
from binascii import hexlify

from testing import unittest, request_over, CLIENT
import mhd_micro as mhd
from mhd_micro import auth_digest as ad
from mhd_micro.parser import parse_head
from mhd_micro.response import release

REALM = "http-auth@example.org"
USER = "Mufasa"
PASSWORD = "Circle of Life"
ANY_QOP = 3  # DIGEST_AUTH_MULT_QOP_ANY_NON_INT
AUTH = 2  # DIGEST_AUTH_MULT_QOP_AUTH


def h(new, *parts):
    return hexlify(new(b":".join(p if isinstance(p, bytes) else p.encode() for p in parts)).digest()).decode()


def header(nonce, uri="/dir/index.html", user=USER, password=PASSWORD, realm=REALM, nc="00000001", cnonce="0a4f113b",
           qop="auth", algo="MD5", new=hashlib.md5, method="GET", extra="", username=None):
    ha1 = h(new, user, realm, password)
    ha2 = h(new, method, uri)
    if qop:
        resp = h(new, ha1, nonce, nc, cnonce, qop, ha2)
        tail = ', qop=%s, nc=%s, cnonce="%s"' % (qop, nc, cnonce)
    else:
        resp = h(new, ha1, nonce, ha2)
        tail = ""
    if username is None:
        username = 'username="%s"' % user
    return ('Digest %s, realm="%s", nonce="%s", uri="%s", algorithm=%s, response="%s"%s%s'
            % (username, realm, nonce, uri, algo, resp, tail, extra)).encode()


def request_with(auth, target=b"/dir/index.html", table=None):
    raw = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n"
    if auth is not None:
        raw += b"Authorization: " + auth + b"\r\n"
    r, b, n = request_over(raw + b"\r\n", max(2048, len(raw) + 64))
    assert parse_head(r, b, n, 0) == 0
    r.conn.daemon.dauth = table
    return r


def table(size=16, timeout=90, max_nc=1000):
    return ad.Nonces(b"entropy", size, timeout, max_nc)


def check(auth, t, malgo=65, mqop=AUTH, target=b"/dir/index.html", max_nc=0, password=PASSWORD):
    return mhd.digest_auth_check(request_with(auth, target, t), REALM, USER, password, max_nc, mqop, malgo)


class TestNonces(unittest.TestCase):
    def test_counts_once_and_out_of_order(self):
        t = table()
        n = t.new(CLIENT)
        self.assertEqual(len(n), 40)
        self.assertEqual(t.check(n, 1, CLIENT), mhd.DAUTH_OK)
        self.assertEqual(t.check(n, 1, CLIENT), mhd.DAUTH_NONCE_STALE)  # replayed
        self.assertEqual(t.check(n, 4, CLIENT), mhd.DAUTH_OK)
        self.assertEqual(t.check(n, 3, CLIENT), mhd.DAUTH_OK)  # out of order, once
        self.assertEqual(t.check(n, 3, CLIENT), mhd.DAUTH_NONCE_STALE)
        self.assertEqual(t.check(n, 2, CLIENT), mhd.DAUTH_OK)
        self.assertEqual(t.check(n, 40, CLIENT), mhd.DAUTH_OK)
        self.assertEqual(t.check(n, 8, CLIENT), mhd.DAUTH_OK)  # 32 behind: still known
        self.assertEqual(t.check(n, 7, CLIENT), mhd.DAUTH_NONCE_STALE)  # 33 behind: too far to tell
        self.assertEqual(t.check(n, 200, CLIENT), mhd.DAUTH_OK)  # a jump past the window clears it
        self.assertEqual(t.check(n, 199, CLIENT), mhd.DAUTH_OK)

    def test_forged_and_malformed_nonces_are_wrong(self):
        t = table()
        n = t.new(CLIENT)
        flipped = n[:10] + (b"0" if n[10:11] != b"0" else b"1") + n[11:]
        self.assertEqual(t.check(flipped, 1, CLIENT), mhd.DAUTH_NONCE_WRONG)
        if n.upper() != n:
            self.assertEqual(t.check(n.upper(), 1, CLIENT), mhd.DAUTH_NONCE_WRONG)  # ours are lower case
        self.assertEqual(t.check(n[:-2], 1, CLIENT), mhd.DAUTH_NONCE_WRONG)
        self.assertEqual(t.check(b"z" * 40, 1, CLIENT), mhd.DAUTH_NONCE_WRONG)
        self.assertEqual(table().check(b"0" * 40, 1, CLIENT), mhd.DAUTH_NONCE_WRONG)  # an empty slot: never ours

    def test_expired_nonce_is_stale(self):
        t = table(timeout=10)
        n = t.new(CLIENT)
        t.secs += 11  # the clock moves past the expiry
        self.assertEqual(t.check(n, 1, CLIENT), mhd.DAUTH_NONCE_STALE)

    def test_overwritten_nonce_is_stale(self):
        t = table(size=1)
        n1 = t.new(CLIENT)
        t.secs += 1
        n2 = t.new(CLIENT)  # the one slot now holds n2
        self.assertEqual(t.check(n1, 1, CLIENT), mhd.DAUTH_NONCE_STALE)
        self.assertEqual(t.check(n2, 1, CLIENT), mhd.DAUTH_OK)

    def test_a_nonce_overwritten_within_its_second_is_stale(self):
        # the clock does not move: only the nonce's hash can tell it ours (it was wrong here,
        # and a client that went on with its nonce was asked for its password again)
        t = table(size=1)
        n1 = t.new(CLIENT)
        self.assertEqual(t.check(n1, 1, CLIENT), mhd.DAUTH_OK)  # used: its slot is free
        n2 = t.new(CLIENT)
        self.assertEqual(t.check(n1, 2, CLIENT), mhd.DAUTH_NONCE_STALE)
        self.assertEqual(t.check(n1, 2, ("127.0.0.1", 40001)), mhd.DAUTH_NONCE_STALE)  # its next connection
        self.assertEqual(t.check(n1, 2, ("127.0.0.2", 40000)), mhd.DAUTH_NONCE_WRONG)  # made for another client
        forged = n1[:4] + (b"0" if n1[4:5] != b"0" else b"1") + n1[5:]  # out of its slot, not ours
        self.assertEqual(t.check(forged, 2, CLIENT), mhd.DAUTH_NONCE_WRONG)
        self.assertEqual(t.check(n2, 1, CLIENT), mhd.DAUTH_OK)

    def test_a_new_nonce_never_takes_the_slot_of_the_one_before(self):
        # the challenges of one 401 (MD5 and SHA-256) are made one after the other: with the
        # table full of nonces still waiting for their clients, the second must not overwrite
        # the first (it did one time in 16, and curl's answer to the first was stale)
        t = table(size=4)
        for _ in range(8):
            t.new(("10.9.9.9", 1))  # wrong passwords: every slot holds a fresh, unused nonce
        for _ in range(100):
            first = t.new(CLIENT)
            second = t.new(CLIENT)
            self.assertEqual(t.check(first, 1, CLIENT), mhd.DAUTH_OK)
            self.assertEqual(t.check(second, 1, CLIENT), mhd.DAUTH_OK)

    def test_nonces_differ(self):
        t = table()
        seen = set()
        for i in range(50):
            seen.add(t.new(CLIENT))
        self.assertEqual(len(seen), 50)


class TestCheck(unittest.TestCase):
    def test_md5_and_sha256(self):
        t = table()
        n = t.new(CLIENT).decode()
        self.assertEqual(check(header(n), t), mhd.DAUTH_OK)
        self.assertEqual(check(header(n), t), mhd.DAUTH_NONCE_STALE)  # the same nc again
        self.assertEqual(check(header(n, nc="00000002"), t), mhd.DAUTH_OK)
        self.assertEqual(check(header(n, nc="00000003", algo="SHA-256", new=hashlib.sha256), t, malgo=66), mhd.DAUTH_OK)

    def test_sha512_256_where_the_runtime_has_it(self):
        t = table()
        n = t.new(CLIENT).decode()
        if mhd.lib_get_info_fixed(mhd.LIB_INFO_FIXED_TYPE_DIGEST_AUTH_SHA512_256)[1]:  # CPython: OpenSSL's

            def new(data):
                return hashlib.new("sha512_256", data)
            self.assertEqual(check(header(n, algo="SHA-512-256", new=new), t, malgo=68), mhd.DAUTH_OK)
            self.assertEqual(check(header(n, nc="2", algo="SHA-512-256", new=new, password="x"), t, malgo=68),
                             mhd.DAUTH_RESPONSE_WRONG)
        else:  # MicroPython: no SHA-512/256 in hashlib
            auth = header(n).replace(b"algorithm=MD5", b"algorithm=SHA-512-256")
            self.assertEqual(check(auth, t, malgo=68), mhd.DAUTH_UNSUPPORTED_ALGO)
            r = mhd.response_from_empty(401)
            self.assertEqual(mhd.response_add_auth_digest_challenge(r, "r", None, None, False, AUTH, 68, False, False),
                             mhd.SC_AUTH_DIGEST_ALGO_NOT_SUPPORTED)
            mhd.response_destroy(r)

    def test_wrong_password_username_realm_uri(self):
        t = table()
        n = t.new(CLIENT).decode()
        self.assertEqual(check(header(n, password="nope"), t), mhd.DAUTH_RESPONSE_WRONG)
        self.assertEqual(check(header(n, nc="2", user="Simba"), t), mhd.DAUTH_WRONG_USERNAME)
        self.assertEqual(check(header(n, nc="3", realm="other"), t), mhd.DAUTH_WRONG_REALM)
        self.assertEqual(check(header(n, nc="4", uri="/other"), t), mhd.DAUTH_WRONG_URI)
        self.assertEqual(check(header(n, nc="5", uri="/dir/%69ndex.html"), t), mhd.DAUTH_OK)  # decoded, the same

    def test_algorithm_and_qop_choices(self):
        t = table()
        n = t.new(CLIENT).decode()
        self.assertEqual(check(header(n), t, malgo=66), mhd.DAUTH_WRONG_ALGO)  # MD5 used, SHA-256 asked
        self.assertEqual(check(header(n, algo="MD5-sess"), t, malgo=255), mhd.DAUTH_UNSUPPORTED_ALGO)
        self.assertEqual(check(header(n, algo="SHA-1"), t, malgo=255), mhd.DAUTH_UNSUPPORTED_ALGO)
        self.assertEqual(check(header(n, qop="auth-int"), t, mqop=6), mhd.DAUTH_UNSUPPORTED_QOP)
        self.assertEqual(check(header(n, qop="auth-int"), t), mhd.DAUTH_WRONG_QOP)
        self.assertEqual(check(header(n, qop=None), t), mhd.DAUTH_WRONG_QOP)  # RFC 2069 not allowed

    def test_rfc2069_nonce_serves_once(self):
        t = table()
        n = t.new(CLIENT).decode()
        self.assertEqual(check(header(n, qop=None), t, mqop=ANY_QOP), mhd.DAUTH_OK)
        self.assertEqual(check(header(n, qop=None), t, mqop=ANY_QOP), mhd.DAUTH_NONCE_STALE)
        # nc with no qop, and qop with no nc, are broken
        self.assertEqual(check(header(n, qop=None, extra=", nc=00000002"), t, mqop=ANY_QOP),
                         mhd.DAUTH_HEADER_BROKEN)

    def test_nonce_count_limits(self):
        t = table(max_nc=5)
        n = t.new(CLIENT).decode()
        self.assertEqual(check(header(n, nc="6"), t), mhd.DAUTH_NONCE_STALE)  # the daemon's limit
        self.assertEqual(check(header(n, nc="5"), t), mhd.DAUTH_OK)
        self.assertEqual(check(header(n, nc="3"), t, max_nc=2), mhd.DAUTH_NONCE_STALE)  # the call's limit
        self.assertEqual(check(header(n, nc="100000000"), t), mhd.DAUTH_NONCE_STALE)  # past 32 bits
        self.assertEqual(check(header(n, nc="0"), t), mhd.DAUTH_HEADER_BROKEN)
        self.assertEqual(check(header(n, nc="x1"), t), mhd.DAUTH_HEADER_BROKEN)

    def test_missing_broken_and_error(self):
        t = table()
        n = t.new(CLIENT).decode()
        self.assertEqual(check(None, t), mhd.DAUTH_HEADER_MISSING)
        self.assertEqual(check(b"Basic dTpw", t), mhd.DAUTH_HEADER_MISSING)
        self.assertEqual(check(b"Digest", t), mhd.DAUTH_WRONG_QOP)  # as MHD2: no qop is RFC 2069's
        self.assertEqual(check(b"Digest", t, mqop=ANY_QOP), mhd.DAUTH_HEADER_BROKEN)
        for bad in (b'Digest username="a', b"Digest username=a;b", b"Digest realm=x",
                    b'Digest username="Mufasa", realm="%s", uri="/", response="00"' % REALM.encode(),
                    header(n).replace(b'username="Mufasa"', b'username="Mufasa", username*=UTF-8\'\'Mufasa')):
            self.assertEqual(check(bad, t, mqop=ANY_QOP), mhd.DAUTH_HEADER_BROKEN, bad)
        self.assertEqual(check(header(n).replace(b'nonce="', b'nonce="x'), t), mhd.DAUTH_NONCE_WRONG)
        self.assertEqual(check(header(n).replace(b'response="', b'response="zz'), t), mhd.DAUTH_RESPONSE_WRONG)
        if sys.implementation.name == "cpython":  # 70 KB requests: too much for the unit run's MicroPython heap
            self.assertEqual(check(header(n, cnonce="c" * 70000), t), mhd.DAUTH_TOO_LARGE)
        self.assertEqual(check(header(n), None), mhd.DAUTH_ERROR)  # no table: no D_OPTION_RANDOM_ENTROPY

    def test_userhash_and_extended_username(self):
        t = table()
        n = t.new(CLIENT).decode()
        uh = h(hashlib.sha256, USER, REALM)
        self.assertEqual(mhd.digest_auth_calc_userhash_hex(66, USER, REALM), (0, uh))
        auth = header(n, algo="SHA-256", new=hashlib.sha256, username='username="%s", userhash=true' % uh.upper())
        self.assertEqual(check(auth, t, malgo=66), mhd.DAUTH_OK)
        auth = header(n, nc="2", algo="SHA-256", new=hashlib.sha256, username='username="%s", userhash=true' % ("0" * 64))
        self.assertEqual(check(auth, t, malgo=66), mhd.DAUTH_WRONG_USERNAME)
        ext = header(n, nc="3", username="username*=UTF-8''Mufas%61")
        self.assertEqual(check(ext, t), mhd.DAUTH_OK)
        ext = header(n, nc="4", username="username*=UTF-8''Mufas%6")
        self.assertEqual(check(ext, t), mhd.DAUTH_HEADER_BROKEN)

    def test_check_digest(self):
        t = table()
        n = t.new(CLIENT).decode()
        sc, ud = mhd.digest_auth_calc_userdigest(66, USER, REALM, PASSWORD)
        self.assertEqual((sc, len(ud)), (0, 32))
        r = request_with(header(n, algo="SHA-256", new=hashlib.sha256), table=t)
        self.assertEqual(mhd.digest_auth_check_digest(r, REALM, USER, ud, 0, AUTH, 66), mhd.DAUTH_OK)
        self.assertEqual(mhd.digest_auth_check_digest(r, REALM, USER, ud[:16], 0, AUTH, 66),
                         mhd.DAUTH_INVALID_USERDIGEST_SIZE)
        self.assertEqual(mhd.digest_auth_check_digest(r, REALM, USER, ud, 0, AUTH, 67), mhd.DAUTH_UNSUPPORTED_ALGO)


class TestRfc7616Examples(unittest.TestCase):
    # RFC 7616, 3.9.1: the server's nonce is not one of ours, so the table accepts it here
    NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
    CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"

    def auth(self, algo, response):
        return ('Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", '
                'algorithm=%s, nonce="%s", nc=00000001, cnonce="%s", qop=auth, response="%s", '
                'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"' % (algo, self.NONCE, self.CNONCE, response)).encode()

    def test_md5_and_sha256(self):
        t = table()
        t.check = lambda nonce, nc, addr: 1
        self.assertEqual(check(self.auth("MD5", "8ca523f5e9506fed4657c9700eebdbec"), t), mhd.DAUTH_OK)
        self.assertEqual(check(self.auth("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
                               t, malgo=66), mhd.DAUTH_OK)

    def test_info(self):
        sc, info = mhd.request_get_info_dynamic(request_with(self.auth("SHA-256", "00")),
                                                mhd.REQUEST_INFO_DYNAMIC_AUTH_DIGEST_INFO)
        self.assertEqual(sc, 0)
        self.assertEqual(info, (mhd.DIGEST_AUTH_ALGO_SHA256, mhd.DIGEST_AUTH_UNAME_TYPE_STANDARD, "Mufasa", None, None,
                                "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", "http-auth@example.org",
                                mhd.DIGEST_AUTH_QOP_AUTH, 44, mhd.DIGEST_AUTH_NC_NUMBER, 1))

    def test_userhash_of_rfc7616_3_9_2(self):
        # the values of MHD's test_dauth_userhash.c (the RFC's own SHA-512/256 value is wrong:
        # its erratum gives this one)
        user, realm = "J\u00e4s\u00f8n Doe", "api@example.org"
        self.assertEqual(mhd.digest_auth_calc_userhash_hex(65, user, realm), (0, "2e063fa2c54dea1c36808b7a6e3b14c9"))
        self.assertEqual(mhd.digest_auth_calc_userhash(66, user, realm)[1][:4], b"\x5a\x1a\x8a\x47")
        sc, uh = mhd.digest_auth_calc_userhash_hex(68, user, realm)
        if mhd.lib_get_info_fixed(mhd.LIB_INFO_FIXED_TYPE_DIGEST_AUTH_SHA512_256)[1]:
            self.assertEqual((sc, uh), (0, "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b"))
        else:  # MicroPython's hashlib has no SHA-512/256
            self.assertEqual((sc, uh), (mhd.SC_AUTH_DIGEST_ALGO_NOT_SUPPORTED, None))


class TestInfo(unittest.TestCase):
    def info(self, auth):
        return mhd.request_get_info_dynamic(request_with(auth), mhd.REQUEST_INFO_DYNAMIC_AUTH_DIGEST_INFO)

    def test_kinds(self):
        self.assertEqual(self.info(None), (mhd.SC_AUTH_ABSENT, None))
        self.assertEqual(self.info(b"Digest nonce=1"), (mhd.SC_REQ_AUTH_DATA_BROKEN, None))  # no username
        self.assertEqual(self.info(b'Digest username="a", username*=UTF-8\'\'b'), (mhd.SC_REQ_AUTH_DATA_BROKEN, None))
        self.assertEqual(self.info(b'Digest username="a", nc=zz'), (mhd.SC_REQ_AUTH_DATA_BROKEN, None))
        sc, i = self.info(b"Digest username*=UTF-8'en'J%C3%A4s%C3%B8n, algorithm=MD5-sess")
        self.assertEqual((sc, i[0], i[1], i[2], i[7], i[9]), (0, mhd.DIGEST_AUTH_ALGO_MD5_SESSION,
                                                             mhd.DIGEST_AUTH_UNAME_TYPE_EXTENDED, "J\u00e4s\u00f8n",
                                                             mhd.DIGEST_AUTH_QOP_NONE, mhd.DIGEST_AUTH_NC_NONE))
        sc, i = self.info(b'Digest username="0aFF", userhash=true, nc=00000000, qop="auth-int"')
        self.assertEqual((sc, i[1], i[2], i[3], i[4], i[7], i[9], i[10]),
                         (0, mhd.DIGEST_AUTH_UNAME_TYPE_USERHASH, None, "0aFF", b"\x0a\xff",
                          mhd.DIGEST_AUTH_QOP_AUTH_INT, mhd.DIGEST_AUTH_NC_ZERO, 0))
        sc, i = self.info(b'Digest username="a", nc=123456789, algorithm=foo')
        self.assertEqual((i[0], i[9], i[10]), (mhd.DIGEST_AUTH_ALGO_INVALID, mhd.DIGEST_AUTH_NC_TOO_LARGE, 0))


class TestChallenge(unittest.TestCase):
    def test_one_line_per_algorithm(self):
        r = mhd.response_from_empty(401)
        self.assertEqual(mhd.response_add_auth_digest_challenge(r, "r", "op", "/a /b", True, AUTH, 66 | 65, True, True), 0)
        lines = r.hdrs.decode().split("\r\n")
        self.assertEqual(lines[0], 'WWW-Authenticate: Digest realm="r", qop="auth", algorithm=MD5, nonce="' + "#" * 40
                         + '", opaque="op", domain="/a /b", stale=true, charset=UTF-8, userhash=true')
        self.assertTrue(lines[1].startswith('WWW-Authenticate: Digest realm="r", qop="auth", algorithm=SHA-256, nonce='))
        self.assertEqual(mhd.response_add_auth_digest_challenge(r, "r", None, None, False, AUTH, 65, False, False),
                         mhd.SC_RESP_HEADERS_CONFLICT)
        mhd.response_destroy(r)

    def test_rfc2069_and_refusals(self):
        r = mhd.response_from_empty(401)
        self.assertEqual(mhd.response_add_auth_digest_challenge(r, "r", None, None, False, 1, 65, True, True), 0)
        self.assertEqual(r.hdrs, b'WWW-Authenticate: Digest realm="r", nonce="' + b"#" * 40 + b'"\r\n')
        mhd.response_destroy(r)
        r = mhd.response_from_empty(401)
        add = mhd.response_add_auth_digest_challenge
        self.assertEqual(add(r, "", None, None, False, AUTH, 65, False, False), mhd.SC_RESP_HEADER_VALUE_INVALID)
        self.assertEqual(add(r, "r", "a\nb", None, False, AUTH, 65, False, False), mhd.SC_RESP_HEADER_VALUE_INVALID)
        self.assertEqual(add(r, "r", None, 'a"b', False, AUTH, 65, False, False), mhd.SC_RESP_HEADER_VALUE_INVALID)
        self.assertEqual(add(r, "r", None, None, False, AUTH, 129, False, False), mhd.SC_AUTH_DIGEST_ALGO_NOT_SUPPORTED)
        self.assertEqual(add(r, "r", None, None, False, 4, 65, False, False), mhd.SC_AUTH_DIGEST_QOP_NOT_SUPPORTED)
        self.assertEqual(r.hdrs, b"")
        mhd.response_destroy(r)
        r = mhd.response_from_empty(200)
        self.assertEqual(add(r, "r", None, None, False, AUTH, 65, False, False), mhd.SC_RESP_HTTP_CODE_NOT_SUITABLE)
        mhd.response_destroy(r)
        self.assertEqual(add(None, "r", None, None, False, AUTH, 65, False, False), mhd.SC_RESP_POINTER_NULL)

    def test_action_variants(self):
        req = request_with(None)
        r = mhd.response_from_empty(200)
        self.assertIsNone(mhd.action_digest_auth_challenge_a(req, "r", None, None, False, AUTH, 65, False, False, r))
        r = mhd.response_from_empty(200)
        act = mhd.action_digest_auth_challenge_p(req, "r", None, None, False, AUTH, 65, False, False, r)
        self.assertIsNotNone(act)
        release(act.response)

    def test_hash_sizes(self):
        self.assertEqual([mhd.digest_get_hash_size(a) for a in (65, 129, 66, 68, 0)], [16, 16, 32, 32, 0])


class TestHostileHeaders(unittest.TestCase):
    def test_mutated_headers_never_raise(self):
        # seeded mutations of a valid Authorization value (flips, cuts, inserted separators and
        # quotes): every parse and check must give a status, never raise
        import random
        random.seed(15)
        t = table()
        good = header(t.new(CLIENT).decode())
        specials = b'",=\\; \t*\'%\x00'
        checked = 0
        for i in range(300):
            v = good
            for _ in range(random.randint(1, 4)):
                k = random.randint(0, len(v) - 1)
                op = random.randint(0, 3)
                c = bytes((specials[random.randint(0, len(specials) - 1)],))
                if op == 0:
                    v = v[:k] + c + v[k + 1:]
                elif op == 1:
                    v = v[:k] + v[k + random.randint(1, 20):]
                elif op == 2:
                    v = v[:k] + c + v[k:]
                else:
                    v = v[:k] + bytes((random.randint(1, 255),)) + v[k + 1:]
            v = v.replace(b"\r", b"").replace(b"\n", b"")
            raw = b"GET /dir/index.html HTTP/1.1\r\nHost: x\r\nAuthorization: " + v + b"\r\n\r\n"
            r, b, n = request_over(raw, 2048)
            if parse_head(r, b, n, 0) != 0:
                continue  # the head parser refuses it (a NUL...): no request to check
            r.conn.daemon.dauth = t
            checked += 1
            rc = mhd.digest_auth_check(r, REALM, USER, PASSWORD, 0, ANY_QOP, 255)
            self.assertTrue(-34 <= rc <= 1, v)
            sc, info = mhd.request_get_info_dynamic(r, mhd.REQUEST_INFO_DYNAMIC_AUTH_DIGEST_INFO)
            self.assertTrue((sc == 0) == (info is not None), v)
            sc, creds = mhd.request_get_info_dynamic(r, mhd.REQUEST_INFO_DYNAMIC_AUTH_BASIC_CREDS)
            self.assertTrue(sc in (0, mhd.SC_AUTH_ABSENT, mhd.SC_REQ_AUTH_DATA_BROKEN), v)
        self.assertTrue(checked > 200, checked)
