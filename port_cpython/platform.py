# The CPython side of mhd_micro's platform layer: the same names as mhd_micro/platform.py
# (see the list at its top), built on CPython's socket, select and time modules.
import gc
import os
from array import array as _array
import select
import socket
import sys
import time
import traceback

POLLIN = select.POLLIN
POLLOUT = select.POLLOUT
POLLERR = select.POLLERR
POLLHUP = select.POLLHUP
HAS_IPV6 = socket.has_ipv6
HAS_SENDFILE = hasattr(os, "sendfile")
HAS_PIPE = hasattr(os, "pipe")
HAS_LARGE_FILE = True  # Python ints, 64-bit off_t

# A millisecond clock, as MicroPython's time.ticks_ms, that never wraps (Python ints): no mask
# to apply, and ticks_diff and ticks_add are plain arithmetic. Applications do arithmetic on
# ticks too (examples/async_app.py adds ms to them), so they stay milliseconds.
_monotonic_ns = time.monotonic_ns


def const(x):
    return x


def ticks_ms():
    return _monotonic_ns() // 1000000


def ticks_add(t, d):
    return t + d


def ticks_diff(a, b):
    return a - b


def array(typecode, init):
    """A table of numbers, the request's field offsets (mhd_micro/platform.py): here a list of
    the array's numbers. CPython stores an int into a list without converting it, as an array
    must: the parser fills four per header field (-9% of CPython's instructions per request
    with a browser's head)."""
    return list(_array(typecode, init))


def recv_into(s, mv):
    try:
        return s.recv_into(mv)
    except BlockingIOError:
        return None


def send(s, buf, off, n):
    try:
        # a small slice is copied (one object, and quicker than a memoryview and its slice);
        # a large one, a body, is sent from a view
        return s.send(buf[off:off + n] if n <= 2048 else memoryview(buf)[off:off + n])
    except BlockingIOError:
        return None


def sendfile(s, fd, offset, n):
    """Zero-copy file send on a non-blocking socket: bytes sent, None if it would block."""
    try:
        return os.sendfile(s.fileno(), fd, offset, n)
    except BlockingIOError:
        return None


def listen(af, host, port, backlog):
    s = socket.socket(af, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if af == socket.AF_INET6 and host in ("::", ""):
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind((host, port))
        s.listen(backlog)
        s.setblocking(False)
        return s, s.getsockname()[1]
    except Exception:
        s.close()
        raise


def accept(ls):
    try:
        s, addr = ls.accept()
    except OSError:  # EAGAIN, or the client went away before we accepted it
        return None
    s.setblocking(False)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s, addr


def peer_key(addr):
    return addr[0] if isinstance(addr, tuple) else addr


def close(s):
    try:
        s.close()
    except OSError:
        pass


def gmtime():
    return time.gmtime()


def mem_free():
    return 0


def mem_alloc():
    return 0


collect = gc.collect


def print_exception(e):
    traceback.print_exception(type(e), e, e.__traceback__, file=sys.stderr)


class Poller:
    """select.poll keyed by socket object, as MicroPython's is: CPython's poll speaks fds."""

    def __init__(self):
        self._p = select.poll()
        self._by_fd = {}

    def register(self, s, mask):
        fd = s.fileno()
        self._by_fd[fd] = s
        self._p.register(fd, mask)

    def modify(self, s, mask):
        self._p.modify(s.fileno(), mask)

    def unregister(self, s):
        fd = s.fileno()
        self._by_fd.pop(fd, None)
        self._p.unregister(fd)

    def ipoll(self, timeout_ms):
        by_fd = self._by_fd
        return [(by_fd[fd], ev) for fd, ev in self._p.poll(timeout_ms) if fd in by_fd]
