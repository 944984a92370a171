# Request bodies: the upload actions of the MHD2 API, and the worker of the connection's
# ST_BODY stage, which reads a body (Content-Length or chunked) through the connection's
# buffer and gives it to the application as it asked: piece by piece to an incremental
# upload callback, whole to a full upload callback, to the POST parser (post.py), or to
# nobody (the application answered first: the body is read past, so that the connection
# stays in sync).
#
# The entry points are the action_process_upload* and upload_action_* functions, and for
# the connection start(c), answered_early(c) and read_body(c). The chunked coding is parsed
# by chunked.py (sans-I/O); the connection moves the bytes (Connection.consume_body). The
# engine loads this module for the first request that carries a body or asks for one.
#
# Memory: a body is never held whole unless a full upload callback asks for it, and then
# in place in the connection's buffer when it fits there, else in a region of the daemon's
# large pool (D_OPTION_LARGE_POOL_SIZE, taken at start), given back when the callback
# returns: upload_full.py, loaded only for full uploads.
from .platform import const
from .parser import SIZE_UNKNOWN
from .action import claim, action_from_response
from .lazy import load

_MORE = const(-1)  # = parser.MORE
_F_EXPECT_100 = const(8)  # = parser.F_EXPECT_100
_F_CHUNKED = const(16)  # = parser.F_CHUNKED
_ACT_RESPONSE = const(1)  # = action.ACT_RESPONSE
_ACT_UPLOAD = const(3)  # = action.ACT_UPLOAD

# r.body_mode: what happens to the body's bytes
_READ_PAST = const(0)  # nobody asked for them
_INC = const(1)  # each piece to the incremental callback
_FULL = const(2)  # collected, for the full callback
_POST = const(3)  # to the POST parser (post.py)
_FINAL_INC = const(4)  # all given: the incremental callback's last call (size 0) is due
_FINAL_FULL = const(5)  # all collected: the full callback's call is due
_FINAL_POST = const(6)  # all parsed: the POST parser's done callback is due

# Action.kind of the upload actions (MHD_UploadAction); a response is action.ACT_RESPONSE
_UA_CONTINUE = const(5)
_ACT_UPGRADE = const(7)  # = action.ACT_UPGRADE
_UA_SUSPEND = const(6)  # (upload_action_suspend: suspend.py)

_ST_BODY = const(4)  # = connection._ST_BODY
_CH_TRAILER = const(-3)  # = chunked.CH_TRAILER
_CH_DONE = const(-4)  # = chunked.CH_DONE
_ST_SUSPENDED = const(3)  # = connection.ST_SUSPENDED
_DRAIN_LIMIT = const(65536)  # a body the application answered early is read past up to this much
_REQUEST_ENDED_BY_APP_ABORT = const(40)  # = mhd.REQUEST_ENDED_BY_APP_ABORT


def action_process_upload(request, large_buffer_size, uc_full, uc_full_cls=None, uc_inc=None, uc_inc_cls=None):
    """Give the request body to the application: whole to uc_full(uc_full_cls, request, size,
    data) when it is at most large_buffer_size bytes, else (or without uc_full) piece by piece
    to uc_inc(uc_inc_cls, request, size, data), whose last call has size 0 and data None.
    Each returns an upload action. A body that is too large for uc_full with no uc_inc is
    refused with 413. None if both callbacks are None, if large_buffer_size and uc_full do not
    go together (as in MHD), or if the request has an action already."""
    if (uc_full is None and uc_inc is None) or (uc_full is None) != (not large_buffer_size):
        return None
    act = claim(request, _ACT_UPLOAD)
    if act is not None:
        act.args = (large_buffer_size, uc_full, uc_full_cls, uc_inc, uc_inc_cls)
    return act


def action_process_upload_inc(request, uc, uc_cls=None):
    return action_process_upload(request, 0, None, None, uc, uc_cls)


def upload_action_continue(request):
    """Go on with the next piece (incremental callback only: anywhere else it aborts)."""
    return claim(request, _UA_CONTINUE)


