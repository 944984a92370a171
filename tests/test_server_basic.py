"""Basic request/response exchanges against the server on both runtimes."""
import pytest

from wire import exchange, parse_responses, request

# every test here talks to the server only over the network: they run on a board too
# (pytest --target URL), but for those marked host_only
pytestmark = pytest.mark.board


def test_hello(serve):
    srv = serve()
    r = request(srv.port, "/")
    assert (r.status, r.body) == (200, b"Hello, world!")
    assert r.header("content-length") == "13"
    assert r.header("date").endswith(" GMT")


def test_keep_alive_two_requests_one_connection(serve):
    srv = serve()
    raw = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    data, closed = exchange(srv.port, raw + raw.replace(b"Host: x", b"Host: x\r\nConnection: close"))
    rs = parse_responses(data)
    assert [r.status for r in rs] == [200, 200]
    assert closed
