# The connection: one slot of the daemon (a socket, and a buffer lent while a request is in
# progress) and the HTTP/1.1 state machine that takes it from request head to reply and back
# for the next request.
#
# This module is the one owner of a connection's state: only its code changes the stage or
# any other field of a Connection. Other modules ask, through the methods named for what
# happens (open, close, fail, suspend, wake, resume, receive, consume_body, body_complete,
# queue, close_after_reply...); tests/test_connection_contract.py reads the sources and
# holds every module to that. The stage table, with what each stage owns and the stages
# upgrade and uploads will add, is in docs/architecture.md.
#
# The entry point is Connection.run(events): it runs the stage workers in order until
# one needs I/O. Each worker returns True when it advanced (run the next stage) or False
# when it waits for the socket. Stages only move forward within a request; _done() starts
# the next one.
#
# Buffer rules: the request head is read to the front of the buffer and parsed in place
# (parser.py). Once the application has answered, the head is dead: pipelined bytes that
# follow it move to the front and the reply header is written right after them, in the same
# buffer (framing.py), so a small reply goes out in one send. Nothing here allocates per
# request but the path string for a path the connection has not seen just before.
from .platform import const, recv_into, send, ticks_ms, ticks_diff
from .parser import parse_head, MORE, DROP, F_EXPECT_100
from .request import Request, request_path
from . import response as _resp
from .framing import plan, write_head, body_inline, FR_KEEP_ALIVE
from .action import ACT_SUSPEND, ACT_RESPONSE, ACT_POST, ACT_UPGRADE
from .lazy import load

# stages, in the order a request goes through them (private where only this module reads
# them: a module's public names cost heap on MicroPython)
ST_FREE = const(0)  # no client
_ST_HEAD = const(1)  # receiving and parsing the request head
_ST_APP = const(2)  # head complete: call the application
ST_SUSPENDED = const(3)  # action_suspend, dcc_action_suspend, upload_action_suspend: waits for request_resume
_ST_BODY = const(4)  # reading the request body, for the application or past it (upload.py)
_ST_REPLY = const(5)  # frame the reply and write its header
_ST_SEND = const(6)  # sending the header, body segments and chunked tail (or a 100 Continue)
_ST_DONE = const(7)  # reply sent: next request or close
ST_UPGRADED = const(8)  # 101 sent: the socket is the upgrade handler's (upgrade.py)

# the connection's place in the daemon's poll set (Connection.mask): the events it waits
# for, or out of the set
_WANT_NOTHING = const(0)
_WANT_READ = const(1)  # = platform.POLLIN
_WANT_WRITE = const(4)  # = platform.POLLOUT
_OUT_SUSPENDED = const(-1)  # suspended: its hang-ups would wake poll for nothing
OUT_WAITING = const(-2)  # waiting for a buffer; its bytes wait in the kernel
_OUT_UPGRADED = const(-3)  # upgraded, and the application waits for nothing
_READY = const(25)  # = platform.POLLIN | platform.POLLERR | platform.POLLHUP; a read will not block

# Connection.flags: what else is true of the connection (one field, not one each: every field
# is a slot of each connection's attribute table, which MicroPython grows 17, 23, 29... entries)
_F_SERVED = const(1)  # a reply was sent and the connection kept: idle now means between requests
_F_RESUMING = const(2)  # request_resume was called: the daemon resumes it next round
_F_FORCE_CLOSE = const(4)  # close after this reply, for a reason of the engine's
_F_STAGE_SHIFT = const(4)  # a shift, not a bit: suspended, the stage to resume at is flags >> 4

_REPLY_RESERVE = const(256)  # room kept for a reply header behind pipelined requests
_RF_NONCES = const(1024)  # = response.RF_NONCES
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_SC_REPLY_POOL_ALLOCATION_FAILURE = const(50231)  # = mhd.SC_REPLY_POOL_ALLOCATION_FAILURE

# how a request ended, for R_O_TERMINATION_CALLBACK
_REQUEST_ENDED_COMPLETED_OK = const(0)  # = mhd.REQUEST_ENDED_COMPLETED_OK
_REQUEST_ENDED_CONNECTION_ERROR = const(20)  # = mhd.REQUEST_ENDED_CONNECTION_ERROR
_REQUEST_ENDED_CLIENT_ABORT = const(30)  # = mhd.REQUEST_ENDED_CLIENT_ABORT
_REQUEST_ENDED_NO_RESOURCES = const(50)  # = mhd.REQUEST_ENDED_NO_RESOURCES
_MIN_BODY_RATE = const(500)  # bytes/s: a body slower than this may be reclaimed, as a trickled head
_GRACE_MS = const(2000)  # a new connection silent, or a head arriving, for this long may be reclaimed
_len = len  # a global of this module: found before the builtins, which MicroPython searches in order


