# POST forms: action_parse_post, and the fields it keeps (VK_POSTDATA values,
# request_get_post_data_cb). An optional module (features.POST_PARSER).
#
# upload.py reads the body and hands it here piece by piece (give), then once more at its
# end (finish); post_parser.py decodes it in place (sans-I/O). A field whose value stays
# small is kept in the request's store; a larger one (over max_nonstream_size, or more than
# the store holds) goes to the application's stream reader in pieces, with its offset. The
# done callback then gets the result, and the kept fields are there to read.
#
# Where the store is: behind the head in the connection's buffer, when buffer_size fits
# there with room left to read; else in a region of the daemon's large pool. The body's
# bytes not yet decoded wait right after the store (in the connection's buffer), so the
# store can only grow into bytes already decoded.
from array import array

from .platform import const
from .action import claim
from .post_parser import PostParser
from .parser import ieq
from .upload import call_app, answer
from .lazy import load

_POST_PARSE_RES_REQUEST_EMPTY = const(1)  # = mhd.POST_PARSE_RES_REQUEST_EMPTY
_POST_PARSE_RES_FAILED_NO_POOL_MEM = const(60)  # = mhd.POST_PARSE_RES_FAILED_NO_POOL_MEM
_POST_PARSE_RES_FAILED_NO_LARGE_BUF_MEM = const(61)  # = mhd.POST_PARSE_RES_FAILED_NO_LARGE_BUF_MEM
_ACT_POST = const(4)  # = action.ACT_POST
_POST = const(3)  # = upload._POST
_FINAL_POST = const(6)  # = upload._FINAL_POST
_UA_SUSPEND = const(6)  # = upload._UA_SUSPEND
# the parser's events
_NEED_MORE = const(0)  # = post_parser._NEED_MORE
_FIELD = const(1)  # = post_parser._FIELD
_DATA = const(2)  # = post_parser._DATA
_DONE = const(4)  # = post_parser._DONE
_MAX_FIELDS = const(32)  # fields kept per request
_MIN_READ = const(256)  # room left to read behind a store in the connection's buffer


def action_parse_post(request, buffer_size, max_nonstream_size, enc, stream_reader=None, reader_cls=None,
                      done_cb=None, done_cb_cls=None):
    """Parse the request body as a form (`enc`: HTTP_POST_ENCODING_*, OTHER to detect it from
    the Content-Type). Fields that fit buffer_size and are at most max_nonstream_size bytes
    are kept for done_cb(request, done_cb_cls, result) to read (VK_POSTDATA,
    request_get_post_data_cb); larger ones go to stream_reader(request, reader_cls, name,
    filename, content_type, encoding, size, data, off, final_data) in pieces. Both return an
    upload action. None without done_cb, or if the request has an action already."""
    if done_cb is None:
        return None
    act = claim(request, _ACT_POST)
    if act is not None:
        act.args = (buffer_size, max_nonstream_size, enc, stream_reader, reader_cls, done_cb, done_cb_cls)
    return act


class _State:
    """One per request state (so it follows the buffer), made the first time it parses a form."""

    def __init__(self):
        self.parser = PostParser()
        # per kept field: the lengths of its name, filename, type, encoding, value (-1: none);
        # room for one field, for all _MAX_FIELDS once a second one is kept: a form whose
        # fields all stream (a file upload) needs no large piece of heap for it
        self.lens = array("i", bytes(4 * 5))
        self.n = 0  # fields kept
        self.store = None  # the bytearray the store is in: the connection's buffer or the large pool
        self.at = 0  # the store's start in it
        self.cap = 0  # its size
        self.used = 0
        self.inbuf = 0  # `used`, when the store is in the connection's buffer (upload._keep)
        self.field_at = 0  # `used` when the current field began
        self.streamed = -1  # bytes of the current field given to the stream reader; -1: it is kept
        self.result = 0
        self.names = None  # the current streamed field's (name, filename, content_type, encoding)


def start(c):
    """The request callback returned action_parse_post: the store, the encoding, then the body."""
    r = c.req
    size, _, enc, _, _, _, _ = r.action.args
    r.action.kind = 0
    if r.post is None:
        r.post = _State()
    st = r.post
    st.n = st.used = st.inbuf = 0
    st.streamed = -1
    st.result = 0
    r.body_mode = _POST
    r.got = 0  # body bytes not decoded yet, behind the store
    if len(c.buf) - r.body_start - _MIN_READ >= size:
        st.store, st.at, st.cap = c.buf, r.body_start, size
    else:
        at = load("upload_full").alloc_large(c.daemon, size)
        if at < 0:
            st.result = _POST_PARSE_RES_FAILED_NO_LARGE_BUF_MEM
        else:
            r.large_at = at
            st.store, st.at, st.cap = c.daemon.large, at, size
    if not st.result:
        b = c.buf
        h = r.hdr
        ct = None  # the Content-Type value
        for i in range(0, r.nhdr * 4, 4):
            if ieq(b, h[i], h[i + 1], b"content-type"):
                ct = memoryview(b)[h[i + 2]:h[i + 3]]
                break
        enc = st.parser.detect(ct, enc)
        if enc > 3:
            st.result = enc  # a POST_PARSE_RES_FAILED_* of the Content-Type
        else:
            st.parser.reset(enc, st.parser.boundary, 0, c.daemon.strict)
    if not r.upload_size:
        r.body_mode = _FINAL_POST
        if not st.result:
            st.result = _POST_PARSE_RES_REQUEST_EMPTY
    c.take_body()  # with a result already (a failure), the body is read past, then done_cb


