# A settings page for a board: the Wi-Fi network to join, set from a phone. Runs unchanged on
# CPython and MicroPython:
#
#   python3 examples/settings.py --config config.json --port 8080      # http://127.0.0.1:8080/
#   curl -d ssid=home -d password=secret123 http://127.0.0.1:8080/
#
# GET / shows a form (network name and password); POST / (a urlencoded form, read with
# action_parse_post into a small buffer) is checked: the name 1-32 bytes, the password empty
# (an open network) or 8-63 characters. A good one is saved as "ssid" and "password" in the
# "wifi" object of the JSON config (the other keys stay), written to a temporary file first
# and then renamed over the old one, so a power cut leaves the old file or the new one, never
# half of one. The answer says what was saved, or which field is wrong (400).
#
# On a board, boards/common/main.py runs this page when the board could not join a network
# and opened its own access point; the board joins the saved network at its next reset.
#
# Every request needs a password: HTTP Digest authentication by default (SHA-256 and MD5
# challenges: the password never crosses the network, and a captured request cannot be
# replayed), or Basic with "settings_auth": "basic" in the config or in a bundle without
# Digest (the password then crosses the network base64-encoded). The user is
# "settings_user" (default "admin"); the password, the first of:
#   1. "settings_password" in the config;
#   2. the board's access point password ("ap_password" in "wifi"): whoever joined the
#      board's network to reach this page has typed it already;
#   3. on first boot without either: a random one, saved as "settings_password" and printed
#      on the console (the USB serial line), so only someone at the board can read it.
import json
import os
import sys

sys.path.insert(0, ".")  # run from the repository root: find mhd_micro (as .py or .mpy) there
import mhd_micro as mhd

GET, HEAD, POST = mhd.HTTP_METHOD_GET, mhd.HTTP_METHOD_HEAD, mhd.HTTP_METHOD_POST
URLENCODED, FORM_OK = mhd.HTTP_POST_ENCODING_FORM_URLENCODED, mhd.POST_PARSE_RES_OK
REALM = "Board settings"
ALGOS = mhd.DIGEST_AUTH_MULT_ALGO_SHA256 | mhd.DIGEST_AUTH_MULT_ALGO_MD5  # those the runtime's hashlib has

HEAD_HTML = ('<!doctype html><html><head><meta charset="utf-8">'
             '<meta name="viewport" content="width=device-width, initial-scale=1">'
             '<title>Board settings</title><style>'
             'body{font-family:sans-serif;max-width:26em;margin:1em auto;padding:0 1em;line-height:1.4}'
             'label,input,button{display:block;width:100%;box-sizing:border-box;font-size:1.1em}'
             'input{padding:.4em;margin:.2em 0 1em}button{padding:.6em}'
             '.bad{color:#b00020}.ok{color:#1b5e20}</style></head><body><h1>Board settings</h1>')
FORM_HTML = ('<form method="post" action="/">'
             '<label for="ssid">Wi-Fi name</label>'
             '<input id="ssid" name="ssid" value="%s" maxlength="32" required autocapitalize="off">'
             '<label for="password">Password (empty for an open network)</label>'
             '<input id="password" name="password" type="password" maxlength="63">'
             '<button type="submit">Save</button></form></body></html>')


def escape(text):
    """For text shown in HTML, in an element or an attribute."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def load():
    try:
        with open(CONFIG) as f:
            return json.load(f)
    except (OSError, ValueError):  # no file yet, or not JSON: start afresh
        return {}


def save(ssid, password):
    cfg = load()
    wifi = cfg.get("wifi")
    if not isinstance(wifi, dict):
        wifi = cfg["wifi"] = {}
    wifi["ssid"] = ssid
    wifi["password"] = password
    write(cfg)


def write(cfg):
    tmp = CONFIG + ".tmp"
    with open(tmp, "w") as f:
        json.dump(cfg, f)
    os.rename(tmp, CONFIG)  # all at once: the old file or the new one


def check(ssid, password):
    """The wrong field's message, or None."""
    if ssid is None or not 1 <= len(ssid.encode()) <= 32:
        return "The Wi-Fi name must be 1 to 32 bytes long."
    if password and not 8 <= len(password) <= 63:
        return "The password must be empty (an open network) or 8 to 63 characters long."
    return None


def page(sc, message, cls, ssid):
    text = HEAD_HTML
    if message:
        text += '<p class="%s">%s</p>' % (cls, message)
    text += FORM_HTML % escape(ssid)
    r = mhd.response_from_buffer_copy(sc, text.encode())
    mhd.response_add_header(r, "Content-Type", "text/html; charset=utf-8")
    return r


def credentials(cfg):
    """(method, user, password) from the config, making and saving a password on first boot."""
    wifi = cfg.get("wifi") if isinstance(cfg.get("wifi"), dict) else {}
    password = cfg.get("settings_password") or wifi.get("ap_password")
    if not password:
        password = "".join("%02x" % b for b in os.urandom(6))
        cfg["settings_password"] = password
        write(cfg)
        print("settings password (user %s): %s" % (cfg.get("settings_user", "admin"), password))
    method = cfg.get("settings_auth", "digest")
    if not mhd.lib_get_info_fixed(mhd.LIB_INFO_FIXED_SUPPORT_AUTH_DIGEST)[1]:
        method = "basic"  # a bundle built without Digest (tools/build.py --without auth_digest)
    return method, cfg.get("settings_user", "admin"), password


