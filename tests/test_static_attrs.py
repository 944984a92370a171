"""Every attribute the engine sets on its per-slot objects must exist from __init__: on
MicroPython a new attribute grows the instance's dict, which would take heap at the first
request after start (the pools are meant to be all the memory serving takes)."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(name):
    with open(os.path.join(ROOT, "mhd_micro", name)) as f:
        return f.read()


def assigned(src, obj):
    return set(re.findall(r"\b%s\.(\w+)\s*(?:[+\-|&]?=)(?!=)" % obj, src))


def between(src, start, end):
    return src[src.index(start):src.index(end)]


def test_connection_attributes_exist_from_init():
    # only connection.py assigns them (tests/test_connection_contract.py)
    conn = read("connection.py")
    init = between(conn, "    def __init__(self, daemon):", "    # -- life cycle")
    assert assigned(conn, "self") - assigned(init, "self") == set()


def test_connection_fits_a_23_entry_table():
    # MicroPython grows an instance's attribute table 17, 23, 29... entries: a 23rd field
    # would fill it, and a 24th would cost each slot 6 entries more (96 bytes on 64-bit). One
    # entry stays empty because every method call on a connection first looks in that table
    # and misses: a miss stops at the first empty entry, in a full table it goes round all 23
    # (~1% more instructions per GET). docs/architecture.md lists the fields.
    conn = read("connection.py")
    init = between(conn, "    def __init__(self, daemon):", "    # -- life cycle")
    fields = assigned(init, "self")
    assert 18 <= len(fields) <= 22, sorted(fields)


def test_body_writer_attributes_exist_from_init():
    body = read("body.py")
    init = between(body, "    def __init__(self):", "    def start(self, c):")
    assert assigned(body, "self") - assigned(init, "self") == set()


def test_request_attributes_exist_from_init():
    req = read("request.py")
    init = between(req, "class Request:", "def text")
    used = assigned(req, "r")
    for name in ("parser.py", "strictness.py", "chunked.py", "connection.py", "upload.py"):
        used |= assigned(read(name), "r")
    assert used - assigned(init, "self") == set()


def test_request_fits_a_37_entry_table():
    # one per buffer of the pool: a 38th field would grow its attribute table to 47 entries
    # (160 bytes more per buffer on 64-bit, 80 on 32-bit)
    req = read("request.py")
    init = between(req, "class Request:", "def text")
    fields = assigned(init, "self")
    assert 30 <= len(fields) <= 37, sorted(fields)


def test_daemon_attributes_exist_from_init():
    dm = read("daemon.py")
    init = between(dm, "    def __init__(self, cb, cls):", "    # -- the loop")
    used = assigned(dm, "self")
    for name in ("options.py", "pools.py", "stop.py", "errors.py"):
        used |= assigned(read(name), "d") | assigned(read(name), "daemon")
    assert used - assigned(init, "self") == set()


CONST = re.compile(r"^(_?[A-Z]\w*) = const\((.+?)\)(?:\s*#\s*(.*))?$", re.M)


def test_copied_constants_agree():
    """Modules copy other modules' values as const()s (on MicroPython a module attribute is a
    dict lookup, and a const of another module cannot be imported): each copy says where it
    comes from in a "# = <expression>" comment, and the expression must still give its value.
    A private const with the name and value of a public name of the package, without that
    comment, fails."""
    import importlib
    import sys
    sys.path.insert(0, ROOT)
    import mhd_micro as mhd
    names = sorted(n[:-3] for n in os.listdir(os.path.join(ROOT, "mhd_micro")) if n.endswith(".py"))
    modules = {n: importlib.import_module("mhd_micro." + n) for n in names if n not in ("__init__", "platform_listen")}
    checked, bad = 0, []
    for name in names:
        for const, value, comment in CONST.findall(read(name + ".py")):
            value = int(value, 0)
            if comment.startswith("= "):
                env = dict(vars(modules[name]) if name in modules else {}, mhd=mhd, **modules)
                source = comment[2:].split(";")[0].strip()
                got = eval(source, env)
                checked += 1
                if got != value:
                    bad.append("%s.%s = %d but %s = %r" % (name, const, value, source, got))
            elif const.startswith("_") and (getattr(mhd, const[1:], None) == value or any(
                    getattr(m, const[1:], None) == value for n, m in modules.items() if n != name)):
                # the same name and value as a public one: a copy that does not say so
                bad.append("%s.%s copies a public name without a '# = source' comment" % (name, const))
    assert not bad, bad
    assert checked > 80, checked  # the comments are read: a format change must not skip them
