"""mhd_micro.post_parser against real encoders (CPython only): forms encoded by requests, by
urllib3's multipart encoder and by curl (-F, --data-urlencode, text/plain), captured from a
local socket, must decode to the fields that were sent, whole and through a small buffer."""
import os
import shutil
import socket
import subprocess
import sys
import threading

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "unit"))
from test_post_parser import feed, DONE  # noqa: E402  (the engine-like feeder of the unit tests)
import mhd_micro as mhd  # noqa: E402
from mhd_micro import post_parser as pp  # noqa: E402

requests = pytest.importorskip("requests")
urllib3 = pytest.importorskip("urllib3")


def decode(content_type, body, size=4096, pieces=(1 << 30,)):
    """Detect the encoding from the header, decode; returns (fields, result)."""
    p = pp.PostParser()
    enc = p.detect(content_type)
    assert enc in (1, 2, 3), enc
    fields, ev, res = feed(body, enc, p.boundary, size, pieces)
    assert ev == DONE, (ev, res)
    return [tuple(f[:5]) for f in fields], res


def decode_all_ways(content_type, body):
    """Whole, and through a 256-byte buffer in pieces of a few sizes: all must agree."""
    whole = decode(content_type, body)
    for n in (1, 7, 61, 255):
        assert decode(content_type, body, 256, (n,)) == whole, n
    return whole


def prepared(**kw):
    r = requests.Request("POST", "http://127.0.0.1/", **kw).prepare()
    return r.headers["Content-Type"], r.body if isinstance(r.body, bytes) else r.body.encode()


BIG = os.urandom(50000) + b"\r\n--\r\n"  # binary, with line breaks and dashes


class TestRequests:
    def test_urlencoded(self):
        ct, body = prepared(data=[("a", "1"), ("b", "x y&z=+%"), ("a", "2"), ("caf\u00e9", "\u00fc\u20ac")])
        fields, res = decode_all_ways(ct, body)
        assert res == mhd.POST_PARSE_RES_OK
        assert [(f[0], f[4]) for f in fields] == [
            (b"a", b"1"), (b"b", b"x y&z=+%"), (b"a", b"2"), ("caf\u00e9".encode(), "\u00fc\u20ac".encode())]

    def test_multipart_fields_and_files(self):
        ct, body = prepared(data={"k": "v v", "e": ""},
                            files=[("f", ("na\u00efve \"q\".txt", b"hello\r\n--world\r\n", "text/plain")),
                                   ("f", ("big.bin", BIG, "application/octet-stream"))])
        fields, res = decode_all_ways(ct, body)
        assert res == mhd.POST_PARSE_RES_OK
        assert fields == [
            (b"k", None, None, None, b"v v"), (b"e", None, None, None, b""),
            (b"f", "na\u00efve \"q\".txt".encode(), b"text/plain", None, b"hello\r\n--world\r\n"),
            (b"f", b"big.bin", b"application/octet-stream", None, BIG)]


class TestUrllib3:
    def test_encode_multipart_formdata(self):
        body, ct = urllib3.encode_multipart_formdata([
            ("name\u00e9", "val\u00fce"), ("quote\"d", "x"), ("file", ("line\nbreak.txt", b"data", "text/plain"))])
        fields, res = decode_all_ways(ct, body)
        assert res == mhd.POST_PARSE_RES_OK
        assert fields == [
            ("name\u00e9".encode(), None, None, None, "val\u00fce".encode()), (b'quote"d', None, None, None, b"x"),
            (b"file", b"line\nbreak.txt", b"text/plain", None, b"data")]

    def test_custom_boundary(self):
        body, ct = urllib3.encode_multipart_formdata({"a": "1"}, boundary="----b0und'+_-.ary")
        assert decode_all_ways(ct, body) == ([(b"a", None, None, None, b"1")], mhd.POST_PARSE_RES_OK)
        # bchars that are tspecials need a quoted parameter (RFC 2046 section 5.1.1); urllib3
        # does not quote, and MHD2 (like this parser) ends an unquoted value at ','
        body, ct = urllib3.encode_multipart_formdata({"a": "1"}, boundary="b'()+_,-./:=?")
        assert decode_all_ways('multipart/form-data; boundary="b\'()+_,-./:=?"', body)[0] == [(b"a", None, None, None, b"1")]


def capture(args):
    """Run curl with `args` against a one-shot local socket; returns (Content-Type, body)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    got = {}

    def serve():
        c, _ = srv.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            data += c.recv(65536)
        head, body = data.split(b"\r\n\r\n", 1)
        hdrs = {}
        for line in head.split(b"\r\n")[1:]:
            k, v = line.split(b":", 1)
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs[b"content-length"])
        while len(body) < n:
            body += c.recv(65536)
        c.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        c.close()
        got["ct"] = hdrs[b"content-type"].decode("latin-1")
        got["body"] = body

    t = threading.Thread(target=serve)
    t.start()
    url = "http://127.0.0.1:%d/" % srv.getsockname()[1]
    subprocess.run(["curl", "-sS", "-o", "/dev/null", "-H", "Expect:"] + args + [url], check=True, timeout=30)
    t.join(10)
    srv.close()
    return got["ct"], got["body"]


@pytest.mark.skipif(not shutil.which("curl"), reason="no curl")
class TestCurl:
    def test_form(self, tmp_path):
        f = tmp_path / "up.bin"
        f.write_bytes(BIG)
        name = "we\u00efrd \"name\".bin"
        for escape in ([], ["--form-escape"]):  # %22 (HTML) or backslash escapes
            ct, body = capture(escape + ["-F", "a=1", "-F", "n=\u00e9t\u00e9", "-F", "a=2",
                                         "-F", "file=@%s;type=application/octet-stream;filename=\"%s\"" % (f, name.replace('"', '\\"'))])
            fields, res = decode_all_ways(ct, body)
            assert res == mhd.POST_PARSE_RES_OK
            assert fields == [(b"a", None, None, None, b"1"), (b"n", None, None, None, "\u00e9t\u00e9".encode()),
                              (b"a", None, None, None, b"2"), (b"file", name.encode(), b"application/octet-stream", None, BIG)], escape

    def test_urlencoded(self):
        ct, body = capture(["--data-urlencode", "q=1+1 = 2 & \u00e9", "--data-urlencode", "e=", "-d", "flag"])
        fields, res = decode_all_ways(ct, body)
        assert res == mhd.POST_PARSE_RES_OK
        assert [(f[0], f[4]) for f in fields] == [(b"q", "1+1 = 2 & \u00e9".encode()), (b"e", b""), (b"flag", None)]

    def test_text_plain(self):
        ct, body = capture(["-H", "Content-Type: text/plain; charset=utf-8", "--data-binary", "a=1\r\nb=x=y\r\n"])
        fields, res = decode_all_ways(ct, body)
        assert res == mhd.POST_PARSE_RES_OK
        assert [(f[0], f[4]) for f in fields] == [(b"a", b"1"), (b"b", b"x=y")]
