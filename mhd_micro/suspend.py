# Suspend and resume: a request (action_suspend) or a dynamic-content reply
# (dcc_action_suspend) waits, out of the poll set and without a timeout, until the
# application calls request_resume; the daemon then runs it again from where it stopped.
# Loaded the first time an application suspends or resumes.
#
# The entry points are action_suspend(request), request_resume(request), and for the
# engine suspend(c, stage) and resume_all(d).
from .platform import const, ticks_ms
from .action import ACT_SUSPEND, claim

_ST_SUSPENDED = const(3)  # connection.ST_SUSPENDED


def action_suspend(request):
    """Stop processing the request until request_resume(request); the request callback is
    then called again. A suspended request does not time out. None where the daemon was
    told D_OPTION_DISALLOW_SUSPEND_RESUME(True)."""
    if request.conn.daemon.no_suspend:
        return None
    return claim(request, ACT_SUSPEND)


def request_resume(request):
    c = request.conn
    if c.stage == _ST_SUSPENDED:
        c.resuming = True
        c.daemon.resume_requested = True  # the daemon's next process() runs it


def suspend(c, stage):
    """Take connection c out of the poll set (a suspended connection's hang-ups would wake
    poll forever) until it is resumed at `stage`."""
    c.stage = _ST_SUSPENDED
    c.resume_stage = stage
    c.daemon.poller.unregister(c.sock)
    c.mask = -1


def resume_all(d):
    """Put the connections the application resumed back in the poll set, and run them."""
    d.resume_requested = False
    d.date_line()  # before the daemon's poll: the Date of the replies these may send
    for c in d.slots:
        if c.resuming:
            c.resuming = False
            c.stage = c.resume_stage
            c.last = ticks_ms()
            c.mask = c.want()
            d.poller.register(c.sock, c.mask)
            d.run(c)
