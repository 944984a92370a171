# Suspend and resume: a request (action_suspend) or a dynamic-content reply
# (dcc_action_suspend) waits, out of the poll set and without a timeout, until the
# application calls request_resume; the daemon then runs it again from where it stopped.
# Loaded the first time an application suspends or resumes. The connection's side of it
# (Connection.suspend, wake and resume) is connection.py's.
#
# The entry points are action_suspend(request), upload_action_suspend(request) (its kind
# upload.py carries out), request_resume(request), and for the
# daemon resume_all(d).
from .platform import const
from .action import ACT_SUSPEND, claim

_UA_SUSPEND = const(6)  # = upload._UA_SUSPEND
_F_RESUMING = const(2)  # = connection._F_RESUMING


def action_suspend(request):
    """Stop processing the request until request_resume(request); the request callback is
    then called again. A suspended request does not time out. None where the daemon was
    told D_OPTION_DISALLOW_SUSPEND_RESUME(True)."""
    if request.conn.daemon.no_suspend:
        return None
    return claim(request, ACT_SUSPEND)


def upload_action_suspend(request):
    """Stop reading the body until request_resume(request); the upload goes on from where it
    stopped (a last call is made again). None where suspending is disallowed."""
    if request.conn.daemon.no_suspend:
        return None
    return claim(request, _UA_SUSPEND)


def request_resume(request):
    """Resume a suspended request. Nothing happens for a request that is not suspended, or
    has ended (its connection closed: an abort, or suspending was disallowed)."""
    c = request.conn
    if c is not None and c.wake():
        c.daemon.resume_requested = True  # the daemon's next process() runs it


def resume_all(d):
    """Put the connections the application resumed back in the poll set, and run them."""
    d.resume_requested = False
    d.date_line()  # before the daemon's poll: the Date of the replies these may send
    for c in d.slots:
        if c.flags & _F_RESUMING:
            c.resume()
            c.run(0)
