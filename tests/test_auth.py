"""Basic and Digest authentication on both runtimes (tests/apps/auth_app.py): curl's --basic
and --digest, requests' HTTPBasicAuth and HTTPDigestAuth, wrong passwords, stale and replayed
nonces, malformed Authorization headers (a clean 401 or 400, never a crash: the `serve`
fixture checks that the server is still alive after each test)."""
import base64
import hashlib
import re
import subprocess
import time

import requests
from requests.auth import HTTPBasicAuth, HTTPDigestAuth

from wire import request

APP = "tests/apps/auth_app.py"
USER, PASSWORD, REALM = "user", "pass", "test realm"


def curl(port, path, *args):
    """(status, body, headers text) of one curl request."""
    p = subprocess.run(["curl", "-s", "-D", "-", "--max-time", "10", "http://127.0.0.1:%d%s" % (port, path)] + list(args),
                       capture_output=True, timeout=20)
    out = p.stdout.decode("latin-1")
    heads, _, body = out.rpartition("\r\n\r\n")
    status = int(heads.split("HTTP/1.1 ")[-1][:3]) if heads else 0
    return status, body, heads


def url(srv, path):
    return "http://127.0.0.1:%d%s" % (srv.port, path)


def b64(text):
    return base64.b64encode(text.encode()).decode()


# -- Basic -----------------------------------------------------------------------------------
def test_basic_with_curl(serve):
    srv = serve(script=APP)
    status, body, heads = curl(srv.port, "/basic")
    assert status == 401 and body == "denied"
    assert 'WWW-Authenticate: Basic realm="test realm", charset="UTF-8"' in heads
    assert curl(srv.port, "/basic", "--basic", "-u", "user:pass")[:2] == (200, "hello user")
    status, body, heads = curl(srv.port, "/basic", "--basic", "-u", "user:wrong")
    assert status == 401 and "WWW-Authenticate: Basic" in heads
    assert curl(srv.port, "/basic", "--basic", "-u", "other:pass")[0] == 401


def test_basic_with_requests(serve):
    srv = serve(script=APP)
    with requests.Session() as s:  # one keep-alive connection for all of them
        r = s.get(url(srv, "/basic"), auth=HTTPBasicAuth(USER, PASSWORD), timeout=10)
        assert (r.status_code, r.text) == (200, "hello user")
        r = s.get(url(srv, "/basic"), auth=HTTPBasicAuth(USER, "nope"), timeout=10)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith('Basic realm="test realm"')
        r = s.get(url(srv, "/basic"), auth=HTTPBasicAuth(USER, PASSWORD), timeout=10)
        assert r.status_code == 200


def test_basic_credentials_as_the_app_reads_them(serve):
    srv = serve(script=APP)
    cases = [
        ((), "20060 -"),  # SC_AUTH_ABSENT
        ((("Authorization", "Basic " + b64("a:b:c")),), "0 a|b:c"),
        ((("Authorization", "basic   " + b64("name")),), "0 name|None"),
        ((("Authorization", "Basic " + b64("\u00e9:\u00fc")),), "0 \u00e9|\u00fc"),
        ((("Authorization", "Basic !!!!"),), "40320 -"),  # SC_REQ_AUTH_DATA_BROKEN
        ((("Authorization", "Basic YWJ"),), "40320 -"),
        ((("Authorization", "Digest username=\"x\""),), "20060 -"),
        ((("Authorization", "Digest a=b"), ("Authorization", "Basic " + b64("u:p"))), "0 u|p"),
    ]
    for headers, want in cases:
        r = request(srv.port, "/basic/info", headers=headers)
        assert r.status == 200 and r.body.decode() == want, (headers, r)


def test_basic_malformed_headers_get_a_clean_401(serve):
    srv = serve(script=APP)
    for value in ("Basic", "Basic ", "Basic ====", "Basic " + "A" * 3000, "Basic\t" + b64("user:pass"),
                  "Bearer abc", "Basic " + b64("user:pass") + "=", "Basic \x01\x02", ""):
        r = request(srv.port, "/basic", headers=(("Authorization", value),))
        assert r.status in (401, 400, 431), (value, r)
        if r.status == 401:
            assert r.header("WWW-Authenticate").startswith("Basic realm=")
    assert request(srv.port, "/basic", headers=(("Authorization", "Basic " + b64("user:pass")),)).status == 200


# -- Digest ----------------------------------------------------------------------------------
HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def hexh(algo, *parts):
    return HASHES[algo](":".join(parts).encode()).hexdigest()


def challenges(r):
    """[{param: value}] of the Digest challenges of a parsed response."""
    out = []
    for name, value in r.headers:
        if name == "www-authenticate" and value.startswith("Digest "):
            out.append(dict(re.findall(r'(\w+)="?([^",]*)"?', value[7:])))
    return out


