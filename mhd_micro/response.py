# Responses: status, headers and a body source, from a fixed pool, reference counted.
#
# The entry points are the response_from_* constructors and response_destroy; headers are
# added by response_headers.py, options set by response_options.py. The connection reads
# a response through its fields (sc, hdrs, flags, kind, data, size) and gives it back with
# release().
#
# Rules (MHD2 manual, "Responses"): a response is frozen once it became an action; a
# response that is not reusable is consumed by its action; a reusable one is shared by any
# number of connections at once and lives until response_destroy and the last send.
from .platform import const

# response flags: options (R_O_*) and what the application's own headers said
RF_REUSABLE = const(1)
RF_HEAD_ONLY = const(2)
RF_CHUNKED = const(4)
RF_CONN_CLOSE = const(8)
RF_HTTP10_STRICT = const(16)
RF_HTTP10_SERVER = const(32)
RF_INSANITY_CL = const(64)
RF_HAS_DATE = const(128)
RF_HAS_CL = const(256)
RF_FROZEN = const(512)  # became an action: headers and options are final
RF_NONCES = const(1024)  # has Digest challenges: new nonces each time it is sent (auth_digest.fill_nonces)

# body kinds
K_BUFFER = const(1)  # data: a bytes-like object sent as it is
K_IOVEC = const(2)  # data: a tuple of bytes-like objects, sent one after the other
K_READER = const(3)  # data: a Source of fd.py (read, sendfile, close)
K_CALLBACK = const(4)  # data: dyn_cont(aux, ctx, pos, buf, max) -> DCC action (dcc.py)

from .parser import SIZE_UNKNOWN  # noqa: E402 (one definition, for the package's API too)

class Response:
    # Few attributes on purpose: on MicroPython each one costs every pooled response a slot
    # in its instance dict. Rare things go in pairs: free = (cb, cls), ended = (cb, cls).
    def __init__(self):
        self.clear()

    def clear(self):
        self.sc = 0
        self.hdrs = b""  # the application's header lines, ready for the wire
        self.flags = 0
        self.refs = 0
        self.kind = 0
        self.data = None
        self.aux = None  # K_CALLBACK: dyn_cont_cls
        self.size = 0
        self.free = None  # (free_cb, free_cb_cls): run once the last reference goes
        self.ended = None  # (ended_cb, ended_cb_cls): R_O_TERMINATION_CALLBACK
        self.tail = None  # reusable: its header after Date, as a keep-alive HTTP/1.1 reply has it


# The pool: responses are made once (pool_reserve at daemon start) and recycled. _stack has
# one entry per response made; _stack[:_pool[_FREE]] are the free ones. Indexing, not
# pop/append, so the list never shrinks and grows back (a reallocation each time) under load.
# The counts are in one list so that the functions below need no `global`.
_MADE = const(0)  # responses made
_LIMIT = const(1)  # the most that may exist
_FREE = const(2)  # free, at the front of _stack
_stack = []
_pool = [0, 16, 0]


def pool_reserve(limit):
    """Set the pool size and make every response now, so serving allocates none."""
    _pool[_LIMIT] = limit
    while _pool[_MADE] < limit:
        _stack.append(None)
        _stack[_pool[_FREE]] = Response()
        _pool[_MADE] += 1
        _pool[_FREE] += 1


def pool_made():
    return _pool[_MADE]


def pool_available():
    return _pool[_FREE] + _pool[_LIMIT] - _pool[_MADE]


def _new(sc, kind, data, size):
    if not 100 <= sc <= 999:
        return None
    n = _pool[_FREE]
    if n:
        n -= 1
        r = _stack[n]
        _stack[n] = None
        _pool[_FREE] = n
    elif _pool[_MADE] < _pool[_LIMIT]:
        r = Response()
        _stack.append(None)
        _pool[_MADE] += 1
    else:
        return None  # pool exhausted: the application's None closes the connection, as in MHD
    r.sc = sc
    r.kind = kind
    r.data = data
    r.size = size
    r.refs = 1
    return r


def release(r):
    """Drop one reference; the last one calls the free callback and recycles the response."""
    r.refs -= 1
    if r.refs > 0:
        return
    free = r.free
    if r.kind == K_READER:
        r.data.close()
    r.clear()
    _stack[_pool[_FREE]] = r
    _pool[_FREE] += 1
    if free is not None and free[0] is not None:
        free[0](free[1])


def response_from_buffer(sc, buffer, free_cb=None, free_cb_cls=None):
    """A response whose body is `buffer`, sent as it is (not copied); free_cb(free_cb_cls)
    runs once after the last use. None if sc is not a 3-digit status or the pool is empty."""
    r = _new(sc, K_BUFFER, buffer, len(buffer))
    if r is not None and free_cb is not None:
        r.free = (free_cb, free_cb_cls)
    return r


def response_from_buffer_static(sc, buffer):
    return _new(sc, K_BUFFER, buffer, len(buffer))


def response_from_buffer_copy(sc, buffer):
    return _new(sc, K_BUFFER, bytes(buffer), len(buffer))


def response_from_empty(sc):
    return _new(sc, K_BUFFER, b"", 0)


def response_from_iovec(sc, iov, free_cb=None, free_cb_cls=None):
    """A body made of several buffers sent in order, none copied (the list is copied).
    free_cb(free_cb_cls) runs once after the last use."""
    iov = tuple(iov)
    size = 0
    for part in iov:
        size += len(part)
    r = _new(sc, K_IOVEC, iov, size)
    if r is not None and free_cb is not None:
        r.free = (free_cb, free_cb_cls)
    return r


def response_from_callback(sc, size, dyn_cont, dyn_cont_cls=None, dyn_cont_fc=None):
    """A body produced by dyn_cont(dyn_cont_cls, ctx, pos, buf, max), which writes into the
    connection's buffer `buf` (a memoryview of max bytes) and returns a DCC action. `size`
    may be SIZE_UNKNOWN: chunked for HTTP/1.1 clients, close-delimited for HTTP/1.0.
    dyn_cont_fc(dyn_cont_cls) runs once when the response is destroyed."""
    if dyn_cont is None:
        return None
    r = _new(sc, K_CALLBACK, dyn_cont, size)
    if r is not None:
        r.aux = dyn_cont_cls
        if dyn_cont_fc is not None:
            r.free = (dyn_cont_fc, dyn_cont_cls)
    return r


def response_destroy(response):
    """Drop the application's reference: needed for reusable responses and unused ones."""
    if response is None or response.refs <= 0:
        return
    if response.flags & (RF_FROZEN | RF_REUSABLE) == RF_FROZEN:
        return  # consumed by its action: the connection owns the last reference
    release(response)
