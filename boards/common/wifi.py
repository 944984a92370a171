# Wi-Fi bring-up for every board, used by main.py:
#
#   import wifi
#   mode, ip = wifi.up(cfg)   # cfg: config.json as a dict; its "wifi" object is used
#
# Station first: join cfg["wifi"]["ssid"], up to "retries" times, each attempt bounded by
# "timeout" seconds, stopping early on a status the radio reports as final (a wrong
# password...). If that fails (or no ssid is set) and "ap_fallback" is true, the board opens
# its own access point "ap_ssid" (WPA2, "ap_password", 8 characters or more) and serves on
# 192.168.4.1. Returns (mode, ip) with mode "sta", "ap", or "host" where there is no network
# module (MicroPython's unix port, e.g. tools/virtual_board.py: the host's network is used);
# (None, None) if nothing came up.
#
# What differs between radios is in the board's radio.py (boards/<board>/radio.py): its
# defaults, the statuses that end an attempt, the regulatory country and how the access
# point is configured. tools/deploy.py compiles both with mpy-cross; they run only on a board.
import time

try:
    import network
except ImportError:  # the unix port: no Wi-Fi to bring up
    network = None


def _log(msg):
    print("wifi:", msg)


def _station(w, radio):
    sta = network.WLAN(network.STA_IF)
    sta.active(True)
    try:
        sta.config(pm=sta.PM_NONE)  # no power save: a server must answer at once
    except (AttributeError, ValueError, OSError):
        pass
    if sta.isconnected():  # a soft reset may keep the connection
        return sta.ifconfig()[0]
    fatal = [getattr(network, n) for n in radio.FATAL if hasattr(network, n)]
    retries = max(1, w.get("retries", 3))
    for attempt in range(1, retries + 1):
        try:
            sta.connect(w["ssid"], w.get("password", ""))
        except OSError as e:
            _log("connect failed: %r" % (e,))
        deadline = time.ticks_add(time.ticks_ms(), int(w.get("timeout", radio.TIMEOUT) * 1000))
        while not sta.isconnected() and time.ticks_diff(deadline, time.ticks_ms()) > 0:
            if sta.status() in fatal:
                break
            time.sleep_ms(radio.POLL_MS)
        if sta.isconnected():
            return sta.ifconfig()[0]
        _log("attempt %d/%d to join %r failed (status %s)" % (attempt, retries, w["ssid"], sta.status()))
        try:
            sta.disconnect()
        except OSError:
            pass
        time.sleep_ms(radio.BACKOFF_MS * attempt)  # a little longer after each failure
    sta.active(False)
    return None


def _access_point(w, radio, essid):
    ap = network.WLAN(network.AP_IF)
    password = w.get("ap_password", "")
    if len(password) < 8:
        _log("ap_password shorter than 8 characters: the access point is open")
        password = None
    radio.access_point(network, ap, essid, password)
    for _ in range(50):
        if ap.active():
            break
        time.sleep_ms(100)
    return ap.ifconfig()[0]


def up(cfg):
    if network is None:
        return "host", None
    import radio
    w = cfg.get("wifi") or {}
    if w.get("country"):
        radio.country(network, w["country"])
    if w.get("hostname"):
        try:
            network.hostname(w["hostname"])
        except (AttributeError, ValueError, OSError):
            pass
    if w.get("ssid"):
        ip = _station(w, radio)
        if ip:
            _log("joined %r as %s" % (w["ssid"], ip))
            return "sta", ip
    if w.get("ap_fallback", True):
        essid = w.get("ap_ssid", radio.AP_SSID)
        ip = _access_point(w, radio, essid)
        _log("access point %r up as %s" % (essid, ip))
        return "ap", ip
    return None, None