def give(c, r, s, e):
    """Body bytes buf[s:e]: join those waiting and decode what can be. Returns False when the
    connection's stage changed (the stream reader suspended, replied or aborted)."""
    st = r.post
    base = r.body_start + st.inbuf
    end = base + r.got
    if s != end:
        c.buf[end:end + e - s] = c.mv[s:e]
    r.got += e - s
    if st.result:
        r.got = 0  # failed: read past
        return True
    return _decode(c, r, st, False)


def finish(c, r):
    """The body has ended: the last fields (the parser's DONE sets the result), then
    done_cb with the result. Called again after a suspend."""
    st = r.post
    if not st.result and not _decode(c, r, st, True):
        return True  # the stream reader suspended, replied or aborted
    act = call_app(c, r.action.args[5], r, r.action.args[6], st.result)
    if act is not r.action or r.action.kind != _UA_SUSPEND:
        if r.large_at >= 0:  # the fields' store was in the large pool
            load("upload_full").free_large(c.daemon, r)
    answer(c, r, act, True)
    return True


def _decode(c, r, st, final):
    """Run the parser over the waiting bytes. Returns False when the stage changed; True
    when it needs more (the undecoded bytes moved behind the store) or, final, when done."""
    p = st.parser
    b = c.buf
    base = r.body_start + st.inbuf
    end = base + r.got
    p.room = len(b) - base if st.store is not b else len(b) - r.body_start - st.cap
    pos = base
    ok = True
    while ok:
        ev = p.step(b, pos, end, final)
        pos = p.pos
        if ev == _NEED_MORE:
            break
        if ev == _DONE or ev > _DONE:  # DONE or ERROR: the result for done_cb
            st.result = p.result
            r.got = 0
            return True
        # a field starts, a piece of its value, or its end (FIELD_END: a streamed field's last call)
        if ev == _FIELD:
            ok = _field(c, r, st, p)
        elif ev == _DATA:
            ok = _data(c, r, st, p.data_start, p.data_end)
        elif st.streamed >= 0:
            ok = _stream(c, r, st, 0, None, True)
        else:
            st.n += 1
    # the undecoded bytes b[pos:end] move right behind the store
    if st.store is b:
        st.inbuf = st.used
    base = r.body_start + st.inbuf
    if pos != base:
        b[base:base + end - pos] = memoryview(b)[pos:end]
    r.got = end - pos
    return ok  # False: the stage changed


def _field(c, r, st, p):
    """Keep the field's name, file name, type and encoding in the store (its value follows);
    a field that cannot be kept goes to the stream reader."""
    st.field_at = st.used
    st.streamed = -1
    b = memoryview(c.buf)
    # copies first: the spans lie in decoded bytes the store may grow over, in any order
    sp = p.sp  # (start, end) of the name, file name, content type and encoding; -1: none
    raw = []
    n = 0
    for k in range(0, 8, 2):
        raw.append(None if sp[k] < 0 else bytes(b[sp[k]:sp[k + 1]]))
        n += max(sp[k + 1] - sp[k], 0)
    i = st.n * 5
    if st.n == _MAX_FIELDS or st.used + n > st.cap:
        return _to_stream(c, r, st, [None if x is None else _text(x, 0, len(x)) for x in raw], 0)
    if i == len(st.lens):  # a second field kept: the table for all (once per request state)
        lens = array("i", bytes(4 * 5 * _MAX_FIELDS))
        lens[:i] = st.lens
        st.lens = lens
    at = st.at + st.used
    for k in range(4):
        x = raw[k]
        st.lens[i + k] = -1 if x is None else len(x)
        if x:
            st.store[at:at + len(x)] = x
            at += len(x)
    st.used += n
    st.lens[i + 4] = 0 if p.has_value else -1
    return True


def _data(c, r, st, s, e):
    if st.streamed >= 0:
        return _stream(c, r, st, e - s, c.mv[s:e], False)
    i = st.n * 5 + 4
    args = r.action.args
    n = e - s
    if (args[3] is None or st.lens[i] + n <= args[1]) and st.used + n <= st.cap:
        at = st.at + st.used
        st.store[at:at + n] = c.mv[s:e]
        st.used += n
        st.lens[i] = max(st.lens[i], 0) + n
        return True
    # too large to keep: to the stream reader, with what was kept of it first
    i -= 4
    at = st.at + st.field_at
    names = []
    for k in range(4):
        n = st.lens[i + k]
        names.append(None if n < 0 else _text(st.store, at, at + n))
        at += max(n, 0)
    if not _to_stream(c, r, st, names, max(st.lens[i + 4], 0)):
        return False
    return st.result != 0 or _data(c, r, st, s, e)  # (a result: no reader, the rest is read past)


def _to_stream(c, r, st, names, size):
    """The current field goes to the stream reader from now on, starting with the `size`
    bytes of its value the store holds, which then leave it. Without a reader the form
    cannot be parsed: no room (the rest of the body is read past)."""
    if r.action.args[3] is None:
        st.result = _POST_PARSE_RES_FAILED_NO_POOL_MEM  # the rest is read past
        return True
    at = st.at + st.used - size
    st.names = names
    st.streamed = 0
    st.used = st.field_at
    if size:
        return _stream(c, r, st, size, memoryview(st.store)[at:at + size], False)
    return True


def _stream(c, r, st, size, data, final):
    args = r.action.args
    names = st.names
    act = call_app(c, args[3], r, args[4], names[0], names[1], names[2], names[3], size, data,
                       st.streamed, final)
    st.streamed += size
    if final:
        st.streamed = -1
    return answer(c, r, act, False)


def _text(b, s, e):
    try:
        return str(memoryview(b)[s:e], "utf-8")
    except (ValueError, UnicodeError):  # not UTF-8: the bytes as latin-1 would give them
        return "".join(chr(x) for x in memoryview(b)[s:e])
