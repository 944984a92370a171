"""Issue 12, item 2: fuzzing the running server over raw sockets, on both runtimes.

Each case is a valid request mutated (byte flips, insertions, deletions, duplicated and
truncated lines, random header names and values, huge values, random Content-Length and
Transfer-Encoding, chunked bodies with mutated sizes) or random bytes, delivered whole, split
into several sends with small random delays, cut by an abrupt close (FIN or RST) part way, or
followed by a half-close. After every case:
  1. every reply it got parses in h11 and llhttp (tests/wire.py); no reply is fine, a partial
     or invalid one is a failure;
  2. the server still answers GET / with 200 "Hello, world!" on a new connection.
One server per runtime (--timeout 1, so that half-sent cases free their slots soon); a fixed
seed per runtime makes a failure reproducible: its message gives the seed, the case number,
how it was sent and its bytes. docs/robustness.md summarises the outcome."""
import random
import socket
import struct
import time

from conftest import start_server
from test_smuggling import servers  # noqa: F401 (the fixture: servers stopped with the module)
from wire import connect, parse_responses, read_until_close, request

SEED = 20261130
CASES = 300
QUIET = 0.3  # seconds after which a case whose connection is still open is done
HELLO = b"Hello, world!"

BASES = [
    b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET /echo?a=1&b HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nCookie: a=b; c=d\r\nUser-Agent: fuzz\r\n\r\n",
    b"GET /query?x=1&y=%20z HTTP/1.0\r\nHost: h\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n",
    b"GET /header?name=X HTTP/1.1\r\nHost: h\r\nX: y\r\n\r\nGET /info HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
]
ALPHABET = b"\r\n :;,\t\x00\x7f\xff0123456789abcdefABCDEF-=/?%&"
TOKEN = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~"


def rbytes(rng, n, pool=None):
    if pool is None:
        return bytes(rng.randrange(256) for _ in range(n))
    return bytes(rng.choice(pool) for _ in range(n))


def lines(raw):
    return raw.split(b"\r\n")


def flip(rng, raw):
    b = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(b))
        b[i] = b[i] ^ (1 << rng.randrange(8)) if rng.random() < 0.5 else rng.randrange(256)
    return bytes(b)


def insert(rng, raw):
    i = rng.randrange(len(raw) + 1)
    return raw[:i] + rbytes(rng, rng.randint(1, 8), ALPHABET if rng.random() < 0.7 else None) + raw[i:]


def delete(rng, raw):
    i = rng.randrange(len(raw))
    return raw[:i] + raw[i + rng.randint(1, 8):]


def dup_line(rng, raw):
    ls = lines(raw)
    i = rng.randrange(len(ls))
    return b"\r\n".join(ls[:i + 1] + ls[i:])


def cut_line(rng, raw):
    ls = lines(raw)
    i = rng.randrange(len(ls))
    ls[i] = ls[i][:rng.randrange(len(ls[i]) + 1)] if rng.random() < 0.7 else b""
    return b"\r\n".join(ls)


def truncate(rng, raw):
    return raw[:rng.randrange(len(raw))]


def add_field(rng, raw, value=None, name=None):
    """A field after the request line: a random name (a token or any bytes) and value."""
    if name is None:
        name = rbytes(rng, rng.randint(1, 12), TOKEN if rng.random() < 0.8 else None)
    if value is None:
        value = rbytes(rng, rng.randint(0, 20), TOKEN + b" \t\"" if rng.random() < 0.7 else None)
    i = raw.find(b"\r\n")
    return raw[:i + 2] + name + b": " + value + b"\r\n" + raw[i + 2:] if i >= 0 else raw


def huge(rng, raw):
    n = rng.choice((1000, 4000, 9000, 20000))
    if rng.random() < 0.5:
        return add_field(rng, raw, b"v" * n)
    return raw.replace(b" /", b" /" + b"a" * n, 1)  # a huge target


def numbers(rng):
    return rng.choice([b"0", b"1", b"5", b"6", b"100", b"-1", b"+5", b"0x5", b"", b"5, 5", b"5 5", b"1e3",
                       b"99999999999999999999", b"18446744073709551615", str(rng.randrange(1 << 20)).encode()])


def content_length(rng, raw):
    return add_field(rng, raw, numbers(rng), b"Content-Length")


def transfer_encoding(rng, raw):
    value = rng.choice([b"chunked", b"CHUNKED", b"gzip", b"gzip, chunked", b"chunked, gzip", b"", b"identity",
                        b"chunked;q=1", b" chunked ", rbytes(rng, 6, TOKEN)])
    return add_field(rng, raw, value, b"Transfer-Encoding")


