# Protocol upgrade (the MHD2 manual's "Creating a response for protocol upgrades"):
# action_upgrade sends "101 Switching Protocols", then the connection belongs to the
# application's upgrade handler, which talks over the handle with upgraded_recv,
# upgraded_send and upgraded_close. An optional module (features.UPGRADE).
#
# One thread serves everything, so a handler must not block. mhd_micro's addition:
# upgraded_notify(urh, cb, cls, read, write) puts the upgraded socket in the daemon's own
# poll set, and cb(cls, urh, readable, writable) runs when it is ready (no busy polling);
# with 0 as max_wait_millisec, upgraded_recv and upgraded_send never wait. A wait longer
# than 0 blocks the daemon (the whole server) while it lasts, as MHD2 warns.
#
# Upgraded connections keep their slot (they count against the global and per-IP limits)
# and never time out. The buffer the connection had goes back to the pool once the bytes
# that came after the request head are taken (upgraded_recv gives them first).
from .platform import const, recv_into, send, ticks_ms, ticks_diff, POLLIN, POLLOUT, POLLERR, POLLHUP
from .action import claim, ACT_UPGRADE

_SC_OK = const(0)  # = mhd.SC_OK
_SC_UPGRADED_NET_TIMEOUT = const(30161)  # = mhd.SC_UPGRADED_NET_TIMEOUT
_SC_UPGRADED_NET_CONN_BROKEN = const(50801)  # = mhd.SC_UPGRADED_NET_CONN_BROKEN
_SC_UPGRADED_HANDLE_INVALID = const(60161)  # = mhd.SC_UPGRADED_HANDLE_INVALID
_REQUEST_ENDED_COMPLETED_OK_UPGRADE = const(1)  # = mhd.REQUEST_ENDED_COMPLETED_OK_UPGRADE


def action_upgrade(request, upgrade_hdr_value, upgrade_handler, upgrade_handler_cls=None, headers=(),
                   ended_cb=None, ended_cb_cls=None):
    """Reply "101 Switching Protocols" with `Upgrade: upgrade_hdr_value`, `Connection:
    upgrade` and the extra header fields `headers` ((name, value) pairs), then call
    upgrade_handler(upgrade_handler_cls, request, urh). None on invalid arguments, for an
    HTTP/1.0 request or one with a body still to come, where the daemon was told
    D_OPTION_DISALLOW_UPGRADE(True), or if the request has an action already.

    mhd_micro's addition: ended_cb(ended_cb_cls, request, code, request_app_context) is the
    termination callback (what R_OPTION_TERMINATION_CALLBACK is for a response; MHD2 has no
    response here to carry it). It runs once: with REQUEST_ENDED_COMPLETED_OK_UPGRADE when
    the 101 is out, just before the handler, else with the code of what ended the request
    before that (the client gone, the daemon shut down)."""
    if request.upload_size:
        return None  # the body would be read as the new protocol
    return upload_action_upgrade(request, upgrade_hdr_value, upgrade_handler, upgrade_handler_cls, headers,
                                 ended_cb, ended_cb_cls)


def upload_action_upgrade(request, upgrade_hdr_value, upgrade_handler, upgrade_handler_cls=None, headers=(),
                          ended_cb=None, ended_cb_cls=None):
    """action_upgrade from an upload callback, once the body is read (its last call)."""
    if (upgrade_handler is None or not upgrade_hdr_value or request.conn.daemon.no_upgrade
            or request.version != 2 or _bad(upgrade_hdr_value, b"\r\n\0")):
        return None
    head = _head(upgrade_hdr_value, headers)
    if head is None:
        return None
    act = claim(request, ACT_UPGRADE)
    if act is not None:
        act.args = (head, upgrade_handler, upgrade_handler_cls,
                    None if ended_cb is None else (ended_cb, ended_cb_cls))
    return act


def _bad(s, c):
    """True if the str s holds one of the bytes c. (Compared as bytes: MicroPython interns
    every character taken from a str as a name, and names are never freed.)"""
    s = s.encode()
    for ch in c:
        if ch in s:
            return True
    return False


