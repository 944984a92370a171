# A WebSocket echo server on plain sockets and poll that uses only mhd_micro/websocket.py (the
# sans-I/O codec), so that the codec meets Autobahn|Testsuite on its own, whatever the daemon
# does (tests/test_autobahn_codec.py). Runs on CPython and on MicroPython's unix port:
#
#   <python> tests/apps/ws_codec_echo.py [--port N]
#
# Prints "listening on port N", then serves one connection at a time until killed. It echoes
# each message piece by piece as the decoder hands the pieces over (a message larger than the
# 4 KiB buffer goes back in several frames), answers pings, and closes as RFC 6455 says.
import select
import socket
import sys

sys.path.insert(0, ".")
from mhd_micro import websocket as ws  # noqa: E402

BUF = 4096


def listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if port or hasattr(s, "getsockname"):
        s.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
        port = port or s.getsockname()[1]
    else:  # MicroPython's sockets have no getsockname: try random ports of the dynamic range
        import random
        while True:
            port = 49152 + random.getrandbits(14)
            try:
                s.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
                break
            except OSError:
                pass
    s.listen(4)
    return s, port


# Non-blocking sockets and poll, on both runtimes: a blocking MicroPython socket's readinto
# waits until the whole buffer is filled.
class Conn:
    def __init__(self, sock):
        self.sock = sock
        sock.setblocking(False)
        self.poll = select.poll()
        self.poll.register(sock, select.POLLIN)

    def wait(self, ev):
        self.poll.modify(self.sock, ev)
        if not self.poll.poll(10000):
            raise OSError(110)  # ETIMEDOUT


def recv_into(c, mv):
    """Bytes read into mv (0: the peer closed)."""
    c.wait(select.POLLIN)
    if hasattr(c.sock, "recv_into"):
        return c.sock.recv_into(mv)
    return c.sock.readinto(mv) or 0  # MicroPython


def send_all(c, mv, n):
    p = 0
    while p < n:
        c.wait(select.POLLOUT)
        p += c.sock.send(mv[p:n]) or 0


def read_head(c, buf, mv):
    """Read the request head into buf; returns (head end, bytes read) or None."""
    n = 0
    while True:
        got = recv_into(c, mv[n:])
        if not got:
            return None
        n += got
        e = bytes(buf[:n]).find(b"\r\n\r\n")
        if e >= 0:
            return e + 4, n
        if n == len(buf):
            return None


def fields(head):
    """{lower-case name: value} of a request head (bytes); several lines joined with ", "."""
    out = {}
    for line in head.split(b"\r\n")[1:]:
        i = line.find(b":")
        if i > 0:
            name = line[:i].strip().lower()
            value = line[i + 1:].strip()
            out[name] = out[name] + b", " + value if name in out else value
    return out


def handshake(c, buf, mv):
    """Answer the opening handshake; returns the bytes read past the head, or -1."""
    got = read_head(c, buf, mv)
    if got is None:
        return -1
    e, n = got
    f = fields(bytes(buf[:e]))
    key = f.get(b"sec-websocket-key")
    status = ws.handshake_status(f.get(b"upgrade"), key, f.get(b"sec-websocket-version"))
    if status != 101:
        extra = b"%s: %s\r\n" % ws.VERSION_FIELD if status == 426 else b""
        reply = b"HTTP/1.1 %d Bad\r\nContent-Length: 0\r\nConnection: close\r\n%s\r\n" % (status, extra)
        send_all(c, memoryview(reply), len(reply))
        return -1
    reply = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Sec-WebSocket-Accept: " + ws.accept_key(key) + b"\r\n\r\n")
    send_all(c, memoryview(reply), len(reply))
    buf[0:n - e] = buf[e:n]
    return n - e


def echo(c, d, ev, buf, out, mv_out):
    """Answer one decoder event; False when the connection is to close."""
    if ev == ws.OP_TEXT or ev == ws.OP_BINARY:
        n = d.pos - d.start
        p = ws.frame_header(out, 0, ev if d.first else ws.OP_CONT, not d.msg, n)
        out[p:p + n] = buf[d.start:d.pos]
        send_all(c, mv_out, p + n)
        return True
    if ev == ws.OP_PING:
        send_all(c, mv_out, ws.write_control(out, 0, ws.OP_PONG, d.ctl, d.at))
        return True
    if ev == ws.OP_PONG:
        return True
    if ev == ws.OP_CLOSE:  # echo the code (section 5.5.1), then the server closes TCP first
        send_all(c, mv_out, ws.write_close(out, 0, d.code))
        return False
    send_all(c, mv_out, ws.write_close(out, 0, d.error))  # ERROR: fail the connection
    return False


def serve(c, buf, mv, out, mv_out, d):
    end = handshake(c, buf, mv)
    if end < 0:
        return
    d.reset()
    pos = 0
    while True:
        if pos == end:
            end = recv_into(c, mv)
            if not end:
                return
            pos = 0
        ev = d.feed(buf, pos, end)
        pos = d.pos
        if ev != ws.MORE and not echo(c, d, ev, buf, out, mv_out):
            return


def main():
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 0
    s, port = listen(port)
    print("listening on port %d" % port)
    buf = bytearray(BUF)
    out = bytearray(BUF + 16)
    d = ws.Decoder(max_size=16 << 20)
    while True:
        c, _ = s.accept()
        try:
            serve(Conn(c), buf, memoryview(buf), out, memoryview(out), d)
        except OSError as e:
            print("connection: %r" % (e,))
        c.close()


main()