def chunked(rng, raw):
    """A chunked POST whose chunk sizes lie, overflow or are not hex."""
    body = b""
    for _ in range(rng.randint(1, 4)):
        data = rbytes(rng, rng.randint(0, 20), TOKEN)
        size = rng.choice([b"%x" % len(data), b"%x" % (len(data) + rng.randint(-3, 3)), numbers(rng),
                           b"%x;ext=1" % len(data), b"F" * rng.randint(8, 20), b"%X" % len(data)])
        body += size + b"\r\n" + data + b"\r\n"
    body += rng.choice([b"0\r\n\r\n", b"0\r\n", b"", b"0\r\nX: y\r\n\r\n", b"00\r\n\r\n"])
    return b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body


MUTATORS = [flip, insert, delete, dup_line, cut_line, truncate, add_field, huge, content_length,
            transfer_encoding, chunked]


def make_case(rng):
    """(bytes, how to send them) for the next case."""
    if rng.random() < 0.1:
        raw = rbytes(rng, rng.randint(1, 300))
    else:
        raw = rng.choice(BASES)
        for _ in range(rng.randint(1, 3)):
            raw = rng.choice(MUTATORS)(rng, raw) or b"\r\n"
    r = rng.random()
    how = "whole" if r < 0.35 else "split" if r < 0.65 else "abort" if r < 0.75 else "reset" if r < 0.85 else "half-close"
    return raw, how


def pieces(rng, raw, n):
    cuts = sorted(rng.randrange(len(raw) + 1) for _ in range(n - 1))
    return [raw[a:b] for a, b in zip([0] + cuts, cuts + [len(raw)])]


def run_case(rng, port, raw, how):
    """Send one case; returns the bytes it got back and whether the server closed."""
    s = connect(port, 3.0)
    try:
        try:
            if how in ("abort", "reset"):
                s.sendall(raw[:rng.randrange(len(raw) + 1)])
                time.sleep(rng.random() * 0.01)
                if how == "reset":
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return b"", True
            for part in pieces(rng, raw, rng.randint(2, 6) if how == "split" else 1):
                s.sendall(part)
                if how == "split":
                    time.sleep(rng.random() * 0.005)
            if how == "half-close":
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed (or reset) before it read everything
        return read_until_close(s, QUIET)
    finally:
        s.close()


def check_replies(data, closed):
    """None if every reply parses (h11 and llhttp), else why not. A reply cut short by a
    quiet server that keeps the connection open is a failure; all bytes until the close
    must parse too."""
    if not data:
        return None
    try:
        parse_responses(data, ended_by_close=closed)
    except Exception as e:  # h11.ProtocolError, httptools.HttpParserError, AssertionError
        return "invalid reply %r: %r" % (data[:300], e)
    return None


def probe(port):
    r = request(port, "/")
    return None if (r.status, r.body) == (200, HELLO) else "GET / got %r" % r


def fuzz(server, seed, cases):
    rng = random.Random(seed)
    failures = []
    for i in range(cases):
        raw, how = make_case(rng)
        data, closed = run_case(rng, server.port, raw, how)
        why = check_replies(data, closed)
        try:
            why = why or probe(server.port)
        except (OSError, AssertionError) as e:
            why = "GET / on a new connection failed: %r (server alive: %s)" % (e, server.alive())
        if why:
            more = " ... (%d bytes)" % len(raw) if len(raw) > 400 else ""
            failures.append("seed %d case %d (%s) %r%s: %s" % (seed, i, how, raw[:400], more, why))
            if not server.alive():
                break
    return failures


def test_server_fuzz(runtime, servers):
    if (runtime, "fuzz") not in servers:  # one per runtime, with a short timeout for half-sent cases
        servers[(runtime, "fuzz")] = start_server(runtime, "tests/apps/app.py", ("--timeout", 1))
    seed = SEED + (runtime == "micropython")
    failures = fuzz(servers[(runtime, "fuzz")], seed, CASES)
    assert not failures, "%d of %d cases failed (%s, seed %d):\n%s" % (
        len(failures), CASES, runtime, seed, "\n".join(failures[:10]))


def test_check_replies_refuses_partial_and_invalid_replies():
    """The judge of the fuzz cases: a reply cut short (open or closed) or malformed fails."""
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    assert check_replies(b"", True) is None and check_replies(ok + ok, False) is None
    for data in (ok[:-1], ok + b"HTTP/1.1 400 Bad", b"HTTP/1.1 2000 OK\r\n\r\n", b"garbage\r\n\r\n"):
        assert check_replies(data, False) and check_replies(data, True), data
