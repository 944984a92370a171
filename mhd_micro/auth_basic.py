# Basic authentication (RFC 7617), as MHD2 has it (src/mhd2/auth_basic.c,
# response_auth_basic.c): the client's credentials (REQUEST_INFO_DYNAMIC_AUTH_BASIC_CREDS,
# through values.request_get_info_dynamic) and the challenge of a 401 reply.
#
# The entry points are request_info(request), response_add_auth_basic_challenge and
# action_basic_auth_challenge[_p/_a]. The package loads this module on first use.
from .platform import const
from .auth_parser import credentials, b64decode, to_text, quote, challenge_refused, challenge_action

_SC_OK = const(0)  # = mhd.SC_OK
_SC_AUTH_ABSENT = const(20060)  # = mhd.SC_AUTH_ABSENT
_SC_REQ_AUTH_DATA_BROKEN = const(40320)  # = mhd.SC_REQ_AUTH_DATA_BROKEN
_SC_RESP_HEADERS_CONFLICT = const(60052)  # = mhd.SC_RESP_HEADERS_CONFLICT


def request_info(request):
    """(SC_OK, (username, password)) with password None when the client sent no ':' (MHD's
    struct MHD_AuthBasicCreds); (SC_AUTH_ABSENT, None) without Basic credentials;
    (SC_REQ_AUTH_DATA_BROKEN, None) when they are not base64."""
    token = credentials(request, b"basic")
    if token is None:
        return _SC_AUTH_ABSENT, None
    raw = b64decode(token)
    if raw is None:
        return _SC_REQ_AUTH_DATA_BROKEN, None
    colon = raw.find(b":")
    if colon < 0:
        return _SC_OK, (to_text(raw), None)
    return _SC_OK, (to_text(raw[:colon]), to_text(raw[colon + 1:]))


def response_add_auth_basic_challenge(response, realm, prefer_utf8):
    """Add `WWW-Authenticate: Basic realm="..."` (and `charset="UTF-8"` if prefer_utf8) to a
    401 response. Returns SC_OK, SC_RESP_POINTER_NULL, SC_TOO_LATE (frozen),
    SC_RESP_HTTP_CODE_NOT_SUITABLE (not 401), SC_RESP_HEADER_VALUE_INVALID (empty realm, or
    one with CR or LF) or SC_RESP_HEADERS_CONFLICT (a Basic challenge is there already)."""
    rc = challenge_refused(response, realm)
    if rc:
        return rc
    if response.hdrs.find(b"WWW-Authenticate: Basic ") >= 0:
        return _SC_RESP_HEADERS_CONFLICT
    response.hdrs += b'WWW-Authenticate: Basic realm="%s"%s\r\n' % (
        quote(realm).encode(), b', charset="UTF-8"' if prefer_utf8 else b"")
    return _SC_OK


def action_basic_auth_challenge(request, realm, prefer_utf8, response, abort_if_failed):
    """`response` (a 401) with the Basic challenge as the request's action. If the challenge
    cannot be added: the response is sent without it, or, with abort_if_failed, destroyed
    and the request aborted (None)."""
    rc = response_add_auth_basic_challenge(response, realm, prefer_utf8)
    return challenge_action(request, response, rc, abort_if_failed)


def action_basic_auth_challenge_p(request, realm, prefer_utf8, response):
    return action_basic_auth_challenge(request, realm, prefer_utf8, response, False)


def action_basic_auth_challenge_a(request, realm, prefer_utf8, response):
    return action_basic_auth_challenge(request, realm, prefer_utf8, response, True)
