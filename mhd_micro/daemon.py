# The daemon: options, the fixed pools, the listening socket and the event loop that the
# application drives with daemon_process_blocking (MHD2's WM_EXTERNAL_PERIODIC mode). In
# MHD2's external event loop mode the application's loop watches the sockets instead:
# extloop.py stands in for the poll set and calls process(0) with the events it was told.
#
# The entry point is Daemon.process(microsec): poll, accept, run each ready connection's
# state machine, close timed-out ones. All memory is taken by daemon_start (pools.alloc):
# one Connection per slot of the global connection limit, the buffer pool (a buffer with its
# request state, lent to connections with a request in progress: D_OPTION_CONN_BUFFER_POOL_SIZE)
# and the response pool. After that, load only reuses it.
#
# The daemon owns the slots, the buffer pool, the poll set and the listening socket; each
# connection's state is connection.py's, which the daemon only asks and tells (open, run,
# close, hand_over_buffer, stop_waiting).
from .platform import const, ticks_ms, ticks_diff, ticks_add, accept, peer_key, close, gmtime, POLLIN
from .connection import ST_FREE, OUT_WAITING
from .lazy import load

WAIT_INDEFINITELY = 0xFFFFFFFFFFFFFFFF

_SC_OK = const(0)  # = mhd.SC_OK
_SC_TOO_EARLY = const(60000)  # = mhd.SC_TOO_EARLY
_SC_LIMIT_CONNECTIONS_REACHED = const(30000)  # = mhd.SC_LIMIT_CONNECTIONS_REACHED
_SC_ACCEPT_POLICY_REJECTED = const(30070)  # = mhd.SC_ACCEPT_POLICY_REJECTED
_CONNECTION_NOTIFY_STARTED = const(0)  # = mhd.CONNECTION_NOTIFY_STARTED
_CONNECTION_NOTIFY_CLOSED = const(1)  # = mhd.CONNECTION_NOTIFY_CLOSED
_REQUEST_ENDED_TIMEOUT_REACHED = const(10)  # = mhd.REQUEST_ENDED_TIMEOUT_REACHED
_TIMEOUT_SCAN_MS = const(250)
_HEAD_TIMEOUT_MS = const(10000)  # D_OPTION_HEAD_TIMEOUT's default: a whole head within 10 s
_ACCEPT_BATCH = const(8)

_DAYS = b"MonTueWedThuFriSatSun"  # one object each, not one per name
_MONTHS = b"JanFebMarAprMayJunJulAugSepOctNovDec"

