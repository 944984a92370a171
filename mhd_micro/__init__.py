# mhd_micro: the HTTP/1.1 server API of GNU libmicrohttpd 2, for MicroPython and CPython.
#
#   import mhd_micro as mhd
#
# Names follow MHD2 without the MHD_ prefix: functions lower case, constants upper case
# (docs/mapping.md has the table). Only the engine is imported here. Every other name is
# found on first use by __getattr__ through _ROUTES (name prefix -> module) and cached, so
# a server pays heap only for the parts of the API it calls: on the unix port a module
# costs about twice its .mpy size. Modules are loaded and let go by lazy.py, the one loader.
from .lazy import load, drop
from .parser import SIZE_UNKNOWN
from .daemon import Daemon, WAIT_INDEFINITELY
from .action import action_from_response, action_abort_request, action_abort_connection
from .response import (response_from_buffer, response_from_buffer_static, response_from_buffer_copy,
                       response_from_empty, response_from_iovec, response_from_callback, response_destroy)

VERSION = "0.1.0"
NO = False
YES = True
SC_OK = 0


def daemon_create(req_cb, req_cb_cls=None):
    """A daemon that is not started yet. req_cb(cls, request, path, method, upload_size)
    returns an action (or None to close the connection)."""
    return Daemon(req_cb, req_cb_cls)


def daemon_start(daemon):
    """Open the listening socket and take every pool. Returns SC_OK or the failure.

    The API modules the set-up used (headers, options, info...) are let go first: a running
    server gets back, on first use, only those it calls while serving."""
    _forget_setup()
    # a collection now, so that options.py, loaded again for the start, takes the pieces the
    # set-up's modules left (not new heap at the top): hello.py, core as .mpy, 8 connections
    # of 1024 bytes, started in 88 KiB, not 90 (100 with 2048-byte buffers, not 105)
    load("platform").collect()  # (not a global here: the package's dict would grow)
    try:
        rc = load("options").start(daemon)
    finally:
        drop("options")  # setup code: gone before the pools are taken, and for good
        drop("platform_listen")
    if rc:
        return rc
    # pools.py then loads into the room options.py left, below the free heap the pools take,
    # and leaves it whole again once it goes (in place from ROMFS, the smallest heap for
    # hello.py's 8 keep-alive clients: 62 -> 60 KiB with the copies in pools.alloc)
    load("platform").collect()
    try:
        rc = load("pools").alloc(daemon)
    finally:
        drop("pools")
    if not rc and daemon.ext is not None:
        rc = load("extloop").attach(daemon)  # MHD2's external event loop mode
    return rc


def daemon_process_blocking(daemon, microsec):
    """Wait up to microsec (0: not at all; WAIT_INDEFINITELY) for network activity and
    process it. The application's main loop, or a call from its own superloop. (In the
    external event loop mode: daemon_process_reg_events.)"""
    if daemon.ext is not None:
        return 60022  # SC_CONFIGURATION_UNEXPECTED_WM
    try:
        return daemon.process(microsec)
    except MemoryError:  # outside a request (the Date line, a new client's socket): the next round goes on
        return 30081  # SC_DAEMON_MEM_ALLOC_FAILURE


def daemon_process_nonblocking(daemon):
    return daemon_process_blocking(daemon, 0)


_cached = []  # names __getattr__ cached: their modules are let go at daemon_start
_started = [False]  # a daemon has started: modules marked + are let go after each lookup


def _forget_setup():
    """daemon_start: let go of every name __getattr__ cached and of its module."""
    for name in _cached:
        globals().pop(name, None)
        where = _route(name) or "*enums"
        drop(where[1:] if where[0] in "*+" else where)
    del _cached[:]
    _started[0] = True


