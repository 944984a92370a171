# What the TLS options and infos answer, on the runtime that runs this (tests/test_tls.py).
#
#   <python> tests/apps/tls_options.py CERT KEY BAD_CERT ENCRYPTED_KEY ECPARAM_CERT ECPARAM_KEY
#
# Prints one JSON object: each case's status code or (status, value).
import json
import sys

sys.path.insert(0, ".")
import mhd_micro as mhd


def read(path):
    with open(path, "rb") as f:
        return f.read()


cert, key, bad, enc, ecp_cert, ecp_key = [read(p) for p in sys.argv[1:7]]
out = {}


def on_request(cls, request, path, method, upload_size):
    return None


def start(name, *opts):
    """daemon_start's status with these options (after BIND_PORT 0); the daemon is destroyed."""
    d = mhd.daemon_create(on_request, None)
    rc = mhd.DAEMON_SET_OPTIONS(d, mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, 0), *opts) or mhd.daemon_start(d)
    out[name] = rc
    if not rc:
        out[name + "_backend"] = list(mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_TLS_BACKEND))
    mhd.daemon_destroy(d)


d = mhd.daemon_create(on_request, None)
out["cert_key_none"] = mhd.daemon_set_option(d, mhd.D_OPTION_TLS_CERT_KEY(None, key, None))
out["cert_key_empty"] = mhd.daemon_set_option(d, mhd.D_OPTION_TLS_CERT_KEY(cert, b"", None))
mhd.daemon_destroy(d)
ANY = mhd.TLS_BACKEND_ANY
start("no_cert", mhd.D_OPTION_TLS(ANY))
start("gnutls", mhd.D_OPTION_TLS(mhd.TLS_BACKEND_GNUTLS), mhd.D_OPTION_TLS_CERT_KEY(cert, key, None))
start("openssl", mhd.D_OPTION_TLS(mhd.TLS_BACKEND_OPENSSL), mhd.D_OPTION_TLS_CERT_KEY(cert, key, None))
start("bad_cert", mhd.D_OPTION_TLS(ANY), mhd.D_OPTION_TLS_CERT_KEY(bad, key, None))
start("password", mhd.D_OPTION_TLS(ANY), mhd.D_OPTION_TLS_CERT_KEY(cert, enc, "secret"))
start("wrong_password", mhd.D_OPTION_TLS(ANY), mhd.D_OPTION_TLS_CERT_KEY(cert, enc, "wrong"))
start("any", mhd.D_OPTION_TLS(ANY), mhd.D_OPTION_TLS_CERT_KEY(cert.decode(), key.decode(), None))  # str works too
start("ecparam_and_text", mhd.D_OPTION_TLS(ANY), mhd.D_OPTION_TLS_CERT_KEY(ecp_cert, ecp_key, None))
start("crlf", mhd.D_OPTION_TLS(ANY), mhd.D_OPTION_TLS_CERT_KEY(cert.replace(b"\n", b"\r\n"), key.replace(b"\n", b"\r\n"), None))
start("plain")
out["daemon_backend"] = out.pop("any_backend")
out["plain_backend"] = out.pop("plain_backend")
sc, v = mhd.lib_get_info_fixed(mhd.LIB_INFO_FIXED_TLS_BACKENDS)
out["lib_backends"] = [sc, list(v)]
sc, v = mhd.lib_get_info_fixed(mhd.LIB_INFO_FIXED_TLS_KEY_PASSWORD_BACKENDS)
out["lib_password_backends"] = [sc, list(v)]
from mhd_micro import features
out["features_tls"] = features.TLS
print(json.dumps(out))
