"""connection.py is the one owner of a connection's state: no other module of the package
assigns a Connection's fields (its stage among them) or calls its underscore methods; they
ask through its public methods. This reads the sources, so a change that breaks the rule
fails here, on any runtime.

Two nets: by field name, any assignment to a field only Connection has (whatever the object
is called); by the package's naming convention (a connection is `c`, `conn`, `o`, `idle` or
`<request>.conn`), any assignment at all."""
import ast
import os
import re

from conftest import ROOT

PKG = os.path.join(ROOT, "mhd_micro")
CONN_NAMES = {"c", "conn", "o", "idle"}


def parse(name):
    with open(os.path.join(PKG, name)) as f:
        return ast.parse(f.read(), name)


def others():
    return sorted(n for n in os.listdir(PKG) if n.endswith(".py") and n != "connection.py")


def connection_class():
    for node in parse("connection.py").body:
        if isinstance(node, ast.ClassDef) and node.name == "Connection":
            return node
    raise AssertionError("no class Connection in connection.py")


def self_fields(cls):
    """The attributes a class's methods assign on self."""
    out = set()
    for node in ast.walk(cls):
        for t in targets(node):
            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                out.add(t.attr)
    return out


def targets(node):
    if isinstance(node, ast.Assign):
        found = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        found = [node.target]
    else:
        return []
    out = []
    while found:
        t = found.pop()
        if isinstance(t, (ast.Tuple, ast.List)):
            found.extend(t.elts)
        else:
            out.append(t)
    return out


def is_connection(expr):
    return (isinstance(expr, ast.Name) and expr.id in CONN_NAMES) or \
        (isinstance(expr, ast.Attribute) and expr.attr == "conn")


def test_the_conventions_hold_in_connection_py():
    conn = connection_class()
    fields = self_fields(conn)
    assert {"stage", "mask", "buf", "req", "out", "framing"} <= fields  # the nets below see these names
    methods = {f.name for f in conn.body if isinstance(f, ast.FunctionDef)}
    assert {"fail", "suspend", "resume", "queue", "close"} <= methods


def test_no_other_module_writes_a_connection():
    conn = connection_class()
    fields = self_fields(conn)
    private = {f.name for f in conn.body if isinstance(f, ast.FunctionDef)
               if f.name.startswith("_") and not f.name.startswith("__")}
    # fields other classes have too (BodyWriter.pos...) are held by the naming net alone
    shared = set()
    for name in others():
        for node in ast.walk(parse(name)):
            if isinstance(node, ast.ClassDef):
                shared |= self_fields(node)
    only_conn = fields - shared
    found = []
    for name in others():
        for node in ast.walk(parse(name)):
            for t in targets(node):
                if isinstance(t, ast.Attribute) and (t.attr in only_conn or is_connection(t.value)):
                    found.append("%s:%d assigns .%s" % (name, t.lineno, t.attr))
            if isinstance(node, ast.Call):
                f = node.func
                on_self = isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self"
                if isinstance(f, ast.Attribute) and not on_self and (f.attr in private or (
                        is_connection(f.value) and f.attr.startswith("_"))):
                    found.append("%s:%d calls .%s()" % (name, node.lineno, f.attr))
                if isinstance(f, ast.Name) and f.id in ("setattr", "delattr") and node.args and is_connection(node.args[0]):
                    found.append("%s:%d calls %s on a connection" % (name, node.lineno, f.id))
    assert not found, found


def test_the_net_catches_a_stage_change():
    """The check above is not blind: the stage writes that used to live in other modules
    (errors.py, upload.py, suspend.py) are found in a copy written that way."""
    src = "def reply_error(c, status):\n    c.stage = 6\n    c._drop_response(20)\n"
    tree = ast.parse(src)
    assigned = [t.attr for n in ast.walk(tree) for t in targets(n) if isinstance(t, ast.Attribute)
                and is_connection(t.value)]
    called = [n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
              and is_connection(n.func.value)]
    assert assigned == ["stage"] and called == ["_drop_response"]


def test_the_stage_table_lists_every_stage():
    with open(os.path.join(PKG, "connection.py")) as f:
        stages = re.findall(r"^_?(ST_\w+) = const", f.read(), re.M)
    with open(os.path.join(ROOT, "docs", "architecture.md")) as f:
        doc = f.read()
    assert len(stages) >= 8
    missing = [s for s in stages if "| `%s`" % s not in doc]
    assert not missing, missing
