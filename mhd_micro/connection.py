# The connection: one preallocated slot (socket, buffer, request) and the HTTP/1.1 state
# machine that moves it from request head to reply and back for the next request.
#
# The entry point is Connection.process(): it runs the stage workers in order until one
# needs I/O. Each worker returns True when it advanced (run the next stage) or False when it
# waits for the socket. Stages only move forward within a request; _done() starts the next.
#
# Buffer rules: the request head is read to the front of the slot's buffer and parsed in
# place. Once the application has answered, the head is dead: pipelined bytes that follow
# it move to the front and the reply header is written right after them, in the same
# buffer, so a small reply goes out in one send. Nothing here allocates per request but the
# path string for a path the connection has not seen just before.
from .platform import const, recv_into, send, ticks_ms
from .parser import parse_head, MORE, DROP, F_CLOSE, F_MUST_CLOSE, F_EXPECT_100
from .request import Request, request_path
from . import response as _resp
from .response import status_line
from .action import ACT_SUSPEND
from .lazy import load

# stages, in the order a request goes through them
ST_FREE = const(0)
ST_HEAD = const(1)  # receiving and parsing the request head
ST_APP = const(2)  # head complete: call the application
ST_SUSPENDED = const(3)  # action_suspend: waits for request_resume
ST_BODY = const(4)  # reading past the request body
ST_REPLY = const(5)  # write the reply header
ST_SEND = const(6)  # sending header, body and chunked tail
ST_DONE = const(7)  # reply sent: next request or close

_M_HEAD = const(2)
# response.py's flags and kinds, as constants here: a module attribute is a dict lookup
_RF_REUSABLE = const(1)
_RF_HEAD_ONLY = const(2)
_RF_CHUNKED = const(4)
_RF_CONN_CLOSE = const(8)
_RF_HTTP10_STRICT = const(16)
_RF_HTTP10_SERVER = const(32)
_RF_HAS_DATE = const(128)
_RF_HAS_CL = const(256)
_K_BUFFER = const(1)
_REPLY_RESERVE = const(256)  # room kept for a reply header behind pipelined requests
_HEAD_MORE = const(130)  # Date, Connection, Content-Length or Transfer-Encoding, CRLF: at most
_DIGITS = b"0123456789abcdef"
_CRLF = b"\r\n"
_CHUNK_END = b"\r\n0\r\n\r\n"
_LAST_CHUNK = b"0\r\n\r\n"
_CONN_CLOSE = b"Connection: close\r\n"
_CONN_KEEP_ALIVE = b"Connection: Keep-Alive\r\n"
_CL = b"Content-Length: "
_TE_CHUNKED = b"Transfer-Encoding: chunked\r\n"

# parts of a reply, sent in this order
_P_HEAD = const(0)
_P_BODY = const(1)
_P_TAIL = const(2)
_P_END = const(3)

# MHD_RequestEndedCode: how a request ended, for R_O_TERMINATION_CALLBACK (body.py and
# daemon.py use the others)
_ENDED_COMPLETED_OK = const(0)
_ENDED_CONNECTION_ERROR = const(20)
_ENDED_CLIENT_ABORT = const(30)
_ENDED_NO_RESOURCES = const(50)


# Socket calls live in these two small functions: a try in a bigger one would push its
# frame onto the heap at every call (MicroPython keeps frames of up to 11 words on the stack).
def _read(sock, view):
    try:
        return recv_into(sock, view)
    except OSError:
        return 0


def _write(c):
    try:
        return send(c.sock, c.out, c.out_off, c.out_end - c.out_off)
    except OSError:
        return -1


def _put(b, p, data):
    e = p + len(data)
    b[p:e] = data
    return e


def _put_uint(b, p, n, base):
    """Write n in decimal or hex at b[p:], without making a string. Returns the end."""
    e = p + _ndigits(n, base)
    k = e
    while k > p:
        k -= 1
        b[k] = _DIGITS[n % base]
        n //= base
    return e


def _ndigits(n, base):
    k = 1
    while n >= base:
        n //= base
        k += 1
    return k


