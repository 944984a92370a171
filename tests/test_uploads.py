"""Request bodies given to the application (action_process_upload and the upload actions), on
both runtimes, through tests/apps/upload_app.py: Content-Length and chunked bodies to the
incremental and the full callbacks, the large pool, trailers (VK_FOOTER), 100 Continue only
when the body is wanted, early replies, suspend, aborts and clients that leave mid-upload."""
import hashlib
import os
import random
import shutil
import socket
import subprocess
import time

import pytest

from wire import Client, build, connect, get, read_until_close, parse_responses

APP = "tests/apps/upload_app.py"
CURL = shutil.which("curl")


def post(target, body, *extra, chunks=None):
    """A keep-alive POST with a Content-Length body, or chunked in pieces of the sizes given."""
    if chunks is None:
        return build("POST", target, (("Host", "x"), ("Content-Length", str(len(body)))) + extra, body)
    return build("POST", target, (("Host", "x"), ("Transfer-Encoding", "chunked")) + extra, chunked(body, chunks))


def chunked(body, sizes, trailer=b""):
    out, i, k = b"", 0, 0
    while i < len(body):
        n = sizes[k % len(sizes)]
        k += 1
        out += b"%x\r\n" % len(body[i:i + n]) + body[i:i + n] + b"\r\n"
        i += n
    return out + b"0\r\n" + trailer + b"\r\n"


def got(how, body, pieces=None):
    text = "%s size=%d sha256=%s" % (how, len(body), hashlib.sha256(body).hexdigest())
    return text if pieces is None else text + " pieces=%d" % pieces


def check(resp, how, body):
    assert resp.status == 200, resp.body
    assert resp.body.decode().startswith(got(how, body) + " pieces="), resp.body


@pytest.fixture
def body():
    return random.Random(7).randbytes(100000)


def test_incremental_content_length_and_chunked(serve, body):
    srv = serve(script=APP)
    with Client(srv.port) as c:
        check(c.exchange(post("/inc", body)), "inc", body)
        check(c.exchange(post("/inc", body, chunks=[1, 7, 4096, 333, 65536])), "inc", body)
        check(c.exchange(post("/inc", b"", chunks=[1])), "inc", b"")  # "0" CRLF CRLF alone
        check(c.exchange(post("/inc", b"")), "inc", b"")  # no body: the last call only
        assert c.exchange(get("/")).status == 404  # the connection is still in step


def test_full_in_the_buffer_and_in_the_large_pool(serve, body):
    srv = serve("--conn-memory", 4096, "--large", 200000, script=APP)
    small = body[:2000]
    with Client(srv.port) as c:
        r = c.exchange(post("/full?max=4000", small))
        assert r.body.decode() == got("full", small, 1)  # in the connection's buffer
        r = c.exchange(post("/full?max=4000", small, chunks=[100, 3]))
        assert r.body.decode() == got("full", small, 1)  # de-chunked in place
        r = c.exchange(post("/full?max=200000", body))
        assert r.body.decode() == got("full", body, 1)  # from the large pool
        r = c.exchange(post("/full?max=200000", body, chunks=[3000, 17]))
        assert r.body.decode() == got("full", body, 1)  # outgrew the buffer, moved to the pool
        check(c.exchange(post("/full?max=1000&inc=1", body)), "inc", body)  # too large for full
        check(c.exchange(post("/full?max=50000&inc=1", body, chunks=[999])), "inc", body)  # found out mid-way


def test_full_upload_too_large_is_refused(serve, body):
    srv = serve("--conn-memory", 4096, "--large", 50000, script=APP)
    for raw in (post("/full?max=1000", body), post("/full?max=1000", body, chunks=[512]),
                post("/full?max=200000", body)):  # the last one is larger than the whole pool
        with Client(srv.port) as c:
            r = c.exchange(raw)
            assert r.status == 413 and r.header("connection") == "close"
            assert c.closed()


def test_trailer_fields_are_footers(serve):
    srv = serve(script=APP)
    with Client(srv.port) as c:
        raw = build("POST", "/footers", (("Host", "x"), ("Transfer-Encoding", "chunked")),
                    chunked(b"abc" * 1000, [700], b"X-Sum: 9a8b\r\nX-Count:  3 \r\n"))
        r = c.exchange(raw)
        assert r.status == 200 and r.body == b"X-Sum=9a8b\nX-Count=3"
        assert c.exchange(get("/")).status == 404