def authorization(chal, uri, user=USER, password=PASSWORD, nc=1, cnonce="c0ffee", method="GET", qop="auth",
                  username=None, response=None):
    algo = chal.get("algorithm", "MD5")
    ha1 = hexh(algo, user, chal["realm"], password)
    ha2 = hexh(algo, method, uri)
    ncs = "%08x" % nc
    if response is None:
        response = hexh(algo, ha1, chal["nonce"], ncs, cnonce, qop, ha2) if qop else hexh(algo, ha1, chal["nonce"], ha2)
    head = 'Digest %s, realm="%s", nonce="%s", uri="%s", algorithm=%s, response="%s", opaque="%s"' % (
        username or 'username="%s"' % user, chal["realm"], chal["nonce"], uri, algo, response, chal.get("opaque", ""))
    if qop:
        head += ', qop=%s, nc=%s, cnonce="%s"' % (qop, ncs, cnonce)
    return head


def challenge(srv, target):
    r = request(srv.port, target)
    assert r.status == 401 and r.header("x-result") == "-1", r  # DAUTH_HEADER_MISSING
    return r, challenges(r)[0]


def test_digest_with_curl_md5_and_sha256(serve):
    srv = serve(script=APP)
    status, body, heads = curl(srv.port, "/digest")
    assert status == 401 and 'WWW-Authenticate: Digest realm="test realm", qop="auth", algorithm=MD5, nonce="' in heads
    assert curl(srv.port, "/digest", "--digest", "-u", "user:pass")[:2] == (200, "hello user")
    assert curl(srv.port, "/digest", "--digest", "-u", "user:wrong")[0] == 401
    assert curl(srv.port, "/digest?algo=sha256", "--digest", "-u", "user:pass")[:2] == (200, "hello user")
    status, _, heads = curl(srv.port, "/digest?algo=sha256", "--digest", "-u", "user:wrong")
    assert status == 401 and "X-Result: -34" in heads  # DAUTH_RESPONSE_WRONG


def test_digest_with_requests(serve):
    srv = serve(script=APP)
    with requests.Session() as s:
        for target in ("/digest", "/digest?algo=sha256", "/digest?algo=sha256&hashed=1", "/digest?qop=any"):
            s.auth = HTTPDigestAuth(USER, PASSWORD)
            for _ in range(3):  # the same nonce with nc 1, 2, 3
                r = s.get(url(srv, target), timeout=10)
                assert (r.status_code, r.text) == (200, "hello user"), target
            s.auth = HTTPDigestAuth(USER, "wrong")
            r = s.get(url(srv, target), timeout=10)
            assert r.status_code == 401 and r.headers["X-Result"] == "-34", target


def test_digest_replayed_nonce_count_is_stale(serve):
    srv = serve(script=APP)
    _, chal = challenge(srv, "/digest")
    auth = authorization(chal, "/digest")
    assert request(srv.port, "/digest", headers=(("Authorization", auth),)).status == 200
    r = request(srv.port, "/digest", headers=(("Authorization", auth),))  # the same nc again
    assert r.status == 401 and r.header("x-result") == "-25"  # DAUTH_NONCE_STALE
    assert challenges(r)[0]["stale"] == "true" and challenges(r)[0]["nonce"] != chal["nonce"]
    assert request(srv.port, "/digest", headers=(("Authorization", authorization(chal, "/digest", nc=2)),)).status == 200
    # a forged nonce, a wrong uri, a wrong realm, a wrong user
    forged = dict(chal, nonce="f" * 40)
    for c, uri, want in ((forged, "/digest", "-33"), (chal, "/other", "-19"), (dict(chal, realm="x"), "/digest", "-18")):
        r = request(srv.port, "/digest", headers=(("Authorization", authorization(c, uri, nc=3)),))
        assert r.header("x-result") == want, (c, uri, r)
    r = request(srv.port, "/digest", headers=(("Authorization", authorization(chal, "/digest", user="nobody", nc=4)),))
    assert r.header("x-result") == "-17"


def test_digest_stale_nonce_after_its_timeout(serve):
    srv = serve("--timeout", "1", script=APP)
    _, chal = challenge(srv, "/digest")
    assert request(srv.port, "/digest", headers=(("Authorization", authorization(chal, "/digest")),)).status == 200
    time.sleep(2.5)
    r = request(srv.port, "/digest", headers=(("Authorization", authorization(chal, "/digest", nc=2)),))
    assert r.status == 401 and r.header("x-result") == "-25" and challenges(r)[0]["stale"] == "true"
    # requests answers stale=true with the new nonce, without asking for the password again
    with requests.Session() as s:
        s.auth = HTTPDigestAuth(USER, PASSWORD)
        assert s.get(url(srv, "/digest"), timeout=10).status_code == 200
        time.sleep(2.5)
        assert s.get(url(srv, "/digest"), timeout=10).status_code == 200


