"""The response API of the MHD2 manual ("Responses" chapter), on both runtimes, judged on the
wire by h11 and llhttp (wire.py) and, for chunked extensions and trailers, by curl."""
import shutil
import subprocess
import time

import h11
import pytest

from conftest import require
import wire
from wire import exchange, parse_responses, request

PATTERN = b"0123456789abcdef" * 64


def pattern(pos, n):
    return bytes(PATTERN[(pos + i) % len(PATTERN)] for i in range(n))


@pytest.fixture
def srv(serve, tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 400)  # 102400 bytes
    s = serve("--file", str(path), "--pool", "16", script="tests/apps/responses_app.py")
    s.file = path
    return s


def get(srv, target, **kw):
    return request(srv.port, target, **kw)


def stats(srv):
    return dict(kv.split("=", 1) for kv in get(srv, "/stats").body.decode().split())


def test_buffer_sent_and_freed_once(srv):
    r = get(srv, "/buffer?n=5000")
    assert r.status == 200 and r.body == (PATTERN * 64)[:5000]
    assert r.header("content-length") == "5000"
    assert stats(srv)["free"] == "1"


def test_buffer_copy_is_a_copy(srv):
    assert get(srv, "/copy").body == b"copied"


def test_iovec_in_order_and_chunked(srv):
    want = b"first," + PATTERN[:10] + b",last"
    r = get(srv, "/iovec")
    assert r.body == want and r.header("content-length") == str(len(want))
    r = get(srv, "/iovec?chunked=1")
    assert r.body == want and r.header("transfer-encoding") == "chunked"
    assert stats(srv)["free"] == "2"


@pytest.mark.parametrize("off,size", [(0, -1), (1000, 5000), (102399, 1), (0, 0)])
def test_fd_ranges(srv, off, size):
    data = srv.file.read_bytes()
    r = get(srv, "/fd?off=%d&size=%d" % (off, size))
    want = data[off:] if size < 0 else data[off:off + size]
    assert r.status == 200 and r.body == want


