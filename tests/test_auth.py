"""Basic and Digest authentication on both runtimes (tests/apps/auth_app.py): curl's --basic
and --digest, requests' HTTPBasicAuth and HTTPDigestAuth, wrong passwords, stale and replayed
nonces, malformed Authorization headers (a clean 401 or 400, never a crash: the `serve`
fixture checks that the server is still alive after each test)."""
import base64
import hashlib
import subprocess

import requests
from requests.auth import HTTPBasicAuth

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