def test_100_continue_only_when_the_body_is_wanted(serve, body):
    srv = serve(script=APP)
    head = build("POST", "/inc", (("Host", "x"), ("Content-Length", str(len(body))), ("Expect", "100-continue")))
    s = connect(srv.port)
    try:
        s.sendall(head)
        s.settimeout(3)
        interim = s.recv(1000)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        data = b""
        while b"pieces=" not in data:
            data += s.recv(65536)
        assert got("inc", body).encode() in data
    finally:
        s.close()
    # the application answers without the body: no 100, and the connection closes after the reply
    with Client(srv.port) as c:
        r = c.exchange(build("POST", "/early", (("Host", "x"), ("Content-Length", "100000"), ("Expect", "100-continue"))))
        assert r.status == 200 and r.body == b"early" and r.header("connection") == "close"
        assert c.closed()


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_curl_expect_100_continue(serve, tmp_path, body):
    srv = serve(script=APP)
    f = tmp_path / "body.bin"
    f.write_bytes(body)
    out = subprocess.run([CURL, "-sS", "-H", "Expect: 100-continue", "--data-binary", "@%s" % f,
                          "http://127.0.0.1:%d/inc" % srv.port], capture_output=True, timeout=20)
    assert out.stdout.decode().startswith(got("inc", body)), out


def test_early_reply_reads_a_small_body_past_and_closes_on_a_large_one(serve, body):
    srv = serve(script=APP)
    with Client(srv.port) as c:
        r = c.exchange(post("/early", body[:5000]))
        assert r.body == b"early" and r.header("connection") is None
        assert c.exchange(get("/")).status == 404  # the small body was read past
    with Client(srv.port) as c:
        big = body * 2
        c.send(build("POST", "/early", (("Host", "x"), ("Content-Length", str(len(big))))))
        r = c.response()
        assert r.body == b"early" and r.header("connection") == "close"
    with Client(srv.port) as c:  # chunked: read past up to 64 KiB, then given up
        c.send(post("/early", body * 2, chunks=[8192]))
        r = c.response()
        assert r.body == b"early" and r.header("connection") == "close"


def test_response_in_the_middle_of_the_body(serve, body):
    srv = serve(script=APP)
    with Client(srv.port) as c:  # 20000 bytes left: read past, the connection stays
        r = c.exchange(post("/respond?after=80000", body))
        assert r.body == b"early" and r.header("connection") is None
        assert c.exchange(get("/")).status == 404
    with Client(srv.port) as c:  # chunked, 8 KiB more: read past, the connection stays
        r = c.exchange(post("/respond?after=90000", body, chunks=[4096]))
        assert r.body == b"early" and r.header("connection") is None
        assert c.exchange(get("/")).status == 404
    with Client(srv.port) as c:  # chunked, 200 KB more: more than is worth reading, so it closes
        c.send(post("/respond?after=10", body * 3, chunks=[4096]))
        r = c.response()
        assert r.body == b"early" and r.header("connection") == "close"


def test_suspend_resume_and_aborts(serve, body):
    srv = serve(script=APP)
    with Client(srv.port) as c:
        check(c.exchange(post("/suspend", body)), "inc", body)
        check(c.exchange(post("/suspend", body, chunks=[1000])), "inc", body)
    for route in ("/abort", "/final-continue"):
        with Client(srv.port) as c:
            c.send(post(route, body[:3000]))
            assert c.closed(), route  # no reply: the application aborted
    with Client(srv.port) as c:
        assert c.exchange(get("/")).status == 404


def test_suspend_disallowed_aborts_the_upload(serve, body):
    # D_OPTION_DISALLOW_SUSPEND_RESUME: upload_action_suspend gives None, an abort; the app's
    # later request_resume of that ended request must not disturb the next one
    srv = serve("--no-suspend", 1, script=APP)
    with Client(srv.port) as c:
        c.send(post("/suspend", body))
        assert c.closed()
    time.sleep(0.3)
    with Client(srv.port) as c:
        check(c.exchange(post("/inc", body[:3000])), "inc", body[:3000])
        assert c.exchange(get("/")).status == 404


def test_client_leaving_mid_upload_frees_what_it_held(serve, body):
    # the pool holds one such body at a time: after each client leaves, the next one gets it
    srv = serve("--conn-memory", 4096, "--large", 100000, script=APP)
    for _ in range(3):
        s = connect(srv.port)
        s.sendall(post("/full?max=100000", body)[:60000])
        time.sleep(0.2)
        s.close()
    with Client(srv.port) as c:
        r = c.exchange(post("/full?max=100000", body))
        assert r.body.decode() == got("full", body, 1)


def test_pipelined_uploads(serve, body):
    srv = serve(script=APP)
    with Client(srv.port) as c:
        c.send(post("/inc", body[:3000]) + post("/inc", body[:5000], chunks=[100]) + get("/"))
        check(c.response(), "inc", body[:3000])
        check(c.response(), "inc", body[:5000])
        assert c.response().status == 404
