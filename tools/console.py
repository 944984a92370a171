#!/usr/bin/env python3
"""A board's console over pyserial: start the app and wait for its start-up lines.

    python tools/console.py --device /dev/ttyUSB0            # start main.py, print where it serves
    python tools/console.py --device socket://127.0.0.1:PORT --follow

The console is opened with `serial.serial_for_url`, so a device path reaches a real board and
`socket://127.0.0.1:PORT` the virtual board (tools/virtual_board.py). Starting the app is what
mpremote and `tools/deploy.py` do: Ctrl-C (stop the running program), Ctrl-A (the raw REPL),
Ctrl-D (soft reset: a fresh heap; on the virtual board, whose unix port has no soft reset, a
new process), then `import main` sent to the raw REPL without waiting for its end. main.py
(boards/common/main.py) then prints, and this module reads:

    mhd_micro on esp32: network sta, open http://192.168.1.57:80/ ; 61234 bytes of heap free
    mhd_micro [10000]: took 8 connections x 2048 bytes (sharing 7 buffers), 8 responses; heap free: 30123
    listening on port 80

that is the address it serves on, the heap free before the app, what the daemon took and the
heap left (the "took" line only with "log_memory" in config.json). A board that prints a
traceback instead raises BoardError with the traceback; a board that does not print them in
time raises NoAnswer with what it did print.
"""
import argparse
import re
import sys
import time

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
SOFT_REBOOT = b"soft reboot\r\n"

_ADDRESS = re.compile(r"mhd_micro on (\S+): network (\S+), open http://([^/]*):(\d+)/ ; (\d+) bytes of heap free")
_TOOK = re.compile(r"mhd_micro \[\d+\]: took (.*); heap free: (\d+)")
_LISTENING = re.compile(r"listening on port (\d+)")
# main.py's own words when the app did not start
_FAILED = re.compile(r"the app stopped:|the app ran out of heap|cannot start:")


class ConsoleError(Exception):
    """The board did not start the app as expected; .output has what it printed."""

    def __init__(self, message, output=""):
        Exception.__init__(self, message)
        self.output = output


class BoardError(ConsoleError):
    """The board printed a traceback (or main.py's words for a failed start) instead."""


class NoAnswer(ConsoleError):
    """The board did not print what was waited for within the timeout."""


class Startup:
    """What the start-up lines said."""

    def __init__(self):
        self.board = self.network = None
        self.host = None  # None when the board does not know its address (the virtual board)
        self.port = None
        self.heap_before = None  # free heap before the app was imported (main.py)
        self.took = None  # the daemon's words: "8 connections x 2048 bytes (sharing 7 buffers), 8 responses"
        self.heap_free = None  # free heap after the daemon started
        self.lines = []

    @property
    def url(self):
        return "http://%s:%d/" % (self.host or "<board address>", self.port)

    def summary(self):
        s = "the board (%s, network %s) serves on %s" % (self.board or "?", self.network or "?", self.url)
        if self.heap_free is not None:
            s += "; the daemon took %s; heap free: %d bytes" % (self.took, self.heap_free)
            if self.heap_before is not None:
                s += " (%d before the app)" % self.heap_before
        return s


def open_serial(url, baudrate=115200):
    """A pyserial port for a device path or any pyserial URL (socket://host:port ...)."""
    import serial
    try:
        return serial.serial_for_url(url, baudrate=baudrate, timeout=0.05)
    except (serial.SerialException, OSError, ValueError) as e:
        raise ConsoleError("cannot open %s: %s" % (url, e))


