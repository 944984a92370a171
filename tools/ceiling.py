# The ceiling for tools/bench.py: the least an HTTP/1.1 server can do on this runtime. It uses
# the I/O the engine uses (non-blocking sockets, select.poll, one process, one thread),
# looks for the end of each request head (b"\r\n\r\n") and answers every request with the
# same canned bytes as examples/hello.py: same status line, a Date header of the same
# length, Content-Length, Content-Type text/plain and "Hello, world!", plus
# "Connection: close" (then a close) when the request asks for it or is HTTP/1.0 without
# keep-alive. No parsing, no callbacks, no pools: whatever the engine does on top of this is
# its cost.
#
#   python3 tools/ceiling.py --port 8080        micropython tools/ceiling.py --port 8080
#
# Prints "listening on port N", as hello.py does, then serves until interrupted.
# Options: --port N (0: any free port), --backlog N (the engine's default: 16).
import select
import socket
import sys
import time

try:
    import micropython  # noqa: F401
    MICRO = True
except ImportError:
    MICRO = False

BUF = 2048  # per connection, as the engine's small-board default
POLLIN = select.POLLIN
POLLOUT = select.POLLOUT
POLLERR = select.POLLERR
POLLHUP = select.POLLHUP

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date_line():
    t = time.gmtime()
    return ("Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n" % (
        _DAYS[t[6]], t[2], _MONTHS[t[1] - 1], t[0], t[3], t[4], t[5])).encode()


STATUS = b"HTTP/1.1 200 OK\r\n"
TAIL = b"Content-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, world!"
DATE = date_line()  # canned: formatted once (the engine formats it at most once a second)
REPLY = STATUS + DATE + TAIL
REPLY_CLOSE = STATUS + DATE + b"Connection: close\r\n" + TAIL


def arg(name, default):
    argv = sys.argv
    for i in range(len(argv) - 1):
        if argv[i] == name:
            return int(argv[i + 1])
    return default


def wants_close(buf, e):
    """Connection: close in the head buf[:e], or HTTP/1.0 without keep-alive. A cheap look
    ("onnection" matches both cases of the name), not a parser: enough for wrk, curl and the
    tests."""
    if buf.find(b"onnection: close", 0, e) > 0 or buf.find(b"onnection: Close", 0, e) > 0:
        return True
    if buf.find(b" HTTP/1.0\r\n", 0, e) < 0:
        return False
    return buf.find(b"onnection: keep-alive", 0, e) < 0 and buf.find(b"onnection: Keep-Alive", 0, e) < 0


class Conn:
    def __init__(self, sock, key):
        self.sock = sock
        self.key = key
        self.buf = bytearray(BUF)
        self.mv = memoryview(self.buf)
        self.n = 0  # bytes held in buf
        self.scan = 0  # where to look for the next end of head
        self.out = None  # the reply being sent
        self.off = 0
        self.end = 0
        self.close_after = False
        self.mask = POLLIN


if MICRO:
    # as the engine's platform layer: unbound stream methods, no Python frame in between.
    # readinto returns None on EAGAIN; write(buf, off, n) sends a slice without copying it.
    recv_into = socket.socket.readinto
    send = socket.socket.write

    def key(s):
        return s

    def nodelay(s):
        pass
else:
    def recv_into(sock, mv):
        try:
            return sock.recv_into(mv)
        except BlockingIOError:
            return None

    def send(sock, buf, off, n):
        try:
            return sock.send(memoryview(buf)[off:off + n])
        except BlockingIOError:
            return None

    def key(s):
        return s.fileno()

    def nodelay(s):  # the engine's CPython port sets it too
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def listen(port, backlog):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if port or not MICRO:
        s.bind(socket.getaddrinfo("0.0.0.0", port)[0][-1])
    else:  # MicroPython has no getsockname(): probe ports of the dynamic range
        import random
        for _ in range(64):
            port = random.getrandbits(14) + 49152
            try:
                s.bind(socket.getaddrinfo("0.0.0.0", port)[0][-1])
                break
            except OSError:
                pass
    s.listen(backlog)
    s.setblocking(False)
    if not port:
        port = s.getsockname()[1]
    return s, port


# The per-request functions are small on purpose: MicroPython takes the frame of a function
# with more than 11 words of state (locals + value stack + 3 per try) from the heap at every
# call (see tools/mpy_frames.py). Socket errors propagate to the loop, which closes the
# connection. Nothing here allocates per request on MicroPython.
poller = select.poll()
conns = {}  # key(sock) -> Conn


def close_conn(c):
    poller.unregister(c.sock)
    del conns[c.key]
    c.sock.close()


def flush_out(c):
    """Send what is pending. False when the connection is gone or must wait for POLLOUT."""
    while c.off < c.end:
        n = send(c.sock, c.out, c.off, c.end - c.off)
        if n is None:
            if c.mask != POLLOUT:
                poller.modify(c.sock, POLLOUT)
                c.mask = POLLOUT
            return False
        c.off += n
    c.out = None
    if c.close_after:
        close_conn(c)
        return False
    if c.mask != POLLIN:
        poller.modify(c.sock, POLLIN)
        c.mask = POLLIN
    return True


def serve(c):
    """Answer every complete request head in the buffer. False when the connection is gone
    or waits for POLLOUT."""
    buf = c.buf
    while True:
        e = buf.find(b"\r\n\r\n", c.scan, c.n)
        if e < 0:
            c.scan = c.n - 3 if c.n > 3 else 0
            if c.n == BUF:  # a head longer than the buffer: not what the bench sends
                close_conn(c)
                return False
            return True
        e += 4
        c.close_after = wants_close(buf, e)
        left = c.n - e  # pipelined bytes: keep them at the front
        if left:
            buf[0:left] = c.mv[e:c.n]
        c.n = left
        c.scan = 0
        c.out = REPLY_CLOSE if c.close_after else REPLY
        c.off = 0
        c.end = len(c.out)
        if not flush_out(c):
            return False


def readable(c):
    while True:
        n = recv_into(c.sock, c.mv[c.n:] if c.n else c.mv)
        if n is None:
            return
        if not n:
            close_conn(c)
            return
        c.n += n
        if not serve(c) or c.n < BUF:
            return  # gone, waiting to send, or a short read: the socket is drained


def main():
    lsock, port = listen(arg("--port", 8080), arg("--backlog", 16))
    poller.register(lsock, POLLIN)
    lkey = key(lsock)
    print("listening on port", port)
    flush = getattr(sys.stdout, "flush", None)
    if flush:
        flush()
    while True:
        accepting = False
        for t in (poller.ipoll(-1) if MICRO else poller.poll()):
            k = t[0]
            if k is lkey or k == lkey:
                accepting = True  # after the loop, as the engine: registering would disturb ipoll
                continue
            c = conns.get(k)
            if c is None:
                continue
            try:
                if c.out is not None:
                    if flush_out(c):
                        serve(c)
                else:
                    readable(c)
            except OSError:  # reset by the peer
                if c.key in conns:
                    close_conn(c)
        if accepting:
            for _ in range(8):  # as the engine: a batch of accepts per wake-up
                try:
                    s, _addr = lsock.accept()
                except OSError:
                    break
                s.setblocking(False)
                nodelay(s)
                c = Conn(s, key(s))
                conns[c.key] = c
                poller.register(s, POLLIN)
                try:
                    readable(c)  # clients send right after connecting: try at once, as the engine
                except OSError:
                    if c.key in conns:
                        close_conn(c)


try:
    main()
except KeyboardInterrupt:
    pass
