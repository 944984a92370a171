# A live dashboard: a page whose script opens a WebSocket (mhd_micro/ws.py); the server
# pushes readings to every open page a few times a second and answers the page's commands
# (its button toggles the LED). On a board the readings are the chip's temperature and a pin,
# and the LED is machine.Pin("LED"); elsewhere a smooth random walk and a variable stand in.
# Runs on CPython and MicroPython:
#
#   python3 examples/dashboard.py --port 8080 [--connections N] [--period MS]
#
# It is the Raspberry Pi Pico W's default app (boards/rp2040/config.json "default_app"), and
# takes the daemon options a board's main.py passes: --timeout, --conn-memory, --buffers,
# --pool, --log-memory.
#
# Prints "listening on port N"; open http://127.0.0.1:8080/ . The timers live in the main
# loop: it waits in daemon_process_blocking at most until the next reading is due.
import sys
import time

sys.path.insert(0, ".")  # run from the repository root: find mhd_micro (as .py or .mpy) there
import mhd_micro as mhd
from mhd_micro import ws

PAGE = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>mhd_micro dashboard</title>
<style>
body{font-family:sans-serif;margin:2em;background:#f4f6f8;color:#222}
.card{background:#fff;border-radius:8px;padding:1em 1.5em;margin:0 0 1em;box-shadow:0 1px 3px #0002;max-width:28em}
.big{font-size:2.5em;font-weight:bold}
#led{display:inline-block;width:1.2em;height:1.2em;border-radius:50%;background:#999;vertical-align:middle}
#led.on{background:#2c2}
button{font-size:1em;padding:.4em 1.2em}
small{color:#666}
</style></head><body>
<h1>mhd_micro dashboard</h1>
<div class="card"><div>Temperature</div><div class="big"><span id="temp">-</span> &deg;C</div>
<svg id="chart" width="400" height="80" viewBox="0 0 400 80"><polyline id="line" fill="none" stroke="#36c" stroke-width="2" points=""/></svg>
<div>Pin: <b id="pin">-</b> &middot; uptime <span id="up">-</span> s</div></div>
<div class="card"><span id="led"></span> LED <b id="ledtxt">?</b> <button id="toggle">Toggle LED</button>
<div><small id="ack">no command yet</small></div></div>
<div><small>updates: <span id="n">0</span> &middot; <span id="state">connecting</span></small></div>
<script>
var n=0,acks=0,pts=[];window.__updates=0;window.__acks=0;
function $(i){return document.getElementById(i)}
function led(on){$('led').className=on?'on':'';$('ledtxt').textContent=on?'on':'off'}
var s=new WebSocket((location.protocol=='https:'?'wss://':'ws://')+location.host+'/ws');
s.onopen=function(){$('state').textContent='live'};
s.onclose=function(){$('state').textContent='closed'};
s.onmessage=function(e){var m=JSON.parse(e.data);
 if(m.ack){acks++;window.__acks=acks;$('ack').textContent='command "'+m.ack+'" answered: LED '+(m.led?'on':'off')+' ('+acks+')';led(m.led);return}
 n++;window.__updates=n;$('n').textContent=n;$('temp').textContent=m.t.toFixed(2);$('pin').textContent=m.pin;
 $('up').textContent=(m.ms/1000).toFixed(1);led(m.led);
 pts.push(m.t);if(pts.length>80)pts.shift();
 var lo=Math.min.apply(null,pts)-0.2,hi=Math.max.apply(null,pts)+0.2;
 $('line').setAttribute('points',pts.map(function(v,i){return(i*5)+','+(78-(v-lo)/(hi-lo)*76).toFixed(1)}).join(' '))};
$('toggle').onclick=function(){s.send('toggle')};
</script></body></html>
"""


class Board:
    """The readings and the LED: the board's where it has them, stand-ins elsewhere."""

    def __init__(self):
        self.t = 22.0  # the stand-in temperature: a smooth random walk
        self.v = 0.0
        self.seed = 12345
        self.on = False
        self.led = self.pin = self.adc = self.temp = None
        try:
            import machine
        except ImportError:
            return
        try:
            self.led = machine.Pin("LED", machine.Pin.OUT)
        except (ValueError, TypeError, AttributeError):
            pass
        try:
            self.pin = machine.Pin(0, machine.Pin.IN, machine.Pin.PULL_UP)
        except (ValueError, TypeError, AttributeError):
            pass
        try:
            import esp32
            self.temp = esp32.mcu_temperature  # ESP32-S2/S3/C3: degrees Celsius
        except (ImportError, AttributeError):
            try:
                self.adc = machine.ADC(4)  # RP2040: the internal temperature sensor
            except (ValueError, TypeError, AttributeError):
                pass

    def rand(self):
        """-0.5 to 0.5 (xorshift: the same on both runtimes, no random module needed)."""
        x = self.seed
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.seed = x
        return (x & 0xFFFF) / 65536 - 0.5

    def temperature(self):
        if self.temp is not None:
            return self.temp()
        if self.adc is not None:
            return 27 - (self.adc.read_u16() * 3.3 / 65535 - 0.706) / 0.001721
        self.v = self.v * 0.9 + self.rand() * 0.08
        self.t += self.v
        return self.t

    def pin_value(self):
        return self.pin.value() if self.pin is not None else int(self.t * 10) & 1

    def toggle(self):
        self.on = not self.on
        if self.led is not None:
            self.led.value(1 if self.on else 0)
        return self.on


board = Board()
clients = []  # the open WebSocket connections


def on_open(conn):
    conn.on_message = on_message
    conn.on_close = on_close
    clients.append(conn)


def on_close(conn, code):
    if conn in clients:
        clients.remove(conn)


def on_message(conn, data, first, last, is_text):
    if first and last and is_text and bytes(data) == b"toggle":
        on = board.toggle()
        conn.send_text(b'{"ack":"toggle","led":%d}' % on)


def push(start):
    """A reading to every open page (one whose queue is still full skips it)."""
    ms = elapsed(start)
    msg = b'{"t":%.3f,"pin":%d,"led":%d,"ms":%d}' % (board.temperature(), board.pin_value(), board.on, ms)
    i = len(clients)
    while i:  # backwards: a connection found broken leaves the list as it goes
        i -= 1
        clients[i].send_text(msg)


def on_request(cls, request, path, method, upload_size):
    if path == "/ws":
        return ws.accept(request, on_open, None, max_message=256, buffer=256)
    if path == "/":
        return mhd.action_from_response(request, cls)
    return mhd.action_from_response(request, mhd.response_from_buffer_static(mhd.HTTP_STATUS_NOT_FOUND, b"not found\n"))


def arg(name, default):
    argv = sys.argv
    for i in range(len(argv) - 1):
        if argv[i] == name:
            return argv[i + 1]
    return default


_ticks = getattr(time, "ticks_ms", None)


def now():
    return _ticks() if _ticks else int(time.monotonic() * 1000)


def elapsed(start):
    return time.ticks_diff(now(), start) if _ticks else now() - start


def main():
    page = mhd.response_from_buffer_static(mhd.HTTP_STATUS_OK, PAGE)
    mhd.RESPONSE_SET_OPTIONS(page, mhd.R_OPTION_REUSABLE(True))
    mhd.response_add_header(page, "Content-Type", "text/html; charset=utf-8")
    d = mhd.daemon_create(on_request, page)
    rc = mhd.DAEMON_SET_OPTIONS(d, mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, int(arg("--port", "8080"))))
    # what a board's main.py passes from its config.json (boards/common/main.py)
    for flag, option in (("--connections", mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT),
                         ("--timeout", mhd.D_OPTION_DEFAULT_TIMEOUT),
                         ("--conn-memory", mhd.D_OPTION_CONN_MEMORY_LIMIT),
                         ("--buffers", mhd.D_OPTION_CONN_BUFFER_POOL_SIZE),
                         ("--pool", mhd.D_OPTION_RESPONSE_POOL_SIZE),
                         ("--log-memory", mhd.D_OPTION_LOG_MEMORY)):
        if arg(flag, None):
            rc = rc or mhd.daemon_set_option(d, option(int(arg(flag, None))))
    rc = rc or mhd.daemon_start(d)
    if rc != mhd.SC_OK:
        print("cannot start: status code", rc)
        sys.exit(1)
    print("listening on port", mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT)[1])
    flush = getattr(sys.stdout, "flush", None)
    if flush:
        flush()
    period = int(arg("--period", "250"))
    start = now()
    due = 0  # ms since start when the next reading goes out
    try:
        while True:
            left = due - elapsed(start)
            if left <= 0:
                push(start)
                due += period
                if due < elapsed(start):
                    due = elapsed(start) + period  # fell behind: no burst to catch up
                continue
            mhd.daemon_process_blocking(d, left * 1000)
    except KeyboardInterrupt:
        pass
    mhd.daemon_destroy(d)


main()
