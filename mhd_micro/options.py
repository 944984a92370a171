# Daemon options: the D_OPTION_* constructors (each returns a tuple (code, values...)),
# daemon_set_option(s), and start(d), which makes what the options ask for: the pools and
# the listening socket.
#
# Only setting options and daemon_start import this module, and daemon_start lets it go
# again: a running server carries no setup code. Options that MHD2 stores and ignores are
# implemented here (NI in the survey):
# DEFAULT_TIMEOUT, PER_IP_LIMIT, ACCEPT_POLICY, EARLY_URI_LOGGER, NOTIFY_CONNECTION,
# DISABLE_URI_QUERY_PLUS_AS_SPACE.
from .platform import const, listen, Poller, POLLIN, HAS_IPV6
from .connection import Connection
from .daemon import DEFAULT_CONN_LIMIT
from . import response as _resp

D_O_END = const(0)
D_O_WORK_MODE = const(40)
D_O_POLL_SYSCALL = const(41)
D_O_LOG_CALLBACK = const(60)
D_O_BIND_PORT = const(80)
D_O_BIND_SA = const(81)
D_O_LISTEN_SOCKET = const(82)
D_O_LISTEN_ADDR_REUSE = const(100)
D_O_TCP_FASTOPEN = const(101)
D_O_LISTEN_BACKLOG = const(102)
D_O_SIGPIPE_SUPPRESSED = const(103)
D_O_TLS = const(120)
D_O_DEFAULT_TIMEOUT = const(160)
D_O_GLOBAL_CONNECTION_LIMIT = const(161)
D_O_PER_IP_LIMIT = const(162)
D_O_ACCEPT_POLICY = const(163)
D_O_PROTOCOL_STRICT_LEVEL = const(200)
D_O_EARLY_URI_LOGGER = const(201)
D_O_DISABLE_URI_QUERY_PLUS_AS_SPACE = const(202)
D_O_SUPPRESS_DATE_HEADER = const(240)
D_O_ENABLE_SHOUTCAST = const(241)
D_O_CONN_MEMORY_LIMIT = const(280)
D_O_LARGE_POOL_SIZE = const(281)
D_O_STACK_SIZE = const(282)
D_O_FD_NUMBER_LIMIT = const(283)
D_O_TURBO = const(320)
D_O_DISABLE_THREAD_SAFETY = const(321)
D_O_DISALLOW_UPGRADE = const(322)
D_O_DISALLOW_SUSPEND_RESUME = const(323)
D_O_DISABLE_COOKIES = const(324)
D_O_DAEMON_READY_CALLBACK = const(360)
D_O_NOTIFY_CONNECTION = const(361)
D_O_NOTIFY_STREAM = const(362)
# mhd_micro's own: size of the response pool (responses are not tied to a daemon in MHD)
D_O_RESPONSE_POOL_SIZE = const(10001)

AF_NONE = const(0)
AF_AUTO = const(1)
AF_INET4 = const(2)
AF_INET6 = const(3)
AF_DUAL = const(4)
AF_DUAL_v4_OPTIONAL = const(5)
AF_DUAL_v6_OPTIONAL = const(6)

WM_EXTERNAL_PERIODIC = const(0)
SPS_AUTO = const(0)
SPS_POLL = const(2)

PSL_EXTRA_STRICT = const(3)
PSL_VERY_STRICT = const(2)
PSL_STRICT = const(1)
PSL_DEFAULT = const(0)
PSL_PERMISSIVE = const(-1)
PSL_VERY_PERMISSIVE = const(-2)
PSL_EXTRA_PERMISSIVE = const(-3)
USL_THIS_OR_STRICTER = const(0)
USL_PRECISE = const(1)
USL_NEAREST = const(2)

_SC_OK = const(0)
_SC_TOO_LATE = const(60001)
_SC_OPTIONS_CONFLICT = const(60020)
_SC_DAEMON_MEM_ALLOC_FAILURE = const(30081)
_SC_IPV6_NOT_SUPPORTED_BY_BUILD = const(50020)
_SC_LISTEN_SOCKET_BIND_FAILED = const(50055)
_SC_OPTION_UNKNOWN = const(60021)
_SC_FEATURE_DISABLED = const(50300)
_SC_CONFIGURATION_UNEXPECTED_WM = const(60022)
_SC_CONFIGURATION_UNEXPECTED_SPS = const(60023)
_SC_CONFIGURATION_CONN_LIMIT_TOO_SMALL = const(60026)
_SC_TLS_BACKEND_UNSUPPORTED = const(60030)


def D_OPTION_BIND_PORT(af, port):
    return (D_O_BIND_PORT, af, port)


def D_OPTION_BIND_SA(sa, dual=False):
    """sa: (host, port); an IPv6 host binds IPv6 (dual stack if dual)."""
    return (D_O_BIND_SA, sa, dual)


def D_OPTION_LISTEN_SOCKET(sock):
    return (D_O_LISTEN_SOCKET, sock)


def D_OPTION_LISTEN_BACKLOG(backlog):
    return (D_O_LISTEN_BACKLOG, backlog)