def test_digest_rfc2069_userhash_and_extended_username(serve):
    srv = serve(script=APP)
    # RFC 2069: no qop in the challenge, and each nonce serves once
    r, chal = challenge(srv, "/digest?qop=none")
    assert "qop" not in chal and "algorithm" not in chal
    auth = authorization(chal, "/digest?qop=none", qop=None)
    assert request(srv.port, "/digest?qop=none", headers=(("Authorization", auth),)).status == 200
    assert request(srv.port, "/digest?qop=none", headers=(("Authorization", auth),)).header("x-result") == "-25"
    # userhash (RFC 7616, 3.4.4), offered by the challenge
    r, chal = challenge(srv, "/digest?algo=sha256&userhash=1")
    assert chal["userhash"] == "true" and chal["charset"] == "UTF-8"
    uh = hexh("SHA-256", USER, REALM)
    auth = authorization(chal, "/digest?algo=sha256&userhash=1", username='username="%s", userhash=true' % uh)
    assert request(srv.port, "/digest?algo=sha256&userhash=1", headers=(("Authorization", auth),)).status == 200
    # username* (RFC 5987): the name percent-encoded
    _, chal = challenge(srv, "/digest")
    auth = authorization(chal, "/digest", username="username*=UTF-8''%75%73%65%72")
    assert request(srv.port, "/digest", headers=(("Authorization", auth),)).status == 200
    # the parameters as the application reads them
    r = request(srv.port, "/digest/info", headers=(("Authorization", authorization(chal, "/digest/info", nc=7)),))
    fields = r.body.decode().split(" ")
    # SC_OK, MD5, STANDARD, "user", no userhash (hex, bin), opaque, realm, QOP_AUTH, cnonce length, NC_NUMBER, nc
    assert fields == ["0", "65", "4", "user", "None", "None", "opaque-1", "test", "realm", "2", "6", "1", "7"], fields


def test_digest_malformed_headers_get_a_clean_401(serve):
    srv = serve("--map", "128", script=APP)
    _, chal = challenge(srv, "/digest")
    good = authorization(chal, "/digest")
    cases = [
        ("Digest", "-20"), ("Digest ", "-20"), ("Digest ,,,", "-20"), ('Digest username="user', "-9"),
        ("Digest username=a;b", "-9"), ("Digest =x", "-9"), ('Digest username="x"x', "-9"), ("Digest username", "-9"),
        ("Digest \x01\x02\x03", "-20"), ("Digest nc=" + "1" * 200, "-20"),
        (good.replace("algorithm=MD5", "algorithm=MD5-sess"), "-21"), (good.replace("algorithm=MD5", "algorithm=X"), "-10"),
        (good.replace("qop=auth", "qop=auth-int"), "-20"), (good.replace("nc=00000001", "nc=zz"), "-9"),
        (good.replace("nc=00000001", "nc=123456789abcdef0"), "-25"), (good.replace('response="', 'response="x'), "-34"),
        (good.replace('nonce="', 'nonce="' + "a" * 100), "-33"), (good + ', username*=UTF-8\'\'x', "-9"),
    ]
    def slot(nonce):  # as Nonces._slot, for a table of 128
        return int.from_bytes(bytes.fromhex(nonce)[:3], "little") % 128

    used = overwritten = False
    for value, want in cases:
        r = request(srv.port, "/digest", headers=(("Authorization", value),))
        assert r.status == 401 and r.header("x-result") == want, (value, r)
        assert challenges(r), value
        # once its client has used it, the nonce's slot is free for a new one (as in MHD2)
        used = used or want == "-34"
        overwritten = overwritten or used and any(slot(c["nonce"]) == slot(chal["nonce"]) for c in challenges(r))
    # the wrong response used nc 1 (MHD2 checks the nonce count before the response): nc 2 passes,
    # unless a later challenge's nonce took its slot (about one run in 40): then it is stale
    good = authorization(chal, "/digest", nc=2)
    r = request(srv.port, "/digest", headers=(("Authorization", good),))
    assert (r.status, r.header("x-result")) == ((401, "-25") if overwritten else (200, None)), r


def test_digest_reusable_challenge_gets_new_nonces(serve):
    srv = serve(script=APP)
    nonces = set()
    for _ in range(3):
        r = request(srv.port, "/digest/shared")
        assert r.status == 401
        nonces.add(challenges(r)[0]["nonce"])
    assert len(nonces) == 3
    chal = dict(challenges(r)[0], realm=REALM)
    assert request(srv.port, "/digest", headers=(("Authorization", authorization(chal, "/digest")),)).status == 200


def test_digest_without_entropy_refuses_every_client(serve):
    srv = serve("--no-entropy", script=APP)
    _, chal = challenge(srv, "/digest")
    assert chal["nonce"] == "0" * 40  # no table: a nonce that never passes
    r = request(srv.port, "/digest", headers=(("Authorization", authorization(chal, "/digest")),))
    assert r.status == 401 and r.header("x-result") == "0"  # DAUTH_ERROR
