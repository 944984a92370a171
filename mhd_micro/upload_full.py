# Full uploads (action_process_upload's uc_full): the body collected whole, in place behind
# the head in the connection's buffer when it fits, else in a region of the daemon's large
# pool (D_OPTION_LARGE_POOL_SIZE: one bytearray taken at start, lent in regions and given
# back when the callback returns or the client leaves); a body that outgrows it goes to the
# incremental callback. upload.py loads this module for full uploads only.
#
# The entry points are give(c, r, s, e), make_room(c, r), to_inc(c, r), alloc_large(d, n)
# and free_large(d, r).
from .platform import const
from . import upload as _up

_INC = const(1)  # = upload._INC


def action_process_upload_full(request, buff_size, uc, uc_cls=None):
    """action_process_upload with the full callback only (its macro in MHD)."""
    return _up.action_process_upload(request, buff_size, uc, uc_cls)


def give(c, r, s, e):
    """A full upload: the bytes join those collected, in the buffer behind the head or in
    the large pool. Returns False when the stage changed."""
    n = e - s
    if r.large_at < 0:
        at = r.body_start + r.got
        if at != s:
            c.buf[at:at + n] = c.mv[s:e]  # chunked: the framing between pieces goes
    else:
        size = r.action.args[0]
        if r.got + n > size:  # a chunked body larger than the full callback takes
            return to_inc(c, r) and _up.give(c, r, s, e)
        at = r.large_at + r.got
        c.daemon.large[at:at + n] = c.mv[s:e]
    r.got += n
    return True


def make_room(c, r):
    """A full upload's chunked body outgrows the connection's buffer: it moves to the large
    pool, else goes on piece by piece, else is refused. Returns False when the stage changed."""
    size = r.action.args[0]
    at = alloc_large(c.daemon, size) if r.got < size else -1
    if at >= 0:
        c.daemon.large[at:at + r.got] = c.mv[r.body_start:r.body_start + r.got]
        r.large_at = at
        c.consume_body(c.pos, r.body_start)  # the collected bytes left the buffer
        return True
    return to_inc(c, r)


def to_inc(c, r):
    """A full upload that does not fit goes to the incremental callback, from its first
    byte; without one, it is refused. Returns False when the stage changed."""
    if r.action.args[3] is None:
        c.fail(413)
        return False
    got = r.got
    r.body_mode = _INC
    if r.large_at >= 0:
        data = memoryview(c.daemon.large)[r.large_at:r.large_at + got]
        free_large(c.daemon, r)
    else:
        data = c.mv[r.body_start:r.body_start + got]
    # the bytes collected in the buffer are dropped by read_body's next consume_body
    return _up.answer(c, r, _up.call(c, r, got, data), False)


# -- the large pool: one bytearray taken at start, lent in regions -------------------------
# d.large_used holds (start, end) pairs sorted by start, d.large_n of them: at most one per
# request in progress, so its size is fixed at start.
def alloc_large(d, n):
    """A region of n bytes of the large pool: its start, or -1."""
    if d.large is None:
        return -1
    used = d.large_used
    k = d.large_n
    at = 0
    i = 0
    while i < k and used[2 * i] - at < n:
        at = used[2 * i + 1]
        i += 1
    if at + n > len(d.large) or 2 * k >= len(used):
        return -1
    j = k
    while j > i:
        used[2 * j] = used[2 * j - 2]
        used[2 * j + 1] = used[2 * j - 1]
        j -= 1
    used[2 * i] = at
    used[2 * i + 1] = at + n
    d.large_n = k + 1
    return at


def free_large(d, r):
    """Give back request r's region of the large pool, if it has one."""
    at = r.large_at
    if at < 0:
        return
    r.large_at = -1
    used = d.large_used
    k = d.large_n
    i = 0
    while i < k and used[2 * i] != at:
        i += 1
    while i < k - 1:
        used[2 * i] = used[2 * i + 2]
        used[2 * i + 1] = used[2 * i + 3]
        i += 1
    d.large_n = k - 1 if k else 0