def D_OPTION_GLOBAL_CONNECTION_LIMIT(limit):
    return (D_O_GLOBAL_CONNECTION_LIMIT, limit)


def D_OPTION_PER_IP_LIMIT(limit):
    return (D_O_PER_IP_LIMIT, limit)


def D_OPTION_DEFAULT_TIMEOUT(seconds):
    return (D_O_DEFAULT_TIMEOUT, seconds)


def D_OPTION_CONN_MEMORY_LIMIT(size):
    return (D_O_CONN_MEMORY_LIMIT, size)


def D_OPTION_PROTOCOL_STRICT_LEVEL(sl, how=0):
    return (D_O_PROTOCOL_STRICT_LEVEL, sl, how)


def D_OPTION_SUPPRESS_DATE_HEADER(value):
    return (D_O_SUPPRESS_DATE_HEADER, value)


def D_OPTION_LOG_CALLBACK(log_cb, log_cb_cls=None):
    """log_cb(cls, sc, message); None disables logging."""
    return (D_O_LOG_CALLBACK, log_cb, log_cb_cls)


def D_OPTION_DISABLE_COOKIES(value):
    return (D_O_DISABLE_COOKIES, value)


def D_OPTION_DISABLE_URI_QUERY_PLUS_AS_SPACE(value):
    return (D_O_DISABLE_URI_QUERY_PLUS_AS_SPACE, value)


def D_OPTION_EARLY_URI_LOGGER(cb, cls=None):
    """cb(cls, request, full_uri, method) before the header fields are parsed; its return
    value becomes the request's application context (REQUEST_INFO_FIXED_APP_CONTEXT)."""
    return (D_O_EARLY_URI_LOGGER, cb, cls)


def D_OPTION_NOTIFY_CONNECTION(cb, cls=None):
    """cb(cls, connection, code) with CONNECTION_NOTIFY_STARTED / CONNECTION_NOTIFY_CLOSED."""
    return (D_O_NOTIFY_CONNECTION, cb, cls)


def D_OPTION_ACCEPT_POLICY(cb, cls=None):
    """cb(cls, addr) -> true to accept the client at `addr`, false to close it at once."""
    return (D_O_ACCEPT_POLICY, cb, cls)


def D_OPTION_WORK_MODE(mode):
    return (D_O_WORK_MODE, mode)


def D_OPTION_WM_EXTERNAL_PERIODIC():
    return (D_O_WORK_MODE, WM_EXTERNAL_PERIODIC)


def D_OPTION_POLL_SYSCALL(sps):
    return (D_O_POLL_SYSCALL, sps)


def D_OPTION_TLS(backend):
    return (D_O_TLS, backend)


def D_OPTION_DISALLOW_SUSPEND_RESUME(value):
    return (D_O_DISALLOW_SUSPEND_RESUME, value)


def D_OPTION_RESPONSE_POOL_SIZE(count):
    return (D_O_RESPONSE_POOL_SIZE, count)


def D_OPTION_TERMINATE():
    return (D_O_END,)


# option code -> daemon attribute, for options that store one value as they are given
_PLAIN = {
    D_O_LISTEN_BACKLOG: "opt_backlog",
    D_O_PER_IP_LIMIT: "opt_per_ip",
    D_O_SUPPRESS_DATE_HEADER: "opt_no_date",
    D_O_DISABLE_COOKIES: "opt_disable_cookies",
    D_O_DISABLE_URI_QUERY_PLUS_AS_SPACE: "opt_no_plus_space",
    D_O_DISALLOW_SUSPEND_RESUME: "opt_no_suspend",
    D_O_RESPONSE_POOL_SIZE: "opt_response_pool",
}
# (code -> (callback attribute, closure attribute))
_CALLBACKS = {
    D_O_LOG_CALLBACK: ("log_cb", "log_cls"),
    D_O_EARLY_URI_LOGGER: ("uri_logger", "uri_logger_cls"),
    D_O_NOTIFY_CONNECTION: ("notify_cb", "notify_cls"),
    D_O_ACCEPT_POLICY: ("accept_cb", "accept_cls"),
}
# options accepted with no effect here, as in MHD2 (single-threaded, no SIGPIPE, no TFO...)
_IGNORED = (D_O_SIGPIPE_SUPPRESSED, D_O_LISTEN_ADDR_REUSE, D_O_TCP_FASTOPEN, D_O_STACK_SIZE,
            D_O_TURBO, D_O_DISABLE_THREAD_SAFETY, D_O_DISALLOW_UPGRADE, D_O_LARGE_POOL_SIZE,
            D_O_FD_NUMBER_LIMIT, D_O_ENABLE_SHOUTCAST, D_O_DAEMON_READY_CALLBACK, D_O_NOTIFY_STREAM)


