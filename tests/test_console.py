"""tools/console.py (a board's console over pyserial) against stand-ins: a fake serial object
that hands out the board's output in given pieces, and a local socket server reached through
pyserial's socket:// URL; and tools/deploy.py's choice of a board by its USB identity, with
pyserial's port list replaced by fixtures. No hardware is needed."""
import os
import socket
import sys
import threading
import time

import pytest

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "tools"))
import console  # noqa: E402
import deploy  # noqa: E402

ADDRESS = b"mhd_micro on esp32: network sta, open http://192.168.1.57:80/ ; 61234 bytes of heap free\r\n"
TOOK = b"mhd_micro [10000]: took 8 connections x 2048 bytes (sharing 7 buffers), 8 responses; heap free: 30123\r\n"
LISTENING = b"listening on port 80\r\n"


class FakeSerial:
    """Reads give the pieces one by one (b"" once they are used up, as a read that timed
    out); writes are recorded."""

    def __init__(self, pieces):
        self.pieces = list(pieces)
        self.written = b""
        self.timeout = None

    @property
    def in_waiting(self):
        return len(self.pieces[0]) if self.pieces else 0

    def read(self, n=1):
        if not self.pieces:
            return b""
        piece = self.pieces.pop(0)
        if len(piece) > n:
            self.pieces.insert(0, piece[n:])
            piece = piece[:n]
        return piece

    def write(self, data):
        self.written += data
        return len(data)

    def close(self):
        pass


def split(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 7, 64, 1000])
def test_startup_lines_split_across_reads(size):
    out = b"OK\x04" + b"wifi: joined 'home' as 192.168.1.57\r\n" + ADDRESS + TOOK + LISTENING
    st = console.Console(FakeSerial(split(out, size))).wait_startup(timeout=5)
    assert (st.board, st.network, st.host, st.port) == ("esp32", "sta", "192.168.1.57", 80)
    assert (st.heap_before, st.heap_free) == (61234, 30123)
    assert st.took == "8 connections x 2048 bytes (sharing 7 buffers), 8 responses"
    assert st.url == "http://192.168.1.57:80/"
    assert "serves on http://192.168.1.57:80/" in st.summary() and "heap free: 30123 bytes" in st.summary()


def test_the_virtual_board_has_no_address_of_its_own():
    out = (b"mhd_micro on esp32: network host, open http://<board address>:8123/ ; 188000 bytes of heap free\r\n"
           b"listening on port 8123\r\n")
    st = console.Console(FakeSerial(split(out, 5))).wait_startup(timeout=5, default_host="127.0.0.1")
    assert (st.host, st.port, st.heap_before, st.took, st.heap_free) == ("127.0.0.1", 8123, 188000, None, None)


def test_a_traceback_instead_of_the_startup_lines():
    tb = (b"Traceback (most recent call last):\r\n"
          b"  File \"main.py\", line 80, in <module>\r\n"
          b"  File \"app.py\", line 12, in <module>\r\n"
          b"ImportError: no module named 'mhd_micro'\r\n")
    c = console.Console(FakeSerial(split(b"OK\x04" + ADDRESS + b"\x04" + tb + b"\x04>", 9)))
    t0 = time.time()
    with pytest.raises(console.BoardError) as e:
        c.wait_startup(timeout=10)
    assert time.time() - t0 < 3  # at once, not at the timeout
    msg = str(e.value)
    assert msg.startswith("the board did not start the app:")
    assert "Traceback (most recent call last):" in msg and "ImportError: no module named 'mhd_micro'" in msg
    assert 'File "app.py", line 12' in msg


def test_main_py_saying_the_app_did_not_fit():
    c = console.Console(FakeSerial([ADDRESS, b"the app ran out of heap: lower connections or conn_memory in config.json\r\n"]))
    with pytest.raises(console.BoardError, match="ran out of heap"):
        c.wait_startup(timeout=5)


def test_a_board_that_never_answers():
    t0 = time.time()
    with pytest.raises(console.NoAnswer, match="within 0.5 s; it printed nothing"):
        console.Console(FakeSerial([])).wait_startup(timeout=0.5)
    assert time.time() - t0 < 2
    # one that prints something else: what it printed is in the error
    with pytest.raises(console.NoAnswer, match=r"(?s)it printed:.*MicroPython v1\.24"):
        console.Console(FakeSerial([b"MicroPython v1.24 on esp32\r\n>>> "])).wait_startup(timeout=0.5)


def test_code_sent_to_the_raw_repl():
    c = console.Console(FakeSerial([b"O", b"Kdone\r\n\x04", b"\x04>"]))
    assert c.exec_raw("print('done')", timeout=2) == "done\r\n"
    assert c.serial.written == b"print('done')\x04"
    err = b"Traceback (most recent call last):\r\n  File \"<stdin>\", line 1\r\nOSError: 28\r\n"
    c = console.Console(FakeSerial([b"OK", b"\x04" + err + b"\x04>"]))
    with pytest.raises(console.BoardError, match="(?s)the board raised:.*OSError: 28"):
        c.exec_raw("open('x', 'w')", timeout=2)


