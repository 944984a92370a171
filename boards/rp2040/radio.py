# The Pico W's CYW43 radio, for boards/common/wifi.py: its defaults and what differs from
# other boards.
AP_SSID = "mhd-picow"
TIMEOUT = 20  # seconds for one attempt to join
POLL_MS = 250
BACKOFF_MS = 1000  # the wait after the n-th failed attempt is n times this
FATAL = ("STAT_WRONG_PASSWORD", "STAT_NO_AP_FOUND", "STAT_CONNECT_FAIL")  # they end an attempt early


def country(network, code):
    # the regulatory country decides the channels the radio may use
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


def access_point(network, ap, essid, password):
    # the CYW43 takes its AP settings before the interface is activated
    if password:
        ap.config(essid=essid, password=password)
    else:
        ap.config(essid=essid, security=0)
    ap.active(True)
