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
    conn = read("connection.py")
    init = between(conn, "    def __init__(self, daemon):", "    # -- life cycle")
    used = assigned(conn, "self") | assigned(read("body.py"), "c") | assigned(read("errors.py"), "c") \
        | assigned(read("upload.py"), "c") | assigned(read("suspend.py"), "c")
    assert used - assigned(init, "self") == set()


def test_request_attributes_exist_from_init():
    req = read("request.py")
    init = between(req, "class Request:", "def _hex")
    used = assigned(req, "r")
    for name in ("parser.py", "strictness.py", "chunked.py", "connection.py", "upload.py"):
        used |= assigned(read(name), "r")
    assert used - assigned(init, "self") == set()


def test_daemon_attributes_exist_from_init():
    dm = read("daemon.py")
    init = between(dm, "    def __init__(self, cb, cls):", "    # -- stop")
    used = assigned(dm, "self") | assigned(read("options.py"), "d") | assigned(read("pools.py"), "d")
    assert used - assigned(init, "self") == set()


def test_copied_constants_agree():
    """Hot modules copy other modules' flags as private const()s (a module attribute costs
    a dict lookup on MicroPython): the copies must keep the values."""
    import sys
    sys.path.insert(0, ROOT)
    from mhd_micro import response, dcc
    for module, source in (("connection.py", response), ("body.py", response), ("body.py", dcc)):
        for name, value in re.findall(r"^_(\w+) = const\((-?\d+)\)", read(module), re.M):
            if hasattr(source, name):
                assert getattr(source, name) == int(value), (module, name)