# "prefix prefix...=module", lines tried in order. Modules marked * are let go after the lookup
# (name tables), those marked + after it once a daemon has started (setup code, and the fixed
# daemon info an application asks once, for its port): their constants are kept here, their
# functions looked up again on each use. An upper-case name no prefix matches is looked up in
# enums.py (*): VK_*, REQUEST_INFO_*, HTTP_METHOD_*, DAUTH_*, DIGEST_*...
_ROUTES = (
    b"D_OPTION_ D_O_ AF_ WM_ SPS_ PSL_ USL_ daemon_set_option DAEMON_SET_OPTIONS OPTIONS_ARRAY_MAX_SIZE=+options\n"
    b"daemon_quiesce daemon_destroy=stop\ndaemon_get_info_f DAEMON_I=+daemon_info\n"
    b"daemon_get_info connection_get_info=daemon_info\nrequest_get_post_data_cb=post_fields\naction_parse_post=post\n"
    b"HTTP_METHOD_STR_=*names\nrequest_get_ http_method_ protocol_version_=values\n"
    b"response_add_auth_b action_b=auth_basic\nresponse_add_auth_d action_d digest_=auth_digest\n"
    b"response_add_ predef_ PREDEF_=response_headers\n"
    b"response_set_option RESPONSE_SET_OPTIONS R_OPTION_ R_O_=response_options\n"
    b"action_suspend request_resume upload_action_suspend=suspend\n"
    b"action_upgrade upload_action_upgrade upgraded_=upgrade\n"
    b"action_process_upload_full=upload_full\naction_process_upload upload_action_=upload\n"
    b"daemon_event_update daemon_process_reg_events FD_STATE_=extloop\n"
    b"dcc_ DynContentZCIoVec=dcc\nresponse_from_fd response_from_pipe=fd\nlib_get_info LIB_INFO_=libinfo\n"
    b"HTTP_STATUS_ HTTP_status_code_to_string http_status_code_to_string=*status\n"
    b"SC_ HTTP_HEADER_ status_code_to_string=*names\n"
)


def _route(name):
    key = name.encode()
    i = 0
    while i < len(_ROUTES):
        eq = _ROUTES.find(b"=", i)
        end = _ROUTES.find(b"\n", eq)
        while i < eq:  # the line's prefixes
            sp = _ROUTES.find(b" ", i, eq)
            if sp < 0:
                sp = eq
            if key.startswith(_ROUTES[i:sp]):
                return _ROUTES[eq + 1:end].decode()
            i = sp + 1
        i = end + 1
    return None


def __getattr__(name):
    where = _route(name)
    if where is None:
        if name.isupper():
            where = "*enums"
        else:
            # a submodule: MicroPython resolves `from . import x` through this function
            try:
                return load(name)
            except ImportError:
                raise AttributeError(name)
    # a module marked * is let go after each lookup; one marked + (options.py: the set-up
    # looks up many of its names, and loading it again for each one scatters the heap) only
    # once the daemon has started. Measured with hello.py on the unix port: letting options.py
    # go at once as well made the smallest heap with 2 shared buffers 86 KiB instead of 80.
    transient = where[0] == "*" or (where[0] == "+" and _started[0])
    if where[0] in "*+":
        where = where[1:]
    try:
        mod = load(where)
    except ImportError:  # left out of this build (tools/build.py --without ...)
        value = (_no_response if name.startswith("response_from") else _feature_disabled) if name[0].islower() else None
    else:
        value = getattr(mod, name, None)
        if value is None and hasattr(mod, "resolve"):
            value = mod.resolve(name)  # names made from a table: HTTP_STATUS_*, SC_*...
    finally:
        if transient:
            drop(where)
    if value is None:
        raise AttributeError(name)
    if not transient or not callable(value):  # a transient module's constants are kept
        globals()[name] = value
        _cached.append(name)
    return value


def _feature_disabled(*args):
    """Stands in for a function whose module is not in this build: SC_FEATURE_DISABLED."""
    return 50300


def _no_response(*args):
    """Stands in for a response constructor whose module is not in this build: None, as
    MHD's NULL."""
    return None
