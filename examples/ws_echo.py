# A WebSocket echo server on mhd_micro: the handshake in the request callback, then
# action_upgrade, then RFC 6455 frames with mhd_micro.websocket (the sans-I/O codec) over the
# upgraded connection. Every connection is served from the daemon's one loop: the daemon's
# poll says when a socket can be read or written (upgraded_notify), nothing blocks, and a
# message larger than the buffers goes through in pieces. Runs on CPython and MicroPython:
#
#   python3 examples/ws_echo.py --port 9001
#
# Prints "listening on port N". Autobahn|Testsuite's fuzzing client is run against it
# (tools/autobahn.py, tests/test_websocket_server.py).
import sys

sys.path.insert(0, ".")  # run from the repository root: find mhd_micro (as .py or .mpy) there
import mhd_micro as mhd
from mhd_micro import websocket as ws

BUF = 4096
WAIT = mhd.WAIT_INDEFINITELY


class Echo:
    """One upgraded connection: the bytes read, the decoder, the frames to send."""

    def __init__(self, urh):
        self.urh = urh
        self.dec = ws.Decoder(max_size=16 * 1024 * 1024)
        self.inb = bytearray(BUF)
        self.pos = self.end = 0  # inb[pos:end]: read, not decoded yet
        self.out = bytearray(BUF + 14)  # one piece with its frame header fits when empty
        self.sent = self.queued = 0  # out[sent:queued]: to send
        self.closing = False

    def ready(self, readable, writable):
        """The daemon's poll: go on until the socket has nothing to read or cannot take more."""
        while True:
            if not self.flush():
                return self.wait(False, True)  # the client reads slower than it sends: wait
            if self.closing:
                mhd.upgraded_close(self.urh)
                return
            if self.pos == self.end:
                sc, n = mhd.upgraded_recv(self.urh, self.inb, 0)
                if sc == mhd.SC_UPGRADED_NET_TIMEOUT:
                    return self.wait(True, False)  # nothing more for now
                if sc != mhd.SC_OK or not n:
                    mhd.upgraded_close(self.urh)  # the client went away
                    return
                self.pos, self.end = 0, n
            self.step()

    def step(self):
        d = self.dec
        ev = d.feed(self.inb, self.pos, self.end)
        self.pos = d.pos
        if ev == ws.OP_TEXT or ev == ws.OP_BINARY:  # one piece of a message: back as it came
            n = d.stop - d.start
            p = ws.frame_header(self.out, 0, ev if d.first else ws.OP_CONT, d.last, n)
            self.out[p:p + n] = memoryview(self.inb)[d.start:d.stop]
            self.sent, self.queued = 0, p + n
        elif ev == ws.OP_PING:
            self.sent, self.queued = 0, ws.write_control(self.out, 0, ws.OP_PONG, d.ctl, d.clen)
        elif ev == ws.OP_CLOSE or ev == ws.ERROR:  # the peer's close, or its protocol error
            code = d.code if ev == ws.OP_CLOSE else d.error
            self.sent, self.queued = 0, ws.write_close(self.out, 0, code)
            self.closing = True

    def flush(self):
        """Send what is queued; True when all of it is out."""
        if self.sent < self.queued:
            sc, n = mhd.upgraded_send(self.urh, memoryview(self.out)[self.sent:self.queued], 0)
            if sc != mhd.SC_OK:
                self.sent = self.queued  # broken: nothing more will go out
                self.closing = True
                return True
            self.sent += n
        return self.sent == self.queued

    def wait(self, read, write):
        mhd.upgraded_notify(self.urh, on_ready, self, read, write)


def on_ready(echo, urh, readable, writable):
    echo.ready(readable, writable)


def on_upgraded(cls, request, urh):
    Echo(urh).ready(True, False)


def on_request(cls, request, path, method, upload_size):
    get = mhd.request_get_value
    h = mhd.VK_HEADER
    key = get(request, h, "Sec-WebSocket-Key")
    sc = ws.handshake_status(get(request, h, "Upgrade"), key, get(request, h, "Sec-WebSocket-Version"))
    if sc != 101 or method != mhd.HTTP_METHOD_GET:
        r = mhd.response_from_buffer_copy(400 if sc == 101 else sc, b"a WebSocket endpoint")
        if sc == 426:
            mhd.response_add_header(r, "Sec-WebSocket-Version", "13")
        return mhd.action_from_response(request, r)
    accept = ws.accept_key(key).decode()
    return mhd.action_upgrade(request, "websocket", on_upgraded, None, [("Sec-WebSocket-Accept", accept)])


def arg(name, default):
    argv = sys.argv
    for i in range(len(argv) - 1):
        if argv[i] == name:
            return argv[i + 1]
    return default


def main():
    d = mhd.daemon_create(on_request)
    rc = mhd.DAEMON_SET_OPTIONS(d, mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, int(arg("--port", "9001"))))
    if arg("--connections", None):
        rc = rc or mhd.daemon_set_option(d, mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(int(arg("--connections", None))))
    rc = rc or mhd.daemon_start(d)
    if rc != mhd.SC_OK:
        print("cannot start: status code", rc)
        sys.exit(1)
    print("listening on port", mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT)[1])
    flush = getattr(sys.stdout, "flush", None)
    if flush:
        flush()
    try:
        while True:
            mhd.daemon_process_blocking(d, mhd.WAIT_INDEFINITELY)
    except KeyboardInterrupt:
        pass
    mhd.daemon_destroy(d)


main()
