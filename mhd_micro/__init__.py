# mhd_micro: the HTTP/1.1 server API of GNU libmicrohttpd 2, for MicroPython and CPython.
#
#   import mhd_micro as mhd
#
# Names follow MHD2 without the MHD_ prefix: functions lower case, constants upper case
# (docs/mapping.md has the table). Large constant families (SC_*, HTTP_STATUS_*,
# HTTP_HEADER_*, D_OPTION_*...) are resolved on first use by __getattr__ below, so importing
# the package costs only the engine's own code.
import sys

from .platform import const
from .parser import SIZE_UNKNOWN
from .daemon import Daemon, WAIT_INDEFINITELY
from .request import (request_get_value, request_get_values_cb, request_get_info_fixed,
                      request_get_info_dynamic, VK_HEADER, VK_COOKIE, VK_GET_ARGUMENT, VK_POSTDATA,
                      VK_FOOTER)
from .action import (action_from_response, action_abort_request, action_abort_connection,
                     action_suspend, request_resume)
from .response import (response_from_buffer, response_from_buffer_static, response_from_buffer_copy,
                       response_from_empty, response_from_iovec, response_from_callback,
                       response_add_header, response_add_predef_header, predef_header_to_string, response_destroy, response_set_option,
                       response_set_options, RESPONSE_SET_OPTIONS, R_OPTION_REUSABLE,
                       R_OPTION_HEAD_ONLY_RESPONSE, R_OPTION_CHUNKED_ENC, R_OPTION_CONN_CLOSE,
                       R_OPTION_HTTP_1_0_COMPATIBLE_STRICT, R_OPTION_HTTP_1_0_SERVER,
                       R_OPTION_INSANITY_HEADER_CONTENT_LENGTH, R_OPTION_TERMINATION_CALLBACK,
                       R_OPTION_TERMINATE)
from .dcc import (dcc_action_continue, dcc_action_continue_ce, dcc_action_continue_zc, dcc_action_finish,
                  dcc_action_finish_with_footer, dcc_action_suspend, dcc_action_abort, DynContentZCIoVec)
from .status import HTTP_status_code_to_string

VERSION = "0.1.0"
SIZE_UNKNOWN = SIZE_UNKNOWN
NO = False
YES = True
SC_OK = 0
VK_HEADER_FOOTER = VK_HEADER | VK_FOOTER
VK_GET_POST = VK_GET_ARGUMENT | VK_POSTDATA

HTTP_METHOD_GET = 1
HTTP_METHOD_HEAD = 2
HTTP_METHOD_POST = 3
HTTP_METHOD_PUT = 4
HTTP_METHOD_DELETE = 5
HTTP_METHOD_CONNECT = 6
HTTP_METHOD_OPTIONS = 7
HTTP_METHOD_TRACE = 8
HTTP_METHOD_ASTERISK = 9
HTTP_METHOD_OTHER = 255
HTTP_VERSION_INVALID = 0
HTTP_VERSION_1_0 = 1
HTTP_VERSION_1_1 = 2

PSL_EXTRA_STRICT = 3
PSL_VERY_STRICT = 2
PSL_STRICT = 1
PSL_DEFAULT = 0
PSL_PERMISSIVE = -1
PSL_VERY_PERMISSIVE = -2
PSL_EXTRA_PERMISSIVE = -3
USL_THIS_OR_STRICTER = 0
USL_PRECISE = 1
USL_NEAREST = 2

DAEMON_INFO_FIXED_BIND_PORT = 1
DAEMON_INFO_FIXED_LISTEN_SOCKET = 2
DAEMON_INFO_DYNAMIC_MAX_TIME_TO_WAIT = 1
DAEMON_INFO_DYNAMIC_HAS_CONNECTIONS = 20
CONNECTION_NOTIFY_STARTED = 0
CONNECTION_NOTIFY_CLOSED = 1
REQUEST_ENDED_COMPLETED_OK = 0
REQUEST_INFO_FIXED_HTTP_VER = 1
REQUEST_INFO_FIXED_HTTP_METHOD = 2
REQUEST_INFO_FIXED_DAEMON = 20
REQUEST_INFO_FIXED_CONNECTION = 21
REQUEST_INFO_FIXED_STREAM = 22
REQUEST_INFO_FIXED_APP_CONTEXT = 30
REQUEST_INFO_DYNAMIC_HTTP_METHOD_STRING = 1
REQUEST_INFO_DYNAMIC_URI = 2
REQUEST_INFO_DYNAMIC_NUMBER_URI_PARAMS = 3
REQUEST_INFO_DYNAMIC_NUMBER_COOKIES = 4
REQUEST_INFO_DYNAMIC_HEADER_SIZE = 5
REQUEST_INFO_DYNAMIC_NUMBER_POST_PARAMS = 6
REQUEST_INFO_DYNAMIC_UPLOAD_PRESENT = 10
REQUEST_INFO_DYNAMIC_UPLOAD_CHUNKED = 11
REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TOTAL = 12
REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_RECIEVED = 13
REQUEST_INFO_DYNAMIC_UPLOAD_SIZE_TO_RECIEVE = 14

_SC_TOO_EARLY = const(60000)
_SC_INFO_GET_TYPE_UNKNOWN = const(60200)
_SC_INFO_GET_TYPE_UNOBTAINABLE = const(60204)


# -- daemon ---------------------------------------------------------------------------------
def daemon_create(req_cb, req_cb_cls=None):
    """A daemon that is not started yet. req_cb(cls, request, path, method, upload_size)
    returns an action (or None to close the connection)."""
    return Daemon(req_cb, req_cb_cls)