def upload_action_from_response(request, response):
    """Reply with `response`; the rest of the body is read past when it is small, else the
    connection closes after the reply."""
    return action_from_response(request, response)


def upload_action_abort_request(request):
    """Close the connection (MHD's macro is NULL: so is this)."""
    return None


# -- the engine's side --------------------------------------------------------------------
def start(c):
    """The request callback returned an upload action: choose how the body goes to the
    application, then read it (Connection.take_body sends 100 Continue if the client waits)."""
    r = c.req
    size, full, _, inc, _ = r.action.args
    r.action.kind = 0  # the upload callbacks' actions take the slot from now on
    n = r.upload_size
    if full is not None and (n == SIZE_UNKNOWN or n <= size):
        r.body_mode = _FULL
        if n != SIZE_UNKNOWN and r.body_start + n > len(c.buf):
            r.large_at = load("upload_full").alloc_large(c.daemon, n)
            if r.large_at < 0:
                if inc is None:
                    # larger than the pool: never; else the pool is lent to other uploads
                    c.fail(413 if c.daemon.large is None or n > len(c.daemon.large) else 503)
                    return
                r.body_mode = _INC
    elif inc is not None:
        r.body_mode = _INC
    else:
        c.fail(413)
        return
    if not n:  # no body: the last call at once
        r.body_mode = _FINAL_FULL if r.body_mode == _FULL else _FINAL_INC
    c.take_body()


def answered_early(c):
    """The request callback answered a request that carries a body: read a small body past
    it and keep the connection (read_body gives up past _DRAIN_LIMIT); close after the
    reply when the body is larger, or held back by the client for a 100 Continue that
    never comes."""
    r = c.req
    if r.flags & _F_EXPECT_100 or (r.cl > _DRAIN_LIMIT and not r.flags & _F_CHUNKED):
        c.respond(c.resp, True)
    else:
        c.take_body()


def read_body(c):
    """The ST_BODY worker. Returns True when the stage moved on, False to wait for the socket."""
    r = c.req
    while True:
        if r.body_mode >= _FINAL_INC:
            return _final(c, r)
        pos = _chunked(c, r) if r.flags & _F_CHUNKED else _sized(c, r)
        if pos < 0:
            return True  # the stage changed: an error reply, a response, a suspend or a close
        done = r.chunk_left == _CH_DONE if r.flags & _F_CHUNKED else r.received == r.cl
        if not done and r.body_mode == _READ_PAST and r.received - r.got > _DRAIN_LIMIT:
            c.respond(c.resp, True)  # too much to read past what the application took: close
            return True
        c.consume_body(pos, _keep(r))  # the bytes given are dropped; what follows moves behind the kept
        if done:
            if r.body_mode == _READ_PAST:
                c.body_complete(c.pos)
                return True
            r.body_mode += _FINAL_INC - _INC
        elif c.rlen == len(c.buf):
            # nothing more fits, and nothing in the buffer can be given yet: a trailer or a
            # framing line too long, or a full upload's chunked body outgrowing the buffer
            if r.chunk_left == _CH_TRAILER:
                c.fail(431)
                return True
            if r.body_mode != _FULL or not r.got or r.large_at >= 0:
                c.fail(413)
                return True
            if not load("upload_full").make_room(c, r):
                return True
        elif not c.rready or not c.receive():
            return False


def _keep(r):
    """Where the bytes to keep after the head end: the body collected for a full upload in
    the buffer; a form's kept fields and its bytes not decoded yet; else only the head."""
    if r.body_mode == _POST:
        return r.body_start + r.post.inbuf + r.got
    return r.body_start + (r.got if r.body_mode == _FULL and r.large_at < 0 else 0)


def _sized(c, r):
    """Content-Length: give what is held of the body. Returns the position reached, or -1."""
    pos = c.pos
    n = min(r.cl - r.received, c.rlen - pos)
    r.received += n
    if n and not give(c, r, pos, pos + n):
        return _stopped(c, r, pos + n)
    return pos + n


def _stopped(c, r, pos):
    """The application stopped the body at buf[pos]; when it suspended, the bytes up to pos
    are taken (it goes on from there once resumed). Returns -1."""
    if c.stage == _ST_SUSPENDED:
        c.consume_body(pos, _keep(r))
    return -1


