"""Issue 12, item 3: request smuggling and framing. A corpus of requests whose framing or
syntax is ambiguous, each sent to one server per strictness level (--strict 3, 0 and -3:
the strictest, the default and the most lenient) on both runtimes, with the outcome
expected at each level:

  an int    the automatic error reply with that status, `Connection: close`, then the close
  SERVED    the application answered (the row's `seen`: /echo tells the path, method number
            and upload size it got); a request sent after it in the same bytes is answered
            too: the framing stayed in sync
  ONCE      the application answered, then the server closed (RFC 9112 section 6.1: it
            must not keep a connection whose framing was ambiguous)
  WAITS     no reply yet, the connection open: the server reads a body still due

Every case is sent with more bytes after it in the same write: a smuggled request for
/info?smuggled after a refusal, ONCE or WAITS; everything read until the close must hold
the expected replies only, none for the smuggled path. Every reply is parsed by h11 and
llhttp (tests/wire.py). docs/robustness.md summarises the table."""
import pytest

from conftest import ROOT, start_server
from wire import exchange, parse_responses

SERVED, ONCE, WAITS = "served", "served, then closed", "waits"
LEVELS = (3, 0, -3)
UNKNOWN = 18446744073709551615  # the upload size the app sees for a chunked body
SMUGGLED = b"GET /info?smuggled HTTP/1.1\r\nHost: h\r\n\r\n"
AFTER = b"GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"


def post(fields, body=b""):
    return b"POST /echo HTTP/1.1\r\nHost: h\r\n" + fields + b"\r\n" + body


def te(value, body=b"1\r\nz\r\n0\r\n\r\n"):
    return post(b"Transfer-Encoding: " + value + b"\r\n", body)


def chunks(body):
    return te(b"chunked", body)


def get(request_line, fields=b""):
    return request_line + b"\r\nHost: h\r\n" + fields + b"\r\n"


def echo(method, size=0):
    """What /echo answers: POST is method 3, GET 1, an unknown method 255 (enums.py)."""
    return 200, ("/echo %d %d" % (method, size)).encode()


