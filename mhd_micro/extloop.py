# MHD2's external event loop mode (D_OPTION_WM_EXTERNAL_EVENT_LOOP_CB_LEVEL): the
# application's own loop watches the sockets, not the daemon's poll. Loaded only in that mode.
#
# The daemon and its connections already speak to their poll set through four calls
# (register, modify, unregister, ipoll). In this mode d.poller is an ExtLoop, which keeps
# those wishes and tells them to the application's registration callback, so the engine and
# the default mode's loop are the same code:
#
#   reg_cb(cls, sock, watch_for, app_ctx_old, ecb_cntx) -> app_ctx
#       watch_for: FD_STATE_* bits (EXCEPT always set), or FD_STATE_NONE: forget the socket
#       (then return None). app_ctx_old: what the last call for this socket returned (None:
#       a new socket). For a new or changed socket a None return is a failure: a connection
#       closes; the listening socket fails daemon_start.
#   daemon_event_update(daemon, ecb_cntx, fd_state): the socket is ready for fd_state
#   daemon_process_reg_events(daemon) -> (SC_*, next_max_wait in microseconds)
#
# An ecb_cntx is a small list the application must not change: [socket, the poll events fed
# back, the poll events the daemon wants, the FD_STATE_* the application was told, app_ctx].
# Its first two items are what daemon.process reads of a poll result, so the ready ones are
# handed to the daemon's own loop as they are, and a round allocates nothing.
from .platform import const, POLLIN, POLLOUT, POLLERR
from .daemon import WAIT_INDEFINITELY
from .lazy import load

FD_STATE_NONE = const(0)
FD_STATE_RECV = const(1)
FD_STATE_SEND = const(2)
FD_STATE_EXCEPT = const(4)
FD_STATE_RECV_SEND = const(3)
FD_STATE_RECV_EXCEPT = const(5)
FD_STATE_SEND_EXCEPT = const(6)  # MHD2's header gives it RECV|EXCEPT (5) by mistake
FD_STATE_RECV_SEND_EXCEPT = const(7)

_SC_OK = const(0)  # = mhd.SC_OK
_SC_TOO_EARLY = const(60000)  # = mhd.SC_TOO_EARLY
_SC_DAEMON_MEM_ALLOC_FAILURE = const(30081)  # = mhd.SC_DAEMON_MEM_ALLOC_FAILURE
_SC_EXTERNAL_EVENT_ONLY = const(60012)  # = mhd.SC_EXTERNAL_EVENT_ONLY
_SC_EXT_EVENT_REG_DAEMON_FDS_FAILURE = const(50066)  # = mhd.SC_EXT_EVENT_REG_DAEMON_FDS_FAILURE
_SC_EXTR_EVENT_REG_FAILED = const(60243)  # = mhd.SC_EXTR_EVENT_REG_FAILED
_SC_EXTR_EVENT_DEREG_FAILED = const(60244)  # = mhd.SC_EXTR_EVENT_DEREG_FAILED
_SC_EXTR_EVENT_BROKEN_DATA = const(60250)  # = mhd.SC_EXTR_EVENT_BROKEN_DATA
_REQUEST_ENDED_BY_EXT_EVENT_ERROR = const(42)  # = mhd.REQUEST_ENDED_BY_EXT_EVENT_ERROR

# the items of an ecb_cntx
_SOCK = const(0)
_READY = const(1)
_WANT = const(2)
_TOLD = const(3)
_CTX = const(4)