def _module(name):
    """Import a submodule without `from . import`, which MicroPython resolves through this
    package's __getattr__."""
    full = __name__ + "." + name
    __import__(full)
    return sys.modules[full]


def _drop(name):
    # the name tables are big: once a value is cached, let the module go
    sys.modules.pop(__name__ + "." + name, None)
    globals().pop(name, None)


def daemon_set_option(daemon, option):
    return _module("options").apply(daemon, option)


def daemon_set_options(daemon, options, options_max_num=None):
    """Apply options in order until D_OPTION_TERMINATE() or options_max_num; returns the
    first failing status code, or SC_OK."""
    n = len(options) if options_max_num is None else min(options_max_num, len(options))
    for i in range(n):
        if options[i][0] == 0:
            break
        rc = daemon_set_option(daemon, options[i])
        if rc:
            return rc
    return SC_OK


def DAEMON_SET_OPTIONS(daemon, *options):
    return daemon_set_options(daemon, options)


def daemon_start(daemon):
    return daemon.start()


def daemon_process_blocking(daemon, microsec):
    return daemon.process(microsec)


def daemon_process_nonblocking(daemon):
    return daemon.process(0)


def daemon_quiesce(daemon):
    return daemon.quiesce()


def daemon_destroy(daemon):
    daemon.destroy()


def daemon_get_info_fixed(daemon, info):
    """(SC_OK, value), or (error code, None)."""
    if not daemon.started:
        return _SC_TOO_EARLY, None
    if info == DAEMON_INFO_FIXED_BIND_PORT:
        if daemon.lsock is not None and not daemon.port:
            return _SC_INFO_GET_TYPE_UNOBTAINABLE, None  # MicroPython can't tell a given socket's port
        return SC_OK, daemon.port
    if info == DAEMON_INFO_FIXED_LISTEN_SOCKET:
        return SC_OK, daemon.lsock
    return _SC_INFO_GET_TYPE_UNKNOWN, None


def daemon_get_info_dynamic(daemon, info):
    """(SC_OK, value), or (error code, None). MAX_TIME_TO_WAIT is in milliseconds
    (WAIT_INDEFINITELY when nothing is due)."""
    if not daemon.started:
        return _SC_TOO_EARLY, None
    if info == DAEMON_INFO_DYNAMIC_MAX_TIME_TO_WAIT:
        ms = daemon.max_wait_ms()
        return SC_OK, WAIT_INDEFINITELY if ms < 0 else ms
    if info == DAEMON_INFO_DYNAMIC_HAS_CONNECTIONS:
        return SC_OK, bool(daemon.by_sock)
    return _SC_INFO_GET_TYPE_UNKNOWN, None


# -- library information (libinfo.py, imported when asked) -----------------------------------
def lib_get_info_fixed(info):
    """(SC_OK, value) for a LIB_INFO_FIXED_* item, or (error code, None): what this build
    can do on this runtime (a feature needs its flag, its module and the platform)."""
    return _module("libinfo").lib_get_info_fixed(info)


def lib_get_info_dynamic(info):
    """(SC_OK, value) for a LIB_INFO_DYNAMIC_* item, or (error code, None)."""
    return _module("libinfo").lib_get_info_dynamic(info)


def lib_get_info_ver_num():
    """The version packed as MHD packs it (0x00010000 for "0.1.0")."""
    return _module("libinfo").version_num()


# -- constants resolved on first use ---------------------------------------------------------
def http_method_to_string(method):
    """"GET" for HTTP_METHOD_GET...; None for HTTP_METHOD_OTHER or an unknown value."""
    from .parser import METHODS
    if 1 <= method <= len(METHODS):
        return METHODS[method - 1].decode()
    return "*" if method == HTTP_METHOD_ASTERISK else None


def protocol_version_to_string(version):
    if version == HTTP_VERSION_1_0:
        return "HTTP/1.0"
    if version == HTTP_VERSION_1_1:
        return "HTTP/1.1"
    return None


def _no_file_responses(*args):
    """response_from_fd / response_from_pipe in a build without the fd module: None."""
    return None


def status_code_to_string(code):
    """The name of an MHD status code without the SC_ prefix ("TOO_LATE"), or None."""
    try:
        return _module("names").status_code_to_string(code)
    finally:
        _drop("names")


def __getattr__(name):
    value = None
    if name.startswith("HTTP_STATUS_"):
        value = _module("status").status_by_name(name[12:])
    elif name.startswith("SC_") or name.startswith("HTTP_HEADER_") or name.startswith("HTTP_METHOD_STR_"):
        try:
            value = _module("names").lookup(name)
        finally:
            _drop("names")
    elif name == "response_from_fd" or name == "response_from_pipe":
        try:
            value = getattr(_module("fd"), name)
        except ImportError:  # left out of this build (tools/build.py --without large_file)
            value = _no_file_responses
    elif name.startswith("PREDEF_"):
        from .response import _PREDEF
        want = name[7:]
        for i in range(len(_PREDEF)):
            if _PREDEF[i] and _PREDEF[i].upper().replace("-", "_") == want:
                value = i
                break
    elif name.startswith("R_O_"):
        value = getattr(_module("response"), name, None)
    else:
        for prefix, mod in (("D_OPTION_", "options"), ("D_O_", "options"), ("AF_", "options"),
                            ("WM_", "options"), ("SPS_", "options"), ("LIB_INFO_", "libinfo")):
            if name.startswith(prefix):
                value = getattr(_module(mod), name, None)
                break
    if value is None:
        # a submodule: MicroPython resolves `from . import x` through this function
        try:
            value = _module(name)
        except ImportError:
            raise AttributeError(name)
    globals()[name] = value
    return value
