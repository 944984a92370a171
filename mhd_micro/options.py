# Daemon options: the D_OPTION_* constructors, daemon_set_option(s), DAEMON_SET_OPTIONS, and
# start(d), which checks the options and opens the listening socket for daemon_start.
#
# Setup code: the package imports this module only to set options and to start, and lets
# it go again, so a running server carries none of it. The constructors and constants
# come from one table (resolve) rather than a function and a global each: on MicroPython
# every name a module defines costs heap for as long as the firmware runs.
#
# Options that MHD2 stores and ignores (NI in the survey) are implemented: DEFAULT_TIMEOUT,
# PER_IP_LIMIT, ACCEPT_POLICY, EARLY_URI_LOGGER, NOTIFY_CONNECTION,
# DISABLE_URI_QUERY_PLUS_AS_SPACE. Work modes with threads and the edge-triggered external
# event loop are refused. TLS is tls.py's, loaded by start for a daemon that asks for it.
from .platform import const, listen, HAS_IPV6
from .lazy import load

# D_OPTION_<NAME> -> D_O_<NAME> code: D_OPTION_<NAME>(*values) makes (code, *values).
# A third field gives fixed values (D_OPTION_WM_EXTERNAL_PERIODIC()).
_OPTIONS = (
    b"\nEND 0\nTERMINATE 0\nWORK_MODE 40\nWM_EXTERNAL_PERIODIC 40 0\nWM_EXTERNAL_EVENT_LOOP_CB_LEVEL 40 8"
    b"\nWM_EXTERNAL_EVENT_LOOP_CB_EDGE 40 9\nWM_EXTERNAL_SINGLE_FD_WATCH 40 16\nWM_WORKER_THREADS 40 24"
    b"\nWM_THREAD_PER_CONNECTION 40 32\nPOLL_SYSCALL 41\nREREGISTER_ALL 45"
    b"\nLOG_CALLBACK 60\nBIND_PORT 80\nBIND_SA 81\nLISTEN_SOCKET 82\nLISTEN_ADDR_REUSE 100"
    b"\nTCP_FASTOPEN 101\nLISTEN_BACKLOG 102\nSIGPIPE_SUPPRESSED 103\nTLS 120\nTLS_CERT_KEY 121"
    b"\nTLS_CLIENT_CA 122\nTLS_PSK_CALLBACK 130\nNO_ALPN 140\nDEFAULT_TIMEOUT 160"
    b"\nGLOBAL_CONNECTION_LIMIT 161\nPER_IP_LIMIT 162\nACCEPT_POLICY 163\nPROTOCOL_STRICT_LEVEL 200"
    b"\nEARLY_URI_LOGGER 201\nDISABLE_URI_QUERY_PLUS_AS_SPACE 202\nSUPPRESS_DATE_HEADER 240"
    b"\nENABLE_SHOUTCAST 241\nCONN_MEMORY_LIMIT 280\nLARGE_POOL_SIZE 281\nSTACK_SIZE 282"
    b"\nFD_NUMBER_LIMIT 283\nTURBO 320\nDISABLE_THREAD_SAFETY 321\nDISALLOW_UPGRADE 322"
    b"\nDISALLOW_SUSPEND_RESUME 323\nDISABLE_COOKIES 324\nDAEMON_READY_CALLBACK 360"
    b"\nNOTIFY_CONNECTION 361\nNOTIFY_STREAM 362\nRANDOM_ENTROPY 400\nAUTH_DIGEST_MAP_SIZE 401"
    b"\nAUTH_DIGEST_NONCE_TIMEOUT 403\nAUTH_DIGEST_DEF_MAX_NC 404\nRESPONSE_POOL_SIZE 10001\nLOG_MEMORY 10002\nCONN_BUFFER_POOL_SIZE 10003"
    b"\nHEAD_TIMEOUT 10004\nTLS_HANDSHAKE_TIMEOUT 10005\nTLS_CONNECTION_LIMIT 10006\n"
)
# other constants of this family
_CONSTANTS = (
    b"\nAF_NONE 0\nAF_AUTO 1\nAF_INET4 2\nAF_INET6 3\nAF_DUAL 4\nAF_DUAL_v4_OPTIONAL 5\nAF_DUAL_v6_OPTIONAL 6"
    b"\nWM_EXTERNAL_PERIODIC 0\nWM_EXTERNAL_EVENT_LOOP_CB_LEVEL 8\nWM_EXTERNAL_EVENT_LOOP_CB_EDGE 9"
    b"\nWM_EXTERNAL_SINGLE_FD_WATCH 16\nWM_WORKER_THREADS 24\nWM_THREAD_PER_CONNECTION 32"
    b"\nSPS_AUTO 0\nSPS_SELECT 1\nSPS_POLL 2\nSPS_EPOLL 3\nPSL_EXTRA_STRICT 3\nPSL_VERY_STRICT 2"
    b"\nPSL_STRICT 1\nPSL_DEFAULT 0\nPSL_PERMISSIVE -1\nPSL_VERY_PERMISSIVE -2\nPSL_EXTRA_PERMISSIVE -3"
    b"\nUSL_THIS_OR_STRICTER 0\nUSL_PRECISE 1\nUSL_NEAREST 2\nOPTIONS_ARRAY_MAX_SIZE 18446744073709551615\n"
)

