# Daemon options: the D_OPTION_* constructors (each returns a tuple (code, values...)) and
# apply(d, option), which checks one option and stores it on a daemon that is not started.
#
# Only daemon_set_option(s) imports this module, so a running server carries no option code
# it no longer needs. Options MHD2 stores and ignores are implemented here (NI in the survey):
# DEFAULT_TIMEOUT, PER_IP_LIMIT, ACCEPT_POLICY, EARLY_URI_LOGGER, NOTIFY_CONNECTION,
# DISABLE_URI_QUERY_PLUS_AS_SPACE.
from .platform import const

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

_SC_OK = const(0)
_SC_TOO_LATE = const(60001)
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
