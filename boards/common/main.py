# main.py for every board (ESP32, Pico W): MicroPython runs it after boot.py at every reset.
# It reads config.json, brings Wi-Fi up (the board's own wifi.py: station, else its own
# access point) and starts the app (app.mpy: the board's default app unless tools/deploy.py was
# given another) with the pool sizes of the config, so the daemon logs what it took and the
# heap left. When no network was joined and the board opened its own access point, it runs
# the settings page instead (settings.mpy: examples/settings.py), so that a phone on that
# access point can give it the network to join ("settings_page": false in config.json keeps
# the app); the page asks for a password (user "admin", the access point's password unless
# config.json has "settings_password": examples/settings.py says more). A board directory may
# hold its own main.py to replace this one.
# tools/deploy.py copies it with config.json, wifi.mpy, app.mpy and settings.mpy. Ctrl-C stops
# the app and leaves the REPL.
import gc
import sys


def load_config():
    try:
        import json
        with open("config.json") as f:
            return json.load(f)
    except OSError:  # no config.json: a config.py with the same names
        import config
        return dict((k, getattr(config, k)) for k in dir(config) if not k.startswith("_"))


def has(module):
    """Whether module.mpy (or .py) is on the board (deploy copies settings.mpy only with the
    POST parser)."""
    import os
    for name in (module + ".mpy", module + ".py"):
        try:
            os.stat(name)
            return True
        except OSError:
            pass
    return False


def mount_rom():
    """tools/deploy.py --romfs on a board without a ROMFS partition (the virtual board) copies
    the image as a file: mount it at /rom over its bytes, first on sys.path. On the unix port
    those bytes are in the heap, not in flash. A real ROMFS is already at /rom (OSError)."""
    try:
        import vfs
        with open("mhd_micro.romfs", "rb") as f:
            vfs.mount(vfs.VfsRom(f.read()), "/rom")
    except (ImportError, AttributeError, OSError):
        return
    sys.path.insert(0, "/rom")


def main():
    mount_rom()
    cfg = load_config()
    port = cfg.get("port", 80)
    mode = ip = None
    try:
        import wifi
        mode, ip = wifi.up(cfg)
    except Exception as e:  # serve anyway: maybe on a network brought up by boot.py
        print("wifi failed:", repr(e))
    gc.collect()
    print("mhd_micro on %s: network %s, open http://%s:%d/ ; %d bytes of heap free"
          % (cfg.get("board", "board"), mode, ip or "<board address>", port, gc.mem_free()))
    # "app_args": arguments for the app before the config's (tests/conftest.py --target sets them)
    argv = ["app"] + list(cfg.get("app_args", ())) + ["--port", port, "--timeout", cfg.get("timeout", 30)]
    for key, flag in (("connections", "--connections"), ("conn_memory", "--conn-memory"),
                      ("buffers", "--buffers"), ("response_pool", "--pool"), ("log_memory", "--log-memory")):
        if cfg.get(key):
            argv += [flag, int(cfg[key])]
    app = cfg.get("app", "app")
    if mode == "ap" and cfg.get("settings_page", True) and has("settings"):
        # on its own access point: the settings page, saved to config.json for the next reset
        print("no network joined: the settings page at http://%s:%d/" % (ip, port))
        app = "settings"
        argv += ["--config", "config.json"]
    sys.argv.clear()
    sys.argv.extend(str(a) for a in argv)
    try:
        __import__(app)
    except SystemExit as e:  # in main.py a SystemExit would soft-reset: and run main.py again
        print("the app stopped:", e)
    except MemoryError:
        print("the app ran out of heap: lower connections or conn_memory in config.json")


main()
