"""Low memory and faults (issue 12, item 5), on both runtimes: a MemoryError anywhere in a
request ends that request only (500 while nothing of the reply was sent, else the close) and
the daemon goes on; resets and broken pipes never escape daemon_process_blocking; a soak of
mixed requests leaves the heap where it was after warm-up; and MicroPython under a board-sized
-X heapsize keeps serving through real MemoryErrors.

The server is tests/apps/fault_app.py: it wraps the core's functions on the request path
(the names the engine calls them by) so that GET /arm?point=P&n=N makes the N-th call of P
raise MemoryError, and has routes whose application callbacks raise it. It calls
daemon_process_blocking in a try and counts what escapes ("escapes" in /stats), and counts
the log's messages ("log")."""
import socket
import struct
import time

import h11
import pytest

from wire import build, connect, get, parse_responses, read_until_close

APP = "tests/apps/fault_app.py"
HELLO = b"Hello, world!"


def close_req(method, target, headers=(), body=b""):
    return build(method, target, (("Host", "x"), ("Connection", "close")) + tuple(headers), body)


def chunked(body, piece=700):
    out = b""
    for i in range(0, len(body), piece):
        part = body[i:i + piece]
        out += b"%x\r\n%s\r\n" % (len(part), part)
    return out + b"0\r\n\r\n"


# the requests a fault is injected into, each on a connection of its own that closes after
# the reply: (request bytes, HEAD?, normal status, normal body or None)
FORM = b"a=1&b=2&c=" + b"x" * 100
VICTIMS = {
    "get": (close_req("GET", "/echo"), False, 200, b"/echo 1 0"),
    "head": (close_req("HEAD", "/echo"), True, 200, b""),
    "post-length": (close_req("POST", "/inc", (("Content-Length", "3000"),), b"a" * 3000), False, 200, b"size=3000"),
    "post-chunked": (close_req("POST", "/inc", (("Transfer-Encoding", "chunked"),), chunked(b"b" * 2500)), False, 200,
                     b"size=2500"),
    "form": (close_req("POST", "/form", (("Content-Type", "application/x-www-form-urlencoded"),
                                         ("Content-Length", str(len(FORM)))), FORM), False, 200, b"fields=3"),
    "dyn-chunked": (close_req("GET", "/dyn?n=3000&unknown=1"), False, 200, b"x" * 3000),
    "big": (close_req("GET", "/big?n=6000"), False, 200, b"x" * 6000),
    "bad": (b"GET /x HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", False, 400, None),
}


def talk(port, raw, timeout=4.0):
    """Send raw on a new connection, read until the server closes: (bytes, closed)."""
    s = connect(port, timeout)
    try:
        try:
            s.sendall(raw)
        except OSError:  # the server closed before taking it all: what it sent is still readable
            pass
        return read_until_close(s, timeout)
    finally:
        s.close()


def complete(data, head):
    """The responses in data, or None if the last one is cut short."""
    try:
        return parse_responses(data, head_requests=(0,) if head else (), ended_by_close=False)
    except (AssertionError, h11.RemoteProtocolError):
        return None


def stats(port):
    data, _ = talk(port, close_req("GET", "/stats"))
    r = parse_responses(data)[0]
    assert r.status == 200
    out = {}
    for item in r.body.decode().split():
        k, v = item.split("=", 1)
        out[k] = v
    out["calls"] = [c for c in out["calls"].split(",") if c]
    return out


def arm(port, point, n=1):
    data, closed = talk(port, get("/arm?point=%s&n=%d" % (point, n)))
    assert closed and parse_responses(data)[0].body == b"armed"


def still_serving(port):
    data, closed = talk(port, close_req("GET", "/"))
    r = parse_responses(data)
    assert closed and len(r) == 1 and (r[0].status, r[0].body) == (200, HELLO), data


