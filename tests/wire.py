"""Raw-socket HTTP/1.1 client helpers, with h11 and llhttp (httptools) as strict judges of
every response the server sends."""
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import h11
import httptools


HOST = "127.0.0.1"  # the server's address: tests/conftest.py sets the board's under --target


def connect(port, timeout=5.0, rcvbuf=0):
    """A connection to the server; rcvbuf (bytes) shrinks the receive window, set before
    connecting so that the window is really small."""
    if not rcvbuf:
        s = socket.create_connection((HOST, port), timeout=timeout)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(timeout)
        s.connect((HOST, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until_close(s, timeout=5.0):
    """All bytes until the server closes (or timeout). Returns (data, closed)."""
    s.settimeout(timeout)
    data = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data, False
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def exchange(port, raw, timeout=3.0):
    """Send raw bytes, read until the server closes or goes quiet. Returns (data, closed)."""
    s = connect(port, timeout)
    try:
        s.sendall(raw)
        return read_until_close(s, timeout)
    finally:
        s.close()


class Response:
    def __init__(self, status, reason, headers, body, http_version):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (lower-case name, value) as str
        self.body = body
        self.http_version = http_version

    def header(self, name):
        name = name.lower()
        for n, v in self.headers:
            if n == name:
                return v
        return None

    def __repr__(self):
        return "<Response %d %r %r>" % (self.status, self.headers, self.body[:60])


def parse_responses(data, head_requests=(), ended_by_close=True):
    """Parse every response in `data` with h11 (and check each with llhttp). `head_requests`
    lists the indexes of responses that answer HEAD (no body). Returns [Response]."""
    out = []
    conn = h11.Connection(h11.CLIENT)
    remaining = data
    idx = 0
    while remaining:
        conn = h11.Connection(h11.CLIENT)
        method = b"HEAD" if idx in head_requests else b"GET"
        conn.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
        conn.send(h11.EndOfMessage())
        conn.receive_data(remaining)
        status = None
        body = b""
        while True:
            ev = conn.next_event()
            if ev is h11.NEED_DATA:
                if ended_by_close:
                    conn.receive_data(b"")
                    continue
                raise AssertionError("incomplete response in %r" % remaining)
            if isinstance(ev, h11.Response):
                status = ev
            elif isinstance(ev, h11.Data):
                body += ev.data
            elif isinstance(ev, h11.EndOfMessage):
                break
            elif isinstance(ev, h11.InformationalResponse):
                continue
        used = len(remaining) - len(conn.trailing_data[0])
        _llhttp_check(remaining[:used], method == b"HEAD")
        out.append(Response(status.status_code, status.reason.decode(),
                            [(n.decode(), v.decode()) for n, v in status.headers], body,
                            status.http_version.decode()))
        remaining = conn.trailing_data[0]
        idx += 1
    return out


def _llhttp_check(raw, head):
    p = httptools.HttpResponseParser(_Sink())
    if head:
        return  # llhttp can't be told a response answers HEAD; h11 checked it
    p.feed_data(raw)


class _Sink:
    pass


def request(port, target="/", method="GET", headers=(), body=b"", version="1.1"):
    """One request on a new connection; returns the parsed Response."""
    lines = ["%s %s HTTP/%s" % (method, target, version), "Host: 127.0.0.1"]
    lines += ["%s: %s" % h for h in headers]
    if body:
        lines.append("Content-Length: %d" % len(body))
    lines.append("Connection: close")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    data, _ = exchange(port, raw)
    return parse_responses(data, head_requests=(0,) if method == "HEAD" else ())[0]


# -- persistent connections ------------------------------------------------------------------
def build(method="GET", target="/", headers=(("Host", "x"),), body=b"", version="1.1"):
    """The bytes of one request; headers are written exactly as given (no Content-Length is
    added: pass it in headers)."""
    lines = ["%s %s HTTP/%s" % (method, target, version)] + ["%s: %s" % h for h in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def get(target="/", *extra):
    """A keep-alive HTTP/1.1 GET for `target` with Host and the extra (name, value) headers."""
    return build("GET", target, (("Host", "x"),) + extra)


class Client:
    """One connection to the server. response() reads exactly one response (judged by h11
    and llhttp), leaving any later bytes for the next call."""

    def __init__(self, port, timeout=3.0, rcvbuf=0):
        self.sock = connect(port, timeout, rcvbuf)
        self.timeout = timeout
        self.buf = b""
        self.eof = False

    def send(self, raw):
        self.sock.sendall(raw)

    def _more(self, timeout):
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
        self.buf += chunk
        return chunk

    def response(self, head=False, timeout=None):
        """The next complete response. Raises AssertionError if the server closes first."""
        deadline = time.time() + (timeout or self.timeout)
        while True:
            conn = h11.Connection(h11.CLIENT)
            conn.send(h11.Request(method=b"HEAD" if head else b"GET", target="/", headers=[("Host", "x")]))
            conn.send(h11.EndOfMessage())
            if self.buf:
                conn.receive_data(self.buf)  # (empty data would tell h11 the peer closed)
            status, body, done = None, b"", False
            while True:
                ev = conn.next_event()
                if ev is h11.NEED_DATA:
                    break
                if isinstance(ev, h11.Response):
                    status = ev
                elif isinstance(ev, h11.Data):
                    body += ev.data
                elif isinstance(ev, h11.EndOfMessage):
                    done = True
                    break
            if done:
                rest = conn.trailing_data[0]
                raw = self.buf[:len(self.buf) - len(rest)]
                _llhttp_check(raw, head)
                self.buf = rest
                r = Response(status.status_code, status.reason.decode(),
                             [(n.decode(), v.decode()) for n, v in status.headers], body,
                             status.http_version.decode())
                r.raw = raw
                return r
            if self.eof:
                raise AssertionError("the server closed before a full response; got %r" % self.buf)
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("no full response in time; got %r" % self.buf)
            try:
                self._more(left)
            except socket.timeout:
                pass

    def exchange(self, raw, head=False):
        self.send(raw)
        return self.response(head)

    def closed(self, timeout=2.0):
        """True if the server closes the connection within `timeout` without sending more;
        False if it stays open. Unexpected bytes fail the test."""
        deadline = time.time() + timeout
        while not self.eof:
            left = deadline - time.time()
            if left <= 0:
                return False
            try:
                self._more(left)
            except socket.timeout:
                return False
        assert not self.buf, "unexpected bytes before the close: %r" % self.buf
        return True

    def is_open(self, wait=0.2):
        """True if nothing (neither bytes nor a close) arrives within `wait` seconds."""
        return not self.closed(wait)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def error_reply(port, raw, status, timeout=3.0):
    """Send `raw` on a new connection and check the automatic error reply: exactly one
    response with `status`, `Connection: close`, a short body, then the close. Returns it."""
    s = connect(port, timeout)
    try:
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before it has read everything
        data, closed = read_until_close(s, timeout)
    finally:
        s.close()
    assert closed, "the connection was left open after %r" % data
    rs = parse_responses(data)
    assert len(rs) == 1, rs
    r = rs[0]
    assert r.status == status, "expected %d, got %r for %r" % (status, r, raw[:120])
    assert r.header("connection") == "close", r
    assert r.header("content-length") == str(len(r.body)), r
    assert len(r.body) < 512, r
    return r


# -- floods ----------------------------------------------------------------------------------
def flood_client(port, hold, slow):
    """One client of a flood: connect, ask (a slow client sends half its request, waits,
    then the rest: it keeps its slot busy), read one response, hold the connection.
    Returns "200", "503" or "closed"; anything else is an error."""
    try:
        s = socket.create_connection((HOST, port), timeout=8)
    except OSError as e:
        return "connect failed: %r" % e
    try:
        raw = get("/")
        try:
            if slow:
                s.sendall(raw[:10])
                time.sleep(0.3)
                s.sendall(raw[10:])
            else:
                s.sendall(raw)
        except OSError:
            pass  # refused and closed before the request was sent
        s.settimeout(8)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            except socket.timeout:
                return "no answer: %r" % data
            if not chunk:
                break
            data += chunk
            if data.endswith(b"Hello, world!") or data.endswith(b"Content-Length: 0\r\n\r\n"):
                break
        if not data:
            return "closed"
        rs = parse_responses(data)
        if len(rs) != 1 or rs[0].status not in (200, 503):
            return "bad reply: %r" % data
        hold.wait(5)
        return str(rs[0].status)
    except Exception as e:  # a malformed reply
        return "error: %r" % e
    finally:
        s.close()


def flood(port, n):
    """n clients at once, half of them slow; returns each one's outcome (see flood_client)."""
    hold = threading.Event()
    with ThreadPoolExecutor(n) as ex:
        futures = [ex.submit(flood_client, port, hold, i % 2) for i in range(n)]
        time.sleep(0.8)
        hold.set()
        return [f.result() for f in futures]