_D_O_WORK_MODE = const(40)  # = mhd.D_O_WORK_MODE
_D_O_POLL_SYSCALL = const(41)  # = mhd.D_O_POLL_SYSCALL
_D_O_REREGISTER_ALL = const(45)  # = mhd.D_O_REREGISTER_ALL
_D_O_LOG_CALLBACK = const(60)  # = mhd.D_O_LOG_CALLBACK
_D_O_BIND_PORT = const(80)  # = mhd.D_O_BIND_PORT
_D_O_BIND_SA = const(81)  # = mhd.D_O_BIND_SA
_D_O_LISTEN_SOCKET = const(82)  # = mhd.D_O_LISTEN_SOCKET
_D_O_LISTEN_BACKLOG = const(102)  # = mhd.D_O_LISTEN_BACKLOG
_D_O_TLS = const(120)  # = mhd.D_O_TLS
_D_O_TLS_CERT_KEY = const(121)  # = mhd.D_O_TLS_CERT_KEY
_D_O_DEFAULT_TIMEOUT = const(160)  # = mhd.D_O_DEFAULT_TIMEOUT
_D_O_GLOBAL_CONNECTION_LIMIT = const(161)  # = mhd.D_O_GLOBAL_CONNECTION_LIMIT
_D_O_PER_IP_LIMIT = const(162)  # = mhd.D_O_PER_IP_LIMIT
_D_O_ACCEPT_POLICY = const(163)  # = mhd.D_O_ACCEPT_POLICY
_D_O_PROTOCOL_STRICT_LEVEL = const(200)  # = mhd.D_O_PROTOCOL_STRICT_LEVEL
_D_O_EARLY_URI_LOGGER = const(201)  # = mhd.D_O_EARLY_URI_LOGGER
_D_O_DISABLE_URI_QUERY_PLUS_AS_SPACE = const(202)  # = mhd.D_O_DISABLE_URI_QUERY_PLUS_AS_SPACE
_D_O_SUPPRESS_DATE_HEADER = const(240)  # = mhd.D_O_SUPPRESS_DATE_HEADER
_D_O_CONN_MEMORY_LIMIT = const(280)  # = mhd.D_O_CONN_MEMORY_LIMIT
_D_O_LARGE_POOL_SIZE = const(281)  # = mhd.D_O_LARGE_POOL_SIZE
_D_O_DISALLOW_UPGRADE = const(322)  # = mhd.D_O_DISALLOW_UPGRADE
_D_O_DISALLOW_SUSPEND_RESUME = const(323)  # = mhd.D_O_DISALLOW_SUSPEND_RESUME
_D_O_DISABLE_COOKIES = const(324)  # = mhd.D_O_DISABLE_COOKIES
_D_O_NOTIFY_CONNECTION = const(361)  # = mhd.D_O_NOTIFY_CONNECTION
_D_O_RESPONSE_POOL_SIZE = const(10001)  # = mhd.D_O_RESPONSE_POOL_SIZE; mhd_micro's own: responses are not tied to a daemon in MHD
_D_O_LOG_MEMORY = const(10002)  # = mhd.D_O_LOG_MEMORY; mhd_micro's own: log what start took and the heap left (SC_DAEMON_STARTED)
_D_O_HEAD_TIMEOUT = const(10004)  # = mhd.D_O_HEAD_TIMEOUT; mhd_micro's own: the deadline for a whole request head
_D_O_CONN_BUFFER_POOL_SIZE = const(10003)  # = mhd.D_O_CONN_BUFFER_POOL_SIZE; mhd_micro's own: buffers lent to the connections
_D_O_TLS_HANDSHAKE_TIMEOUT = const(10005)  # = mhd.D_O_TLS_HANDSHAKE_TIMEOUT; mhd_micro's own: seconds (tls.py)
_D_O_TLS_CONNECTION_LIMIT = const(10006)  # = mhd.D_O_TLS_CONNECTION_LIMIT; mhd_micro's own: caps the slots of a TLS daemon
_AF_NONE = const(0)  # = mhd.AF_NONE
_AF_INET6 = const(3)  # = mhd.AF_INET6
_AF_DUAL = const(4)  # = mhd.AF_DUAL
_AF_DUAL_v4_OPTIONAL = const(5)  # = mhd.AF_DUAL_v4_OPTIONAL
_AF_DUAL_v6_OPTIONAL = const(6)  # = mhd.AF_DUAL_v6_OPTIONAL
_SPS_AUTO = const(0)  # = mhd.SPS_AUTO
_WM_EXTERNAL_EVENT_LOOP_CB_LEVEL = const(8)  # = mhd.WM_EXTERNAL_EVENT_LOOP_CB_LEVEL
_SPS_POLL = const(2)  # = mhd.SPS_POLL

