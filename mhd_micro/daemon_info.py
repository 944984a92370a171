# Daemon introspection: daemon_get_info_fixed and daemon_get_info_dynamic. MHD fills an
# output union and returns a status code; here the pair comes back as (SC_*, value).
from .platform import const
from .daemon import WAIT_INDEFINITELY

DAEMON_INFO_FIXED_BIND_PORT = const(1)
DAEMON_INFO_FIXED_LISTEN_SOCKET = const(2)
DAEMON_INFO_DYNAMIC_MAX_TIME_TO_WAIT = const(1)
DAEMON_INFO_DYNAMIC_HAS_CONNECTIONS = const(20)

_SC_OK = const(0)  # = mhd.SC_OK
_SC_TOO_EARLY = const(60000)  # = mhd.SC_TOO_EARLY
_SC_INFO_GET_TYPE_UNKNOWN = const(60200)  # = mhd.SC_INFO_GET_TYPE_UNKNOWN
_SC_INFO_GET_TYPE_UNOBTAINABLE = const(60204)  # = mhd.SC_INFO_GET_TYPE_UNOBTAINABLE


def daemon_get_info_fixed(daemon, info):
    """(SC_OK, value), or (error code, None). BIND_PORT is the real port when 0 was asked."""
    if not daemon.started:
        return _SC_TOO_EARLY, None
    if info == DAEMON_INFO_FIXED_BIND_PORT:
        if daemon.lsock is not None and not daemon.port:
            return _SC_INFO_GET_TYPE_UNOBTAINABLE, None  # MicroPython can't tell a given socket's port
        return _SC_OK, daemon.port
    if info == DAEMON_INFO_FIXED_LISTEN_SOCKET:
        return _SC_OK, daemon.lsock
    return _SC_INFO_GET_TYPE_UNKNOWN, None


def daemon_get_info_dynamic(daemon, info):
    """(SC_OK, value), or (error code, None). MAX_TIME_TO_WAIT is in milliseconds
    (WAIT_INDEFINITELY when nothing is due)."""
    if not daemon.started:
        return _SC_TOO_EARLY, None
    if info == DAEMON_INFO_DYNAMIC_MAX_TIME_TO_WAIT:
        ms = daemon.max_wait_ms()
        return _SC_OK, WAIT_INDEFINITELY if ms < 0 else ms
    if info == DAEMON_INFO_DYNAMIC_HAS_CONNECTIONS:
        return _SC_OK, bool(daemon.by_sock)
    return _SC_INFO_GET_TYPE_UNKNOWN, None
