# The server of the authentication tests (tests/test_auth.py), on CPython and MicroPython alike.
#
#   <python> tests/apps/auth_app.py [--timeout S] [--map N] [--max-nc N] [--no-entropy]
#
# Prints "listening on port N". User "user", password "pass", realm "test realm". Routes:
#   /basic            Basic: 200 "hello <user>", else 401 with the challenge (action_basic_auth_challenge_p)
#   /basic/info       the credentials as the app reads them: "<SC> <username>|<password>"
#   /digest[?...]     Digest: 200 "hello <user>", else 401 with a challenge (stale=true on
#                     DAUTH_NONCE_STALE) and the DAUTH_* code in X-Result; query arguments:
#                       algo=md5|sha256|sha512_256|any (default md5)   qop=auth|none|any (default auth)
#                       hashed=1: check with a userdigest (digest_auth_check_digest) instead of the password
#                       userhash=1: offer userhash in the challenge
#   /digest/info      REQUEST_INFO_DYNAMIC_AUTH_DIGEST_INFO, as "<SC> <fields...>"
#   /digest/shared    the same reusable 401 with a Digest challenge, made once (new nonces each time)
import sys

sys.path.insert(0, ".")
import mhd_micro as mhd

REALM = "test realm"
USER = "user"
PASSWORD = "pass"
ALGOS = {"md5": 65, "sha256": 66, "sha512_256": 68, "any": 127}  # DIGEST_AUTH_MULT_ALGO_*
QOPS = {"auth": 2, "none": 1, "any": 3}  # DIGEST_AUTH_MULT_QOP_*


def reply(request, sc, text, extra=()):
    r = mhd.response_from_buffer_copy(sc, text.encode())
    for name, value in extra:
        mhd.response_add_header(r, name, value)
    return mhd.action_from_response(request, r)


def arg(request, name, default):
    v = mhd.request_get_value(request, mhd.VK_GET_ARGUMENT, name)
    return default if v is None else v


def on_basic(request):
    sc, creds = mhd.request_get_info_dynamic(request, mhd.REQUEST_INFO_DYNAMIC_AUTH_BASIC_CREDS)
    if sc == mhd.SC_OK and creds[0] == USER and creds[1] == PASSWORD:
        return reply(request, 200, "hello " + creds[0])
    denied = mhd.response_from_buffer_copy(401, b"denied")
    return mhd.action_basic_auth_challenge_p(request, REALM, True, denied)


def on_digest(request):
    malgo = ALGOS[arg(request, "algo", "md5")]
    mqop = QOPS[arg(request, "qop", "auth")]
    if arg(request, "hashed", "0") == "1":
        base = malgo & 0x3F
        algo = {1: 65, 2: 66, 4: 68}.get(base, 0)
        sc, digest = mhd.digest_auth_calc_userdigest(algo, USER, REALM, PASSWORD)
        rc = mhd.digest_auth_check_digest(request, REALM, USER, digest, 0, mqop, malgo) if sc == mhd.SC_OK else sc
    else:
        rc = mhd.digest_auth_check(request, REALM, USER, PASSWORD, 0, mqop, malgo)
    if rc == mhd.DAUTH_OK:
        return reply(request, 200, "hello " + USER)
    denied = mhd.response_from_buffer_copy(401, b"denied")
    mhd.response_add_header(denied, "X-Result", str(rc))
    return mhd.action_digest_auth_challenge_a(request, REALM, "opaque-1", None, rc == mhd.DAUTH_NONCE_STALE,
                                              mqop, malgo, arg(request, "userhash", "0") == "1", True, denied)


def show(v):
    if isinstance(v, bytes):
        return "b:" + "".join("%02x" % c for c in v)
    return str(v)


def on_request(cls, request, path, method, upload_size):
    if path == "/basic":
        return on_basic(request)
    if path == "/basic/info":
        sc, creds = mhd.request_get_info_dynamic(request, mhd.REQUEST_INFO_DYNAMIC_AUTH_BASIC_CREDS)
        return reply(request, 200, "%d %s" % (sc, "-" if creds is None else "%s|%s" % creds))
    if path == "/digest":
        return on_digest(request)
    if path == "/digest/shared":
        return mhd.action_from_response(request, cls)
    if path == "/digest/info":
        sc, info = mhd.request_get_info_dynamic(request, mhd.REQUEST_INFO_DYNAMIC_AUTH_DIGEST_INFO)
        return reply(request, 200, "%d %s" % (sc, "-" if info is None else " ".join(show(v) for v in info)))
    return reply(request, 404, "not found")


def option_value(name, default):
    if name in sys.argv:
        return int(sys.argv[sys.argv.index(name) + 1])
    return default


def main():
    shared = mhd.response_from_buffer_static(401, b"denied")
    mhd.response_set_option(shared, mhd.R_OPTION_REUSABLE(True))
    mhd.response_add_auth_digest_challenge(shared, REALM, None, None, False, QOPS["auth"], ALGOS["md5"], False, False)
    d = mhd.daemon_create(on_request, shared)
    opts = [mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, 0), mhd.D_OPTION_DEFAULT_TIMEOUT(5)]
    if "--no-entropy" not in sys.argv:
        opts.append(mhd.D_OPTION_RANDOM_ENTROPY(b"0123456789abcdef0123456789abcdef"))
    for flag, option in (("--timeout", mhd.D_OPTION_AUTH_DIGEST_NONCE_TIMEOUT), ("--map", mhd.D_OPTION_AUTH_DIGEST_MAP_SIZE),
                         ("--max-nc", mhd.D_OPTION_AUTH_DIGEST_DEF_MAX_NC)):
        v = option_value(flag, None)
        if v is not None:
            opts.append(option(v))
    rc = mhd.daemon_set_options(d, opts) or mhd.daemon_start(d)
    if rc != mhd.SC_OK:
        print("cannot start:", rc)
        sys.exit(1)
    print("listening on port", mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT)[1])
    flush = getattr(sys.stdout, "flush", None)
    if flush:
        flush()
    while True:
        mhd.daemon_process_blocking(d, 1000000)


main()
