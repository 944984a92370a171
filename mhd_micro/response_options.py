# Response options: response_set_option(s), RESPONSE_SET_OPTIONS and the R_OPTION_*
# constructors, each a tuple (R_O_* code, values...).
#
# The entry point is response_set_option; the connection reads the result from the
# response's flags.
from .platform import const
from .response import (RF_FROZEN, RF_REUSABLE, RF_HEAD_ONLY, RF_CHUNKED, RF_CONN_CLOSE, RF_HTTP10_STRICT,
                       RF_HTTP10_SERVER, RF_INSANITY_CL)

R_O_END = const(0)
R_O_REUSABLE = const(20)
R_O_HEAD_ONLY_RESPONSE = const(40)
R_O_CHUNKED_ENC = const(41)
R_O_CONN_CLOSE = const(60)
R_O_HTTP_1_0_COMPATIBLE_STRICT = const(80)
R_O_HTTP_1_0_SERVER = const(81)
R_O_INSANITY_HEADER_CONTENT_LENGTH = const(100)
R_O_TERMINATION_CALLBACK = const(121)
_OPTION_FLAGS = {
    R_O_REUSABLE: RF_REUSABLE,
    R_O_HEAD_ONLY_RESPONSE: RF_HEAD_ONLY,
    R_O_CHUNKED_ENC: RF_CHUNKED,
    R_O_CONN_CLOSE: RF_CONN_CLOSE,
    R_O_HTTP_1_0_COMPATIBLE_STRICT: RF_HTTP10_STRICT,
    R_O_HTTP_1_0_SERVER: RF_HTTP10_SERVER,
    R_O_INSANITY_HEADER_CONTENT_LENGTH: RF_INSANITY_CL,
}

_SC_OK = const(0)  # = mhd.SC_OK
_SC_TOO_LATE = const(60001)  # = mhd.SC_TOO_LATE
_SC_OPTION_UNKNOWN = const(60021)  # = mhd.SC_OPTION_UNKNOWN
_SC_RESP_POINTER_NULL = const(60060)  # = mhd.SC_RESP_POINTER_NULL
_SC_RESPONSE_CANNOT_CLEAR_REUSE = const(50520)  # = mhd.SC_RESPONSE_CANNOT_CLEAR_REUSE


def R_OPTION_REUSABLE(value):
    return (R_O_REUSABLE, value)


def R_OPTION_HEAD_ONLY_RESPONSE(value):
    return (R_O_HEAD_ONLY_RESPONSE, value)


def R_OPTION_CHUNKED_ENC(value):
    return (R_O_CHUNKED_ENC, value)


def R_OPTION_CONN_CLOSE(value):
    return (R_O_CONN_CLOSE, value)


def R_OPTION_HTTP_1_0_COMPATIBLE_STRICT(value):
    return (R_O_HTTP_1_0_COMPATIBLE_STRICT, value)


def R_OPTION_HTTP_1_0_SERVER(value):
    return (R_O_HTTP_1_0_SERVER, value)


def R_OPTION_INSANITY_HEADER_CONTENT_LENGTH(value):
    return (R_O_INSANITY_HEADER_CONTENT_LENGTH, value)


def R_OPTION_TERMINATION_CALLBACK(ended_cb, ended_cb_cls=None):
    return (R_O_TERMINATION_CALLBACK, ended_cb, ended_cb_cls)


def R_OPTION_TERMINATE():
    return (R_O_END,)


def response_set_option(response, option):
    """Apply one option made by an R_OPTION_* function. Returns SC_OK or the error."""
    if response is None:
        return _SC_RESP_POINTER_NULL
    if response.flags & RF_FROZEN:
        return _SC_TOO_LATE
    code = option[0]
    if code == R_O_TERMINATION_CALLBACK:
        response.ended = (option[1], option[2]) if option[1] is not None else None
        return _SC_OK
    flag = _OPTION_FLAGS.get(code)
    if flag is None:
        return _SC_OPTION_UNKNOWN
    if option[1]:
        response.flags |= flag
    elif flag == RF_REUSABLE and response.flags & RF_REUSABLE:
        return _SC_RESPONSE_CANNOT_CLEAR_REUSE
    else:
        response.flags &= ~flag
    return _SC_OK


def response_set_options(response, options, options_max_num=None):
    """Apply options in order up to R_OPTION_TERMINATE() or options_max_num; returns the
    first failing code, or SC_OK."""
    n = len(options) if options_max_num is None else min(options_max_num, len(options))
    for i in range(n):
        if options[i][0] == R_O_END:
            break
        rc = response_set_option(response, options[i])
        if rc != _SC_OK:
            return rc
    return _SC_OK


def RESPONSE_SET_OPTIONS(response, *options):
    return response_set_options(response, options)
