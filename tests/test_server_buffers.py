"""Connections sharing fewer buffers than there are connections (D_OPTION_CONN_BUFFER_POOL_SIZE),
on both runtimes: a buffer is lent to a connection with a request in progress, an idle
keep-alive connection keeps its buffer until another connection needs one, and a client
beyond the buffers waits for one instead of being refused."""
from test_server_interop import HELLO, WRK, thread_load, wrk_errors
from wire import Client, get

HELLO_ARGS = ("--port", 0, "--connections", 8, "--buffers", 2)


def hello(serve):
    return serve(*HELLO_ARGS, script="examples/hello.py")


def test_eight_keep_alive_clients_on_two_buffers(serve):
    srv = hello(serve)
    n, errors = wrk_errors(srv.port, connections=8, seconds=1) if WRK else thread_load(srv.port, requests=100)
    assert not errors and n >= 100, (n, errors)


def test_idle_connections_give_their_buffer_to_the_next_request(serve):
    srv = hello(serve)
    clients = [Client(srv.port) for _ in range(4)]
    try:
        for _ in range(3):  # four keep-alive clients, two buffers: each request takes one from an idle client
            for c in clients:
                r = c.exchange(get("/"))
                assert (r.status, r.body) == (200, HELLO)
        assert all(c.is_open() for c in clients)
    finally:
        for c in clients:
            c.close()


def test_a_client_waits_while_every_buffer_holds_a_request_in_progress(serve):
    srv = hello(serve)
    slow = [Client(srv.port) for _ in range(2)]
    waiting = Client(srv.port)
    try:
        for c in slow:  # half a head each: both buffers are busy
            c.send(b"GET / HTTP/1.1\r\nHo")
            assert c.is_open()
        waiting.send(get("/"))
        assert waiting.is_open(0.3)  # no buffer: no reply, and no refusal
        slow[0].send(b"st: x\r\n\r\n")
        r = slow[0].response()
        assert (r.status, r.body) == (200, HELLO)
        r = waiting.response()  # the first client, idle again, gave its buffer
        assert (r.status, r.body) == (200, HELLO)
        slow[1].send(b"st: x\r\n\r\n")
        assert slow[1].response().status == 200
        for c in slow + [waiting]:  # all still usable
            assert c.exchange(get("/nope")).status == 404
    finally:
        for c in slow + [waiting]:
            c.close()


def test_a_client_that_leaves_while_waiting_costs_nothing(serve):
    srv = hello(serve)
    slow = [Client(srv.port) for _ in range(2)]
    try:
        for c in slow:
            c.send(b"GET / HTTP/1.1\r\nHo")
        gone = Client(srv.port)
        gone.send(get("/"))
        assert gone.is_open(0.3)
        gone.close()
        for c in slow:
            c.send(b"st: x\r\n\r\n")
            assert c.response().status == 200
        for _ in range(3):  # the waiting count is right again: new clients get buffers at once
            with Client(srv.port) as c:
                assert c.exchange(get("/")).status == 200
    finally:
        for c in slow:
            c.close()
