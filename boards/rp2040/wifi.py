# Wi-Fi bring-up for a Raspberry Pi Pico W (MicroPython's rp2 port, CYW43 radio), used by
# main.py:
#
#   import wifi
#   mode, ip = wifi.up(cfg)   # cfg: config.json as a dict; its "wifi" object is used
#
# Sets the regulatory country first ("country", e.g. "GB", "US", "DE": it decides the
# channels the radio may use). Station first: join cfg["wifi"]["ssid"], up to "retries"
# times, each attempt bounded by "timeout" seconds, stopping early on a wrong password or a
# network not found. If that fails (or no ssid is set) and "ap_fallback" is true, the Pico W
# opens its own access point "ap_ssid" (WPA2, "ap_password", 8 characters or more) and
# serves on 192.168.4.1. Returns (mode, ip) with mode "sta", "ap", or "host" where there is
# no network module (MicroPython's unix port, e.g. tools/virtual_board.py); (None, None) if
# nothing came up.
#
# Compiled with mpy-cross by tools/deploy.py; it runs only on a board.
import time

try:
    import network
except ImportError:  # the unix port: no Wi-Fi to bring up
    network = None


def _log(msg):
    print("wifi:", msg)


def _country(code):
    try:
        network.country(code)  # MicroPython 1.20 and later
        return
    except (AttributeError, ValueError, OSError):
        pass
    try:
        import rp2
        rp2.country(code)  # older firmware
    except (ImportError, AttributeError, ValueError):
        pass


def _station(w):
    sta = network.WLAN(network.STA_IF)
    sta.active(True)
    try:
        sta.config(pm=sta.PM_NONE)  # the CYW43's power save delays replies by up to 100 ms
    except (AttributeError, ValueError, OSError):
        pass
    if sta.isconnected():
        return sta.ifconfig()[0]
    fatal = [getattr(network, n) for n in ("STAT_WRONG_PASSWORD", "STAT_NO_AP_FOUND", "STAT_CONNECT_FAIL")
             if hasattr(network, n)]
    retries = max(1, w.get("retries", 3))
    for attempt in range(1, retries + 1):
        try:
            sta.connect(w["ssid"], w.get("password", ""))
        except OSError as e:
            _log("connect failed: %r" % (e,))
        deadline = time.ticks_add(time.ticks_ms(), int(w.get("timeout", 20) * 1000))
        while not sta.isconnected() and time.ticks_diff(deadline, time.ticks_ms()) > 0:
            if sta.status() in fatal:
                break
            time.sleep_ms(250)
        if sta.isconnected():
            return sta.ifconfig()[0]
        _log("attempt %d/%d to join %r failed (status %s)" % (attempt, retries, w["ssid"], sta.status()))
        try:
            sta.disconnect()
        except OSError:
            pass
        time.sleep_ms(1000 * attempt)
    sta.active(False)
    return None


def _access_point(w):
    ap = network.WLAN(network.AP_IF)
    essid = w.get("ap_ssid", "mhd-picow")
    password = w.get("ap_password", "")
    if len(password) < 8:
        _log("ap_password shorter than 8 characters: the access point is open")
        ap.config(essid=essid, security=0)
    else:
        ap.config(essid=essid, password=password)
    ap.active(True)
    for _ in range(50):
        if ap.active():
            break
        time.sleep_ms(100)
    return ap.ifconfig()[0]


def up(cfg):
    if network is None:
        return "host", None
    w = cfg.get("wifi") or {}
    if w.get("country"):
        _country(w["country"])
    if w.get("hostname"):
        try:
            network.hostname(w["hostname"])
        except (AttributeError, ValueError, OSError):
            pass
    if w.get("ssid"):
        ip = _station(w)
        if ip:
            _log("joined %r as %s" % (w["ssid"], ip))
            return "sta", ip
    if w.get("ap_fallback", True):
        ip = _access_point(w)
        _log("access point %r up as %s" % (w.get("ap_ssid", "mhd-picow"), ip))
        return "ap", ip
    return None, None
