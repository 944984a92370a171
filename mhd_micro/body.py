# The body of a reply that does not leave with its header: big buffers, iovec, files,
# pipes and dynamic content, with chunked framing, zero-copy segments and footers.
#
# The entry points are next_part(c), which sets up the next segment for Connection._send,
# and sendfile_step(c). The connection imports this module only for replies that need it,
# so a server that sends small buffers never loads it.
from .platform import const, ticks_ms
from . import response as _resp
from .connection import ST_SEND, _CRLF, _put, _put_uint
from .lazy import load

# private constants of connection.py and dcc.py (const names with "_" are not importable)
_P_BODY = const(1)
_P_TAIL = const(2)
_P_END = const(3)
_ENDED_CLIENT_ABORT = const(30)
_ENDED_BY_APP_ABORT = const(40)
_ENDED_BY_APP_ERROR = const(41)
_ENDED_FILE_ERROR = const(51)
_DCC_FINISH = const(2)
_DCC_SUSPEND = const(3)
_SC_DCC_ACTION_INVALID = const(60082)
_SC_FILE_READ_ERROR = const(50232)  # SC_REPLY_FILE_READ_ERROR
_SC_REPLY_FOOTER_TOO_LARGE = const(60103)  # SC_REPLY_HEADERS_TOO_LARGE


def sendfile_step(c):
    """Send the file with the platform's sendfile. Returns True when all of it is sent,
    False to wait for the socket (or when the connection was closed)."""
    resp = c.resp
    while c.body_left:
        try:
            n = resp.data.sendfile(c.sock, c.body_pos, c.body_left)
        except OSError:
            c.close(_ENDED_CLIENT_ABORT)
            return False
        if n is None:
            return False
        if not n:
            c.close(_ENDED_FILE_ERROR)  # the file shrank
            return False
        c.body_pos += n
        c.body_left -= n
        c.last = ticks_ms()
    c.sendfile = False
    c.out_off = c.out_end = 0
    return True


def next_part(c):
    """Set up the next segment of the reply. Returns False when there is none: the reply
    is complete, or the stage changed (closed, or suspended by dyn_cont)."""
    while True:
        iov = c.iov
        if iov is not None:
            i = c.iov_i
            if i < len(iov):
                c.iov_i = i + 1
                c.out = iov[i]
                c.out_off = 0
                c.out_end = len(iov[i])
                return True
            iov_done(c)
        if c.crlf_after:
            c.crlf_after = False
            c.out = _CRLF
            c.out_off = 0
            c.out_end = 2
            return True
        part = c.part
        if part == _P_TAIL or part == _P_END:
            c.part = _P_END
            return False
        c.part = _P_BODY
        if c.body_left:
            st = produce(c)
            if st == 1:
                return True
            if st < 0:
                return False
            if st == 2:
                continue
        # the body is complete: the chunked tail, with the footers if any
        c.part = _P_TAIL
        if not c.chunked:
            return False
        tail(c)
        return True