def _head(value, headers):
    """The 101 reply's bytes, or None for a header MHD2 refuses: a bad name or value, an
    Upgrade field, a second Connection, or one that says close or keep-alive (an application
    Connection value follows "upgrade, ")."""
    conn = "upgrade"
    lines = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\n" % value
    extra = ""
    for name, val in headers:
        low = name.lower()
        if not name or _bad(name, b" \t\r\n:,;\"") or _bad(val, b"\r\n\0") or low == "upgrade":
            return None
        if low == "connection":
            v = val.lower()
            if conn != "upgrade" or "close" in v or "keep-alive" in v:
                return None
            conn = "upgrade, %s" % val  # (a literal of 10 characters or fewer would be a new name)
        else:
            extra += "%s: %s\r\n" % (name, val)
    return (lines + "Connection: %s\r\n" % conn + extra + "\r\n").encode()


def start(c, leftover_at):
    """The request callback (or the last upload callback) returned action_upgrade: the 101.
    What the client sent from buf[leftover_at] on is the new protocol's. The action keeps its
    kind until the 101 is out: a close before that reports to its termination callback."""
    c.switch_protocols(c.req.action.args[0], leftover_at)


def ended(c, code):
    """The upgrade request is over (code REQUEST_ENDED_*): its termination callback, if any."""
    r = c.req
    r.action.kind = 0
    cb = r.action.args[3]
    if cb is not None:
        c.daemon.call_safely(cb[0], cb[1], r, code, r.app_context)


class Upgraded:
    """The handle of an upgraded connection (MHD's struct MHD_UpgradedHandle), one per
    connection slot, made on its first upgrade."""

    waiter = None  # a one-socket poll, for upgraded_recv/send with a wait: made on first need
    # (a class default: instance attributes take heap in every slot's handle)

    def __init__(self, c):
        self.conn = c
        self.open = False
        self.cb = None  # upgraded_notify's callback (None: the application waits for nothing)
        self.cls = None  # and its closure: two fields, no tuple (a tuple would be made at each
        # call, and take 32 bytes more in each upgraded slot on a 64-bit port)

    def begin(self):
        """The 101 is out: the handler gets the connection."""
        self.open = True
        self.cb = self.cls = None
        c = self.conn
        r = c.req
        args = r.action.args
        c.watch(0)  # out of the poll set until the application asks (upgraded_notify)
        ended(c, _REQUEST_ENDED_COMPLETED_OK_UPGRADE)  # the HTTP request is over (MHD2's order)
        c.daemon.call_safely(args[1], args[2], r, self)
        r.action.args = None  # the 101's bytes: not needed while the connection stays upgraded
        if self.open and c.pos >= c.rlen:
            c.take_leftover(0)  # nothing came after the request: its buffer goes back

    def ready(self, events):
        """The daemon's poll found the socket ready for what the application waits for."""
        if self.cb is not None:
            r = bool(events & (POLLIN | POLLERR | POLLHUP)) or self.conn.pos < self.conn.rlen
            w = bool(events & POLLOUT)
            self.conn.daemon.call_safely(self.cb, self.cls, self, r, w)


def upgraded_notify(urh, cb, cls=None, read=True, write=False):
    """mhd_micro's addition: let the daemon's poll say when the upgraded socket can be read
    (or has hung up) or written: cb(cls, urh, readable, writable) runs from the daemon's loop.
    cb None (or neither read nor write) stops it. Returns SC_OK or SC_UPGRADED_HANDLE_INVALID."""
    if not urh.open:
        return _SC_UPGRADED_HANDLE_INVALID
    urh.cb = cb
    urh.cls = cls
    urh.conn.watch(0 if cb is None else (POLLIN if read else 0) | (POLLOUT if write else 0))
    if read and cb is not None and urh.conn.pos < urh.conn.rlen:
        urh.ready(POLLIN)  # bytes that came with the request head wait already
    return _SC_OK