_D_O_RANDOM_ENTROPY = const(400)  # = mhd.D_O_RANDOM_ENTROPY
_D_O_AUTH_DIGEST_MAP_SIZE = const(401)  # = mhd.D_O_AUTH_DIGEST_MAP_SIZE
_D_O_AUTH_DIGEST_NONCE_TIMEOUT = const(403)  # = mhd.D_O_AUTH_DIGEST_NONCE_TIMEOUT
_D_O_AUTH_DIGEST_DEF_MAX_NC = const(404)  # = mhd.D_O_AUTH_DIGEST_DEF_MAX_NC

_SC_OK = const(0)  # = mhd.SC_OK
_SC_EXTERNAL_EVENT_ONLY = const(60012)  # = mhd.SC_EXTERNAL_EVENT_ONLY
_SC_TOO_LATE = const(60001)  # = mhd.SC_TOO_LATE
_SC_OPTIONS_CONFLICT = const(60020)  # = mhd.SC_OPTIONS_CONFLICT
_SC_OPTION_UNKNOWN = const(60021)  # = mhd.SC_OPTION_UNKNOWN
_SC_CONFIGURATION_UNEXPECTED_WM = const(60022)  # = mhd.SC_CONFIGURATION_UNEXPECTED_WM
_SC_CONFIGURATION_UNEXPECTED_SPS = const(60023)  # = mhd.SC_CONFIGURATION_UNEXPECTED_SPS
_SC_CONFIGURATION_CONN_LIMIT_TOO_SMALL = const(60026)  # = mhd.SC_CONFIGURATION_CONN_LIMIT_TOO_SMALL
_SC_TLS_BACKEND_UNSUPPORTED = const(60030)  # = mhd.SC_TLS_BACKEND_UNSUPPORTED
_SC_TLS_CONF_BAD_CERT = const(60033)  # = mhd.SC_TLS_CONF_BAD_CERT
_SC_TLS_DISABLED = const(50000)  # = mhd.SC_TLS_DISABLED
_SC_FEATURE_DISABLED = const(50300)  # = mhd.SC_FEATURE_DISABLED
_SC_IPV6_NOT_SUPPORTED_BY_BUILD = const(50020)  # = mhd.SC_IPV6_NOT_SUPPORTED_BY_BUILD
_SC_LISTEN_SOCKET_BIND_FAILED = const(50055)  # = mhd.SC_LISTEN_SOCKET_BIND_FAILED

# codes stored as they are, in d.setup (used once, by start) or as daemon attributes
_SETUP = (_D_O_BIND_PORT, _D_O_BIND_SA, _D_O_LISTEN_SOCKET, _D_O_LISTEN_BACKLOG,
          _D_O_GLOBAL_CONNECTION_LIMIT, _D_O_CONN_MEMORY_LIMIT, _D_O_RESPONSE_POOL_SIZE, _D_O_LOG_MEMORY,
          _D_O_CONN_BUFFER_POOL_SIZE, _D_O_LARGE_POOL_SIZE, _D_O_RANDOM_ENTROPY, _D_O_AUTH_DIGEST_MAP_SIZE,
          _D_O_AUTH_DIGEST_NONCE_TIMEOUT, _D_O_AUTH_DIGEST_DEF_MAX_NC, _D_O_TLS_HANDSHAKE_TIMEOUT,
          _D_O_TLS_CONNECTION_LIMIT)
