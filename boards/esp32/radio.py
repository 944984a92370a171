# The ESP32's radio, for boards/common/wifi.py: its defaults and what differs from other boards.
AP_SSID = "mhd-esp32"
TIMEOUT = 15  # seconds for one attempt to join
POLL_MS = 200
BACKOFF_MS = 500  # the wait after the n-th failed attempt is n times this
FATAL = ("STAT_WRONG_PASSWORD", "STAT_NO_AP_FOUND")  # statuses that end an attempt early


def country(network, code):
    try:
        network.country(code)  # where the firmware has it; the ESP-IDF's default is worldwide
    except (AttributeError, ValueError, OSError):
        pass


def access_point(network, ap, essid, password):
    ap.active(True)  # the ESP32 takes its AP settings once the interface is active
    if password:
        ap.config(essid=essid, password=password, authmode=getattr(network, "AUTH_WPA2_PSK", 3))
    else:
        ap.config(essid=essid, authmode=getattr(network, "AUTH_OPEN", 0))
