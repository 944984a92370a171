"""MHD2's external event loop mode on both runtimes: tests/apps/extloop_app.py drives the
daemon from its own select.poll, told by the registration callback what to watch. Requests,
keep-alive, many connections, a connection that must wait to send, an upgraded socket, and
the removals the callback hears (closed connections, daemon_destroy)."""
import socket
import time

from conftest import start_server
from wire import Client, build, connect, get

APP = "tests/apps/extloop_app.py"


class Probe:
    """A kept-alive connection that asks /stats: (registered, adds, changes, removals, send
    registrations, listening socket registered, bad contexts). A socket is registered at the end
    of the round that accepted it, so the probe asks once first, to be counted from then on."""

    def __init__(self, port):
        self.c = Client(port)
        self.get()

    def get(self):
        return tuple(int(x) for x in self.c.exchange(get("/stats")).body.split())

    def settle(self, registered, timeout=5):
        """The stats once `registered` sockets are watched."""
        deadline = time.time() + timeout
        while True:
            s = self.get()
            if s[0] == registered or time.time() > deadline:
                return s
            time.sleep(0.05)

    def close(self):
        self.c.close()


def test_requests_keep_alive_and_registrations(serve):
    srv = serve(script=APP)
    with Client(srv.port) as c:
        for _ in range(3):
            r = c.exchange(get("/"))
            assert (r.status, r.body) == (200, b"hello")
        r = c.exchange(get("/stats"))
        registered, adds, changes, removals, send, listen, bad = (int(x) for x in r.body.split())
        assert (registered, listen, bad) == (2, 1, 0)  # the listening socket and this connection
        assert adds == 2 + removals  # every earlier connection was forgotten
    p = Probe(srv.port)
    s = p.settle(2)  # that connection closed: the listening socket and the probe are watched
    assert s[0] == 2 and s[3] >= 1 and s[6] == 0
    p.close()


def test_many_connections(serve):
    srv = serve(script=APP)
    p = Probe(srv.port)
    before = p.settle(2)
    clients = [Client(srv.port) for _ in range(20)]
    try:
        for c in clients:
            c.send(get("/"))
        for c in clients:
            assert c.response().body == b"hello"
        for c in clients:  # a second round on each, kept alive
            c.send(get("/"))
        for c in clients:
            assert c.response().body == b"hello"
        assert p.get()[0] == 2 + 20
    finally:
        for c in clients:
            c.close()
    after = p.settle(2)
    assert after[3] - before[3] == 20 and after[6] == 0
    p.close()


def test_a_slow_reader_makes_the_connection_wait_to_send(serve):
    srv = serve(script=APP)
    s = connect(srv.port, timeout=10, rcvbuf=4096)
    p = Probe(srv.port)
    try:
        s.sendall(get("/big"))
        time.sleep(0.5)  # the server's socket fills up: it must wait for SEND
        data = bytearray()
        while b"\r\n\r\n" not in data or len(data) - data.index(b"\r\n\r\n") - 4 < 8 << 20:
            chunk = s.recv(1 << 20)
            assert chunk, bytes(data[:200])
            data += chunk
        assert data.startswith(b"HTTP/1.1 200 ") and b"\r\nContent-Length: 8388608\r\n" in data
        assert len(data) - data.index(b"\r\n\r\n") - 4 == 8 << 20
        assert p.get()[4] >= 1
        s.sendall(get("/"))  # back to RECV, kept alive
        assert s.recv(1000).endswith(b"\r\n\r\nhello")
    finally:
        s.close()
        p.close()


def test_upgraded_socket_joins_the_loop(serve):
    srv = serve(script=APP)
    p = Probe(srv.port)
    s = connect(srv.port)
    s.sendall(build("GET", "/echo", (("Host", "x"), ("Connection", "Upgrade"), ("Upgrade", "x-echo"))))
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101 ")
    for word in (b"one", b"two", b"three"):
        s.sendall(word)
        got = b""
        while len(got) < len(word):
            got += s.recv(100)
        assert got == word
    assert p.get()[0] == 3  # the listening socket, the upgraded one and the probe
    s.close()
    assert p.settle(2)[0] == 2
    p.close()


def test_destroy_forgets_every_socket(runtime):
    srv = start_server(runtime, APP)
    idle = Client(srv.port)
    assert idle.exchange(get("/")).body == b"hello"
    with Client(srv.port) as c:
        assert c.exchange(get("/quit")).body == b"bye"
    out = srv.proc.communicate(timeout=10)[0]
    idle.close()
    line = [x for x in out.splitlines() if x.startswith("destroyed")][0]
    registered, adds, removals, listen = (int(x) for x in line.split()[1:])
    assert registered == 0 and adds == removals and listen == 0, out


def test_memory_error_outside_a_request_is_one_round(serve):
    """A MemoryError in accepting a client (outside any request) ends that round only:
    daemon_process_reg_events reports SC_DAEMON_MEM_ALLOC_FAILURE, and the client is served
    at the next round, as daemon_process_blocking does (tests/test_low_memory.py)."""
    srv = serve(script=APP)
    with Client(srv.port) as c:
        assert c.exchange(get("/oom")).body == b"0"  # armed: the next accept raises
        with Client(srv.port) as victim:
            assert victim.exchange(get("/")).body == b"hello"
        assert c.exchange(get("/oom")).body == b"1"
        assert c.exchange(get("/")).body == b"hello"
