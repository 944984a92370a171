# Daemon and connection introspection: daemon_get_info_fixed and daemon_get_info_dynamic,
# connection_get_info_fixed and connection_get_info_dynamic. MHD fills an output union and
# returns a status code; here the pair comes back as (SC_*, value).
from .platform import const
from .daemon import WAIT_INDEFINITELY
from .lazy import load

# The daemon infos (DAEMON_INFO_*) are resolved here, not in enums.py's table: every example asks
# DAEMON_INFO_FIXED_BIND_PORT for its port after daemon_start, when the free heap is in small
# pieces, and the package then loads this module (1.2 KB of heap on the unix port, core as
# .mpy), which daemon_get_info_fixed needs anyway, rather than enums.py (6.8 KB): hello.py with
# 8 connections of 1024 bytes starts in 90 KiB, not 94 (75 with 2 shared buffers, not 80). The
# names are bytes, not module globals, so that loading this module interns none of them (the
# consts' comments let tests/test_static_attrs.py check that the two agree).
_DAEMON_INFO_FIXED_BIND_PORT = const(1)  # = mhd.DAEMON_INFO_FIXED_BIND_PORT
_DAEMON_INFO_FIXED_LISTEN_SOCKET = const(2)  # = mhd.DAEMON_INFO_FIXED_LISTEN_SOCKET
_DAEMON_INFO_FIXED_TLS_BACKEND = const(100)  # = mhd.DAEMON_INFO_FIXED_TLS_BACKEND
_DAEMON_INFO_DYNAMIC_MAX_TIME_TO_WAIT = const(1)  # = mhd.DAEMON_INFO_DYNAMIC_MAX_TIME_TO_WAIT
_DAEMON_INFO_DYNAMIC_HAS_CONNECTIONS = const(20)  # = mhd.DAEMON_INFO_DYNAMIC_HAS_CONNECTIONS
_NAMES = (b"\nDAEMON_INFO_FIXED_BIND_PORT 1\nDAEMON_INFO_FIXED_LISTEN_SOCKET 2\nDAEMON_INFO_FIXED_TLS_BACKEND 100\n"
          b"DAEMON_INFO_DYNAMIC_MAX_TIME_TO_WAIT 1\nDAEMON_INFO_DYNAMIC_HAS_CONNECTIONS 20\n")  # one object, as enums.py's
_ST_FREE = const(0)  # = connection.ST_FREE
_ST_SUSPENDED = const(3)  # = connection.ST_SUSPENDED
_CONNECTION_INFO_FIXED_CLIENT_ADDRESS = const(1)  # = mhd.CONNECTION_INFO_FIXED_CLIENT_ADDRESS
_CONNECTION_INFO_FIXED_CONNECTION_SOCKET = const(2)  # = mhd.CONNECTION_INFO_FIXED_CONNECTION_SOCKET
_CONNECTION_INFO_FIXED_DAEMON = const(20)  # = mhd.CONNECTION_INFO_FIXED_DAEMON
_CONNECTION_INFO_DYNAMIC_CONNECTION_TIMEOUT = const(10)  # = mhd.CONNECTION_INFO_DYNAMIC_CONNECTION_TIMEOUT
_CONNECTION_INFO_DYNAMIC_CONNECTION_SUSPENDED = const(11)  # = mhd.CONNECTION_INFO_DYNAMIC_CONNECTION_SUSPENDED
_CONNECTION_INFO_DYNAMIC_TLS_VER = const(105)  # = mhd.CONNECTION_INFO_DYNAMIC_TLS_VER

_SC_OK = const(0)  # = mhd.SC_OK
_SC_TOO_EARLY = const(60000)  # = mhd.SC_TOO_EARLY
_SC_TOO_LATE = const(60001)  # = mhd.SC_TOO_LATE
_TLS_BACKEND_NONE = const(0)  # = mhd.TLS_BACKEND_NONE
_TLS_BACKEND_ANY = const(1)  # = mhd.TLS_BACKEND_ANY
_TLS_BACKEND_OPENSSL = const(3)  # = mhd.TLS_BACKEND_OPENSSL
_TLS_VERSION_NO_TLS = const(0)  # = mhd.TLS_VERSION_NO_TLS
_SC_INFO_GET_TYPE_UNKNOWN = const(60200)  # = mhd.SC_INFO_GET_TYPE_UNKNOWN
_SC_INFO_GET_TYPE_UNOBTAINABLE = const(60204)  # = mhd.SC_INFO_GET_TYPE_UNOBTAINABLE