def upgraded_recv(urh, buf, max_wait_millisec=0):
    """Receive into `buf` (a writable buffer). Returns (SC_OK, n) with n > 0 bytes, or n 0
    when the peer shut its sending side; (SC_UPGRADED_NET_TIMEOUT, 0) when nothing came in
    max_wait_millisec (0: do not wait; WAIT_INDEFINITELY: wait as long as it takes);
    (SC_UPGRADED_NET_CONN_BROKEN, 0) on a network error; (SC_UPGRADED_HANDLE_INVALID, 0)
    after upgraded_close."""
    if not urh.open:
        return _SC_UPGRADED_HANDLE_INVALID, 0
    c = urh.conn
    if c.pos < c.rlen:  # the bytes that came after the request head, first
        n = min(len(buf), c.rlen - c.pos)
        buf[0:n] = c.mv[c.pos:c.pos + n]
        c.take_leftover(n)
        return _SC_OK, n
    mv = buf if isinstance(buf, memoryview) else memoryview(buf)
    while True:
        n = _recv(c.sock, mv)
        if n is not None:
            return (_SC_OK, n) if n >= 0 else (_SC_UPGRADED_NET_CONN_BROKEN, 0)
        if not max_wait_millisec or not _wait(urh, POLLIN, max_wait_millisec):  # 0: no poll object
            return _SC_UPGRADED_NET_TIMEOUT, 0


# the socket calls, on their own: the callers' frames (without a try) stay on MicroPython's
# C stack instead of the heap at each call (tools/mpy_frames.py)
def _recv(sock, mv):
    """recv_into: -1 on a network error."""
    try:
        return recv_into(sock, mv)
    except OSError:
        return -1


def _send(sock, data, off):
    """send data[off:]: -1 on a network error. (Its frame, with the try, is still taken from
    the heap: 3 arguments are too many for the stack's 11 words.)"""
    try:
        return send(sock, data, off, len(data) - off)
    except OSError:
        return -1


def upgraded_send(urh, data, max_wait_millisec=0, more_data_to_come=False):
    """Send `data`. Returns (SC_OK, n), n the bytes sent: all of them when waiting allowed
    it, perhaps fewer with 0 (the rest is the caller's to send when the socket is writable);
    (SC_UPGRADED_NET_TIMEOUT, n) when the wait ran out; (SC_UPGRADED_NET_CONN_BROKEN, n) on
    a network error; (SC_UPGRADED_HANDLE_INVALID, 0) after upgraded_close.
    more_data_to_come is a hint that this port does not need (no corking)."""
    if not urh.open:
        return _SC_UPGRADED_HANDLE_INVALID, 0
    sock = urh.conn.sock
    done = 0
    while done < len(data):
        n = _send(sock, data, done)
        if n is not None and n < 0:
            return _SC_UPGRADED_NET_CONN_BROKEN, done
        if n is None:
            if not max_wait_millisec:
                break
            if not _wait(urh, POLLOUT, max_wait_millisec):
                return _SC_UPGRADED_NET_TIMEOUT, done
            continue
        done += n
    return _SC_OK, done


def upgraded_close(urh):
    """Close the upgraded connection: its slot is free again. Returns SC_OK, or
    SC_UPGRADED_HANDLE_INVALID when it was closed already."""
    if not urh.open:
        return _SC_UPGRADED_HANDLE_INVALID
    urh.open = False
    urh.cb = urh.cls = None  # (the application's objects are not kept with the slot)
    urh.conn.close(_REQUEST_ENDED_COMPLETED_OK_UPGRADE)
    return _SC_OK


def _wait(urh, event, timeout):
    """Wait (blocking the daemon) until the socket is ready for `event`, up to `timeout` ms.
    True if it is; False when the time ran out."""
    if urh.waiter is None:
        import select
        urh.waiter = select.poll()
    p = urh.waiter
    sock = urh.conn.sock
    p.register(sock, event)
    try:
        if timeout >= 0xFFFFFFFFFFFFFFFF:  # WAIT_INDEFINITELY
            return bool(p.poll(-1))
        start = ticks_ms()
        left = timeout
        while left > 0:
            if p.poll(min(left, 1000)):
                return True
            left = timeout - ticks_diff(ticks_ms(), start)
        return False
    finally:
        p.unregister(sock)

