"""A daemon's life as the application drives it, on both runtimes (tests/apps/lifecycle_app.py):
daemon_process_nonblocking as the loop, the daemon's and the connection's info calls, the log
callback, the listening socket given or bound, and what daemon_destroy closes."""
import subprocess
import sys
import time

import pytest

from conftest import ROOT, free_port, micropython_cmd
from wire import Client, get, read_until_close

APP = "tests/apps/lifecycle_app.py"
SC_INFO_GET_TYPE_UNKNOWN = 60200
SC_INTERNAL_ERROR = 59900
SC_DAEMON_STARTED = 10000
SC_TOO_EARLY = 60000
WAIT_INDEFINITELY = 0xFFFFFFFFFFFFFFFF  # = mhd.WAIT_INDEFINITELY
REQUEST_ENDED_DAEMON_SHUTDOWN = 60


def body(c, path):
    return c.exchange(get(path)).body.decode()


def test_process_nonblocking_never_waits(serve):
    # the loop sleeps 5 ms between calls: while nothing happens the calls go on (the server
    # has no timeouts, so a call that waited would wait for the next request), and they serve
    srv = serve("--port", free_port(), script=APP)
    with Client(srv.port) as c:
        first = int(body(c, "/rounds"))
        time.sleep(1.0)
        assert int(body(c, "/rounds")) - first > 3
        assert body(c, "/") == "Hello"


def test_connection_info_fixed(serve):
    srv = serve("--port", free_port(), script=APP)
    with Client(srv.port) as c:
        port = c.sock.getsockname()[1]
        assert body(c, "/conn") == "%d True True %d" % (port, SC_INFO_GET_TYPE_UNKNOWN)


def test_daemon_info_dynamic(serve):
    srv = serve("--port", free_port(), "--timeout", 30, script=APP)
    with Client(srv.port) as c:
        has, wait, unknown, idle_has, idle_wait, early = body(c, "/dyn").split()
    # before the first client: no connection, no timeout to wait for; and the process call
    # made before daemon_start was refused
    assert (idle_has, int(idle_wait), int(early)) == ("False", WAIT_INDEFINITELY, SC_TOO_EARLY)
    # with a client, the next timeout scan comes within the 30 s timeout (milliseconds; 0 when
    # the scan is due as the request is served, which a loaded machine makes happen)
    assert has == "True" and 0 <= int(wait) <= 30000
    assert int(unknown) == SC_INFO_GET_TYPE_UNKNOWN


def test_abort_request_closes_without_a_reply(serve):
    srv = serve("--port", free_port(), script=APP)
    with Client(srv.port) as other, Client(srv.port) as c:
        c.send(get("/abort"))
        assert c.closed()  # no bytes before the close
        assert body(other, "/") == "Hello"


def test_log_callback_gets_its_closure_the_code_and_a_message(serve):
    srv = serve("--port", free_port(), script=APP)
    with Client(srv.port) as bad:
        bad.send(get("/raise"))
        assert bad.closed()
    with Client(srv.port) as c:
        assert body(c, "/log") == "cls %d str request" % SC_INTERNAL_ERROR


def test_the_default_log_is_stderr(runtime, tmp_path):
    port = free_port()
    py = [sys.executable, "-u"] if runtime == "cpython" else [micropython_cmd()]
    with open(str(tmp_path / "err"), "w+") as err:
        proc = subprocess.Popen(py + [APP, "--port", str(port), "--default-log"], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            assert "listening on port" in proc.stdout.readline()
            with Client(port) as bad:
                bad.send(get("/raise"))
                assert bad.closed()
            with Client(port) as c:
                assert body(c, "/") == "Hello"  # the error was logged by the time this is answered
        finally:
            proc.kill()
            out = proc.communicate(timeout=10)[0]
        err.seek(0)
        logged = err.read()
    assert "mhd_micro [%d]: request callback or engine raised" % SC_INTERNAL_ERROR in logged, (logged, out)
    assert "mhd_micro [" not in out


def test_log_memory_tells_what_start_took(serve):
    srv = serve("--port", free_port(), "--log-memory", script=APP)
    with Client(srv.port) as c:
        assert body(c, "/log") == "cls %d str took" % SC_DAEMON_STARTED


@pytest.mark.parametrize("own", [False, True], ids=["bind_sa", "listen_socket"])
def test_destroy_closes_connections_and_only_its_own_listening_socket(serve, own):
    port = free_port()
    srv = serve("--port", port, *(["--own-socket"] if own else []), script=APP)
    with Client(srv.port) as idle, Client(srv.port) as held, Client(srv.port) as c:
        assert body(idle, "/") == "Hello"
        held.send(get("/hold"))  # a reply in progress, its content callback suspended
        assert held._more(3).startswith(b"HTTP/1.1 200 OK\r\n")  # its head is out: it has begun
        assert body(c, "/destroy") == "bye"
        assert c.closed()
        assert idle.closed()
        data, closed = read_until_close(held.sock)
        assert closed and data == b""  # no more of the reply, no last chunk
    # the app serves again on the same port: after binding it anew (BIND_SA: the old socket
    # was closed), or on the socket it gave (LISTEN_SOCKET: the daemon left it open)
    assert after(port) == "[%d] %s" % (REQUEST_ENDED_DAEMON_SHUTDOWN, not own)


def after(port):
    """/after from the new daemon, which starts a moment after the closes: a client that
    came before it finds the port closed or is dropped with the old listening socket."""
    deadline = time.time() + 5
    while True:
        try:
            with Client(port) as c:
                return body(c, "/after")
        except (OSError, AssertionError):
            assert time.time() < deadline
            time.sleep(0.05)