def resolve(name):
    """The value of a DAEMON_INFO_* name (the package asks); None if unknown."""
    i = _NAMES.find(b"\n" + name.encode() + b" ")
    return None if i < 0 else int(_NAMES[i + len(name) + 2:_NAMES.find(b"\n", i + 1)])


def daemon_get_info_fixed(daemon, info):
    """(SC_OK, value), or (error code, None). BIND_PORT is the real port when 0 was asked."""
    if not daemon.started:
        return _SC_TOO_EARLY, None
    if info == _DAEMON_INFO_FIXED_BIND_PORT:
        if daemon.lsock is not None and not daemon.port:
            return _SC_INFO_GET_TYPE_UNOBTAINABLE, None  # MicroPython can't tell a given socket's port
        return _SC_OK, daemon.port
    if info == _DAEMON_INFO_FIXED_LISTEN_SOCKET:
        return _SC_OK, daemon.lsock
    if info == _DAEMON_INFO_FIXED_TLS_BACKEND:
        # MHD never answers ANY here; mbedTLS (MicroPython) has no value of its own: ANY stands for it
        if daemon.tls is None:
            return _SC_OK, _TLS_BACKEND_NONE
        return _SC_OK, _TLS_BACKEND_OPENSSL if load("tls").backend_ok(_TLS_BACKEND_OPENSSL) else _TLS_BACKEND_ANY
    return _SC_INFO_GET_TYPE_UNKNOWN, None


def daemon_get_info_dynamic(daemon, info):
    """(SC_OK, value), or (error code, None). MAX_TIME_TO_WAIT is in milliseconds
    (WAIT_INDEFINITELY when nothing is due)."""
    if not daemon.started:
        return _SC_TOO_EARLY, None
    if info == _DAEMON_INFO_DYNAMIC_MAX_TIME_TO_WAIT:
        ms = daemon.max_wait_ms()
        return _SC_OK, WAIT_INDEFINITELY if ms < 0 else ms
    if info == _DAEMON_INFO_DYNAMIC_HAS_CONNECTIONS:
        return _SC_OK, bool(daemon.by_sock)
    return _SC_INFO_GET_TYPE_UNKNOWN, None


def connection_get_info_fixed(connection, info):
    """(SC_OK, value), or (error code, None). CLIENT_ADDRESS is the address as the runtime
    gives it; CONNECTION_SOCKET the socket (a TLS connection's is its ssl socket)."""
    if info == _CONNECTION_INFO_FIXED_CLIENT_ADDRESS:
        return _SC_OK, connection.addr
    if info == _CONNECTION_INFO_FIXED_CONNECTION_SOCKET:
        return _SC_OK, connection.sock
    if info == _CONNECTION_INFO_FIXED_DAEMON:
        return _SC_OK, connection.daemon
    return _SC_INFO_GET_TYPE_UNKNOWN, None


def connection_get_info_dynamic(connection, info):
    """(SC_OK, value), or (error code, None). TLS_VER: TLS_VERSION_NO_TLS on a plain
    connection; SC_TOO_EARLY while the handshake may not be done; SC_TOO_LATE once closed."""
    if connection.stage == _ST_FREE:
        return _SC_TOO_LATE, None
    if info == _CONNECTION_INFO_DYNAMIC_CONNECTION_TIMEOUT:
        return _SC_OK, connection.daemon.timeout_ms // 1000
    if info == _CONNECTION_INFO_DYNAMIC_CONNECTION_SUSPENDED:
        return _SC_OK, connection.stage == _ST_SUSPENDED
    if info == _CONNECTION_INFO_DYNAMIC_TLS_VER:
        if connection.daemon.tls is None:
            return _SC_OK, _TLS_VERSION_NO_TLS
        return load("tls").version(connection)
    return _SC_INFO_GET_TYPE_UNKNOWN, None
