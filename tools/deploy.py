#!/usr/bin/env python3
"""Copy a bundle, a board's config and an app to a board with mpremote, and start it.

    python tools/deploy.py --device /dev/ttyUSB0 --bundle build/esp32 --board esp32 \\
        --wifi-ssid MyNet --wifi-password secret
    python tools/deploy.py --device socket://127.0.0.1:PORT --bundle build/ci --board rp2040 --http-port 8080

What lands on the board (its filesystem root):
    mhd_micro/*.mpy   the bundle (tools/build.py); modules of an earlier bundle that this one
                      does not have are removed, unchanged ones are skipped (mpremote's hash check)
    main.py           boards/<board>/main.py: at boot it reads config.json, brings Wi-Fi up and
                      imports the app
    wifi.mpy, app.mpy boards/<board>/wifi.py and the app (--app, default examples/hello.py),
                      compiled for the bundle's arch: compiling on the board would cost heap
    config.json       the board's config, with --http-port, --set and the Wi-Fi settings applied

Then, by default (--start exec), a soft reset (a fresh heap; on a virtual board a new process)
and `import main` without waiting: the board serves while this returns. --start reset resets
the board instead (main.py runs as at power-on; not on the unix port, which has no reset);
--start none only copies; --follow stays to show the board's output (Ctrl-C leaves it).

--method mip installs the bundle with `mpremote mip install <bundle>/package.json` into the
board's lib directory instead of copying it to the root. --no-bundle copies no library (it is
frozen into the firmware: build/<name>/manifest.py) and removes any from the filesystem.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import build  # noqa: E402  (the config loader and mpy-cross flags)


class DeployError(Exception):
    pass


def mpremote_cmd():
    for cand in (os.path.join(os.path.dirname(sys.executable), "mpremote"), shutil.which("mpremote")):
        if cand and os.path.exists(cand):
            return [cand]
    return [sys.executable, "-m", "mpremote"]


def board_dir(board):
    d = board if os.path.isdir(board) else os.path.join(ROOT, "boards", board)
    if not os.path.isfile(os.path.join(d, "wifi.py")):
        raise DeployError("no board %r: %s has no wifi.py" % (board, d))
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


_CLEAN = """import os
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
if use == "mhd_micro":
    try:
        os.mkdir(use)
    except OSError:
        pass
for n in ("app.py", "wifi.py"):
    try:
        os.remove(n)
    except OSError:
        pass
"""


def plan(args):
    """The mpremote command lines to run, and the staging directory they copy from."""
    bundle = os.path.abspath(args.bundle)
    try:
        with open(os.path.join(bundle, "bundle.json")) as f:
            info = json.load(f)
    except OSError:
        raise DeployError("%s is not a bundle (no bundle.json): build one with tools/build.py" % bundle)
    board = args.board or (os.path.basename(os.path.dirname(info["config"])) if info.get("config") else None)
    if not board:
        raise DeployError("which board's main.py and wifi.py? give --board")
    bdir = board_dir(board)
    stage = tempfile.mkdtemp(prefix="deploy-")
    cfg = make_config(bdir, args)
    with open(os.path.join(stage, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    shutil.copyfile(board_main(bdir), os.path.join(stage, "main.py"))
    compile_to(os.path.join(bdir, "wifi.py"), os.path.join(stage, "wifi.mpy"), info["arch"])
    compile_to(os.path.abspath(args.app or os.path.join(ROOT, "examples", "hello.py")),
               os.path.join(stage, "app.mpy"), info["arch"])
    mods = sorted(info["modules"])
    where = "lib/mhd_micro/" if args.method == "mip" else "mhd_micro/"
    keep = [where + m + ".mpy" for m in mods]
    if args.no_bundle:  # frozen into the firmware: files would shadow it
        where, keep = "-/", []
    connect = mpremote_cmd() + ["connect", args.device]
    copy = ["exec", _CLEAN % (keep, where[:-1]), "+"]
    if args.no_bundle:
        pass
    elif args.method == "mip":
        copy += ["mip", "install", "--target", "lib", os.path.join(bundle, "package.json"), "+"]
    else:
        # files, not `cp -r`: mpremote's recursive copy into a directory that exists nests it
        copy += ["fs", "cp"] + [os.path.join(bundle, "mhd_micro", m + ".mpy") for m in mods] + [":mhd_micro/", "+"]
    for fn in ("main.py", "config.json", "wifi.mpy", "app.mpy"):
        copy += ["fs", "cp", os.path.join(stage, fn), ":" + fn, "+"]
    cmds = [connect + copy[:-1]]
    if args.start == "exec":
        # soft reset: a fresh heap (a new process on a virtual board), then main.py
        cmds.append(connect + ["soft-reset", "+", "exec"] + ([] if args.follow else ["--no-follow"])
                    + ["import main"])
    elif args.start == "reset":
        cmds.append(connect + ["reset"])
        if args.follow:
            cmds.append(connect + ["resume", "repl"])
    return cmds, stage, info, board


def main(argv=None):
    ap = argparse.ArgumentParser(description="Deploy a bundle, a board config and an app (see the top of this file).")
    ap.add_argument("--device", required=True, help="/dev/ttyUSB0, /dev/ttyACM0, COM3, socket://127.0.0.1:PORT ...")
    ap.add_argument("--bundle", required=True, help="a directory made by tools/build.py (build/<name>)")
    ap.add_argument("--board", help="boards/<board> for main.py, wifi.py, config.json (default: the bundle's)")
    ap.add_argument("--config", help="another config file instead of the board's config.json")
    ap.add_argument("--app", help="the application module (default examples/hello.py)")
    ap.add_argument("--http-port", type=int, help="the port the app listens on (config 'port')")
    ap.add_argument("--wifi-ssid", help="Wi-Fi network to join (or MHD_WIFI_SSID)")
    ap.add_argument("--wifi-password", help="its password (or MHD_WIFI_PASSWORD)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any other config value (JSON); wifi.country=DE sets inside an object")
    ap.add_argument("--method", choices=("cp", "mip"), default="cp")
    ap.add_argument("--no-bundle", action="store_true",
                    help="the bundle is frozen into the firmware: copy only main.py, wifi, config and app")
    ap.add_argument("--start", choices=("exec", "reset", "none"), default="exec")
    ap.add_argument("--follow", action="store_true", help="stay and show the board's output")
    ap.add_argument("--timeout", type=float, default=120, help="seconds for each mpremote run")
    ap.add_argument("--dry-run", action="store_true", help="print the mpremote commands only")
    args = ap.parse_args(argv)
    try:
        cmds, stage, info, board = plan(args)
    except (DeployError, build.BuildError) as e:
        print("deploy.py: error: %s" % e, file=sys.stderr)
        return 2
    try:
        print("deploying bundle %s (%s, %d bytes) with boards/%s and %s to %s" % (
            info["name"], info["arch"], info["total"], board, args.app or "examples/hello.py", args.device))
        for cmd in cmds:
            if args.dry_run:
                print(" ".join(shlex.quote(c) for c in cmd))
                continue
            try:
                p = subprocess.run(cmd, timeout=None if args.follow else args.timeout)
            except subprocess.TimeoutExpired:
                print("deploy.py: error: mpremote took more than %ds" % args.timeout, file=sys.stderr)
                return 1
            except KeyboardInterrupt:
                return 0
            if p.returncode:
                print("deploy.py: error: mpremote failed (%d)" % p.returncode, file=sys.stderr)
                return 1
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
