# Dynamic content: the context a dyn_cont callback gets and the DCC actions it returns.
#
# The entry points are the dcc_action_* functions. Each connection owns one Context,
# reset before every call of dyn_cont; an action fills it and returns it (or None), so
# producing a chunk allocates nothing. At most one action per call: a second returns None.
# MHD2 declares zero-copy, chunk extensions, footers and suspend but does not implement
# them; here they all work (see body.py, produce).
from .platform import const
from .response_headers import _bad  # the header rules' character check

DCC_CONTINUE = const(1)
DCC_FINISH = const(2)
DCC_SUSPEND = const(3)


class Context:
    def __init__(self, request):
        self.request = request
        self.reset()

    def reset(self):
        self.kind = 0
        self.size = 0
        self.ext = None
        self.iov = None
        self.iov_fcb = None
        self.iov_fcb_cls = None
        self.footers = None


def _claim(ctx, kind):
    if ctx is None or ctx.kind:
        return None
    ctx.kind = kind
    return ctx


def dcc_action_continue(ctx, data_size):
    """data_size (> 0) bytes were written into buf; call again for more."""
    return dcc_action_continue_ce(ctx, data_size, None)


def dcc_action_continue_ce(ctx, data_size, chunk_ext):
    """As dcc_action_continue, with a chunk extension ("name=value", without the ';')
    written on the wire when the reply is chunked, ignored otherwise."""
    if data_size <= 0 or (chunk_ext is not None and not _valid_ext(chunk_ext)):
        return None
    act = _claim(ctx, DCC_CONTINUE)
    if act is not None:
        act.size = data_size
        act.ext = chunk_ext
    return act


def DynContentZCIoVec(iov, iov_fcb=None, iov_fcb_cls=None):
    """MHD's struct MHD_DynContentZCIoVec: buffers to send without copying, and the callback
    iov_fcb(iov_fcb_cls) to run once they are sent (or the connection closed)."""
    return (tuple(iov), iov_fcb, iov_fcb_cls)


def dcc_action_continue_zc(ctx, data_size, iov_data=None, chunk_ext=None):
    """data_size bytes in buf, then the buffers of iov_data (from DynContentZCIoVec, or a
    plain list of buffers) sent as they are; the total must be non-zero."""
    iov, fcb, fcb_cls = (), None, None
    if iov_data is not None:
        if isinstance(iov_data, tuple) and len(iov_data) == 3 and isinstance(iov_data[0], tuple):
            iov, fcb, fcb_cls = iov_data
        else:
            iov = tuple(iov_data)
    total = data_size
    for part in iov:
        total += len(part)
    if data_size < 0 or total <= 0 or (chunk_ext is not None and not _valid_ext(chunk_ext)):
        return None
    act = _claim(ctx, DCC_CONTINUE)
    if act is not None:
        act.size = data_size
        act.ext = chunk_ext
        act.iov = iov if iov else None
        act.iov_fcb = fcb
        act.iov_fcb_cls = fcb_cls
    return act


def dcc_action_finish(ctx):
    """The body is complete. With a known size not yet reached, the connection is closed."""
    return _claim(ctx, DCC_FINISH)


def dcc_action_finish_with_footer(ctx, footers):
    """As dcc_action_finish, with trailer fields [(name, value), ...] after the last chunk
    (chunked replies only; a reply that is not chunked cannot carry them)."""
    for name, value in footers:
        if not name or _bad(name, " \t\r\n:\0") or _bad(value, "\r\n\0"):
            return None
    act = _claim(ctx, DCC_FINISH)
    if act is not None:
        act.footers = footers
    return act


def dcc_action_suspend(ctx):
    """No data yet: stop calling dyn_cont until request_resume(ctx.request) (long polling).
    None (an abort) where the daemon was told D_OPTION_DISALLOW_SUSPEND_RESUME(True)."""
    if ctx is None or ctx.request.conn.daemon.no_suspend:
        return None
    return _claim(ctx, DCC_SUSPEND)


def dcc_action_abort(ctx):
    """Abort: the connection is closed (MHD's macro is NULL: so is this)."""
    return None




def _valid_ext(ext):
    return not _bad(ext, "\r\n\0")
