# The daemon's log: messages to the application's log callback (D_OPTION_LOG_CALLBACK) or,
# by default as in MHD2, to stderr with the traceback; what the application's callbacks
# raise; the early URI logger's call. Loaded the first time the
# daemon has something to say or such a callback to call.
#
# The entry points are log(d, sc, msg, exc), fault(d, c) and call_uri_logger(d, r); the
# daemon guards the callbacks it calls with Daemon.call_safely, which logs through fault.
import sys

from .platform import const, print_exception
from .request import text

_SC_INTERNAL_ERROR = const(59900)  # = mhd.SC_INTERNAL_ERROR; a callback raised
_EXC_INFO = hasattr(sys, "exc_info")  # not in every MicroPython port: then the log has no details


def log(d, sc, msg, exc=None):
    to = d.log_to
    if to is None:
        return
    from .features import LOG_MESSAGES
    if not LOG_MESSAGES:  # built without log messages
        return
    if to is True:  # the default: stderr
        print("mhd_micro [%d]: %s" % (sc, msg), file=sys.stderr)
        if exc is not None:
            print_exception(exc)
        return
    try:
        to[0](to[1], sc, msg)
    except Exception:
        pass


def fault(d, c):
    """Log the exception being handled: connection c's state machine raised (the request
    callback, or the engine), or with c None, another application callback."""
    e = sys.exc_info()[1] if _EXC_INFO else None
    if c is None:
        log(d, _SC_INTERNAL_ERROR, "callback raised %r" % (e,), e)
    else:
        log(d, _SC_INTERNAL_ERROR, "request callback or engine raised %r: connection closed" % (e,), e)


def call_uri_logger(d, r):
    """D_OPTION_EARLY_URI_LOGGER: the callback sees the whole request target, before the
    header fields are read; what it returns becomes the request's app context. The target
    is a str, or bytes when it is not UTF-8 (the request then goes on to its 400)."""
    mv = memoryview(r.conn.buf)[r.target_start:r.target_end]
    uri = text(mv)
    if uri is None:
        uri = bytes(mv)
    return d.call_safely(d.uri_logger[0], d.uri_logger[1], r, uri, r.method)