def test_fd_past_the_end_is_refused(srv):
    data, closed = exchange(srv.port, b"GET /fd?off=102000&size=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data == b"" and closed  # response_from_fd gave None: the connection is closed


def test_pipe(srv):
    data, closed = exchange(srv.port, b"GET /pipe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    if srv.runtime == "micropython":
        assert data == b"" and closed  # no pipes on MicroPython: response_from_pipe gives None
        return
    r = parse_responses(data)[0]
    assert r.body == b"from a pipe " * 100 and r.header("transfer-encoding") == "chunked"


def test_callback_known_size(srv):
    r = get(srv, "/cb/plain?n=2500")
    assert r.header("content-length") == "2500" and r.body == pattern(0, 2500)


def then_stats(srv, *targets):
    """The targets on one keep-alive connection, then /stats asking to close: the responses
    and the stats. Every request must be answered: the connection is kept alive."""
    raw = b"".join(wire.get(t) for t in targets) + wire.build("GET", "/stats", (("Host", "x"), ("Connection", "close")))
    rs = parse_responses(exchange(srv.port, raw)[0])
    assert len(rs) == len(targets) + 1, "the connection closed after %d replies" % len(rs)
    return rs, dict(kv.split("=", 1) for kv in rs[-1].body.decode().split())


def test_callback_reply_keeps_the_connection_and_frees(srv):
    rs, st = then_stats(srv, "/cb/plain?n=500", "/cb/plain?n=500&unknown=1")
    assert [r.status for r in rs] == [200, 200, 200]
    assert rs[0].body == rs[1].body == pattern(0, 500)
    assert st["fc"] == "2" and st["log"] == ""  # each free callback ran, and nothing raised


def test_raising_free_callbacks_are_logged_and_keep_the_connection(srv):
    rs, st = then_stats(srv, "/fc-raises", "/term-raises")
    assert [(r.status, r.body) for r in rs[:2]] == [(200, pattern(0, 5)), (200, b"t")]
    assert st["fc"] == "1" and st["ended"] == "0"
    assert st["log"] == "59900,59900"  # SC_INTERNAL_ERROR: a callback raised


def test_callback_unknown_size_is_chunked_for_1_1(srv):
    r = get(srv, "/cb/plain?n=2500&unknown=1")
    assert r.header("transfer-encoding") == "chunked" and r.body == pattern(0, 2500)


def test_callback_unknown_size_is_close_delimited_for_1_0(srv):
    data, closed = exchange(srv.port, b"GET /cb/plain?n=2500&unknown=1 HTTP/1.0\r\n\r\n")
    assert closed
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding" not in head and b"Content-Length" not in head
    assert b"Connection: close" in head and body == pattern(0, 2500)


def test_chunk_extensions_on_the_wire(srv):
    data, _ = exchange(srv.port, b"GET /cb/ext?n=700&unknown=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    body = data.partition(b"\r\n\r\n")[2]
    assert body.startswith(b"12c;pos=0\r\n")  # 300 bytes, extension after the size
    assert b"\r\n12c;pos=300\r\n" in body and b"\r\n64;pos=600\r\n" in body
    assert parse_responses(data)[0].body == pattern(0, 700)


def test_zero_copy_iov_and_its_callback(srv):
    r = get(srv, "/cb/zc?n=1500&unknown=1")
    assert r.body == pattern(0, 1500)
    assert int(stats(srv)["iov_fcb"]) >= 3


def test_footers_parse_in_h11(srv):
    data, _ = exchange(srv.port, b"GET /cb/footer?n=600&unknown=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert data.endswith(b"0\r\nX-Checksum: abc123\r\nX-Count: 600\r\n\r\n")
    c = h11.Connection(h11.CLIENT)
    c.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    c.receive_data(data)
    events = []
    while True:
        ev = c.next_event()
        events.append(ev)
        if isinstance(ev, h11.EndOfMessage) or ev is h11.NEED_DATA:
            break
    assert dict(events[-1].headers)[b"x-checksum"] == b"abc123"


def test_curl_reads_chunked_with_extensions_and_trailers(srv):
    require(shutil.which("curl"), "curl is not installed (bash tools/setup.sh installs it from Debian)")
    for path, n in (("/cb/ext?n=900&unknown=1", 900), ("/cb/footer?n=900&unknown=1", 900)):
        p = subprocess.run(["curl", "-sS", "--raw", "-o", "-", "-w", "\n%{http_code}", "http://127.0.0.1:%d%s" % (srv.port, path)],
                           capture_output=True, timeout=10)
        assert p.returncode == 0, p.stderr
        p2 = subprocess.run(["curl", "-sS", "http://127.0.0.1:%d%s" % (srv.port, path)], capture_output=True, timeout=10)
        assert p2.returncode == 0 and p2.stdout == pattern(0, n)


def test_dcc_suspend_then_resume(srv):
    r = get(srv, "/cb/suspend?n=800&unknown=1")
    assert r.body == pattern(0, 800)


def test_dcc_suspend_disallowed_aborts(serve):
    # D_OPTION_DISALLOW_SUSPEND_RESUME: dcc_action_suspend gives None, an abort: the chunked
    # reply stops unfinished and the connection closes; the server goes on
    s = serve("--no-suspend", 1, script="tests/apps/responses_app.py")
    data, closed = exchange(s.port, b"GET /cb/suspend?n=800&unknown=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert closed and data.startswith(b"HTTP/1.1 200 ") and not data.endswith(b"0\r\n\r\n"), data
    time.sleep(0.3)
    assert get(s, "/reusable").body == b"shared"


def test_dcc_abort_closes(srv):
    data, closed = exchange(srv.port, b"GET /cb/abort?n=5000&unknown=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert closed and not data.endswith(b"0\r\n\r\n")


def test_aborted_replies_give_their_pool_slot_back(srv):
    # no termination callback: the abort alone must return the response to the pool
    for _ in range(3):
        assert exchange(srv.port, b"GET /cb/abort?n=5000&unknown=1 HTTP/1.1\r\nHost: x\r\n\r\n")[1]
    assert get(srv, "/exhaust").body == b"15"  # pool of 16, one taken by the reusable response
    assert stats(srv)["fc"] == "3"


def test_exceeding_the_buffer_aborts(srv):
    data, closed = exchange(srv.port, b"GET /cb/exceed?n=5000 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert closed and data.count(b"\r\n\r\n") == 1 and data.endswith(b"\r\n\r\n")


def test_finishing_early_with_known_size_closes(srv):
    data, closed = exchange(srv.port, b"GET /cb/early?n=100 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert closed
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Content-Length: 100" in head and body == pattern(0, 10)


def test_one_action_per_dcc_call(srv):
    r = get(srv, "/cb/twice?n=700")
    assert r.body == pattern(0, 700)


def test_reusable_response_served_many_times_and_at_once(srv):
    socks = []
    import socket
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        s.sendall(b"GET /reusable HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
        socks.append(s)
    for s in socks:
        data = b""
        while data.count(b"shared") < 3:
            chunk = s.recv(65536)
            assert chunk
            data += chunk
        assert [r.body for r in parse_responses(data, ended_by_close=False)] == [b"shared"] * 3
        s.close()


def test_reusable_response_freed_by_the_last_reference(srv):
    # a reusable response the application keeps is never freed by a connection; one it let
    # go of during the request is freed when the reply is done (Connection._done drops the
    # connection's reference: not the last one, or the last one with the free callback)
    before = int(stats(srv)["free"])
    for _ in range(3):
        assert get(srv, "/reusable").body == b"shared"
    assert int(stats(srv)["free"]) == before
    for _ in range(3):
        assert get(srv, "/reusable-dropped").body == b"dropped"
    assert int(stats(srv)["free"]) == before + 3


def test_head_only_response_keeps_app_content_length(srv):
    data, _ = exchange(srv.port, b"GET /head-only HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head = data.partition(b"\r\n\r\n")[0]
    assert head.count(b"Content-Length") == 1 and b"Content-Length: 1234" in head


def test_insanity_content_length(srv):
    r = get(srv, "/insanity")
    assert r.header("x-refused-before") == "60052"  # SC_RESP_HEADERS_CONFLICT without the option
    assert r.header("content-length") == "0"


def test_conn_close_option(srv):
    data, closed = exchange(srv.port, b"GET /conn-close HTTP/1.1\r\nHost: x\r\n\r\n")
    assert closed and b"Connection: close" in data


def test_http_1_0_compatible_strict(srv):
    data, closed = exchange(srv.port, b"GET /http10-strict HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and closed


def test_http_1_0_server(srv):
    data, closed = exchange(srv.port, b"GET /http10-server HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", timeout=1)
    assert data.startswith(b"HTTP/1.0 200 OK\r\n") and b"Connection: Keep-Alive" in data and not closed
    data, closed = exchange(srv.port, b"GET /http10-server-unknown HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data.startswith(b"HTTP/1.0 200 OK\r\n") and b"chunked" not in data and closed
    assert data.partition(b"\r\n\r\n")[2] == pattern(0, 500)


def test_termination_callback_codes(srv):
    get(srv, "/term")
    exchange(srv.port, b"GET /term-abort HTTP/1.1\r\nHost: x\r\n\r\n")
    assert stats(srv)["ended"] == "0,40"  # COMPLETED_OK, BY_APP_ABORT


def test_own_date_replaces_the_automatic_one(srv):
    data, _ = exchange(srv.port, b"GET /own-date HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert data.count(b"Date: ") == 1 and b"Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n" in data


def test_predefined_header(srv):
    assert get(srv, "/predef").header("accept-language") == "en"


@pytest.mark.parametrize("code,phrase", [(200, "OK"), (404, "Not Found"), (449, "Reply With"), (509, "Bandwidth Limit Exceeded"), (299, "Nonstandard Status")])
def test_reason_phrases(srv, code, phrase):
    data, _ = exchange(srv.port, ("GET /status?code=%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % code).encode())
    assert data.startswith(("HTTP/1.1 %d %s\r\n" % (code, phrase)).encode())


def test_pool_limits_responses(srv):
    assert get(srv, "/exhaust").body == b"15"  # pool of 16, one taken by the reusable response
    data, closed = exchange(srv.port, b"GET /exhausted HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data == b"" and closed
    assert get(srv, "/copy").body == b"copied"  # and the pool recovers