def settled(port, pool):
    """Every buffer is back in the daemon's pool (but the one /stats' own request holds) and
    every response in the response pool: nothing leaked. Returns the last stats."""
    for _ in range(40):
        st = stats(port)
        have, total = st["buffers"].split("/")
        if int(have) == int(total) - 1 and int(st["pool"]) == pool:
            return st
        time.sleep(0.05)
    raise AssertionError("a buffer or response did not come back: %r (pool %d)" % (st, pool))


def check_normal(data, closed, victim):
    raw, head, status, body = victim
    r = complete(data, head)
    assert closed and r is not None and len(r) == 1, data[:300]
    assert r[0].status == status, data[:300]
    if body is not None:
        assert r[0].body == body


def check_fault(data, closed, head, sent, what):
    """What a client sees of a request a MemoryError ended: a 500 (and the close) while
    nothing of the reply was sent; once it was, the close."""
    assert closed, "%s: the connection was left open: %r" % (what, data[:300])
    if not sent:
        r = complete(data, head)
        if r is None and head:  # a fault before the request line was parsed: HEAD is not known yet
            r = complete(data, False)
        assert r is not None and [x.status for x in r] == [500], "%s: %r" % (what, data[:300])


# -- MemoryError at every allocation point of the core ------------------------------------
@pytest.mark.parametrize("victim", sorted(VICTIMS))
def test_memory_error_at_every_core_point(serve, victim):
    """For each kind of request: run it once recording the wrapped core functions it calls
    (its allocation points: reads, the parser, the path string, lazy loads of upload, body,
    chunked, post, errors, the response from the pool, the header value lookups, framing and
    its status line, the body writer, the writes), then once per call with a MemoryError
    injected at that call."""
    srv = serve(script=APP)
    pool = int(stats(srv.port)["pool"])
    v = VICTIMS[victim]
    check_normal(*talk(srv.port, v[0]), v)  # warm: what is made once (status lines, pages) is made
    arm(srv.port, "trace")
    check_normal(*talk(srv.port, v[0]), v)
    trace = stats(srv.port)["calls"]
    assert "_write" in trace and len(trace) >= 5, trace
    fired = set()

    def inject(point, k):
        arm(srv.port, point, k)
        data, closed = talk(srv.port, v[0])
        st = stats(srv.port)
        if st["fired"] == "-":  # fewer calls this time (a read that got the whole request at once)
            check_normal(data, closed, v)
        else:
            assert st["fired"] in trace, (st["fired"], trace)
            fired.add(st["fired"])
            # the reply is under way from its first write on (a fault there closes: see robustness.md)
            started = int(st["sent"]) or st["fired"] == "_write"
            check_fault(data, closed, v[1], started, "%s at call %d of %s" % (victim, k, st["fired"]))
        assert st["escapes"] == "0"
        still_serving(srv.port)

    for k in range(1, len(trace) + 1):
        inject("*", k)  # the k-th call on the path
    for name in set(trace) - fired:  # the calls count differed from the trace's: by name
        inject(name, 1)
    assert fired == set(trace)
    settled(srv.port, pool)
    # after all that, the same request is served as before
    check_normal(*talk(srv.port, v[0]), v)


def test_memory_error_in_the_date_the_log_and_a_first_body(serve):
    """Points the sweep does not reach: making a connection's body writer (once per slot:
    the sweep's warm-up made it), the Date line, formatted once a second in the daemon's loop
    (daemon_process_blocking ends that round; the next one formats it), and loading the log to
    report a fault (the 500 still goes)."""
    srv = serve(script=APP)
    big = (close_req("GET", "/big?n=100000"), False, 200, b"x" * 100000)  # past the buffer on both runtimes
    arm(srv.port, "load:body")
    check_fault(*talk(srv.port, big[0]), False, 0, "the body writer")
    assert stats(srv.port)["fired"] == "load:body"
    check_normal(*talk(srv.port, big[0]), big)
    arm(srv.port, "date")
    time.sleep(1.1)  # the Date line is due again
    check_normal(*talk(srv.port, VICTIMS["get"][0]), VICTIMS["get"])
    st = stats(srv.port)
    assert (st["fired"], st["escapes"]) == ("date", "0")
    arm(srv.port, "daemon.load:log")
    check_fault(*talk(srv.port, close_req("GET", "/oom/callback")), False, 0, "the log")
    st = stats(srv.port)
    assert (st["fired"], st["escapes"]) == ("daemon.load:log", "0")
    still_serving(srv.port)