def new_work(size, nfields):
    """A buffer of the daemon's pool with what goes with it: (buffer, its memoryview, the
    view reads may fill while a head does not need the reserve, the request state)."""
    buf = bytearray(size)
    mv = memoryview(buf)
    r = Request(size, nfields)
    r.work = (buf, mv, mv[:size - min(_REPLY_RESERVE, size // 4)], r)
    return r.work


class Connection:
    def __init__(self, daemon):
        self.daemon = daemon
        # the buffer and the request state, lent by the daemon while the connection has a
        # request in progress or keeps them between requests (Daemon.lend_work)
        self.buf = self.mv = self.mv_cap = self.req = None
        self.sock = None
        self.addr = None
        self.app_context = None
        self.stage = ST_FREE
        self.mask = 0
        self.rlen = 0  # bytes held in buf, from 0
        self.pos = 0  # first byte not yet consumed by the body reader
        self.last = 0  # ticks of the last I/O, for the timeout
        self.rready = False  # the socket may have bytes to read
        self.resuming = False
        self.resp = None
        self.keep = False
        self.force_close = False
        self.out = None
        self.out_off = 0
        self.out_end = 0
        self.part = _P_END
        self.chunked = False
        self.no_body = False
        self.head = False
        self.ws = 0
        self.body_pos = 0
        self.body_left = 0
        self.footers = None
        self.iov = None
        self.iov_i = 0
        self.iov_fcb = None
        self.iov_fcb_cls = None
        self.crlf_after = False
        self.sendfile = False
        self.resume_stage = ST_APP
        self.dcc = None  # the dyn_cont context, made by body.py when first needed

    # -- life cycle, driven by the daemon ------------------------------------------------
    def open(self, sock, addr, now):
        self.sock = sock
        self.addr = addr
        self.app_context = None
        self.stage = ST_HEAD
        self.rlen = 0
        self.pos = 0
        self.last = now
        self.rready = True  # clients usually send right after connecting: try at once
        self.resuming = False
        self.force_close = False

    def close(self, ended=_ENDED_CONNECTION_ERROR):
        """Close the connection; a reply in progress ends with the code `ended`."""
        if self.stage == ST_FREE:
            return
        self._drop_response(ended)
        self.stage = ST_FREE
        self.daemon.conn_closed(self)
        self.sock = None
        self.daemon.release_work(self)

    def _drop_response(self, ended):
        if self.iov is not None:
            load("body").iov_done(self)
        self.crlf_after = False
        self.sendfile = False
        if self.req is None:  # no request in progress: nothing to drop
            return
        act = self.req.action
        resp = self.resp
        if resp is not None:
            self.resp = None
            self._ended(resp, ended)
        if act.response is not None:
            _resp.release(act.response)
        act.response = None
        act.kind = 0

    def _ended(self, resp, code):
        """The request is over: the termination callback learns how, then the reference goes."""
        if resp.ended is not None:
            r = self.req
            self.daemon.call_safely(resp.ended[0], resp.ended[1], r, code, r.app_context)
        _resp.release(resp)

    def is_idle(self):
        """Between requests on a kept-alive connection, with nothing received yet."""
        return self.stage == ST_HEAD and self.rlen == 0

    def want(self):
        """The poll events this stage waits for."""
        st = self.stage
        if st == ST_SEND:
            return 4  # POLLOUT
        if st == ST_HEAD or st == ST_BODY:
            return 1  # POLLIN
        return 0

    # -- the state machine ---------------------------------------------------------------
    def process(self):
        while True:
            st = self.stage
            if st == ST_HEAD:
                if not self._head():
                    return
            elif st == ST_APP:
                self._call_app()
            elif st == ST_BODY:
                if not load("upload").read_body(self):
                    return
            elif st == ST_REPLY:
                self._reply()
            elif st == ST_SEND:
                if not self._send():
                    return
            elif st == ST_DONE:
                self._done()
            else:
                return

    def _recv(self, at):
        """Read into buf[at:]. Returns the count, None to wait, 0 when closed.

        Reads stop short of the last _REPLY_RESERVE bytes while the request head does not
        need them: bytes pipelined after a head move to the front when the reply starts, and
        the reply header must still fit after them."""
        cap = len(self.mv_cap)
        if at < cap:
            n = _read(self.sock, self.mv_cap if not at else self.mv[at:cap])
        else:
            n = _read(self.sock, self.mv[at:])
            cap = len(self.buf)
        if n is None:
            self.rready = False
            return None
        if not n:
            self.close(_ENDED_CLIENT_ABORT)
            return 0
        if at + n < cap:
            self.rready = False  # short read: the socket is drained, poll before reading again
        self.rlen = at + n
        self.last = ticks_ms()
        return n

    def _head(self):
        d = self.daemon
        if self.req is None:
            # a buffer only for bytes to read (after giving its buffer to a waiting connection,
            # this one waits for POLLIN); none free: the daemon runs it again when one is
            if not self.rready or not d.lend_work(self):
                return False
        r = self.req
        b = self.buf
        while True:
            st = parse_head(r, b, self.rlen, d.strict) if self.rlen > r.line else MORE
            if r.phase == 1:  # the request line is in: once per request, the early URI logger
                r.phase = 2
                if d.uri_logger is not None:
                    r.app_context = d.call_uri_logger(r)
            if st == 0:
                self.stage = ST_APP
                return True
            if st != MORE:
                if st == DROP:
                    self.close()
                    return False
                self._error(st)
                return True
            if self.rlen == len(b) and not r.phase and r.line:
                # skipped empty lines before the request line fill the buffer: drop them
                n = self.rlen - r.line
                b[0:n] = self.mv[r.line:self.rlen]
                self.rlen = n
                r.line = 0
            if self.rlen == len(b):
                load("errors").reply_too_long(self)  # the head does not fit
                return True
            if not self.rready or not self._recv(self.rlen):
                return False

    def _call_app(self):
        r = self.req
        path = request_path(r)
        if path is None:
            self._error(400)
            return
        # a raise in the callback: Daemon.run closes the connection and logs it
        act = self.daemon.cb(self.daemon.cb_cls, r, path, r.method, r.upload_size)
        if act is None or act is not r.action or not act.kind:
            self.close()  # abort: None, a foreign action or a raise
            return
        if act.kind == ACT_SUSPEND:
            act.kind = 0
            load("suspend").suspend(self, ST_APP)
            return
        self.resp = act.response
        act.response = None
        self.pos = r.body_start
        if r.upload_size:
            if r.flags & F_EXPECT_100:
                # the client waits for 100 before sending: answer and close instead
                self.force_close = True
                self.stage = ST_REPLY
            else:
                self.stage = ST_BODY
        else:
            self.stage = ST_REPLY

    def _reply(self):
        """Plan the reply, write its header after any pipelined bytes, and a small body with it."""
        if self.rlen > self.pos:
            self._compact()
        else:
            self.rlen = self.pos = 0
        self._plan()
        p = self._write_head()
        if p >= 0:
            self._first_segment(p)
            self.stage = ST_SEND

    def _compact(self):
        # the request is answered: pipelined bytes after it go to the front of the buffer
        left = self.rlen - self.pos
        if self.pos:
            self.buf[0:left] = self.mv[self.pos:self.rlen]
        self.pos = 0
        self.rlen = left

    def _plan(self):
        """Framing and persistence: https://www.rfc-editor.org/rfc/rfc9112#section-6.3 and 9.3"""
        resp = self.resp
        f = resp.flags
        r = self.req
        # no body for 1xx, 204 and 304 (RFC 9110 section 6.4.1), nor for HEAD
        self.no_body = resp.sc < 200 or resp.sc == 204 or resp.sc == 304
        self.head = r.method == _M_HEAD or f & _RF_HEAD_ONLY
        unknown = resp.size == _resp.SIZE_UNKNOWN
        self.chunked = bool((unknown or f & _RF_CHUNKED) and not self.no_body and not (
            r.version == 1 or f & (_RF_HTTP10_STRICT | _RF_HTTP10_SERVER)))
        self.keep = not (r.flags & (F_CLOSE | F_MUST_CLOSE) or f & (_RF_CONN_CLOSE | _RF_HTTP10_STRICT)
                         or self.force_close or self.daemon.quiesced or (unknown and not self.chunked and not self.head))
        self.body_left = 0 if self.head or self.no_body else (-1 if unknown else resp.size)

    def _write_head(self):
        """Status line and header fields at buf[rlen:]. Returns their end, or -1 if the
        connection had to be closed."""
        resp = self.resp
        b = self.buf
        sl = status_line(resp.sc, resp.flags & _RF_HTTP10_SERVER)
        if self.rlen + len(sl) + _HEAD_MORE + len(resp.hdrs) > len(b):
            if len(sl) + _HEAD_MORE + len(resp.hdrs) > len(b):
                self.daemon.log(50231, "reply header does not fit in the connection buffer")
                self.close(_ENDED_NO_RESOURCES)
                return -1
            self.rlen = 0  # drop the pipelined requests: the client must retry them
            self.keep = False
        self.ws = self.rlen
        p = _put(b, self.rlen, sl)
        if not resp.flags & _RF_HAS_DATE:
            p = _put(b, p, self.daemon.date_now)  # refreshed by the daemon at each wake-up
        if resp.tail is not None and self.keep and not self.chunked and self.req.version == 2:
            return _put(b, p, resp.tail)  # a reusable response's fields, made once
        sl = p
        p = _put(b, self._framing(p), resp.hdrs)
        p = _put(b, p, _CRLF)
        if resp.flags & _RF_REUSABLE and self.keep and not self.chunked and self.req.version == 2:
            resp.tail = bytes(self.mv[sl:p])
        return p

    def _framing(self, p):
        """Connection, and Content-Length or Transfer-Encoding."""
        b = self.buf
        if not self.keep:
            p = _put(b, p, _CONN_CLOSE)
        elif self.req.version == 1:
            p = _put(b, p, _CONN_KEEP_ALIVE)
        if self.chunked:
            return _put(b, p, _TE_CHUNKED)
        resp = self.resp
        if self.no_body or resp.size == _resp.SIZE_UNKNOWN or resp.flags & (_RF_HAS_CL | _RF_HEAD_ONLY):
            return p
        p = _put(b, p, _CL)
        p = _put_uint(b, p, resp.size, 10)
        return _put(b, p, _CRLF)

    def _first_segment(self, p):
        """The header is buf[ws:p]; a small buffer body joins it, to leave in one send."""
        b = self.buf
        resp = self.resp
        n = resp.size
        self.body_pos = 0
        self.footers = None
        self.part = _P_HEAD
        if not self.body_left:
            if self.chunked and not self.head and not self.no_body:
                p = _put(b, p, _LAST_CHUNK)
            self.part = _P_TAIL
        elif resp.kind == _K_BUFFER and p + n + 27 <= len(b):
            if self.chunked:
                p = _put_uint(b, p, n, 16)
                p = _put(b, p, _CRLF)
            b[p:p + n] = resp.data
            p += n
            if self.chunked:
                p = _put(b, p, _CHUNK_END)
            self.body_left = 0
            self.part = _P_TAIL
        self.out = b
        self.out_off = self.ws
        self.out_end = p

    def _next_part(self):
        """Set up the next segment of the reply. Returns False when there is none: the reply
        is complete, or the stage changed (closed, or suspended by dyn_cont). A reply sent in
        one piece (the usual small one) needs nothing more; anything else is body.py's."""
        if self.part >= _P_TAIL and self.iov is None and not self.crlf_after:
            self.part = _P_END
            return False
        return load("body").next_part(self)

    def _send(self):
        while True:
            if self.sendfile and not load("body").sendfile_step(self):
                return False
            if self.out_off < self.out_end:
                n = _write(self)
                if n is None:
                    return False
                if n < 0:
                    self.close(_ENDED_CLIENT_ABORT)
                    return False
                self.out_off += n
                self.last = ticks_ms()
                if self.out_off < self.out_end:
                    return False  # the socket is full: wait for POLLOUT
            elif self.part >= _P_TAIL and self.iov is None and not self.crlf_after:
                self.part = _P_END  # the whole reply went in the first segment: the usual case
                self.stage = ST_DONE
                return True
            elif not self._next_part():
                if self.stage == ST_SEND:
                    self.stage = ST_DONE
                    return True
                return False

    def _done(self):
        r = self.req
        resp = self.resp
        self.resp = None
        if resp is not None:
            if resp.ended is None:
                _resp.release(resp)
            else:
                self._ended(resp, _ENDED_COMPLETED_OK)
        self.out = None
        if not self.keep:
            self.close()
            return
        r.reset()
        self.stage = ST_HEAD
        if self.daemon.waiting and self.rlen == 0:
            self.daemon.release_work(self)  # idle now, and another connection waits for a buffer

    def _error(self, status):
        """Reply with an automatic error page, then close (errors.py)."""
        load("errors").reply_error(self, status)
