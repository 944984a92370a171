# The platform layer: the only place the core touches sockets, polling, clocks and the heap.
#
# This file is the MicroPython implementation (unix port, ESP32, RP2040). On CPython the
# `micropython` module is missing, so the same names come from port_cpython/platform.py.
# The core imports these names and nothing else from the runtime:
#
#   const(x)                      compile-time constant (MicroPython) / identity (CPython)
#   ticks_ms() ticks_diff(a, b) ticks_add(t, d)   wrap-safe millisecond clock
#   recv_into(sock, mv) -> n      n > 0 bytes read, 0 peer closed, None would block; OSError on reset
#   send(sock, buf, off, n) -> n  bytes written from buf[off:off+n], None would block; OSError on reset
#   listen(af, host, port, backlog) -> (sock, port)   non-blocking listening socket
#   accept(lsock) -> (sock, addr) or None
#   peer_key(addr)                hashable client IP (for per-IP limits)
#   close(sock)
#   Poller()                      register/modify/unregister(sock[, mask]); ipoll(ms) -> (sock, ev) pairs
#   gmtime()                      UTC time tuple of now
#   mem_free() mem_alloc() collect()
#   print_exception(e)
#   sendfile(sock, fd, off, n)    zero-copy file send (CPython only; None elsewhere)
#   HAS_IPV6 HAS_SENDFILE HAS_PIPE HAS_LARGE_FILE  what this runtime can do
#   array(typecode, init)         a table of numbers (the request's field offsets): array.array
#                                 here (no object per number); a list on CPython (quicker to fill)
try:
    from micropython import const  # (not `import micropython`: one global less)
except ImportError:  # CPython has no micropython module: use the CPython port
    from port_cpython.platform import *  # noqa: F401,F403
else:
    from array import array
    import gc
    import select
    import socket
    import sys
    import time

    ticks_ms = time.ticks_ms
    ticks_diff = time.ticks_diff
    ticks_add = time.ticks_add
    # Unbound stream methods: no wrapper call on the hot path. readinto returns None on EAGAIN,
    # write(buf, off, n) sends a slice without allocating one.
    recv_into = socket.socket.readinto
    send = socket.socket.write
    mem_free = gc.mem_free
    mem_alloc = gc.mem_alloc
    collect = gc.collect
    print_exception = sys.print_exception

    POLLIN = select.POLLIN
    POLLOUT = select.POLLOUT
    POLLERR = select.POLLERR
    POLLHUP = select.POLLHUP
    HAS_IPV6 = hasattr(socket, "AF_INET6")
    HAS_SENDFILE = False
    HAS_PIPE = False
    # file offsets are machine words (mp_off_t): past 2 GiB only on a 64-bit build (the unix
    # port on a 64-bit host); ESP32 and RP2040 are 32-bit, and littlefs caps files at 2 GiB
    HAS_LARGE_FILE = sys.maxsize > 0x7FFFFFFF
    sendfile = None

    gmtime = time.gmtime

    def listen(af, host, port, backlog):
        # setup code, in a module of its own: loaded by daemon_start, then let go
        from .platform_listen import listen
        return listen(af, host, port, backlog)

    # Nagle's algorithm holds a reply's second send until the client acknowledges the first,
    # and clients delay that ACK by 40 ms or more: every reply sent in two writes (a body that
    # does not fit beside the header) would wait that long. The unix port names neither
    # constant (Linux's numbers then); lwIP ports name theirs (modlwip's flag is not 1).
    _NODELAY = (getattr(socket, "IPPROTO_TCP", 6), getattr(socket, "TCP_NODELAY", 1))

    def accept(ls):
        try:
            s, addr = ls.accept()
        except OSError:  # EAGAIN, or the client went away before we accepted it
            return None
        try:
            s.setsockopt(_NODELAY[0], _NODELAY[1], 1)
        except OSError:  # gone already: its first read says so
            pass
        s.setblocking(False)
        return s, addr

    def peer_key(addr):
        # unix port: raw sockaddr bytes (family, port, address...); bare-metal ports: (ip, port)
        if isinstance(addr, tuple):
            return addr[0]
        return bytes(addr[4:8]) if addr[0] == 2 else bytes(addr[8:24])

    def close(s):
        try:
            s.close()
        except OSError:
            pass

    # select.poll is the poll set itself: register/modify/unregister, and ipoll(), whose result
    # tuples are reused, so polling allocates nothing (no wrapper: a Python call per round less)
    Poller = select.poll