def test_memory_error_taking_a_new_client(serve):
    """Off the request path too: accepting a new client (its socket object) and putting it in
    the poll set. daemon_process_blocking ends that round (SC_DAEMON_MEM_ALLOC_FAILURE); the
    slot stays free; the next round goes on."""
    srv = serve(script=APP)
    pool = int(stats(srv.port)["pool"])
    arm(srv.port, "accept")
    check_normal(*talk(srv.port, VICTIMS["get"][0]), VICTIMS["get"])  # accepted at the next round
    st = stats(srv.port)
    assert (st["fired"], st["escapes"]) == ("accept", "0")
    arm(srv.port, "poll.register")
    s = connect(srv.port)
    s.sendall(VICTIMS["get"][0])
    # not polled, so not served: CPython's collector closes the socket object the daemon
    # dropped; MicroPython's unix port has no finaliser for it (a board's sockets have one)
    time.sleep(0.3)
    s.close()
    st = stats(srv.port)
    assert (st["fired"], st["escapes"]) == ("poll.register", "0")
    still_serving(srv.port)
    settled(srv.port, pool)


# -- MemoryError in the application's callbacks -------------------------------------------
BODY = b"z" * 3000
APP_CASES = [
    # (name, request, sent: something of the reply went out before the raise)
    ("request callback", close_req("GET", "/oom/callback"), 0),
    ("upload callback, Content-Length", close_req("POST", "/oom/upload", (("Content-Length", "3000"),), BODY), 0),
    ("upload callback, chunked", close_req("POST", "/oom/upload", (("Transfer-Encoding", "chunked"),), chunked(BODY)), 0),
    ("upload callback, 100 Continue", close_req("POST", "/oom/upload", (("Content-Length", "3000"),
                                                                        ("Expect", "100-continue")), BODY), 0),
    ("full upload callback", close_req("POST", "/oom/full", (("Content-Length", "500"),), BODY[:500]), 0),
    ("POST stream reader", close_req("POST", "/form?stream=1&raise=stream", (
        ("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", str(len(FORM)))), FORM), 0),
    ("POST done callback", close_req("POST", "/form?raise=done", (
        ("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", str(len(FORM)))), FORM), 0),
    ("dyn_cont, first call", close_req("GET", "/oom/dyn?at=1&n=3000"), 1),
    ("dyn_cont, after the first bytes", close_req("GET", "/oom/dyn?at=2&n=3000"), 1),
    ("dyn_cont chunked, after the first bytes", close_req("GET", "/oom/dyn?at=3&n=3000&unknown=1"), 1),
]


@pytest.mark.parametrize("case", APP_CASES, ids=[c[0] for c in APP_CASES])
def test_memory_error_in_application_callbacks(serve, case):
    name, raw, sent = case
    srv = serve(script=APP)
    pool = int(stats(srv.port)["pool"])
    for _ in range(2):  # twice: the first one may load modules, the second runs warm
        data, closed = talk(srv.port, raw)
        if raw.startswith(b"POST") and b"Expect" in raw and data.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"):
            data = data[25:]
        check_fault(data, closed, False, sent, name)
        if sent:  # the header went out: the client sees the body cut short
            assert data.startswith(b"HTTP/1.1 200 OK") and complete(data, False) is None, data[:200]
        still_serving(srv.port)
    st = settled(srv.port, pool)
    assert st["escapes"] == "0" and int(st["log"]) >= 2  # each one logged