class ExtLoop:
    """Stands in for platform.Poller: the daemon's poll set, kept for the application."""

    def __init__(self, d, cb, cls, reg_all):
        self.d = d
        self.cb = cb
        self.cls = cls
        self.reg_all = reg_all  # D_OPTION_REREGISTER_ALL: tell every socket each round
        self.by_sock = {}  # socket -> its ecb_cntx
        self.spare = []  # ecb_cntx lists of forgotten sockets, for the next ones
        self.fired = []  # the ecb_cntx of sockets daemon_event_update said are ready

    # -- the Poller interface, called by the daemon and the connections --------------------
    def register(self, s, mask):
        e = self.spare.pop() if self.spare else [None, 0, 0, 0, None]
        e[_SOCK] = s
        e[_WANT] = mask
        self.by_sock[s] = e  # the application hears of it at the end of the round

    def modify(self, s, mask):
        self.by_sock[s][_WANT] = mask

    def unregister(self, s):
        """Forgotten now, while the socket is still open (it may close right after)."""
        e = self.by_sock.pop(s)
        if e[_TOLD] and self.d.call_safely(self.cb, self.cls, s, FD_STATE_NONE, e[_CTX], e) is not None:
            self.d.log(_SC_EXTR_EVENT_DEREG_FAILED, "the registration callback did not forget a socket")
        e[_SOCK] = e[_CTX] = None  # still in `fired`, it matches no socket
        e[_READY] = e[_TOLD] = 0
        self.spare.append(e)

    def ipoll(self, timeout_ms):
        return self.fired  # the daemon never waits in this mode

    # -- the application's side ------------------------------------------------------------
    def update(self):
        """Tell the application what changed; SC_OK, or the listening socket's failure."""
        while True:
            rc = self._update_once()
            if rc >= 0:
                return rc

    def _update_once(self):
        """-1 when a connection closed (the socket table changed): go again."""
        d = self.d
        for s, e in self.by_sock.items():
            want = e[_WANT]
            watch = FD_STATE_EXCEPT | (want & POLLIN) | (FD_STATE_SEND if want & POLLOUT else 0)
            if watch == e[_TOLD] and not self.reg_all:
                continue
            ctx = d.call_safely(self.cb, self.cls, s, watch, e[_CTX], e)
            e[_CTX] = ctx
            e[_TOLD] = 0 if ctx is None else watch
            if ctx is None:
                d.log(_SC_EXTR_EVENT_REG_FAILED, "the registration callback refused a socket")
                c = d.by_sock.get(s)
                if c is None:
                    return _SC_EXT_EVENT_REG_DAEMON_FDS_FAILURE  # the listening socket
                c.close(_REQUEST_ENDED_BY_EXT_EVENT_ERROR)
                return -1
        return _SC_OK

    def done(self):
        """The round is over: the readiness fed back is used up."""
        for e in self.fired:
            e[_READY] = 0
        del self.fired[:]  # keeps the list's room: the next round appends without allocating


def attach(d):
    """daemon_start in this mode: the ExtLoop replaces the daemon's poll, and the application
    hears of the listening socket. Returns SC_OK or the failure (the daemon is stopped)."""
    cb, cls, reg_all = d.ext
    x = ExtLoop(d, cb, cls, reg_all)
    d.poller = x
    if d.lsock is not None:
        x.register(d.lsock, POLLIN)
    rc = x.update()
    if rc:
        load("stop").daemon_destroy(d)
    return rc


def daemon_event_update(daemon, ecb_cntx, fd_current_state):
    """The socket of ecb_cntx is ready for fd_current_state (FD_STATE_* bits). Call it for each
    socket that is ready, between two daemon_process_reg_events."""
    x = daemon.poller
    e = ecb_cntx
    if daemon.ext is None or not daemon.started or x.by_sock.get(e[_SOCK]) is not e:
        daemon.log(_SC_EXTR_EVENT_BROKEN_DATA, "daemon_event_update with a context the daemon did not give")
        return
    ev = (fd_current_state & e[_TOLD] & FD_STATE_RECV) | (POLLOUT if fd_current_state & e[_TOLD] & FD_STATE_SEND else 0)
    if fd_current_state & FD_STATE_EXCEPT:
        ev |= POLLERR
    if ev:
        if not e[_READY]:
            x.fired.append(e)
        e[_READY] |= ev


def daemon_process_reg_events(daemon):
    """Process what daemon_event_update reported: accept, run the connections, time out the
    idle ones; then tell the registration callback every socket to add, change or forget.
    Returns (SC_OK, microseconds until the daemon must run again, or WAIT_INDEFINITELY);
    (SC_DAEMON_MEM_ALLOC_FAILURE, 0) when the heap ran out outside a request (accepting a
    client, the Date line): transient, as in daemon_process_blocking, so call again."""
    if not daemon.started:
        return _SC_TOO_EARLY, WAIT_INDEFINITELY
    if daemon.ext is None:
        return _SC_EXTERNAL_EVENT_ONLY, WAIT_INDEFINITELY
    x = daemon.poller
    try:
        rc = daemon.process(0)
    except MemoryError:  # a request's own ends that request (connection.py): this is the round's
        x.done()
        return _SC_DAEMON_MEM_ALLOC_FAILURE, 0
    x.done()
    if not rc:
        rc = x.update()
    if rc:
        return rc, WAIT_INDEFINITELY
    ms = daemon.max_wait_ms()
    return _SC_OK, WAIT_INDEFINITELY if ms < 0 else ms * 1000
