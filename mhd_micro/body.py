# Reply bodies that do not leave with their header: big buffers, iovec, files, pipes and
# dynamic content, with chunked framing (framing.py), zero-copy segments and footers.
#
# The entry point is BodyWriter: one per connection slot, made the first time that slot
# sends such a body. Connection._reply calls start(c) once the header is written, then
# Connection._send calls next(c) each time a segment is out; next queues the following one
# with Connection.queue. The connection loads this module only for replies that need it, so
# a server that sends small buffers never loads it.
from .platform import const
from . import response as _resp
from .framing import FR_CHUNKED
from .lazy import load

_ST_SEND = const(6)  # = connection._ST_SEND
_CRLF = b"\r\n"
_REQUEST_ENDED_CLIENT_ABORT = const(30)  # = mhd.REQUEST_ENDED_CLIENT_ABORT
_REQUEST_ENDED_BY_APP_ABORT = const(40)  # = mhd.REQUEST_ENDED_BY_APP_ABORT
_REQUEST_ENDED_BY_APP_ERROR = const(41)  # = mhd.REQUEST_ENDED_BY_APP_ERROR
_REQUEST_ENDED_FILE_ERROR = const(51)  # = mhd.REQUEST_ENDED_FILE_ERROR
_DCC_FINISH = const(2)  # = dcc.DCC_FINISH
_DCC_SUSPEND = const(3)  # = dcc.DCC_SUSPEND
_SC_DCC_ACTION_INVALID = const(60082)  # = mhd.SC_DCC_ACTION_INVALID
_SC_REPLY_FILE_READ_ERROR = const(50232)  # = mhd.SC_REPLY_FILE_READ_ERROR
_SC_REPLY_HEADERS_TOO_LARGE = const(60103)  # = mhd.SC_REPLY_HEADERS_TOO_LARGE; the footers
_FR_NO_BYTES = const(12)  # = framing._FR_HEAD | framing._FR_NO_BODY; no body bytes at all
_SIZE_UNKNOWN = const(0xFFFFFFFFFFFFFFFF)  # = response.SIZE_UNKNOWN
_CHUNK_ROOM = const(24)  # kept in front of produced data for its chunk-size line
# what _produce did (its helpers give a count, or one of the last two)
_QUEUED = const(1)  # a segment is queued
_GO_ON = const(2)  # buffers to send as they are, or a sendfile, are set up: go on
_STOPPED = const(-1)  # the connection was closed or suspended
_COMPLETE = const(-2)  # the body is complete


