# Automatic error replies: the status line, Date, Connection: close and a short HTML page
# that the engine sends for a request it cannot serve (400, 413, 414, 417, 431, 501, 505,
# and 301 to the target with its spaces encoded), before closing the connection.
#
# The entry points are reply_error(c, status), reply_too_long(c) (a head that fills the
# buffer) and reply_busy(d, sock) (the 503 to a client for which no slot is free); the
# engine imports this module the first time it needs it.
from .platform import const, send
from .response import status_line, phrase_of
from .connection import ST_SEND, _put, _put_uint, _CRLF, _CONN_CLOSE, _CL

_P_TAIL = const(2)  # connection._P_TAIL
_ENDED_CONNECTION_ERROR = const(20)
_HTML = b"Content-Type: text/html\r\n"
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
        title = phrase_of(status).encode()
        body = _pages[status] = _PAGE % (title, title)
    return body


def reply_too_long(c):
    """The request head fills the buffer: say which part was too long."""
    r = c.req
    if r.phase:
        status = 431  # the header fields
    elif c.buf.find(b" ", r.line, c.rlen) < 0:
        status = 501  # the method
    else:
        status = 414  # the request target
    reply_error(c, status)


def reply_error(c, status):
    """Reply with an automatic error page, then close: the request stream can't be trusted."""
    d = c.daemon
    r = c.req
    b = c.buf
    c._drop_response(_ENDED_CONNECTION_ERROR)
    body = error_body(d, status)
    # 301 for spaces in the target needs the target: write the reply after the head
    w = c.rlen if status == 301 and c.rlen + 256 + 3 * (r.te - r.ts) <= len(b) else 0
    if status == 301 and not w:
        status = 400
    sl = status_line(status)
    p = _put(b, w, sl)
    p = _put(b, p, d.date_line())
    p = _put(b, p, _CONN_CLOSE)
    if status == 301:
        p = _put(b, p, _LOCATION)
        for i in range(r.ts, r.te):
            ch = b[i]
            if ch == 32:
                p = _put(b, p, b"%20")
            else:
                b[p] = ch
                p += 1
        p = _put(b, p, _CRLF)
    if p + len(_HTML) + len(_CL) + 24 + len(body) > len(b):
        body = b""  # no room for the page in a small buffer: send the status alone, Content-Length 0
    if body:
        p = _put(b, p, _HTML)
    p = _put(b, p, _CL)
    p = _put_uint(b, p, len(body), 10)
    p = _put(b, p, _CRLF)
    p = _put(b, p, _CRLF)
    if p + len(body) <= len(b):
        b[p:p + len(body)] = body
        p += len(body)
    c.out = b
    c.out_off = w
    c.out_end = p
    c.part = _P_TAIL
    c.chunked = False
    c.keep = False
    c.stage = ST_SEND


def reply_busy(d, sock):
    """Every slot is busy: 503, sent once without waiting (the caller closes)."""
    b = d.scratch
    p = _put(b, 0, status_line(503))
    p = _put(b, p, d.date_line())
    p = _put(b, p, _BUSY)
    try:
        send(sock, b, 0, p)
    except OSError:
        pass
