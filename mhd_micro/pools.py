# The fixed pools: the second half of daemon_start. Every connection slot (buffer, request,
# action) and every pooled response is made here, once; after this, serving takes no new
# memory. Setup code: the package loads this module for daemon_start and lets it go.
#
# The entry point is alloc(daemon); options.py reads the default limit for the listen backlog.
import sys

from .platform import const, collect, mem_free, Poller, POLLIN
from .connection import Connection, new_lease
from . import response as _resp
from .framing import keep_status_line
from .lazy import load

_SC_OK = const(0)  # = mhd.SC_OK
_SC_DAEMON_MEM_ALLOC_FAILURE = const(30081)  # = mhd.SC_DAEMON_MEM_ALLOC_FAILURE
_SC_DAEMON_STARTED = const(10000)  # = mhd.SC_DAEMON_STARTED
_D_O_LOG_MEMORY = const(10002)  # = mhd.D_O_LOG_MEMORY
_D_O_GLOBAL_CONNECTION_LIMIT = const(161)  # = mhd.D_O_GLOBAL_CONNECTION_LIMIT
_D_O_CONN_MEMORY_LIMIT = const(280)  # = mhd.D_O_CONN_MEMORY_LIMIT
_D_O_RESPONSE_POOL_SIZE = const(10001)  # = mhd.D_O_RESPONSE_POOL_SIZE
_D_O_CONN_BUFFER_POOL_SIZE = const(10003)  # = mhd.D_O_CONN_BUFFER_POOL_SIZE
_D_O_LARGE_POOL_SIZE = const(281)  # = mhd.D_O_LARGE_POOL_SIZE
_D_O_RANDOM_ENTROPY = const(400)  # = mhd.D_O_RANDOM_ENTROPY
# the usual status lines, kept at start (framing.keep_status_line)
_USUAL_STATUS = ((200, b"HTTP/1.1 200 OK\r\n"), (400, b"HTTP/1.1 400 Bad Request\r\n"),
                 (404, b"HTTP/1.1 404 Not Found\r\n"), (503, b"HTTP/1.1 503 Service Unavailable\r\n"))
_ROOM_TO_LOAD = const(6144)  # body.py, the largest module loaded on first need, takes ~5 KB

# small boards get small defaults; the options override both
_SMALL = 0 < mem_free() < 4 * 1024 * 1024
DEFAULT_CONN_LIMIT = 8 if _SMALL else 64
DEFAULT_CONN_MEMORY = 1024 if _SMALL else 16384
DEFAULT_RESPONSE_POOL = 8 if _SMALL else 128
DEFAULT_LARGE_POOL = 0 if _SMALL else 1024 * 1024  # a board's application sizes its own


def alloc(d):
    """Take every slot, buffer and pooled response for the started daemon `d` (options.start
    opened its socket). Returns SC_OK, or SC_DAEMON_MEM_ALLOC_FAILURE with the numbers logged."""
    s = d.setup
    limit = s.get(_D_O_GLOBAL_CONNECTION_LIMIT, (0,))[0] or DEFAULT_CONN_LIMIT
    size = max(256, s.get(_D_O_CONN_MEMORY_LIMIT, (DEFAULT_CONN_MEMORY,))[0])  # MHD's minimum pool
    pool = s.get(_D_O_RESPONSE_POOL_SIZE, (DEFAULT_RESPONSE_POOL,))[0]
    nbuf = min(limit, s.get(_D_O_CONN_BUFFER_POOL_SIZE, (0,))[0] or limit)
    large = s.get(_D_O_LARGE_POOL_SIZE, (DEFAULT_LARGE_POOL,))[0]
    for code, line in _USUAL_STATUS:
        # copies, made low in the heap: this module's own constants would stay behind, amid
        # the room it leaves once it is let go, where the modules loaded on first need go
        keep_status_line(code, bytes(memoryview(line)))
    collect()
    # MicroPython: refuse with the numbers before taking half of the heap. Per buffer: the
    # buffer, the header index (size // 3), ~90 words of request state; ~52 words a
    # connection; ~28 words a response (measured on the unix port and on 32-bit, a little
    # under: what fits is never refused)
    w = 8 if sys.maxsize > 0x7FFFFFFF else 4
    need = nbuf * (size + size // 3 + 90 * w) + limit * 52 * w + max(0, pool - _resp.pool_made()) * 28 * w + large
    if mem_free() and need > mem_free():
        return _no_room(d, limit, size, pool, need)
    try:
        if _D_O_RANDOM_ENTROPY in s:
            # Digest authentication's nonce table, only for a daemon that has it; its module
            # (11 KB of heap on the unix port) is loaded now, before the buffers cut the heap
            # into pieces, rather than at the first request
            d.dauth = load("auth_digest").table(s, _SMALL)
            collect()
        # the buffers first, while the free heap is in its largest pieces; a collection
        # after each one frees the garbage of its instance dicts' growth before the next
        d.leases = [None] * nbuf
        for i in range(nbuf):
            d.leases[i] = new_lease(size, max(8, size // 24))
            collect()
        d.nfree = nbuf
        d.slots = tuple(Connection(d) for _ in range(limit))
        _resp.pool_reserve(pool)
        if large:  # one region at most per request in progress: nbuf of them
            d.large = bytearray(large)
            d.large_used = [0] * (2 * nbuf)
        d.scratch = bytearray(160)
        d.poller = Poller()
        # the socket table at its full size now: a dict keeps its room when keys go, so adding
        # a client never needs heap (a MemoryError there would leave a slot open but unknown)
        # (keys hashed as sockets are: small ints would leave MicroPython's table smaller)
        keys = [object() for _ in range(limit + 1)]
        for k in keys:
            d.by_sock[k] = None
        for k in keys:
            del d.by_sock[k]
    except MemoryError:
        d.slots = d.leases = ()  # let go of what was taken, so the report says what is free
        d.nfree = 0
        collect()
        return _no_room(d, limit, size, pool, 0)
    if d.lsock is not None:
        d.poller.register(d.lsock, POLLIN)
    collect()
    left = mem_free()
    if s.get(_D_O_LOG_MEMORY, (False,))[0]:
        shared = " (sharing %d buffers)" % nbuf if nbuf < limit else ""
        d.log(_SC_DAEMON_STARTED, "took %d connections x %d bytes%s, %d responses; heap free: %s"
              % (limit, size, shared, pool, left or "n/a"))
    warn_if_tight(d, left)
    d.setup = None
    d.started = True
    return _SC_OK


def warn_if_tight(d, left):
    """Log it when `left` bytes of heap (0: unknown, CPython) are too few for the modules
    loaded on first need: say it at start, not at the first request that needs one and cannot
    load it. Returns whether it warned."""
    if 0 < left < _ROOM_TO_LOAD:
        d.log(_SC_DAEMON_STARTED, "only %d bytes of heap left after the pools: error replies, request "
              "bodies and multi-part replies load on first need and may not fit" % left)
        return True
    return False


def _no_room(d, limit, size, pool, need):
    load("stop").close_listener(d)
    d.log(_SC_DAEMON_MEM_ALLOC_FAILURE, "cannot start: %d connections x %d bytes, %d responses "
          "(%s bytes) do not fit in %d bytes of free heap: lower D_OPTION_GLOBAL_CONNECTION_LIMIT or "
          "D_OPTION_CONN_MEMORY_LIMIT" % (limit, size, pool, need or "?", mem_free()))
    return _SC_DAEMON_MEM_ALLOC_FAILURE