def _chunked(c, r):
    """Step the chunked framing over the bytes held, giving the data of each chunk. Returns
    the position reached, or -1."""
    pos = c.pos
    step = load("chunked").chunk_step  # the chunked coding's parser: loaded for chunked bodies only
    while pos < c.rlen and r.chunk_left != _CH_DONE:
        p = step(r, c.buf, pos, c.rlen, c.daemon.strict)
        if p == _MORE:
            break
        if p < _MORE:  # broken framing: minus the error status
            c.fail(-p)
            return -1
        pos = p
        if r.data_end > r.data_start:
            r.received += r.data_end - r.data_start
            if not give(c, r, r.data_start, r.data_end):
                return _stopped(c, r, pos)
    return pos


def give(c, r, s, e):
    """Body bytes buf[s:e] as the mode wants them. Returns False when the stage changed."""
    if r.body_mode == _INC:
        return _give_piece(c, r, e - s, c.mv[s:e])
    return r.body_mode == _READ_PAST or load("upload_full" if r.body_mode == _FULL else "post").give(c, r, s, e)


def _give_piece(c, r, n, data):
    # apart from give(), so that neither frame comes from MicroPython's heap at each piece
    r.got += n  # given to the application (REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_PROCESSED)
    act = call(c, r, n, data)
    return answer(c, r, act, False)


def _final(c, r):
    """The application's last call: the full body, or the incremental callback's size 0."""
    if r.body_mode == _FINAL_POST:
        return load("post").finish(c, r)
    if r.body_mode == _FINAL_FULL:
        if r.large_at >= 0:
            data = memoryview(c.daemon.large)[r.large_at:r.large_at + r.got]
        else:
            data = c.mv[r.body_start:r.body_start + r.got]
        act = call(c, r, r.got, data)
    else:
        act = call(c, r, 0, None)
    if r.large_at >= 0 and (act is not r.action or r.action.kind != _UA_SUSPEND):
        load("upload_full").free_large(c.daemon, r)  # the data was the application's only during the call
    answer(c, r, act, True)
    return True


def call(c, r, size, data):
    """Call the upload callback of the body's mode; its upload action (None if it raised)."""
    args = r.action.args
    r.action.kind = 0
    i = 1 if r.body_mode == _FULL or r.body_mode == _FINAL_FULL else 3
    return call_app(c, args[i], args[i + 1], r, size, data)


def call_app(c, fn, *args):
    """An upload or POST callback: what it raises is logged and aborts the request (None),
    but a MemoryError goes on to Connection.run, which answers 500 (nothing was sent yet)."""
    try:
        return fn(*args)
    except MemoryError:
        raise
    except Exception:  # no "as": see Connection.run
        c.daemon.fault(None)
        return None


def answer(c, r, act, final):
    """Carry out the upload action `act`: go on (True), or suspend, reply or abort (False).
    `final`: the call was the last one, where only a response or a suspend make sense."""
    if act is None or act is not r.action or not act.kind:
        c.close(_REQUEST_ENDED_BY_APP_ABORT)
        return False
    kind = act.kind
    act.kind = 0
    if kind == _UA_SUSPEND:
        c.suspend(_ST_BODY)
        return False
    if kind == _ACT_RESPONSE:
        resp = act.response
        act.response = None
        if final or not (r.cl >= 0 and r.cl - r.received > _DRAIN_LIMIT):
            c.respond(resp, False)  # reply once the (rest of the) body is read past
            r.body_mode = _READ_PAST
            if final:
                c.body_complete(c.pos)
                return False
            return True
        c.respond(resp, True)
        return False
    if kind == _UA_CONTINUE and not final:
        return True
    if kind == _ACT_UPGRADE and final:  # upload_action_upgrade: the new protocol follows the body
        load("upgrade").start(c, c.pos)
        return False
    c.close(_REQUEST_ENDED_BY_APP_ABORT)  # "continue" where the body is over: an abort, as in MHD
    return False