_FLAGS = {
    _D_O_SUPPRESS_DATE_HEADER: "no_date",
    _D_O_DISABLE_COOKIES: "no_cookies",
    _D_O_DISABLE_URI_QUERY_PLUS_AS_SPACE: "no_plus",
    _D_O_DISALLOW_SUSPEND_RESUME: "no_suspend",
    _D_O_DISALLOW_UPGRADE: "no_upgrade",
    _D_O_PER_IP_LIMIT: "per_ip",
}
_CALLBACKS = {
    _D_O_LOG_CALLBACK: "log_to",
    _D_O_EARLY_URI_LOGGER: "uri_logger",
    _D_O_NOTIFY_CONNECTION: "notify",
    _D_O_ACCEPT_POLICY: "accept_policy",
}


def _find(table, key):
    """The text after `key` on its line of `table`, or None."""
    i = table.find(b"\n" + key + b" ")
    if i < 0:
        return None
    i += len(key) + 2
    return table[i:table.find(b"\n", i)]


def resolve(name):
    """D_OPTION_<NAME> -> its constructor, D_O_<NAME> -> its code, AF_/WM_/SPS_/PSL_/USL_
    -> the constant; None if unknown."""
    if name.startswith("D_OPTION_"):
        found = _find(_OPTIONS, name[9:].encode())
        if found is None:
            return None
        fixed = tuple(int(v) for v in found.split())

        def option(*values):
            return fixed + values
        return option
    if name.startswith("D_O_"):
        found = _find(_OPTIONS, name[4:].encode())
    else:
        found = _find(_CONSTANTS, name.encode())
    return None if found is None else int(found)


def apply(d, opt):
    """Store one option on daemon d. Returns SC_OK or the MHD status code of the refusal."""
    if d.started:
        return _SC_TOO_LATE
    code = opt[0]
    v = opt[1] if len(opt) > 1 else None
    if code in _SETUP:
        if code == _D_O_GLOBAL_CONNECTION_LIMIT and v < 0:
            return _SC_CONFIGURATION_CONN_LIMIT_TOO_SMALL
        if code == _D_O_RANDOM_ENTROPY:
            # (buf) or MHD's (buf_size, buf): Digest authentication's nonces (auth_digest.py),
            # whose table daemon_start takes; an empty buffer leaves Digest off, as in MHD2
            from . import features
            from .lazy import present
            if not (features.AUTH_DIGEST and present("auth_digest")):
                return _SC_FEATURE_DISABLED
            if not opt[-1]:
                d.setup.pop(code, None)
                return _SC_OK
        d.setup[code] = opt[1:]
    elif code in _FLAGS:
        if code == _D_O_DISABLE_COOKIES and v:
            from .values import cookie_parser
            if not cookie_parser():
                return _SC_FEATURE_DISABLED  # built without the cookie parser: MHD2 refuses this
        setattr(d, _FLAGS[code], v)
    elif code in _CALLBACKS:
        setattr(d, _CALLBACKS[code], None if v is None else (v, opt[2] if len(opt) > 2 else None))
    elif code == _D_O_DEFAULT_TIMEOUT:
        d.timeout_ms = v * 1000
    elif code == _D_O_HEAD_TIMEOUT:
        d.head_ms = v * 1000
    elif code == _D_O_PROTOCOL_STRICT_LEVEL:
        d.strict = max(-3, min(3, v))  # the nearest existing level
    elif code == _D_O_WORK_MODE:
        if v == _WM_EXTERNAL_EVENT_LOOP_CB_LEVEL and len(opt) > 2 and opt[2] is not None:
            d.setup[code] = (opt[2], opt[3] if len(opt) > 3 else None)  # (reg_cb, reg_cb_cls): extloop.py
        elif v:
            # no threads: the application drives the loop; and no edge triggers: the engine
            # accepts in batches and waits for readiness that poll (select.poll: MicroPython
            # has no epoll) reports again while it lasts
            return _SC_CONFIGURATION_UNEXPECTED_WM
        else:
            d.setup.pop(code, None)
    elif code == _D_O_REREGISTER_ALL:
        d.setup[code] = v
    elif code == _D_O_POLL_SYSCALL:
        if v not in (_SPS_AUTO, _SPS_POLL):
            return _SC_CONFIGURATION_UNEXPECTED_SPS
    elif code == _D_O_TLS:
        if v:
            d.setup[code] = (v,)  # start checks the backend (tls.py)
        else:
            d.setup.pop(code, None)
    elif code == _D_O_TLS_CERT_KEY:
        if not v or len(opt) < 3 or not opt[2]:
            return _SC_TLS_CONF_BAD_CERT  # as MHD2: both are needed, and not empty
        d.setup[code] = opt[1:]
    elif code == 0 or _OPTIONS.find(b" %d\n" % code) < 0:
        return _SC_OPTION_UNKNOWN
    # any other known option is accepted with no effect here, as in MHD2 (SIGPIPE, TFO...)
    return _SC_OK