def test_memory_error_in_free_and_termination_callbacks(serve):
    """Raised after the reply is out: logged; the connection goes on to its next request."""
    srv = serve(script=APP)
    pool = int(stats(srv.port)["pool"])
    for path, body in (("/oom/free", b"freed"), ("/oom/ended", b"ended")):
        s = connect(srv.port)
        try:
            s.sendall(get(path) + get(path) + close_req("GET", "/"))
            data, closed = read_until_close(s)
        finally:
            s.close()
        r = parse_responses(data)
        assert closed and [(x.status, x.body) for x in r] == [(200, body), (200, body), (200, HELLO)], data
    st = settled(srv.port, pool)
    assert st["escapes"] == "0" and int(st["log"]) == 4


# -- resets and broken pipes --------------------------------------------------------------
def rst(s):
    """Close with a reset (SO_LINGER 0) instead of a FIN."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def test_resets_and_broken_pipes(serve):
    """Clients that reset or half-close mid-request, mid-body and mid-reply: the daemon logs
    no fault, nothing escapes daemon_process_blocking, nothing leaks, and it goes on."""
    srv = serve("--timeout", 3, script=APP)
    pool = int(stats(srv.port)["pool"])
    log0 = int(stats(srv.port)["log"])
    port = srv.port
    body = b"q" * 20000

    def mid(raw, read=0, rcvbuf=0, half=False, pause=0.05):
        s = connect(port, rcvbuf=rcvbuf)
        s.sendall(raw)
        if half:
            s.shutdown(socket.SHUT_WR)
        if read:
            got = b""
            while len(got) < read:
                chunk = s.recv(read - len(got))
                if not chunk:
                    break
                got += chunk
        time.sleep(pause)
        rst(s)

    for _ in range(3):
        mid(b"GET /echo HT")  # mid-head
        mid(b"GET /echo HTTP/1.1\r\nHost: x\r\n")  # head without its end
        mid(build("POST", "/inc", (("Host", "x"), ("Content-Length", str(len(body)))), body[:5000]))  # mid-body
        mid(build("POST", "/inc", (("Host", "x"), ("Transfer-Encoding", "chunked")), chunked(body)[:7000]))
        mid(build("POST", "/form", (("Host", "x"), ("Content-Type", "application/x-www-form-urlencoded"),
                                    ("Content-Length", "9000")), b"a=" + b"b" * 3000))
        mid(get("/big?n=300000"), read=1000, rcvbuf=4096)  # mid-reply, the socket full
        mid(get("/dyn?n=300000"), read=1000, rcvbuf=4096)  # mid-reply of a dyn_cont body
        mid(get("/dyn?n=300000&unknown=1"), read=3000, rcvbuf=4096)  # chunked
        mid(get("/big?n=300000"), rcvbuf=4096, pause=0.2)  # reply never read
        mid(get("/") * 50, rcvbuf=4096)  # pipelined, none read
        mid(get("/big?n=100000"), half=True, rcvbuf=4096)  # half-closed, then reset
        mid(build("POST", "/inc", (("Host", "x"), ("Content-Length", "3000"), ("Expect", "100-continue"))), read=10)
        # a write-side close after a whole request: the reply still comes
        s = connect(port)
        s.sendall(close_req("GET", "/echo"))
        s.shutdown(socket.SHUT_WR)
        data, closed = read_until_close(s)
        s.close()
        assert closed and parse_responses(data)[0].body == b"/echo 1 0"
        still_serving(port)
    st = settled(port, pool)
    assert st["escapes"] == "0"
    assert int(st["log"]) == log0, "a reset was logged as a fault"
    assert srv.alive()


# -- the soak -----------------------------------------------------------------------------
def test_soak_short(serve, runtime):
    """tools/soak.py with a few thousand requests: every reply is the expected one, and the
    heap after gc.collect() is where it was after warm-up (MicroPython: gc.mem_alloc(); CPython:
    the number of objects the collector tracks)."""
    import sys
    import os
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
    import soak
    srv = serve("--timeout", 5, "--no-inject", script=APP)
    res = soak.soak(srv.port, requests=2000, warmup=500, seed=12)
    assert res["errors"] == [], res["errors"][:5]
    assert soak.heap_ok(res), res  # within soak.TOLERANCE (the conservative stack scan's noise)
    assert res["escapes"] == 0


# -- real MemoryErrors: MicroPython with a small heap ----------------------------------------
HEAP = "216K"  # the app warmed up (every route, every slot and buffer) holds about 174 KB of it


def test_real_memory_errors_under_a_small_heap(mpy_tree):
    """MicroPython, the core as .mpy (as on a board), the ESP32 config's pools (8 connections,
    7 buffers of 2048 bytes, 8 responses) and -X heapsize=192K: warmed up, the heap has about
    25 KB left. Sixteen clients at once then ask for replies that need a temporary of up to
    30 KB (/alloc), chunked dyn_cont bodies, forms, uploads and heads with 100 fields, so that
    allocations fail for real in the callbacks, the parser, module loads and the replies. Every
    request gets its reply, a 500, or a close; nothing escapes daemon_process_blocking; and
    afterwards every route works again and the heap is back where it was."""
    import os  # (MicroPython only: -X heapsize is its own)
    import sys
    from concurrent.futures import ThreadPoolExecutor
    from conftest import start_server
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
    import soak
    srv = start_server("micropython", "-m fault_app", ("--no-inject", "--port", 0, "--connections", 8, "--buffers", 7,
                                                      "--conn-memory", 2048, "--pool", 8, "--timeout", 5),
                       cwd=mpy_tree, heap=HEAP)
    try:
        port = srv.port
        form = b"a=" + b"b" * 2998
        routes = [(close_req("GET", "/"), 200), (close_req("GET", "/echo"), 200),
                  (close_req("GET", "/dyn?n=3000&unknown=1"), 200),
                  (close_req("POST", "/inc", (("Content-Length", "5000"),), b"c" * 5000), 200),
                  (close_req("POST", "/form", (("Content-Type", "application/x-www-form-urlencoded"),
                                               ("Content-Length", str(len(form)))), form), 200),
                  (close_req("GET", "/echo", tuple(("X-H%d" % j, "v" * 10) for j in range(100))), 431),
                  (close_req("GET", "/alloc?n=2000"), 200), (close_req("GET", "/oom/callback"), 500)]

        def once(raw, rcvbuf=0, pause=0):
            s = connect(port, 10, rcvbuf)
            try:
                s.sendall(raw)
                time.sleep(pause)
                data, closed = read_until_close(s, 10)
            except OSError:
                data, closed = b"", True
            finally:
                s.close()
            r = complete(data, False)
            return [x.status for x in r] if r else ("cut" if data else "closed")

        mix = soak.Mix(port, __import__("random").Random(1))
        soak.warm(port, mix)
        mix.close_all()
        for raw, status in routes:
            assert once(raw) == [status], raw[:40]
        before = soak.settled(port)

        def job(i):
            if i % 2 == 0:  # a reply of 1 to 5 KB made for it, held while the client reads slowly
                return 0, once(close_req("GET", "/alloc?n=%d" % (1000 + 250 * (i % 17))), rcvbuf=4096, pause=0.5)
            k = 1 + i // 2 % 5
            return k, once(routes[k][0])

        seen = {}
        t0 = time.time()
        with ThreadPoolExecutor(16) as ex:
            for k, got in ex.map(job, range(400)):
                seen.setdefault(k, []).append(str(got))
                assert got in ([routes[k][1]] if k else [200], [500], "closed", "cut"), (k, got)
        print({k: {x: v.count(x) for x in set(v)} for k, v in seen.items()}, time.time() - t0)
        mid = stats(port)
        assert int(mid["oom"]) > 0 and int(mid["log"]) > int(before["log"]) + 20, (mid, before)  # real ones
        assert mid["escapes"] == "0"
        for raw, status in routes:  # all served again
            assert once(raw) == [status], (raw[:40], before, soak.settled(port), seen)
        after = soak.settled(port)
        assert after["heap"] - before["heap"] <= soak.TOLERANCE, (before, after)
        assert srv.alive()
    finally:
        out = srv.stop()
    assert "ESCAPED" not in out and "Traceback" not in out, out