class Console:
    """The console of one board. `port` is a device path / URL, or an open serial-like object
    (read(n), write(b), in_waiting), e.g. an mpremote transport's .serial."""

    def __init__(self, port, baudrate=115200, echo=None):
        self.serial = open_serial(port, baudrate) if isinstance(port, str) else port
        self.owned = isinstance(port, str)
        self.output = b""  # everything read so far
        self.echo = echo  # called with every chunk read (deploy.py --follow prints them)

    def close(self):
        if self.owned:
            self.serial.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- reading ---------------------------------------------------------------------------
    def read_some(self, wait=0.05):
        """Whatever the board sent (b"" after `wait` seconds of nothing)."""
        n = getattr(self.serial, "in_waiting", 0)
        data = self.serial.read(n or 1)
        if not data and not getattr(self.serial, "timeout", None):
            time.sleep(min(wait, 0.01))  # a read without a timeout did not wait
        if data:
            self.output += data
            if self.echo:
                self.echo(data)
        return data

    def read_until(self, ending, timeout, what=None):
        """Read until `ending` (bytes) was printed after this call started; NoAnswer after `timeout` s."""
        start = len(self.output)
        deadline = time.monotonic() + timeout
        while ending not in self.output[start:]:
            if time.monotonic() > deadline:
                raise NoAnswer("the board did not print %s within %g s; it printed: %r"
                               % (what or repr(ending), timeout, self.output[start:][-400:]),
                               self.text(start))
            self.read_some()
        return self.output[start:]

    def text(self, start=0):
        return self.output[start:].replace(b"\x04", b"").decode("utf-8", "replace").replace("\r\n", "\n")

    # -- starting ----------------------------------------------------------------------------
    def interrupt(self):
        """Ctrl-C: stops the running program (the board keeps its files)."""
        self.serial.write(b"\r\x03\x03")

    def start_app(self, timeout=10, before=None):
        """Soft reset into the raw REPL and `import main`, not waited for (as mpremote and
        tools/deploy.py do it); returns at once, the app starting. `before`: code run first
        in the raw REPL, waited for (BoardError if it raises)."""
        self.interrupt()
        time.sleep(0.1)
        while self.read_some():  # what the interrupted program still said
            pass
        self.serial.write(b"\r\x01")  # Ctrl-A: the raw REPL
        self.read_until(RAW_BANNER + b">", timeout, "the raw REPL's banner (after Ctrl-C, Ctrl-A)")
        self.serial.write(b"\x04")  # Ctrl-D: soft reset
        self.read_until(SOFT_REBOOT, timeout, "'soft reboot' (after Ctrl-D)")
        self.read_until(RAW_BANNER, timeout, "the raw REPL's banner after the soft reset")
        if before:
            self.exec_raw(before, timeout)
        self.serial.write(b"import main\x04")
        self.read_until(b"OK", timeout, "OK (after import main)")

    def exec_raw(self, code, timeout=10):
        """Run `code` in the raw REPL (the board is at its ">" prompt) and wait for its end;
        returns what it printed; BoardError with the board's error if it raised."""
        start = len(self.output)
        self.serial.write(code.encode() + b"\x04")
        self.read_until(b"OK", timeout, "OK (after the code sent to the raw REPL)")
        start = self.output.index(b"OK", start) + 2
        deadline = time.monotonic() + timeout
        while self.output.count(b"\x04", start) < 2 or not self.output.endswith(b">"):
            if time.monotonic() > deadline:
                raise NoAnswer("the code sent to the raw REPL did not end within %g s; the board printed: %r"
                               % (timeout, self.output[start:][-400:]), self.text(start))
            self.read_some()
        out, _, err = self.output[start:].partition(b"\x04")
        err = err.partition(b"\x04")[0]
        if err.strip(b"\x04"):
            raise BoardError("the board raised:\n" + err.decode("utf-8", "replace").strip(), self.text(start))
        return out.decode("utf-8", "replace")

    def wait_startup(self, timeout=30, default_host=None):
        """Read the app's start-up lines (see the top) until it listens; returns a Startup.
        BoardError if the board prints a traceback or main.py says the app did not start,
        NoAnswer if it does not listen within `timeout` s."""
        st = Startup()
        start = len(self.output)
        deadline = time.monotonic() + timeout
        pending = ""
        while True:
            text = self.text(start)
            lines = text.split("\n")
            pending = lines[-1]
            st.lines = [l.rstrip("\r") for l in lines[:-1]]
            failed = self._failure(st.lines)
            if failed is not None:
                # the rest of the traceback: until the board is quiet for a moment
                quiet = time.monotonic() + 0.3
                while time.monotonic() < min(quiet, deadline + 1):
                    if self.read_some():
                        quiet = time.monotonic() + 0.3
                text = self.text(start)
                tb = self._failure(text.split("\n"))
                raise BoardError("the board did not start the app:\n" + tb, text)
            for line in st.lines:
                m = _ADDRESS.search(line)
                if m:
                    st.board, st.network, host, port, heap = m.groups()
                    st.host = None if host.startswith("<") else host
                    st.port, st.heap_before = int(port), int(heap)
                m = _TOOK.search(line)
                if m:
                    st.took, st.heap_free = m.group(1), int(m.group(2))
                m = _LISTENING.search(line)
                if m:
                    st.port = int(m.group(1))
                    st.host = st.host or default_host
                    return st
            if time.monotonic() > deadline:
                said = text.strip()
                raise NoAnswer("the board did not say it listens within %g s; %s" % (
                    timeout, "it printed:\n" + said[-1500:] if said else "it printed nothing"), text)
            self.read_some()

    @staticmethod
    def _failure(lines):
        """The traceback (from "Traceback" to the end) or main.py's failure line, else None."""
        for i, line in enumerate(lines):
            if line.startswith("Traceback (most recent call last)"):
                tb = [line]
                for l in lines[i + 1:]:
                    tb.append(l)
                    if not l.startswith(" "):  # the exception's own line ends it
                        return "\n".join(l.rstrip("\r") for l in tb)
                return None  # not complete yet
            if _FAILED.search(line):
                return line.rstrip("\r")
        return None

    def follow(self, out=None):
        """Show everything the board prints until Ctrl-C (KeyboardInterrupt leaves)."""
        out = out or sys.stdout.buffer
        echo, self.echo = self.echo, None
        try:
            while True:
                data = self.read_some()
                if data:
                    out.write(data.replace(b"\x04", b""))
                    out.flush()
        except KeyboardInterrupt:
            pass
        finally:
            self.echo = echo


def host_of(url):
    """The host a socket:// URL names (the virtual board serves there), else None."""
    m = re.match(r"(?:socket|rfc2217)://([^:/]+)", url)
    return m.group(1) if m else None


def main(argv=None):
    ap = argparse.ArgumentParser(description="Start a board's app and wait for its start-up lines (see the top of this file).")
    ap.add_argument("--device", required=True, help="/dev/ttyUSB0, COM3, socket://127.0.0.1:PORT ...")
    ap.add_argument("--no-start", action="store_true", help="do not reset: only wait for the lines")
    ap.add_argument("--timeout", type=float, default=30, help="seconds to wait for the start-up lines")
    ap.add_argument("--follow", action="store_true", help="then show the board's output (Ctrl-C leaves)")
    args = ap.parse_args(argv)
    try:
        with Console(args.device) as c:
            if not args.no_start:
                c.start_app()
            st = c.wait_startup(args.timeout, default_host=host_of(args.device))
            print(st.summary())
            if args.follow:
                c.follow()
    except ConsoleError as e:
        print("console.py: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    import _venv
    _venv.enter()  # pyserial is in .venv
    sys.exit(main())
