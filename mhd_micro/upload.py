# Request bodies: reading a body (Content-Length or chunked) through the connection's
# buffer. Today the engine reads past bodies the application did not ask for, so that the
# connection stays in sync; upload actions and the POST parser (a later issue) will hand
# the same bytes to the application here instead.
#
# The entry point is read_body(c), the worker of the connection's ST_BODY stage; the
# connection imports this module the first time a request carries a body.
from .platform import const
from .parser import MORE, DROP, F_CHUNKED
from .chunked import chunk_step, CH_DONE

_ST_REPLY = const(5)  # connection.ST_REPLY


def read_body(c):
    """Read past the request body (Content-Length or chunked) so that the next request on
    the connection starts at the right byte. Returns True when the stage moved on, False
    to wait for the socket."""
    r = c.req
    b = c.buf
    while True:
        pos = c.pos
        end = c.rlen
        if r.flags & F_CHUNKED:
            strict = c.daemon.strict
            while pos < end:
                p = chunk_step(r, b, pos, end, strict)
                if p == MORE:
                    break
                if p == DROP:
                    c._error(r.error)
                    return True
                r.received += r.data_e - r.data_s
                pos = p
                if r.chunk_left == CH_DONE:
                    break
            done = r.chunk_left == CH_DONE
        else:
            n = r.cl - r.received
            if n > end - pos:
                n = end - pos
            r.received += n
            pos += n
            done = r.received == r.cl
        c.pos = pos
        if done:
            c.stage = _ST_REPLY
            return True
        # keep the head, drop the body bytes consumed, read more after them
        keep = r.body_start
        if pos > keep:
            n = end - pos
            if n:
                b[keep:keep + n] = c.mv[pos:end]
            c.rlen = keep + n
            c.pos = keep
        if c.rlen == len(b):
            c._error(431 if r.chunk_left == -3 else 413)
            return True
        if not c.rready or not c._recv(c.rlen):
            return False