# Socket calls live in these two small functions: a try in a bigger one would push its
# frame onto the heap at every call (MicroPython keeps frames of up to 11 words on the stack).
def _read(sock, view):
    try:
        return recv_into(sock, view)
    except OSError:
        return 0


def _write(c):
    try:
        return send(c.sock, c.out, c.out_off, c.out_end - c.out_off)
    except OSError:
        return -1


def new_lease(size, nfields):
    """One buffer of the daemon's pool and what goes with it, lent together to a connection:
    (the buffer, its memoryview, the part of it reads may fill while a head does not need the
    reserve, the request state). The request keeps its lease as r.lease; the connection takes
    the buffer, the memoryview and the request, and reads the read view from the lease."""
    buf = bytearray(size)
    mv = memoryview(buf)
    r = Request(size, nfields)
    r.lease = (buf, mv, mv[:size - min(_REPLY_RESERVE, size // 4)], r)
    return r.lease


class Connection:
    def __init__(self, daemon):
        self.daemon = daemon
        self.sock = None
        self.addr = None
        self.stage = ST_FREE
        self.mask = _WANT_NOTHING  # WANT_* in the poll set, or OUT_*
        self.last = 0  # ticks of the last I/O, for the timeout
        self.began = 0  # ticks when the head being received, or the body, began: for the head
        # deadline, and for telling slow clients from others when the table is full
        self.rready = False  # the socket may have bytes to read
        self.flags = 0  # _F_*
        # the lease (new_lease), while the connection has a request in progress or keeps it
        # between requests: the buffer, its memoryview and the request state
        self.buf = self.mv = self.req = None
        self.rlen = 0  # bytes held in buf, from 0
        self.pos = 0  # first byte after the head not yet consumed (the request body's reader)
        # the reply
        self.resp = None
        self.framing = 0  # framing.plan's FR_* bits
        # (its header starts in buf at rlen, after any pipelined bytes: rlen stays while it is sent)
        self.out = None  # the segment being sent is out[out_off:out_end]
        self.out_off = 0
        self.out_end = 0
        # once it is sent, the stage: _ST_DONE when it ends the reply (_ST_BODY after a 100
        # Continue, ST_UPGRADED after a 101), 0 while the body's next segment follows it
        self.then = _ST_DONE
        self.body = None  # body.BodyWriter, for bodies sent in segments: made on first need
        self.urh = None  # upgrade.Upgraded, the handle once upgraded: made on first need

    # -- life cycle, driven by the daemon ------------------------------------------------
    def open(self, sock, addr, now):
        """A new client in this free slot, polled for reading. Polled first: MicroPython's poll
        set takes heap for each socket, and if that raises MemoryError the slot is still free."""
        self.daemon.poller.register(sock, _WANT_READ)
        self.sock = sock
        self.addr = addr
        self.stage = _ST_HEAD
        self.rlen = 0
        self.pos = 0
        self.last = now
        self.rready = True  # clients usually send right after connecting: try at once
        self.flags = 0
        self.mask = _WANT_READ

    def close(self, ended=_REQUEST_ENDED_CONNECTION_ERROR, keep_sock=False):
        """Close the connection; a reply in progress ends with the code `ended`. With
        keep_sock, the socket stays open for the caller."""
        if self.stage == ST_FREE:
            return
        self._drop_response(ended)
        self.stage = ST_FREE
        self.flags &= ~_F_RESUMING
        if self.mask >= 0:
            self.daemon.poller.unregister(self.sock)
        self.daemon.conn_closed(self, keep_sock)  # reads the mask: was it waiting for a buffer?
        self.mask = _WANT_NOTHING
        self.sock = None
        if self.req is not None:
            self.daemon.return_buffer(self.release_buffer())

    def _drop_response(self, ended):
        if self.body is not None:
            self.body.drop(self)  # segments not sent: their zero-copy callbacks run now
        if self.req is None:  # no request in progress: nothing to drop
            return
        act = self.req.action
        if act.kind == ACT_UPGRADE:  # closed before its 101 went out
            load("upgrade").ended(self, ended)
        resp = self.resp
        if resp is not None:
            self.resp = None
            self._ended(resp, ended)
        if act.response is not None:
            self._release(act.response)
        act.response = None
        act.kind = 0

    def _ended(self, resp, code):
        """The request is over: the termination callback learns how, then the reference goes."""
        if resp.ended is not None:
            r = self.req
            self.daemon.call_safely(resp.ended[0], resp.ended[1], r, code, r.app_context)
        self._release(resp)

    def _release(self, resp):
        """Drop the connection's reference. A free callback that raises is logged, as other
        application callbacks are: the response is back in its pool and the connection goes on."""
        try:
            _resp.release(resp)
        except Exception:  # no "as": see run
            self.daemon.fault(None)

    def is_idle(self):
        """Between requests on a kept-alive connection, with nothing received yet."""
        return self.stage == _ST_HEAD and self.rlen == 0

    def reclaimable(self, now):
        """May be closed to make room for a new client: idle between requests, new and silent
        for a while (a browser's preconnect), or trickling a head for a while (slowloris). A
        client that connected a moment ago has its request on the way: closing it would
        answer a legitimate client with a bare close. A body arriving slower than
        _MIN_BODY_RATE gives way too (Apache's mod_reqtimeout MinRate): a firmware upload on
        a poor link is far faster than a body trickled to hold the slot."""
        st = self.stage
        t = ticks_diff(now, self.began)
        if st == _ST_BODY:  # slower than _MIN_BODY_RATE since it began (RUDY)
            return t >= _GRACE_MS and self.req.received * 1000 < t * _MIN_BODY_RATE
        if st != _ST_HEAD:
            return False
        if self.rlen:
            return t >= _GRACE_MS
        return self.flags & _F_SERVED or ticks_diff(now, self.last) >= _GRACE_MS

    def overdue(self, now):
        """Past the idle timeout (D_OPTION_DEFAULT_TIMEOUT), or past the head deadline
        (D_OPTION_HEAD_TIMEOUT) while receiving a head. Suspended and upgraded connections
        have no timeout."""
        st = self.stage
        if st == ST_FREE or st == ST_SUSPENDED or st == ST_UPGRADED:
            return False
        t = self.daemon.timeout_ms
        if t and ticks_diff(now, self.last) >= t:
            return True
        t = self.daemon.head_ms
        return st == _ST_HEAD and self.rlen > 0 and t > 0 and ticks_diff(now, self.began) >= t

    def want(self):
        """The poll events this stage waits for."""
        st = self.stage
        if st == _ST_SEND:
            return _WANT_WRITE
        if st == _ST_HEAD or st == _ST_BODY:
            return _WANT_READ
        if st == ST_UPGRADED:
            return self.mask  # what the application asked for (watch)
        return _WANT_NOTHING

    def repoll(self):
        """Poll for what the stage waits for, if that changed (not while out of the poll set)."""
        want = self.want()
        if want != self.mask and self.mask >= 0:
            self.daemon.poller.modify(self.sock, want)
            self.mask = want

    # -- the buffer, lent by the daemon ----------------------------------------------------
    def release_buffer(self):
        """Let go of the lease: the connection closes, or it is idle while another one waits
        for a buffer. Returns the request state, whose lease the daemon gives on."""
        r = self.req
        self.buf = self.mv = self.req = None
        return r

    def stop_waiting(self):
        """A buffer is free again: back in the poll set, and read at once."""
        self.daemon.poller.register(self.sock, _WANT_READ)
        self.mask = _WANT_READ
        self.rready = True

    def _take_buffer(self):
        """A buffer for the bytes to read: a free one, else one an idle connection holds.
        With none, out of the poll set until the daemon has one (Daemon._unpark)."""
        lease = self.daemon.lend_buffer(self)
        if lease is None:
            self.daemon.poller.unregister(self.sock)
            self.mask = OUT_WAITING
            return False
        self.buf = lease[0]
        self.mv = lease[1]
        r = self.req = lease[3]
        r.conn = self
        return True

    # -- suspend and resume (suspend.py has the API) ----------------------------------------
    def suspend(self, resume_stage):
        """Out of the poll set, with no timeout, until resume(); then on at resume_stage."""
        self.stage = ST_SUSPENDED
        self.flags = self.flags & (_F_SERVED | _F_FORCE_CLOSE) | resume_stage << _F_STAGE_SHIFT
        self.daemon.poller.unregister(self.sock)
        self.mask = _OUT_SUSPENDED

    def wake(self):
        """request_resume: the daemon resumes this connection at its next round. Returns
        False if it is not suspended."""
        if self.stage != ST_SUSPENDED:
            return False
        self.flags |= _F_RESUMING
        return True

    def resume(self):
        """Back in the poll set at the stage it was suspended in; the daemon then runs it."""
        self.flags &= ~_F_RESUMING
        self.stage = self.flags >> _F_STAGE_SHIFT
        self.last = ticks_ms()
        self.mask = self.want()
        self.daemon.poller.register(self.sock, self.mask)

    # -- the state machine ---------------------------------------------------------------
    def run(self, events):
        """Run the state machine, then poll for what it waits for. `events`: what poll said
        of the socket (0: nothing). A fault in it closes this connection only; the daemon
        logs it."""
        if events & _READY:
            self.rready = True
        try:
            if self.stage == ST_UPGRADED:
                self.urh.ready(events)
            else:
                # the stages, until one waits (in line: a call less per round). `events` is done
                # with and holds the stage (one local less keeps this frame on the C stack).
                # The stage workers are called through the class: self._reply() would first
                # search the instance's dict of fields, nearly full (MicroPython grows a dict
                # only when it is full), before the class; that miss costs more than the lookup.
                while True:
                    events = self.stage
                    if events == _ST_HEAD:
                        if not (self.rready or self.rlen) or not Connection._head(self):
                            break  # nothing to read or parse (the usual case right after a reply)
                    elif events == _ST_APP:
                        Connection._call_app(self)
                    elif events == _ST_REPLY:  # a request's stages in its order: fewer tests on the way
                        Connection._reply(self)
                    elif events == _ST_SEND:
                        if not Connection._send(self):
                            break
                    elif events == _ST_DONE:
                        Connection._done(self)
                    elif events == _ST_BODY:
                        if not load("upload").read_body(self):
                            break
                    elif events == ST_UPGRADED:
                        self._upgraded()
                        break
                    else:
                        break
        except MemoryError:
            self._no_memory()
        except Exception:  # no "as e": that would put this frame on the heap (see parser.py)
            self.daemon.fault(self)
        # (no local: with the try, this frame would need the heap) waiting for the next
        # request, as usual, needs no call
        if self.stage != ST_FREE and (self.stage != _ST_HEAD or self.mask != _WANT_READ):
            self.repoll()

    def _no_memory(self):
        """A MemoryError ends the request, not the daemon: logged (if the log can load), then
        a 500 if the reply has not started (and there is heap for it: errors.py may have to
        load), else the close. (A free slot has no req; a suspended one runs nothing here.)"""
        self.daemon.fault(None)
        if self.req is not None and self.stage < _ST_SEND:
            try:
                self.fail(500)
                return
            except Exception:  # no heap for the error reply either
                pass
        self.close()

    def receive(self):
        """Read more into buf after the rlen bytes held. Returns the count, None to wait, 0
        when the peer closed (the connection is closed then).

        Reads stop short of the last _REPLY_RESERVE bytes while the request head does not
        need them: bytes pipelined after a head move to the front when the reply starts, and
        the reply header must still fit after them."""
        at = self.rlen
        n = self.req.lease[2]  # the lease's read view: reads fill it while the head needs no more
        cap = _len(n)
        if at < cap:
            n = _read(self.sock, n if not at else self.mv[at:cap])
        else:
            n = _read(self.sock, self.mv[at:])
            cap = len(self.buf)
        if n is None:
            self.rready = False
            return None
        if not n:
            self.close(_REQUEST_ENDED_CLIENT_ABORT)
            return 0
        if at + n < cap:
            self.rready = False  # short read: the socket is drained, poll before reading again
        self.rlen = at + n
        self.last = ticks_ms()
        if not at and self.stage == _ST_HEAD:
            self.began = self.last  # a head starts
        return n

    def _head(self):
        d = self.daemon
        if self.req is None and (not self.rready or not self._take_buffer()):
            return False  # nothing to read yet, or no buffer: the daemon runs it again
        r = self.req
        b = self.buf
        while True:
            if self.rlen > r.line:  # bytes to parse (none at a new request's first round: read first)
                st = parse_head(r, b, self.rlen, d.strict)
                if r.phase == 1:  # the request line is in: once per request, the early URI logger
                    r.phase = 2
                    if d.uri_logger is not None:
                        r.app_context = load("log").call_uri_logger(d, r)
                if st == 0:
                    self.stage = _ST_APP
                    return True
                if st != MORE:
                    if st == DROP:
                        self.close()
                        return False
                    self.fail(st)
                    return True
                if self.rlen == _len(b) and not r.phase and r.line:
                    # skipped empty lines before the request line fill the buffer: drop them
                    n = self.rlen - r.line
                    b[0:n] = self.mv[r.line:self.rlen]
                    self.rlen = n
                    r.line = 0
                if self.rlen == _len(b):
                    self._head_too_long()
                    return True
            if not self.rready or not Connection.receive(self):  # (through the class: see run)
                return False

    def _head_too_long(self):
        self.fail(load("errors").too_long_status(self.req, self.buf, self.rlen))

    def _call_app(self):
        r = self.req
        path = request_path(r)
        if path is None:
            self.fail(400)
            return
        # a raise in the callback: Daemon.run closes the connection and logs it
        act = self.daemon.cb(self.daemon.cb_cls, r, path, r.method, r.upload_size)
        if act is None or act is not r.action or not act.kind:
            self.close()  # abort: None, a foreign action or a raise
            return
        if act.kind != ACT_RESPONSE:
            self._call_app_more(act)
            return
        self.resp = act.response
        act.response = None
        self.pos = r.body_start
        if r.upload_size:
            load("upload").answered_early(self)  # a body nobody asked for
        else:
            self.stage = _ST_REPLY

    def _call_app_more(self, act):
        # the other actions: suspend, hand the body to the application (upload.py, post.py),
        # or switch protocols (upgrade.py)
        if act.kind == ACT_SUSPEND:
            act.kind = 0
            self.suspend(_ST_APP)
        elif act.kind == ACT_UPGRADE:
            load("upgrade").start(self, self.req.body_start)
        else:
            load("post" if act.kind == ACT_POST else "upload").start(self)

    # -- protocol upgrade (upgrade.py) -----------------------------------------------------
    def switch_protocols(self, head, leftover_at):
        """Send the 101 reply `head`; then the connection is the upgrade handler's. The bytes
        from buf[leftover_at] on came after the request: the handler reads them first."""
        self.pos = leftover_at
        self.queue(head, 0, len(head), True)
        self.then = ST_UPGRADED
        self.stage = _ST_SEND

    def _upgraded(self):
        self.out = None  # the 101's bytes are out: not kept while the connection stays upgraded
        if self.urh is None:
            self.urh = load("upgrade").Upgraded(self)
        self.urh.begin()

    def watch(self, events):
        """Upgraded: poll the socket for `events` (0: take it out of the poll set)."""
        d = self.daemon
        if events:
            if self.mask < 0:
                d.poller.register(self.sock, events)
            else:
                d.poller.modify(self.sock, events)
            self.mask = events
        elif self.mask >= 0:
            d.poller.unregister(self.sock)
            self.mask = _OUT_UPGRADED

    def take_leftover(self, n):
        """Upgraded: n of the bytes that came after the request are taken; once none are
        left, the buffer goes back to the pool."""
        self.pos += n
        if self.pos >= self.rlen and self.req is not None:
            self.rlen = self.pos = 0
            self.daemon.return_buffer(self.release_buffer())

    # -- the request body (upload.py reads it) ---------------------------------------------
    def take_body(self):
        """The body is wanted (by the application, or to be read past): read it, after a
        "100 Continue" if the client waits for one (RFC 9110 section 10.1.1)."""
        self.pos = self.req.body_start
        self.began = ticks_ms()  # for the body's rate (reclaimable)
        if self.req.flags & F_EXPECT_100 and self.req.upload_size:
            self.queue(_CONTINUE, 0, len(_CONTINUE), True)
            self.then = _ST_BODY
            self.stage = _ST_SEND
        else:
            self.stage = _ST_BODY

    def consume_body(self, pos, keep):
        """The request body is taken up to buf[pos]: the bytes from `keep` to `pos` are
        dropped and those after `pos` move to `keep`, making room to read more."""
        if pos > keep:
            n = self.rlen - pos
            if n:
                self.buf[keep:keep + n] = self.mv[pos:self.rlen]
            self.rlen = keep + n
            pos = keep
        self.pos = pos

    def body_complete(self, pos):
        """The request body ends at buf[pos]: reply."""
        self.pos = pos
        self.stage = _ST_REPLY

    def respond(self, resp, now):
        """The application's response to a request with a body. `now`: reply at once and
        close after it, without reading the rest of the body; else once it is read."""
        self.resp = resp
        if now:
            self.flags |= _F_FORCE_CLOSE
            self.pos = self.rlen  # the body bytes held are not a next request
            self.stage = _ST_REPLY

    # -- the reply -------------------------------------------------------------------------
    def _reply(self):
        """Frame the reply and write its header after any pipelined bytes; a small body joins it."""
        if self.rlen > self.pos:
            self._compact()
        else:
            self.rlen = self.pos = 0
        resp = self.resp
        self.framing = plan(resp, self.req, self.flags & _F_FORCE_CLOSE or self.daemon.quiesced)
        p = write_head(self.buf, self.rlen, resp, self.framing, self.daemon.date_now)
        if p < 0:
            p = self._head_without_pipelined()
            if p < 0:
                return
        if resp.flags & _RF_NONCES:
            load("auth_digest").fill_nonces(self, p)
        end = body_inline(self.buf, p, resp, self.framing)
        # queue's work in line (every reply comes this way): the header, and the body if it joined it
        self.out = self.buf
        self.out_off = self.rlen
        self.then = _ST_DONE
        if end < 0:  # the body follows the header in segments: body.py
            if self.body is None:
                self.body = load("body").BodyWriter()
            self.body.start(self)
            self.then = 0
            end = p
        self.out_end = end
        self.stage = _ST_SEND

    def _compact(self):
        # the request is answered: pipelined bytes after it go to the front of the buffer
        left = self.rlen - self.pos
        if self.pos:
            self.buf[0:left] = self.mv[self.pos:self.rlen]
        self.pos = 0
        self.rlen = left

    def _head_without_pipelined(self):
        """The reply header does not fit behind the pipelined requests: drop them (the client
        must retry them, so close after this reply) and write it at the front. Returns its
        end, or -1 when it does not fit the buffer at all (the connection is closed)."""
        if self.rlen:
            self.rlen = 0
            self.framing &= ~FR_KEEP_ALIVE
            p = write_head(self.buf, 0, self.resp, self.framing, self.daemon.date_now)
            if p >= 0:
                return p
        self.daemon.log(_SC_REPLY_POOL_ALLOCATION_FAILURE, "reply header does not fit in the connection buffer")
        self.close(_REQUEST_ENDED_NO_RESOURCES)
        return -1

    def queue(self, data, off, end, final):
        """The reply's next segment is data[off:end]; `final` if it ends the reply."""
        self.out = data
        self.out_off = off
        self.out_end = end
        self.then = _ST_DONE if final else 0

    def close_after_reply(self):
        """The connection closes once this reply is sent (a body shorter than announced)."""
        self.framing &= ~FR_KEEP_ALIVE

    def _send(self):
        while True:
            if self.out_off < self.out_end:
                n = _write(self)
                if n is None:
                    return False
                if n < 0:
                    self.close(_REQUEST_ENDED_CLIENT_ABORT)
                    return False
                n += self.out_off
                self.out_off = n
                self.last = ticks_ms()
                if n < self.out_end:
                    return False  # the socket is full: wait for POLLOUT
            if self.then:  # the segment is sent, and the reply (or the 100 Continue, or the 101)
                self.stage = self.then
                return True
            if not self.body.next(self):
                self.last = ticks_ms()  # a sendfile moved bytes (POLLOUT ran this), or it stopped
                return False  # wait for the socket, or closed or suspended by dyn_cont

    def _done(self):
        r = self.req
        resp = self.resp
        self.resp = None
        if resp is not None:
            if resp.ended is None:
                if resp.refs > 1:  # not the last reference (a reusable response): no callback can run, no call
                    resp.refs -= 1
                else:
                    self._release(resp)
            else:
                self._ended(resp, _REQUEST_ENDED_COMPLETED_OK)
        self.out = None
        if not self.framing & FR_KEEP_ALIVE:
            self.close()
            return
        Request.reset(r)  # (through the class: see run)
        self.stage = _ST_HEAD
        self.began = self.last  # for a pipelined head already held
        self.flags |= _F_SERVED
        if self.daemon.waiting and self.rlen == 0:  # idle now, and another connection waits for a buffer
            self.daemon.return_buffer(self.release_buffer())

    def fail(self, status):
        """Reply with an automatic error page (errors.py), then close: after a protocol error
        the rest of the stream can't be trusted."""
        self._drop_response(_REQUEST_ENDED_CONNECTION_ERROR)
        errors = load("errors")
        at = errors.reply_offset(self.req, self.rlen, len(self.buf), status)
        self.framing = 0  # close after it; not chunked
        self.rlen = at  # where it starts: behind the bytes held, or at the front (they go)
        self.queue(self.buf, at, errors.write_error(self.daemon, self.req, self.buf, at, status), True)
        self.stage = _ST_SEND
