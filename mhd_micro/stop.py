# Stopping a daemon: daemon_quiesce and daemon_destroy (the package's __getattr__ finds them
# here), and closing the listening socket (also when daemon_start fails). Loaded only when a
# daemon stops: a running server carries none of this code (on a board, every resident byte
# of bytecode is heap).
from .platform import const, close

_REQUEST_ENDED_DAEMON_SHUTDOWN = const(60)  # = mhd.REQUEST_ENDED_DAEMON_SHUTDOWN
_SC_UPGRADED_HANDLE_INVALID = const(60161)  # = mhd.SC_UPGRADED_HANDLE_INVALID


def close_listener(d):
    if d.lsock is not None and d.own_lsock:
        close(d.lsock)
    d.lsock = None


def daemon_quiesce(daemon):
    """Stop accepting; returns the listening socket (the application closes it), or None."""
    if daemon.quiesced or daemon.lsock is None:
        return None
    daemon.quiesced = True
    daemon.holding = False
    if daemon.started:
        daemon.poller.unregister(daemon.lsock)
    s = daemon.lsock
    daemon.lsock = None
    return s


def daemon_destroy(daemon):
    # upgraded connections the application did not close are closed now, and said so (MHD2
    # asks to close them before destroying the daemon); here, not in upgrade.py, which every
    # WebSocket server keeps loaded
    n = 0
    for c in daemon.slots:
        if c.urh is not None and c.urh.open:
            c.urh.open = False
            n += 1
    if n:
        daemon.log(_SC_UPGRADED_HANDLE_INVALID, "daemon destroyed with %d upgraded connection(s) still open: closed" % n)
    for c in daemon.slots:
        c.close(_REQUEST_ENDED_DAEMON_SHUTDOWN)
    while daemon.refused:
        daemon.refused[0].close()  # clients refused with a 503 (errors.py), still lingering
    if daemon.started and daemon.lsock is not None:
        daemon.poller.unregister(daemon.lsock)  # an external event loop hears of it before the close
    close_listener(daemon)
    daemon.slots = ()
    daemon.started = False