class FakeBoard:
    """A local socket server that acts as a board's REPL for start_app (as mpremote sees one):
    Ctrl-A gives the raw REPL's banner, Ctrl-D a soft reboot, "import main" + Ctrl-D "OK" and
    then `then` (the app's output); with answer=False it says nothing at all."""

    def __init__(self, then=b"", answer=True):
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.url = "socket://127.0.0.1:%d" % self.lsock.getsockname()[1]
        self.then = then
        self.answer = answer
        self.got = b""
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        s, _ = self.lsock.accept()
        s.settimeout(5)
        try:
            while True:
                data = s.recv(100)
                if not data:
                    return
                self.got += data
                if not self.answer:
                    continue
                for c in data:
                    if c == 1:
                        s.sendall(b"\r\nraw REPL; CTRL-B to exit\r\n>")
                    elif c == 4 and self.got.endswith(b"import main\x04"):
                        s.sendall(b"OK")
                        time.sleep(0.05)
                        for piece in split(self.then, 11):
                            s.sendall(piece)
                            time.sleep(0.002)
                    elif c == 4:
                        s.sendall(b"MPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>")
        except OSError:
            pass
        finally:
            s.close()

    def close(self):
        self.lsock.close()


def test_start_app_over_socket_url():
    board = FakeBoard(then=ADDRESS + TOOK + LISTENING)
    try:
        with console.Console(board.url) as c:
            c.start_app(timeout=5)
            st = c.wait_startup(timeout=5)
        assert (st.host, st.port, st.heap_free) == ("192.168.1.57", 80, 30123)
        # as mpremote: Ctrl-C, Ctrl-A (raw REPL), Ctrl-D (soft reset), then import main
        got = board.got
        assert got.index(b"\x03") < got.index(b"\x01") < got.index(b"\x04") < got.index(b"import main\x04")
    finally:
        board.close()


def test_start_app_on_a_silent_board_times_out():
    board = FakeBoard(answer=False)
    try:
        t0 = time.time()
        with console.Console(board.url) as c:
            with pytest.raises(console.NoAnswer, match="raw REPL's banner"):
                c.start_app(timeout=0.5)
        assert time.time() - t0 < 3
    finally:
        board.close()


def test_console_command_reports_a_closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    url = "socket://127.0.0.1:%d" % s.getsockname()[1]
    s.close()  # nothing listens there
    with pytest.raises(console.ConsoleError, match="cannot open"):
        console.Console(url)


# -- tools/deploy.py: which port is the board ------------------------------------------------------
class Port:
    """What serial.tools.list_ports.comports() gives (ListPortInfo's fields used)."""

    def __init__(self, device, vid=None, pid=None, description="n/a"):
        self.device, self.vid, self.pid, self.description = device, vid, pid, description


BUILTIN = Port("/dev/ttyS0")
BLUETOOTH = Port("/dev/ttyACM5", 0x8087, 0x0a2b, "Intel Bluetooth")


@pytest.mark.parametrize("port,what", [
    (Port("/dev/ttyUSB0", 0x10c4, 0xea60, "CP2102 USB to UART Bridge Controller"), "CP210x"),
    (Port("/dev/ttyUSB1", 0x1a86, 0x7523, "USB Serial"), "CH340"),
    (Port("/dev/ttyACM0", 0x1a86, 0x55d4, "USB Single Serial"), "CH9102"),
    (Port("/dev/ttyACM0", 0x303a, 0x1001, "USB JTAG/serial debug unit"), "Espressif native USB"),
    (Port("/dev/ttyACM0", 0x2e8a, 0x0005, "Board in FS mode"), "RP2040"),
    (Port("COM3", 0x10c4, 0xea60, "Silicon Labs CP210x USB to UART Bridge (COM3)"), "CP210x"),
])
def test_deploy_picks_the_board_by_usb_identity(monkeypatch, port, what):
    monkeypatch.setattr(deploy, "list_ports", lambda: [BUILTIN, BLUETOOTH, port])
    device, why = deploy.find_board()
    assert device == port.device
    assert what in why and "%04x:%04x" % (port.vid, port.pid) in why, why


def test_deploy_asks_which_of_several_boards(monkeypatch):
    monkeypatch.setattr(deploy, "list_ports", lambda: [
        Port("/dev/ttyUSB0", 0x10c4, 0xea60), BUILTIN, Port("/dev/ttyACM0", 0x2e8a, 0x0005)])
    with pytest.raises(deploy.DeployError) as e:
        deploy.find_board()
    msg = str(e.value)
    assert "several boards" in msg and "--device" in msg and "/dev/ttyUSB0" in msg and "/dev/ttyACM0" in msg


def test_deploy_without_a_board_says_what_it_saw(monkeypatch):
    monkeypatch.setattr(deploy, "list_ports", lambda: [BUILTIN, BLUETOOTH])
    with pytest.raises(deploy.DeployError, match=r"no board found .*/dev/ttyS0.*8087:0a2b.*--device"):
        deploy.find_board()


def test_deploy_main_uses_the_board_it_found(monkeypatch, tmp_path, capsys):
    """`deploy.py` without --device: the choice and its reason are printed, then used."""
    monkeypatch.setattr(deploy, "list_ports", lambda: [BUILTIN, Port("/dev/ttyUSB0", 0x1a86, 0x7523, "USB Serial")])
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "bundle.json").write_text('{"name": "x", "arch": "xtensawin", "total": 0, "modules": {}, '
                                        '"features": {}, "config": "boards/esp32/config.json"}')
    used = []
    monkeypatch.setattr(deploy, "deploy", lambda args, *rest: used.append(args.device) or 0)
    assert deploy.main(["--bundle", str(bundle), "--board", "esp32"]) == 0
    out = capsys.readouterr().out
    assert used == ["/dev/ttyUSB0"]
    assert "using /dev/ttyUSB0: the only serial port with a board's USB identity" in out and "CH340" in out, out


def test_pyserial_lists_ports():
    # the real list (none here, perhaps): what find_board reads has the fields it uses
    for p in deploy.list_ports():
        assert hasattr(p, "device") and hasattr(p, "vid") and hasattr(p, "pid")