def apply(d, opt):
    """Store one option on daemon d. Returns SC_OK or the MHD status code of the refusal."""
    if d.started:
        return _SC_TOO_LATE
    code = opt[0]
    if code == D_O_DISABLE_COOKIES and opt[1]:
        from .values import _cookie_parser
        if not _cookie_parser():
            return _SC_FEATURE_DISABLED  # built without the cookie parser: as MHD, only False is OK
    if code in _PLAIN:
        setattr(d, _PLAIN[code], opt[1])
    elif code in _CALLBACKS:
        cb_attr, cls_attr = _CALLBACKS[code]
        setattr(d, cb_attr, opt[1])
        setattr(d, cls_attr, opt[2])
    elif code == D_O_BIND_PORT:
        d.opt_bind = (opt[1], opt[2])
    elif code == D_O_BIND_SA:
        d.opt_bind_sa = (opt[1], opt[2])
    elif code == D_O_LISTEN_SOCKET:
        d.opt_listen_sock = opt[1]
    elif code == D_O_GLOBAL_CONNECTION_LIMIT:
        if opt[1] < 0:
            return _SC_CONFIGURATION_CONN_LIMIT_TOO_SMALL
        d.opt_conn_limit = opt[1]
    elif code == D_O_DEFAULT_TIMEOUT:
        d.opt_timeout = opt[1]
    elif code == D_O_CONN_MEMORY_LIMIT:
        d.opt_conn_memory = max(256, opt[1])  # MHD's minimum pool
    elif code == D_O_PROTOCOL_STRICT_LEVEL:
        d.opt_strict = max(-3, min(3, opt[1]))  # nearest existing level
    elif code == D_O_WORK_MODE:
        if opt[1] != WM_EXTERNAL_PERIODIC:
            return _SC_CONFIGURATION_UNEXPECTED_WM  # no threads: the application drives the loop
    elif code == D_O_POLL_SYSCALL:
        if opt[1] not in (SPS_AUTO, SPS_POLL):
            return _SC_CONFIGURATION_UNEXPECTED_SPS
    elif code == D_O_TLS:
        if opt[1]:
            return _SC_TLS_BACKEND_UNSUPPORTED  # TLS is a later module
    elif code in _IGNORED:
        pass
    else:
        return _SC_OPTION_UNKNOWN
    return _SC_OK


def daemon_set_option(daemon, option):
    return apply(daemon, option)


def daemon_set_options(daemon, options, options_max_num=None):
    """Apply options in order until D_OPTION_TERMINATE() or options_max_num; returns the
    first failing status code, or SC_OK."""
    n = len(options) if options_max_num is None else min(options_max_num, len(options))
    for i in range(n):
        if options[i][0] == D_O_END:
            break
        rc = apply(daemon, options[i])
        if rc:
            return rc
    return _SC_OK


def DAEMON_SET_OPTIONS(daemon, *options):
    return daemon_set_options(daemon, options)


def start(d):
    """daemon_start: check the options, take all the memory, open the listening socket."""
    if d.started:
        return _SC_TOO_LATE
    if (d.opt_bind is not None) + (d.opt_bind_sa is not None) + (d.opt_listen_sock is not None) > 1:
        return _SC_OPTIONS_CONFLICT
    limit = d.opt_conn_limit or DEFAULT_CONN_LIMIT
    size = d.opt_conn_memory
    try:
        # every slot and buffer now: after start, serving takes no new memory
        d.slots = tuple(Connection(d, size, max(8, size // 24)) for _ in range(limit))
        _resp.pool_reserve(d.opt_response_pool)
        d.scratch = bytearray(160)
        d.poller = Poller()
    except MemoryError:
        d.slots = ()
        d.log(_SC_DAEMON_MEM_ALLOC_FAILURE, "pools of %d x %d bytes do not fit in the heap" % (limit, size))
        return _SC_DAEMON_MEM_ALLOC_FAILURE
    rc = _listen(d)
    if rc != _SC_OK:
        d.slots = ()
        return rc
    if d.lsock is not None:
        d.poller.register(d.lsock, POLLIN)
    d.timeout_ms = d.opt_timeout * 1000
    d.started = True
    return _SC_OK


def _listen(d):
    import socket
    if d.opt_listen_sock is not None:
        d.lsock = d.opt_listen_sock
        d.lsock.setblocking(False)
        return _SC_OK
    if d.opt_bind_sa is not None:
        (host, port), dual = d.opt_bind_sa
        v6 = ":" in host
    elif d.opt_bind is not None and d.opt_bind[0] != AF_NONE:
        af, port = d.opt_bind
        v6 = af in (AF_INET6, AF_DUAL, AF_DUAL_v6_OPTIONAL)
        if af == AF_DUAL_v4_OPTIONAL or (af == AF_DUAL_v6_OPTIONAL and not HAS_IPV6):
            v6 = HAS_IPV6
        host = "::" if v6 else "0.0.0.0"
    else:
        return _SC_OK  # no listening socket: nothing to accept
    if v6 and not HAS_IPV6:
        return _SC_IPV6_NOT_SUPPORTED_BY_BUILD
    try:
        d.lsock, d.port = listen(socket.AF_INET6 if v6 else socket.AF_INET, host, port, d.opt_backlog or 16)
    except OSError as e:
        d.log(_SC_LISTEN_SOCKET_BIND_FAILED, "cannot listen on %s port %d: %s" % (host, port, e))
        return _SC_LISTEN_SOCKET_BIND_FAILED
    return _SC_OK
