"""POST forms (action_parse_post, post.py) on both runtimes, with bodies made by other
people's encoders: requests (urlencoded and multipart) and curl -F; text/plain; fields kept
(VK_POSTDATA, request_get_post_data_cb) or streamed to the reader; the results for broken or
missing Content-Types, empty bodies, a missing final boundary and a field with no room."""
import hashlib
import random
import shutil
import subprocess

import pytest
import requests

from wire import Client, build, get

APP = "tests/apps/upload_app.py"
CURL = shutil.which("curl")
FILE = random.Random(3).randbytes(50000)


def lines(text):
    return text.split("\n")


def url(srv, query):
    return "http://127.0.0.1:%d/form?%s" % (srv.port, query)


def test_urlencoded_from_requests(serve):
    srv = serve("--conn-memory", 4096, script=APP)
    r = requests.post(url(srv, "find=b"), data={"a": "1", "b": "x y+z%", "ünï": "cödé"}, timeout=10)
    assert lines(r.content.decode()) == ["result=0", "a=1 None None None", "b=x y+z% None None None",
                             "ünï=cödé None None None", "find='x y+z%'", "count=3"]


def test_multipart_from_requests_kept_and_streamed(serve):
    srv = serve("--conn-memory", 4096, script=APP)
    files = {"small": ("tiny.txt", b"tiny file", "text/plain"), "big": ("big.bin", FILE, "application/octet-stream")}
    r = requests.post(url(srv, "stream=1&find=who"), data={"who": "me"}, files=files, timeout=10)
    got = lines(r.content.decode())
    assert got[:3] == ["result=0", "who=me None None None", "small=tiny file tiny.txt text/plain None"], got
    assert got[3].startswith("stream big: %d %s " % (len(FILE), hashlib.sha256(FILE).hexdigest())), got
    assert got[4:] == ["find='me'", "count=2"], got


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_curl_form_chunked_with_quotes_and_non_ascii(serve, tmp_path):
    srv = serve("--conn-memory", 4096, script=APP)
    f = tmp_path / "da\"ta é.bin"
    f.write_bytes(FILE)
    out = subprocess.run([CURL, "-sS", "-H", "Transfer-Encoding: chunked", "-F", "note=hé \"quoted\"",
                          "-F", "up=@%s" % f, url(srv, "stream=1")], capture_output=True, timeout=20)
    got = lines(out.stdout.decode())
    assert got[0] == "result=0" and got[1] == 'note=hé "quoted" None None None', got
    assert got[2].startswith("stream up: %d %s " % (len(FILE), hashlib.sha256(FILE).hexdigest())), got


def test_text_plain(serve):
    srv = serve("--conn-memory", 4096, script=APP)
    body = b"a=1\r\nb=two words\r\n"
    r = requests.post(url(srv, ""), data=body, headers={"Content-Type": "text/plain"}, timeout=10)
    assert lines(r.content.decode())[:3] == ["result=0", "a=1 None None None", "b=two words None None None"]
    r = requests.post(url(srv, "enc=3"), data=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert lines(r.content.decode())[0] == "result=0"  # the application's encoding wins


@pytest.mark.parametrize("headers, body, result", [
    ((), b"a=1", 81),  # no Content-Type
    ((("Content-Type", "application/json"),), b"{}", 80),
    ((("Content-Type", "multipart/form-data"),), b"--x\r\n", 82),  # no boundary
    ((("Content-Type", "application/x-www-form-urlencoded"),), b"", 1),  # empty
    ((("Content-Type", "multipart/form-data; boundary=xyz"),),
     b"--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n", 2),  # no final boundary
    ((("Content-Type", "application/x-www-form-urlencoded"),), b"big=" + b"v" * 3000, 60),  # no room, no reader
])
def test_results_and_the_connection_stays_in_step(serve, headers, body, result):
    srv = serve("--conn-memory", 4096, script=APP)
    with Client(srv.port) as c:
        raw = build("POST", "/form?buf=1024&max=4000", (("Host", "x"), ("Content-Length", str(len(body)))) + headers, body)
        r = c.exchange(raw)
        assert r.status == 200 and lines(r.body.decode())[0] == "result=%d" % result, r.body
        assert c.exchange(get("/")).status == 404  # the body was read, the next request is served
