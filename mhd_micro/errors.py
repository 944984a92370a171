# Automatic error replies: the status line, Date, Connection: close and a short HTML page
# that the engine sends for a request it cannot serve (400, 413, 414, 417, 431, 501, 505,
# and 301 to the target with its spaces encoded), before closing the connection.
#
# The entry points are write_error(d, r, b, at, status), with reply_offset (where it goes)
# and too_long_status (which status a head that fills the buffer gets), called by
# Connection.fail and Connection._head; and refuse(d, sock, c), the 503 to a client over the
# per-IP limit or to a connection whose slot goes to a new client before it was answered,
# with the lingering close that lets the client read it (Refused, expire). The engine loads
# this module the first time it needs it.
from .platform import const, send, recv_into, close, ticks_ms, ticks_diff, POLLIN
from .framing import status_line, put, put_uint

_HTTP_METHOD_HEAD = const(2)  # = mhd.HTTP_METHOD_HEAD

_HTML = b"Content-Type: text/html\r\n"
_CLOSE = b"Connection: close\r\n"
_CL = b"Content-Length: "
_LOCATION = b"Location: "
_BUSY = b"Retry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
_PAGE = b"<html><head><title>%s</title></head><body>%s</body></html>"
_pages = {}


def error_body(d, status):
    """The HTML page of an error reply, made once per status; empty where the build leaves
    the pages out (features.AUTO_REPLY_BODIES)."""
    from .features import AUTO_REPLY_BODIES
    if not AUTO_REPLY_BODIES:
        return b""
    body = _pages.get(status)
    if body is None:
        title = status_line(status)[13:-2]  # the phrase
        body = _pages[status] = _PAGE % (title, title)
    return body


def too_long_status(r, b, end):
    """The request head fills the buffer b[:end]: which part of it was too long."""
    if r.phase:
        return 431  # the header fields
    if b.find(b" ", r.line, end) < 0:
        return 501  # the method
    return 414  # the request target


def reply_offset(r, end, size, status):
    """Where in a buffer of `size` bytes holding `end` the error reply goes: at the front,
    except a 301, whose Location is made from the target: behind the head, if it fits."""
    if status == 301 and end + 256 + 3 * (r.target_end - r.target_start) <= size:
        return end
    return 0


def write_error(d, r, b, at, status):
    """The error reply for request r at b[at:] (reply_offset). A 301 with no room for its
    Location becomes a 400. Returns the end."""
    if status == 301 and not at:
        status = 400
    body = error_body(d, status)
    p = put(b, at, status_line(status))
    p = put(b, p, d.date_line())
    p = put(b, p, _CLOSE)
    if status == 301:
        p = _location(b, p, r)
    if p + len(_HTML) + len(_CL) + 8 + len(body) > len(b):
        body = b""  # no room for the page in a small buffer: send the status alone, Content-Length 0
    if body:
        p = put(b, p, _HTML)
    p = put(b, p, _CL)
    p = put_uint(b, p, len(body), 10)
    p = put(b, p, b"\r\n\r\n")
    if r.method == _HTTP_METHOD_HEAD:  # the page's length, not the page (RFC 9110 section 9.3.2)
        return p
    return put(b, p, body)


def _location(b, p, r):
    """Location: the target with its spaces as %20 (a 301 for levels 0 and -1)."""
    p = put(b, p, _LOCATION)
    for i in range(r.target_start, r.target_end):
        ch = b[i]
        if ch == 32:
            p = put(b, p, b"%20")
        else:
            b[p] = ch
            p += 1
    return put(b, p, b"\r\n")


_REQUEST_ENDED_CONNECTION_ERROR = const(20)  # = mhd.REQUEST_ENDED_CONNECTION_ERROR
_SC_LIMIT_CONNECTIONS_REACHED = const(30000)  # = mhd.SC_LIMIT_CONNECTIONS_REACHED
_LINGER_MS = const(2000)  # how long a refused client's request is read and dropped
_LINGER_MAX = const(4)  # refused clients lingering at once; more are closed at once
_F_SERVED = const(1)  # = connection._F_SERVED


def refuse(d, sock, c=None):
    """503 with Retry-After, sent once without waiting; then the client lingers (Refused)
    so that it reads the 503, or is closed at once when too many do. With c, a connection
    whose slot goes to a new client (Daemon._free_slot chose it): idle after a reply, it
    just closes, as clients retry a kept-alive connection closed between requests; not
    answered yet (silent, or trickling its head), it is told 503, not closed bare."""
    if c is not None:
        sock = c.sock
        answered = c.flags & _F_SERVED and not c.rlen
        c.close(_REQUEST_ENDED_CONNECTION_ERROR, not answered)
        if answered:
            return
    elif d.tls is not None:
        # not wrapped yet: a TLS client cannot read a plain 503, and a handshake only to
        # refuse it would take the heap the limit is there to save
        d.log(_SC_LIMIT_CONNECTIONS_REACHED, "per-IP limit reached: TLS client closed")
        close(sock)
        return
    try:
        _busy(d, sock)
    except Exception:  # no heap for the 503 or the linger: the close alone
        close(sock)


def _busy(d, sock):
    d.log(_SC_LIMIT_CONNECTIONS_REACHED, "connection limit reached: 503")
    b = d.scratch
    p = put(b, 0, status_line(503))
    p = put(b, p, d.date_line())
    p = put(b, p, _BUSY)
    try:
        send(sock, b, 0, p)
        sock.shutdown(1)  # FIN after the 503 (CPython; MicroPython's sockets have no shutdown)
    except (OSError, AttributeError):
        pass
    expire(d, ticks_ms())
    if d.refused is None:
        d.refused = []
    if len(d.refused) < _LINGER_MAX:
        d.refused.append(Refused(d, sock))
    else:
        close(sock)


def expire(d, now):
    """Close the refused clients that lingered long enough (the daemon's timeout scan)."""
    rs = d.refused or ()
    for i in range(len(rs) - 1, -1, -1):  # backwards: close() takes it out of the list
        if ticks_diff(now, rs[i].since) >= _LINGER_MS:
            rs[i].close()


class Refused:
    """A refused client, polled for a moment before the close: its request is read and
    dropped, because closing a socket with unread bytes sends a reset, and a reset can
    destroy the 503 before the client reads it (RFC 9112 section 9.6). It takes a socket
    of the poll set, not a slot; the daemon runs it as it runs a connection."""

    def __init__(self, d, sock):
        self.d = d
        self.sock = sock
        self.since = ticks_ms()
        d.poller.register(sock, POLLIN)
        d.by_sock[sock] = self

    def run(self, events):
        try:
            n = recv_into(self.sock, self.d.scratch)
        except OSError:
            n = 0
        if n == 0:  # the client closed (or reset): nothing left to protect
            self.close()

    def close(self, ended=0):
        d = self.d
        if d.by_sock.pop(self.sock, None) is not None:
            d.poller.unregister(self.sock)
            close(self.sock)
            d.refused.remove(self)