def daemon_set_option(daemon, option):
    return apply(daemon, option)


def daemon_set_options(daemon, options, options_max_num=None):
    """Apply options in order until D_OPTION_TERMINATE() or options_max_num; returns the
    first failing status code, or SC_OK."""
    n = len(options) if options_max_num is None else min(options_max_num, len(options))
    for i in range(n):
        if options[i][0] == 0:
            break
        rc = apply(daemon, options[i])
        if rc:
            return rc
    return _SC_OK


def DAEMON_SET_OPTIONS(daemon, *options):
    return daemon_set_options(daemon, options)


def _tls(d, s):
    from .libinfo import feature
    if not feature("TLS"):
        return _SC_TLS_DISABLED  # built without tls.py, or a firmware without ssl (tls.py cannot import)
    return load("tls").setup(d, s)


def start(d):
    """The first half of daemon_start: check the options, open the listening socket and
    leave in d.setup what the pools need. pools.alloc then takes the memory, once this
    module is gone."""
    if d.started:
        return _SC_TOO_LATE
    s = d.setup
    if _D_O_TLS in s:
        rc = _tls(d, s)
        if rc:
            return rc
    wm = s.get(_D_O_WORK_MODE)
    if wm is not None:
        d.ext = wm + (bool(s.get(_D_O_REREGISTER_ALL)),)  # daemon_start hands it to extloop.attach
    elif s.get(_D_O_REREGISTER_ALL):
        return _SC_EXTERNAL_EVENT_ONLY
    if (_D_O_BIND_PORT in s) + (_D_O_BIND_SA in s) + (_D_O_LISTEN_SOCKET in s) > 1:
        return _SC_OPTIONS_CONFLICT
    # the default backlog holds every slot's worth of waiting clients: with fewer, a burst of
    # new connections overflows the accept queue and those clients wait for a SYN retransmit
    # pools.py's default limit only when needed: imported at the top, pools.py would stay in the
    # heap through the whole set-up, next to this module and the response modules
    backlog = s.get(_D_O_LISTEN_BACKLOG, (0,))[0] or max(
        16, s.get(_D_O_GLOBAL_CONNECTION_LIMIT, (0,))[0] or load("pools").DEFAULT_CONN_LIMIT)
    if _D_O_LISTEN_SOCKET in s:
        d.lsock = s[_D_O_LISTEN_SOCKET][0]
        d.lsock.setblocking(False)
        d.own_lsock = False
        return _SC_OK
    if _D_O_BIND_SA in s:
        (host, port), dual = s[_D_O_BIND_SA] + (False,) * (2 - len(s[_D_O_BIND_SA]))
        v6 = ":" in host
    elif _D_O_BIND_PORT in s and s[_D_O_BIND_PORT][0] != _AF_NONE:
        af, port = s[_D_O_BIND_PORT]
        v6 = af in (_AF_INET6, _AF_DUAL, _AF_DUAL_v6_OPTIONAL)
        if af == _AF_DUAL_v4_OPTIONAL or (af == _AF_DUAL_v6_OPTIONAL and not HAS_IPV6):
            v6 = HAS_IPV6
        host = "::" if v6 else "0.0.0.0"
    else:
        return _SC_OK  # no listening socket: nothing to accept
    if v6 and not HAS_IPV6:
        return _SC_IPV6_NOT_SUPPORTED_BY_BUILD
    import socket
    try:
        d.lsock, d.port = listen(socket.AF_INET6 if v6 else socket.AF_INET, host, port, backlog)
    except OSError as e:
        d.log(_SC_LISTEN_SOCKET_BIND_FAILED, "cannot listen on %s port %d: %s" % (host, port, e))
        return _SC_LISTEN_SOCKET_BIND_FAILED
    return _SC_OK