def authorized(request):
    """None if the request has the user's password, else the action that asks for it."""
    method, user, password = AUTH
    if method == "basic":
        sc, creds = mhd.request_get_info_dynamic(request, mhd.REQUEST_INFO_DYNAMIC_AUTH_BASIC_CREDS)
        if sc == mhd.SC_OK and creds == (user, password):
            return None
        return mhd.action_basic_auth_challenge_a(request, REALM, True, denied())
    rc = mhd.digest_auth_check(request, REALM, user, password, 0, mhd.DIGEST_AUTH_MULT_QOP_AUTH, ALGOS)
    if rc == mhd.DAUTH_OK:
        return None
    # a stale nonce: the browser retries with a new one without asking the user again
    return mhd.action_digest_auth_challenge_a(request, REALM, None, None, rc == mhd.DAUTH_NONCE_STALE,
                                              mhd.DIGEST_AUTH_MULT_QOP_AUTH, ALGOS, False, True, denied())


def denied():
    return mhd.response_from_buffer_static(401, b"The password is needed to change the settings.")


def current_ssid():
    wifi = load().get("wifi")
    return wifi.get("ssid", "") if isinstance(wifi, dict) else ""


def on_request(cls, request, path, method, upload_size):
    if path != "/":
        return mhd.action_from_response(request, mhd.response_from_buffer_copy(404, b"Not found: the settings are at /"))
    ask = authorized(request)
    if ask is not None:
        return ask
    if method == GET or method == HEAD:
        return mhd.action_from_response(request, page(200, None, None, current_ssid()))
    if method == POST:
        # the two fields are small: all kept in a 256-byte store, none streamed
        return mhd.action_parse_post(request, 256, 256, URLENCODED, None, None, on_form, None)
    r = mhd.response_from_empty(mhd.HTTP_STATUS_METHOD_NOT_ALLOWED)
    mhd.response_add_header(r, "Allow", "GET, HEAD, POST")
    return mhd.action_from_response(request, r)


def on_form(request, cls, result):
    if result != FORM_OK:
        r = page(400, "The form could not be read (%d): too long?" % result, "bad", current_ssid())
        return mhd.upload_action_from_response(request, r)
    ssid = mhd.request_get_value(request, mhd.VK_POSTDATA, "ssid")
    password = mhd.request_get_value(request, mhd.VK_POSTDATA, "password") or ""
    wrong = check(ssid, password)
    if wrong:
        return mhd.upload_action_from_response(request, page(400, wrong, "bad", ssid or ""))
    try:
        save(ssid, password)
    except OSError as e:
        return mhd.upload_action_from_response(request, page(500, "Could not save: %s" % e, "bad", ssid))
    msg = "Saved: the board joins &quot;%s&quot; (%s) at its next reset." % (
        escape(ssid), "with a password" if password else "an open network")
    return mhd.upload_action_from_response(request, page(200, msg, "ok", ssid))


def arg(name, default):
    argv = sys.argv
    for i in range(len(argv) - 1):
        if argv[i] == name:
            return argv[i + 1]
    return default


CONFIG = arg("--config", "config.json")
AUTH = credentials(load())


def main():
    d = mhd.daemon_create(on_request)
    rc = mhd.DAEMON_SET_OPTIONS(
        d,
        mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, int(arg("--port", "8080"))),
        mhd.D_OPTION_DEFAULT_TIMEOUT(int(arg("--timeout", "30"))),
        # a phone's browser sends a long head (user agent, languages, cookies...): the form's
        # 256-byte store and 256 bytes to read must fit behind it in the connection's buffer
        mhd.D_OPTION_CONN_MEMORY_LIMIT(int(arg("--conn-memory", "2048"))),
        # Digest's nonces: a table of 16 (320 bytes), enough for the few clients of a board
        mhd.D_OPTION_RANDOM_ENTROPY(os.urandom(32)),
        mhd.D_OPTION_AUTH_DIGEST_MAP_SIZE(16),
    )
    for option, name in ((mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT, "--connections"),
                         (mhd.D_OPTION_CONN_BUFFER_POOL_SIZE, "--buffers")):  # as boards/common/main.py passes them
        if arg(name, None):
            rc = rc or mhd.daemon_set_option(d, option(int(arg(name, None))))
    rc = rc or mhd.daemon_start(d)
    if rc != mhd.SC_OK:
        print("cannot start: status code", rc)
        sys.exit(1)
    print("listening on port", mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT)[1])
    flush = getattr(sys.stdout, "flush", None)
    if flush:
        flush()
    try:
        while True:
            mhd.daemon_process_blocking(d, mhd.WAIT_INDEFINITELY)
    except KeyboardInterrupt:
        pass
    mhd.daemon_destroy(d)


main()
