"""Raw-socket HTTP/1.1 client helpers, with h11 and llhttp (httptools) as strict judges of
every response the server sends."""
import socket
import time

import h11
import httptools


def connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
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