class Daemon:
    def __init__(self, cb, cls):
        self.cb = cb
        self.cb_cls = cls
        self.started = False
        self.quiesced = False
        self.holding = False  # every slot busy: the listening socket is out of the poll set
        self.resume_requested = False
        # options (options.py): setup holds what start needs once, {D_O_* code: values}
        self.setup = {}
        self.strict = 0
        self.timeout_ms = 0
        self.head_ms = _HEAD_TIMEOUT_MS
        self.per_ip = 0
        self.no_date = False
        self.no_cookies = False
        self.no_plus = False
        self.no_suspend = False
        self.no_upgrade = False
        self.log_to = True  # callbacks: (function, closure) or None; the log's True: stderr (log.py)
        self.uri_logger = None
        self.notify = None
        self.accept_policy = None
        # run time
        self.slots = ()
        self.leases = []  # the buffer pool (pools.py, connection.new_lease): leases[:nfree] are free
        self.nfree = 0
        self.waiting = 0  # connections out of the poll set until a buffer is free (OUT_WAITING)
        self.large = None  # the large pool (D_OPTION_LARGE_POOL_SIZE): full uploads, POST fields
        self.large_used = None  # its regions lent, as (start, end) pairs (upload.py)
        self.large_n = 0
        self.by_sock = {}  # socket -> its Connection (or errors.Refused)
        self.refused = None  # the refused clients lingering (errors.py), made on the first
        self.poller = None  # platform.Poller; in the external event loop mode an extloop.ExtLoop
        self.ext = None  # that mode's (reg_cb, reg_cb_cls, reregister_all) (options.py), else None
        self.lsock = None
        self.own_lsock = True
        self.port = 0
        self.next_scan = 0
        self.accepting = False
        self.date = bytearray(37)
        self.date_tick = 0
        self.date_valid = False
        self.date_now = b""
        self.scratch = None
        self.dauth = None  # auth_digest.Nonces, with D_OPTION_RANDOM_ENTROPY
        self.tls = None  # a TLS daemon's tls.Tls (options.start)

    # -- the loop ------------------------------------------------------------------------
    def process(self, microsec):
        """Wait up to `microsec` (0: don't wait; WAIT_INDEFINITELY) for network events,
        then process everything that is ready. Returns SC_OK."""
        if not self.started:
            return _SC_TOO_EARLY
        if self.resume_requested:
            load("suspend").resume_all(self)
        self.accepting = False
        # first the wait in ms, -1 for none (one local: the frame stays on the C stack). Methods
        # called through the class skip a search of the instance's fields (Connection.run says why).
        events = Daemon.max_wait_ms(self)
        if microsec != WAIT_INDEFINITELY and (events < 0 or microsec // 1000 < events):
            events = microsec // 1000
        events = self.poller.ipoll(events)
        Daemon.date_line(self)  # once per wake-up: the replies of this round read date_now
        # Each (socket, events) pair, in line (a call per event less). Locals are reused, each
        # done with: microsec holds the socket, then its connection, and event its events (one
        # value fewer at a time keeps this frame on the C stack).
        for event in events:
            microsec = event[0]
            if microsec is self.lsock:
                self.accepting = True  # after the loop: registering now would disturb ipoll
            else:
                microsec = self.by_sock.get(microsec)
                if microsec is not None:
                    event = event[1]
                    microsec.run(event)
        if self.waiting and self.nfree:
            self._unpark()
        if self.accepting:
            self._accept(ticks_ms())
        if self.holding and self._free_slot(ticks_ms()) is not None:
            self._hold(False)
        if (self.timeout_ms or self.head_ms) and ticks_diff(ticks_ms(), self.next_scan) >= 0:
            self._timeouts(ticks_ms())
        if self.tls is not None:
            self.tls.tick(self)  # the handshake deadline
        return _SC_OK

    def max_wait_ms(self):
        """Milliseconds until the daemon needs to run again; -1 for no limit."""
        if self.resume_requested:
            return 0
        if (self.timeout_ms or self.head_ms) and self.by_sock:
            t = ticks_diff(self.next_scan, ticks_ms())
            return t if t > 0 else 0  # not max(): a builtin's lookup costs more
        if self.tls is not None and self.tls.pending:
            return _TIMEOUT_SCAN_MS  # a handshake may run past its deadline
        if self.holding:
            return _TIMEOUT_SCAN_MS  # a silent new connection becomes reclaimable in time
        return -1

    def fault(self, c):
        """Log the exception being handled; close connection c (None: none to close)."""
        try:
            load("log").fault(self, c)
        except Exception:  # no heap left to load the log: the close still happens
            pass
        if c is not None:
            c.close()

    def _accept(self, now):
        for _ in range(_ACCEPT_BATCH):
            if self.lsock is None:
                return
            c = self._free_slot(now)
            if c is None:
                self._hold(True)
                return
            a = accept(self.lsock)
            if a is None:
                return
            self._admit(a, c, now)

    def _admit(self, a, c, now):
        """A new client, accept()'s (sock, addr), for slot c (_free_slot's): the accept policy
        and the per-IP limit decide; then the slot, or the 503. (Apart from _accept's loop, so
        that neither frame needs the heap.)"""
        sock = a[0]  # a[1], the address, is read in place: one local more and this frame would need the heap
        if self.accept_policy is not None and not self.call_safely(self.accept_policy[0], self.accept_policy[1], a[1]):
            self.log(_SC_ACCEPT_POLICY_REJECTED, "connection rejected by the accept policy")
            close(sock)
            return
        if self.per_ip and self._count_peer(peer_key(a[1])) >= self.per_ip:
            self.refuse(sock)
            return
        if self.tls is not None:
            sock = self.tls.wrap(sock)  # None: it could not be wrapped, and is closed
            if sock is None:
                return
        if c.stage != ST_FREE:
            self.refuse(None, c)
        c.open(sock, a[1], now)  # a MemoryError: the slot stays free (daemon_process_blocking)
        self.by_sock[sock] = c  # never grows: pools.alloc sized it
        if self.notify is not None:
            self.call_safely(self.notify[0], self.notify[1], c, _CONNECTION_NOTIFY_STARTED)
        c.run(0)

    def _count_peer(self, peer):
        n = 0
        for c in self.slots:
            if c.stage != ST_FREE and peer_key(c.addr) == peer:
                n += 1
        return n

    def _hold(self, on):
        """Every slot busy and none reclaimable: new clients wait in the listen backlog until
        one frees, as with MHD2 at its connection limit, instead of being accepted only to be
        turned away (a refused client that had sent its request may read a reset, not a 503)."""
        self.holding = on
        if self.lsock is not None:
            self.poller.modify(self.lsock, 0 if on else POLLIN)
        if on:
            self.log(_SC_LIMIT_CONNECTIONS_REACHED, "connection limit reached: new clients wait")

    def _free_slot(self, now):
        """A slot for a new client: a free one, else the longest-idle reclaimable connection,
        which _admit closes (browsers open several connections and leave some idle); None
        when every slot is busy."""
        idle = None
        for c in self.slots:
            if c.stage == ST_FREE:
                return c
            if c.reclaimable(now) and (idle is None or ticks_diff(c.last, idle.last) < 0):
                idle = c
        return idle

    def refuse(self, sock, c=None):
        """A client over the per-IP limit (sock), or connection c, whose slot goes to a new
        client (errors.py: a 503 if it was not answered yet): a 503, then a lingering close.
        With no heap left to load that module, the close alone."""
        try:
            load("errors").refuse(self, sock, c)
        except Exception:
            close(sock) if c is None else c.close()

    def _timeouts(self, now):
        for c in self.slots:
            if c.overdue(now):
                c.close(_REQUEST_ENDED_TIMEOUT_REACHED)
        if self.refused:
            load("errors").expire(self, now)
        self.next_scan = ticks_add(now, _TIMEOUT_SCAN_MS)

    # -- the buffer pool, lent to connections (pools.py made it) ----------------------------
    def lend_buffer(self, c):
        """A lease (connection.new_lease) for connection c: a free one, else the one an idle
        keep-alive connection holds. None when there is none: c waits out of the poll set
        until _unpark gives it one."""
        n = self.nfree
        if not n:
            return self._steal_buffer(c)
        n -= 1
        self.nfree = n
        lease = self.leases[n]
        self.leases[n] = None
        return lease

    def _steal_buffer(self, c):
        for o in self.slots:
            if o.req is not None and o is not c and o.is_idle():
                return o.release_buffer().lease
        self.waiting += 1
        return None

    def return_buffer(self, r):
        """A connection closed, or is idle while others wait: the buffer of request state r
        goes back to the pool (and a region of the large pool an upload held, to its pool)."""
        if r.large_at >= 0:
            load("upload_full").free_large(self, r)
        r.reset()
        r.conn = None
        self.leases[self.nfree] = r.lease
        self.nfree += 1

    def _unpark(self):
        """Connections that waited for a buffer get the free ones, in slot order."""
        for c in self.slots:
            if not self.nfree:
                return
            if c.mask == OUT_WAITING and c.stage != ST_FREE:
                c.stop_waiting()  # first: if the poll set has no heap for it, it still waits
                self.waiting -= 1
                c.run(0)

    def conn_closed(self, c, keep_sock):
        """Connection c is closing (it left the poll set already): forget its socket, close
        it (unless keep_sock), tell the application."""
        if c.mask == OUT_WAITING:
            self.waiting -= 1  # it was waiting for a buffer
        sock = c.sock
        del self.by_sock[sock]
        if not keep_sock:
            close(sock)
        if self.notify is not None:
            self.call_safely(self.notify[0], self.notify[1], c, _CONNECTION_NOTIFY_CLOSED)

    # -- helpers for the connections -----------------------------------------------------
    def date_line(self):
        """The Date header line (b"" where it is suppressed), formatted at most once a second
        (RFC 9110 section 6.6.1); also left in date_now for the replies of this round."""
        if not self.no_date and (not self.date_valid or ticks_diff(ticks_ms(), self.date_tick) >= 1000):
            self._format_date()
        return self.date_now

    def _format_date(self):
        t = gmtime()
        d = t[6] * 3
        m = t[1] * 3 - 3
        self.date[:] = b"Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n" % (
            _DAYS[d:d + 3], t[2], _MONTHS[m:m + 3], t[0], t[3], t[4], t[5])
        self.date_tick = ticks_ms()
        self.date_valid = True
        self.date_now = self.date

    def call_safely(self, fn, *args):
        """Call an application callback; a raise is logged and gives None."""
        try:
            return fn(*args)
        except Exception:  # no "as": see Connection.run
            self.fault(None)
            return None

    def log(self, sc, msg, exc=None):
        if self.log_to is not None:
            try:
                load("log").log(self, sc, msg, exc)
            except MemoryError:  # no heap left to load the log: the message is lost, not the daemon
                pass