def produce(c):
    """The next piece of body. Returns 1 when a segment is ready, 2 when iov segments
    are queued, 0 when the body is complete, -1 when the connection stopped (closed or
    suspended)."""
    resp = c.resp
    k = resp.kind
    left = c.body_left
    chunked = c.chunked
    if k == _resp.K_BUFFER or k == _resp.K_IOVEC:
        c.iov = resp.data if k == _resp.K_IOVEC else (resp.data,)
        c.iov_i = 0
        c.crlf_after = chunked
        c.body_left = 0
        if chunked:  # one chunk: its size line, then the buffers
            p = _put_uint(c.buf, c.ws, resp.size, 16)
            c.out = c.buf
            c.out_off = c.ws
            c.out_end = _put(c.buf, p, _CRLF)
            return 1
        return 2
    if k == _resp.K_READER and resp.data.sendfile is not None and not chunked and left > 0:
        c.sendfile = True
        return 1
    b = c.buf
    ws = c.ws
    room = 24 if chunked else 0  # for the chunk-size line, written in front of the data
    s = ws + room
    cap = len(b) - s - (2 if chunked else 0)
    if 0 < left < cap:
        cap = left
    iov = None
    ext = None
    if k == _resp.K_READER:
        try:
            n = resp.data.read(c.body_pos, c.mv[s:s + cap])
        except OSError as e:
            c.daemon.log(_SC_FILE_READ_ERROR, "file read failed: %r" % (e,))
            n = -1
        if n <= 0:
            if n == 0 and left < 0:
                return 0  # end of the pipe
            c.close(_ENDED_FILE_ERROR)  # the file is shorter than promised, or unreadable
            return -1
        total = n
    else:
        ctx = c.dcc
        if ctx is None:
            from .dcc import Context
            ctx = c.dcc = Context(c.req)
        ctx.reset()
        act = c.daemon.call_safely(resp.data, resp.aux, ctx, c.body_pos, c.mv[s:s + cap], cap)
        kind = ctx.kind
        if act is None or act is not ctx or not kind:
            c.close(_ENDED_BY_APP_ABORT)
            return -1
        if kind == _DCC_SUSPEND:
            load("suspend").suspend(c, ST_SEND)
            return -1
        if kind == _DCC_FINISH:
            c.footers = ctx.footers
            if left > 0:
                c.keep = False  # fewer bytes than Content-Length: only a close ends it
            return 0
        n = ctx.size
        iov = ctx.iov
        ext = ctx.ext
        total = n
        if iov is not None:
            for part in iov:
                total += len(part)
        if n > cap or (left >= 0 and total > left):
            c.daemon.log(_SC_DCC_ACTION_INVALID, "dyn_cont gave more data than allowed")
            c.close(_ENDED_BY_APP_ERROR)
            return -1
        c.iov_fcb = ctx.iov_fcb
        c.iov_fcb_cls = ctx.iov_fcb_cls
    c.body_pos += total
    if left > 0:
        c.body_left = left - total
    p0 = s
    end = s + n
    if chunked:
        # chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF  (RFC 9112 section 7.1)
        ext = ext.encode() if ext else b""
        hl = 2 + (len(ext) + 1 if ext else 0)
        v = total
        while True:
            hl += 1
            v >>= 4
            if not v:
                break
        if hl > room:
            if n + hl + 2 > len(b) - ws:
                ext = b""  # no room for a long extension: it is optional, drop it
                hl = 2 + len(b"%x" % total)
            else:
                b[ws + hl:ws + hl + n] = c.mv[s:end]
                s = ws + hl
                end = s + n
        p0 = s - hl
        p = _put_uint(b, p0, total, 16)
        if ext:
            b[p] = 59  # ';'
            p = _put(b, p + 1, ext)
        _put(b, p, _CRLF)
        if iov is None:
            end = _put(b, end, _CRLF)
        else:
            c.crlf_after = True
    c.out = b
    c.out_off = p0
    c.out_end = end
    if iov is not None:
        c.iov = iov
        c.iov_i = 0
    return 1

def tail(c):
    """last-chunk trailer-section CRLF, with the footers of dcc_action_finish_with_footer."""
    b = c.buf
    p = _put(b, c.ws, b"0\r\n")  # the last chunk
    footers = c.footers
    if footers:
        for name, value in footers:
            line_len = len(name) + len(value) + 4
            if p + line_len + 2 > len(b):
                c.daemon.log(_SC_REPLY_FOOTER_TOO_LARGE, "footers do not fit the buffer: rest dropped")
                break
            p = _put(b, p, name.encode())
            p = _put(b, p, b": ")
            p = _put(b, p, value.encode())
            p = _put(b, p, _CRLF)
    c.out = b
    c.out_off = c.ws
    c.out_end = _put(b, p, _CRLF)

def iov_done(c):
    c.iov = None
    fcb = c.iov_fcb
    if fcb is not None:
        c.iov_fcb = None
        c.daemon.call_safely(fcb, c.iov_fcb_cls)