class BodyWriter:
    def __init__(self):
        self.left = 0  # body bytes still due; -1: unknown, until the source ends
        self.pos = 0  # body bytes produced so far
        self.footers = None  # dcc_action_finish_with_footer's, for the chunked tail
        self.iov = None  # buffers to send as they are (iovec, zero-copy dyn_cont)...
        self.iov_i = 0  # ...from this one on
        self.iov_fcb = None  # zero-copy: run once those buffers are sent
        self.iov_fcb_cls = None
        self.crlf_after = False  # the CRLF that ends a chunk goes after the iov buffers
        self.sendfile = False  # the file goes with the platform's sendfile
        self.dcc = None  # the dyn_cont Context (dcc.py), made on first need

    def start(self, c):
        """Connection c's reply header is written; its body follows."""
        size = c.resp.size
        self.left = 0 if c.framing & _FR_NO_BYTES else (-1 if size == _SIZE_UNKNOWN else size)
        self.pos = 0
        self.footers = None

    def drop(self, c):
        """The reply ends before its body is sent: zero-copy callbacks run now."""
        if self.iov is not None:
            self._iov_done(c)
        self.crlf_after = False
        self.sendfile = False

    def next(self, c):
        """Queue connection c's next segment (Connection.queue), the last one marked final.
        Returns False when c must wait for its socket (sendfile) or stopped (closed, or
        suspended by dyn_cont)."""
        while True:
            if self.sendfile and not self._sendfile(c):
                return False
            iov = self.iov
            if iov is not None:
                i = self.iov_i
                if i < len(iov):
                    self.iov_i = i + 1
                    c.queue(iov[i], 0, len(iov[i]), False)
                    return True
                self._iov_done(c)
            if self.crlf_after:
                self.crlf_after = False
                c.queue(_CRLF, 0, 2, False)
                return True
            if self.left:
                st = self._produce(c)
                if st == _QUEUED:
                    return True
                if st == _STOPPED:
                    return False
                if st == _GO_ON:
                    continue
            # the body is complete: the chunked tail, with the footers if any
            if c.framing & FR_CHUNKED:
                self._tail(c)
            else:
                c.queue(None, 0, 0, True)
            return True

    def _sendfile(self, c):
        """Send the file with the platform's sendfile. Returns True when all of it is sent,
        False to wait for the socket (or when the connection was closed)."""
        src = c.resp.data
        while self.left:
            try:
                n = src.sendfile(c.sock, self.pos, self.left)
            except OSError:
                c.close(_REQUEST_ENDED_CLIENT_ABORT)
                return False
            if n is None:
                return False
            if not n:
                c.close(_REQUEST_ENDED_FILE_ERROR)  # the file shrank
                return False
            self.pos += n
            self.left -= n
        self.sendfile = False
        return True

    def _produce(self, c):
        """The next piece of body: _QUEUED, _GO_ON, _COMPLETE or _STOPPED."""
        resp = c.resp
        k = resp.kind
        chunked = c.framing & FR_CHUNKED
        if k == _resp.K_BUFFER or k == _resp.K_IOVEC:
            self.iov = resp.data if k == _resp.K_IOVEC else (resp.data,)
            self.iov_i = 0
            self.crlf_after = bool(chunked)
            self.left = 0
            if chunked:  # one chunk: its size line, then the buffers
                end = load("chunked").chunk_header(c.buf, c.rlen, resp.size, None)
                c.queue(c.buf, c.rlen, end, False)
                return _QUEUED
            return _GO_ON
        # sendfile writes to the socket underneath: never on TLS, whose bytes are encrypted
        if k == _resp.K_READER and resp.data.sendfile is not None and not chunked and self.left > 0 and c.daemon.tls is None:
            self.sendfile = True
            return _GO_ON
        # the data is written behind room for its chunk-size line; dyn_cont may add buffers
        s = c.rlen + (_CHUNK_ROOM if chunked else 0)
        cap = len(c.buf) - s - (2 if chunked else 0)
        if 0 < self.left < cap:
            cap = self.left
        if k == _resp.K_READER:
            n = self._read_file(c, s, cap)
            if n < 0:
                return n
            total = n
        else:
            n = self._call_dyn_cont(c, s, cap)
            if n < 0:
                return n
            total = n
            if self.iov is not None:
                for part in self.iov:
                    total += len(part)
            if n > cap or (self.left >= 0 and total > self.left):
                c.daemon.log(_SC_DCC_ACTION_INVALID, "dyn_cont gave more data than allowed")
                c.close(_REQUEST_ENDED_BY_APP_ERROR)
                return _STOPPED
        self.pos += total
        if self.left > 0:
            self.left -= total
        if chunked:
            self._chunk(c, s, n, total)
        else:
            c.queue(c.buf, s, s + n, False)
        return _QUEUED

    def _read_file(self, c, s, size):
        """File or pipe bytes into c.buf[s:s + size]: their count (> 0), or _COMPLETE or _STOPPED."""
        try:
            n = c.resp.data.read(self.pos, c.mv[s:s + size])
        except OSError as e:
            c.daemon.log(_SC_REPLY_FILE_READ_ERROR, "file read failed: %r" % (e,))
            n = -1
        if n <= 0:
            if n == 0 and self.left < 0:
                return _COMPLETE  # the end of the pipe
            c.close(_REQUEST_ENDED_FILE_ERROR)  # the file is shorter than promised, or unreadable
            return _STOPPED
        return n

    def _call_dyn_cont(self, c, s, size):
        """dyn_cont writes into c.buf[s:s + size]: the count it wrote (0 when it gave only
        zero-copy buffers, kept in self.iov), or _COMPLETE or _STOPPED."""
        resp = c.resp
        ctx = self.dcc
        if ctx is None:
            from .dcc import Context
            ctx = self.dcc = Context(c.req)
        ctx.request = c.req  # the request state comes with the buffer lent to this connection
        ctx.reset()
        act = c.daemon.call_safely(resp.data, resp.aux, ctx, self.pos, c.mv[s:s + size], size)
        if act is None or act is not ctx or not ctx.kind:
            c.close(_REQUEST_ENDED_BY_APP_ABORT)
            return _STOPPED
        if ctx.kind == _DCC_SUSPEND:
            c.suspend(_ST_SEND)
            return _STOPPED
        if ctx.kind == _DCC_FINISH:
            self.footers = ctx.footers
            if self.left > 0:
                c.close_after_reply()  # fewer bytes than Content-Length: only a close ends it
            return _COMPLETE
        self.iov = ctx.iov
        self.iov_i = 0
        self.iov_fcb = ctx.iov_fcb
        self.iov_fcb_cls = ctx.iov_fcb_cls
        return ctx.size

    def _chunk(self, c, s, n, size):
        """Frame the n bytes at c.buf[s:] and the iov buffers after them (size bytes) as one
        chunk, with dyn_cont's extension, and queue it."""
        b = c.buf
        at = c.rlen
        chunked = load("chunked")  # the chunk lines' writers
        ext = self.dcc.ext if c.resp.kind == _resp.K_CALLBACK else None
        ext = ext.encode() if ext else None
        hl = chunked.chunk_header_size(size, ext)
        if hl > _CHUNK_ROOM:
            if n + hl + 2 > len(b) - at:
                ext = None  # no room for a long extension: it is optional, drop it
                hl = chunked.chunk_header_size(size, None)
            else:  # move the data to make room for the long size line
                b[at + hl:at + hl + n] = c.mv[s:s + n]
                s = at + hl
        chunked.chunk_header(b, s - hl, size, ext)
        end = s + n
        if self.iov is None:
            b[end:end + 2] = _CRLF
            end += 2
        else:
            self.crlf_after = True
        c.queue(b, s - hl, end, False)

    def _tail(self, c):
        """last-chunk, the footers of dcc_action_finish_with_footer, the empty line."""
        b = c.buf
        chunked = load("chunked")
        if self.footers and c.rlen + chunked.trailer_size(self.footers) > len(b):
            c.daemon.log(_SC_REPLY_HEADERS_TOO_LARGE, "footers do not fit the buffer: rest dropped")
        c.queue(b, c.rlen, chunked.trailer(b, c.rlen, self.footers), True)

    def _iov_done(self, c):
        self.iov = None
        fcb = self.iov_fcb
        if fcb is not None:
            self.iov_fcb = None
            c.daemon.call_safely(fcb, self.iov_fcb_cls)