CH, GOT = echo(3, UNKNOWN), echo(1)
# (name, request, what the app answers when served, outcome at --strict 3, 0, -3)
CASES = [
    # Content-Length together with Transfer-Encoding (RFC 9112 section 6.1: MHD2 serves it at
    # levels <= 0 by the chunked framing, then closes)
    ("CL then TE", post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"), CH, 400, ONCE, ONCE),
    ("TE then CL", post(b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n"), CH, 400, ONCE, ONCE),
    # duplicate and conflicting Content-Length (section 6.3, item 5)
    ("two CL, same value", post(b"Content-Length: 1\r\nContent-Length: 1\r\n", b"z"), echo(3, 1), 400, SERVED, SERVED),
    ("two CL, different values", post(b"Content-Length: 1\r\nContent-Length: 2\r\n", b"zz"), None, 400, 400, 400),
    ("CL list 1, 1", post(b"Content-Length: 1, 1\r\n", b"z"), None, 400, 400, 400),
    ("CL +1", post(b"Content-Length: +1\r\n", b"z"), None, 400, 400, 400),
    ("CL -1", post(b"Content-Length: -1\r\n", b"z"), None, 400, 400, 400),
    ("CL 0x1", post(b"Content-Length: 0x1\r\n", b"z"), None, 400, 400, 400),
    ("CL empty", post(b"Content-Length: \r\n"), None, 400, 400, 400),
    ("CL overflow", post(b"Content-Length: 99999999999999999999999\r\n"), None, 413, 413, 413),
    # Transfer-Encoding variants
    ("TE chunked", te(b"chunked"), CH, SERVED, SERVED, SERVED),
    ("TE ChUnKeD", te(b"ChUnKeD"), CH, SERVED, SERVED, SERVED),
    ("TE chunked in spaces", te(b"  chunked  "), CH, SERVED, SERVED, SERVED),
    ("TE gzip, chunked", te(b"gzip, chunked"), None, 501, 501, 501),  # chunked last: framing known, gzip not
    ("TE chunked, gzip", te(b"chunked, gzip"), None, 400, 400, 400),  # chunked not last
    ("TE chunked, chunked", te(b"chunked, chunked"), None, 400, 400, 400),
    ("TE twice", post(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"), None, 400, 400, 400),
    ("TE identity", te(b"identity"), None, 501, 501, 501),  # removed from the registry
    ("TE empty", te(b""), None, 501, 501, 501),
    ("TE xchunked", te(b"xchunked"), None, 501, 501, 501),
    # chunk sizes
    ("chunk size +1", chunks(b"+1\r\nz\r\n0\r\n\r\n"), None, 400, 400, 400),
    ("chunk size -1", chunks(b"-1\r\nz\r\n0\r\n\r\n"), None, 400, 400, 400),
    ("chunk size 0x1", chunks(b"0x1\r\nz\r\n0\r\n\r\n"), None, 400, 400, 400),
    ("chunk size empty", chunks(b"\r\nz\r\n0\r\n\r\n"), None, 400, 400, 400),
    ("chunk size 0001", chunks(b"0001\r\nz\r\n0\r\n\r\n"), CH, SERVED, SERVED, SERVED),
    ("chunk size over 64 bits", chunks(b"1" + b"0" * 16 + b"1\r\nz\r\n0\r\n\r\n"), None, 413, 413, 413),
    ("chunk size 2**64-1", chunks(b"F" * 16 + b"\r\nz\r\n0\r\n\r\n"), None, WAITS, WAITS, WAITS),
    # chunk data not followed by CRLF
    ("no CRLF after chunk data", chunks(b"1\r\nzX\r\n0\r\n\r\n"), None, 400, 400, 400),
    ("LF only after chunk data", chunks(b"1\r\nz\n0\r\n\r\n"), CH, 400, SERVED, SERVED),
    ("CR only after chunk data", chunks(b"1\r\nz\r0\r\n\r\n"), None, 400, 400, 400),
    # bare LF and bare CR, NUL
    ("bare LF line ends", b"GET /echo HTTP/1.1\nHost: h\n\n", GOT, 400, SERVED, SERVED),
    ("bare CR line ends", b"GET /echo HTTP/1.1\rHost: h\r\r", None, 400, 400, 400),
    ("bare CR in a field value", get(b"GET /echo HTTP/1.1", b"X: a\rb\r\n"), GOT, 400, 400, SERVED),
    ("NUL in a field value", get(b"GET /echo HTTP/1.1", b"X: a\x00b\r\n"), GOT, 400, 400, SERVED),
    ("NUL in a field name", get(b"GET /echo HTTP/1.1", b"X\x00: a\r\n"), GOT, 400, 400, SERVED),
    ("NUL in the target", get(b"GET /echo\x00 HTTP/1.1"), GOT, 400, 400, SERVED),
    # obs-fold, whitespace before the colon (MHD2 accepts it at -3 only, for any field)
    ("obs-fold", get(b"GET /echo HTTP/1.1", b"X: a\r\n b\r\n"), GOT, 400, SERVED, SERVED),
    ("obs-fold in Content-Length", post(b"Content-Length:\r\n 1\r\n", b"z"), None, 400, 400, 400),
    ("space before the colon", get(b"GET /echo HTTP/1.1", b"X : a\r\n"), GOT, 400, 400, SERVED),
    ("Content-Length : 1", post(b"Content-Length : 1\r\n", b"z"), echo(3, 1), 400, 400, SERVED),
    ("Transfer-Encoding : chunked", post(b"Transfer-Encoding : chunked\r\n", b"1\r\nz\r\n0\r\n\r\n"), CH, 400, 400, SERVED),
    # invalid methods and targets
    ("method G@T", get(b"G@T /echo HTTP/1.1"), None, 400, 400, 400),
    ("method get (a valid token)", get(b"get /echo HTTP/1.1"), echo(255), SERVED, SERVED, SERVED),
    ("empty method", get(b" /echo HTTP/1.1"), None, 400, 400, 400),
    ("target without /", get(b"GET echo HTTP/1.1"), None, 400, 400, 400),
    ("empty target", get(b"GET  HTTP/1.1"), None, 400, 400, 400),
    ("DEL in the target", get(b"GET /echo\x7f HTTP/1.1"), None, 400, 400, 400),
    # absolute-form and asterisk-form (RFC 9112 sections 3.2.2, 3.2.4)
    ("absolute-form", get(b"GET http://h/echo HTTP/1.1"), GOT, SERVED, SERVED, SERVED),
    ("asterisk-form OPTIONS", get(b"OPTIONS * HTTP/1.1"), (404, b"not found"), SERVED, SERVED, SERVED),
    ("asterisk-form GET", get(b"GET * HTTP/1.1"), None, 400, 400, 400),
    # versions (MHD2: exactly HTTP/1.0 or HTTP/1.1; other versions 505, malformed 400)
    ("HTTP/0.9", b"GET /\r\n", None, 400, 400, 400),
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", None, 505, 505, 505),
    ("HTTP/2.0", get(b"GET /echo HTTP/2.0"), None, 505, 505, 505),
    ("HTTP/1.2", get(b"GET /echo HTTP/1.2"), None, 505, 505, 505),
    ("HTTP/1.10", get(b"GET /echo HTTP/1.10"), None, 400, 400, 400),
    ("http/1.1", get(b"GET /echo http/1.1"), None, 400, 400, 400),
]

_servers = {}


@pytest.fixture(scope="module")
def servers():
    """One server per (runtime, level), started on first use, stopped with the module."""
    yield _servers
    died = []
    for key, s in list(_servers.items()):
        alive = s.alive()
        out = s.stop()
        if not alive:
            died.append("%r:\n%s" % (key, out))
    _servers.clear()
    assert not died, "servers died: " + "\n".join(died)


def params():
    return list(_params())


def _params():
    for name, raw, seen, *outcomes in CASES:
        for level, want in zip(LEVELS, outcomes):
            yield pytest.param(level, raw, seen, want, id="%s@%d" % (name, level))


@pytest.mark.parametrize("level, raw, seen, want", params())
def test_smuggling(servers, runtime, level, raw, seen, want):
    if (runtime, level) not in servers:
        servers[(runtime, level)] = start_server(runtime, "tests/apps/app.py", ("--strict", level))
    port = servers[(runtime, level)].port
    data, closed = exchange(port, raw + (AFTER if want == SERVED else SMUGGLED), timeout=1.0 if want == WAITS else 3.0)
    replies = parse_responses(data)  # h11 and llhttp must accept every reply
    got = [(r.status, r.body) for r in replies]
    assert b"smuggled" not in data, got
    if want == WAITS:
        assert (got, closed) == ([], False)
    elif want == SERVED:
        assert got == [seen, echo(1)] and closed
    else:
        assert len(got) == 1 and closed, got  # one reply, then the close: the smuggled request is not answered
        assert got[0] == seen if want == ONCE else got[0][0] == want, got
        assert replies[0].header("connection") == "close"


def test_robustness_doc_counts():
    """docs/robustness.md's outcome table and corpus size agree with CASES."""
    with open(ROOT + "/docs/robustness.md") as f:
        doc = f.read()
    assert "a corpus of %d requests" % len(CASES) in doc
    for i, level in enumerate(LEVELS):
        for want in set(row[3 + i] for row in CASES):
            n = sum(1 for row in CASES if row[3 + i] == want)
            label = {SERVED: "| served |", ONCE: "| served, then closed", WAITS: "| waits"}.get(want, "| %s" % want)
            cells = [ln.split("|")[2 + i].strip() for ln in doc.splitlines() if ln.startswith(label)]
            assert cells == [str(n)], (level, want, cells)
