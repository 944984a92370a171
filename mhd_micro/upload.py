# Request bodies: reading a body (Content-Length or chunked) through the connection's
# buffer. Today the engine reads past bodies the application did not ask for, so that the
# connection stays in sync; upload actions and the POST parser (a later issue) will hand
# the same bytes to the application here instead.
#
# The entry point is read_body(c), the worker of the connection's ST_BODY stage; the
# connection loads this module the first time a request carries a body. The chunked
# framing is parsed by chunked.py (sans-I/O); the connection moves the bytes.
from .parser import MORE, F_CHUNKED
from .chunked import chunk_step, CH_DONE, CHUNK_BROKEN, CH_TRAILER


def read_body(c):
    """Read past the request body (Content-Length or chunked) so that the next request on
    the connection starts at the right byte. Returns True when the stage moved on, False
    to wait for the socket."""
    r = c.req
    while True:
        if r.flags & F_CHUNKED:
            pos = _chunked(c, r)
            if pos < 0:
                c.fail(r.error)
                return True
            done = r.chunk_left == CH_DONE
        else:
            pos = c.pos + min(r.cl - r.received, c.rlen - c.pos)
            r.received += pos - c.pos
            done = r.received == r.cl
        if done:
            c.body_complete(pos)
            return True
        c.consume_body(pos)  # keep the head, drop the body bytes read, read more after them
        if c.rlen == len(c.buf):
            c.fail(431 if r.chunk_left == CH_TRAILER else 413)
            return True
        if not c.rready or not c.receive():
            return False


def _chunked(c, r):
    """Step the chunked framing over the bytes held; returns the position reached, or -1
    on an error (its status in r.error)."""
    pos = c.pos
    end = c.rlen
    strict = c.daemon.strict
    while pos < end:
        p = chunk_step(r, c.buf, pos, end, strict)
        if p == MORE:
            break
        if p == CHUNK_BROKEN:
            return -1
        r.received += r.data_end - r.data_start
        pos = p
        if r.chunk_left == CH_DONE:
            break
    return pos
