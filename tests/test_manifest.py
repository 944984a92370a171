"""The manifest.py that tools/build.py writes, evaluated as MicroPython's firmware build does:
with the functions of the manifest format (tools/manifestfile.py in the MicroPython repository:
metadata, include, require, package, module, options, and in freeze mode freeze and its kin).
The stand-ins below follow its semantics (paths relative to the manifest being run, include()
runs another manifest from its own directory, package() lists base_path/package/files or
walks for .py files, a file that does not exist is an error); they are not its code.

A bundle frozen into a firmware must be the bundle: every module of build/<name>/ and nothing
else, from the bundle's own src/ copy (with its generated features.py)."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

TOOLS = os.path.join(ROOT, "tools")
METADATA_KEYS = {"description", "version", "license", "author", "pypi", "pypi_publish", "stdlib"}


class ManifestError(Exception):
    pass


class Options:
    def __init__(self, **kw):
        self.__dict__.update(kw)

    def defaults(self, **kw):
        for k, v in kw.items():
            self.__dict__.setdefault(k, v)

    def __getattr__(self, name):
        return None


class Manifest:
    """What a firmware build would freeze: {target path: source path}."""

    def __init__(self):
        self.files = {}
        self.metadata_calls = []
        self.required = []
        self.visited = set()

    def _globals(self, kw):
        return {"metadata": self.metadata, "include": self.include, "require": self.require,
                "package": self.package, "module": self.module, "options": Options(**kw),
                "freeze": self.freeze, "freeze_as_mpy": self.freeze, "freeze_mpy": self.freeze_mpy}

    def _add(self, full, target):
        if not os.path.isfile(full):
            raise ManifestError("Cannot stat %s" % full)
        if target in self.files:
            raise ManifestError("%s named twice" % target)
        self.files[target] = full

    def include(self, path, **kw):
        if not isinstance(path, str):
            for p in path:
                self.include(p, **kw)
            return
        path = os.path.abspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, "manifest.py")
        if path in self.visited:
            return
        self.visited.add(path)
        with open(path) as f:
            code = f.read()
        prev = os.getcwd()
        os.chdir(os.path.dirname(path))  # paths in a manifest are relative to it
        try:
            exec(compile(code, path, "exec"), self._globals(kw))
        finally:
            os.chdir(prev)

    def metadata(self, **kw):
        unknown = set(kw) - METADATA_KEYS
        if unknown:
            raise ManifestError("unknown metadata %s" % sorted(unknown))
        self.metadata_calls.append(kw)

    def require(self, name, version=None, **kw):
        self.required.append(name)  # a micropython-lib package: the build would fetch it

    def _search(self, base_path, package_path, files, exts):
        base = os.path.abspath(base_path)
        if files is not None:
            for f in files:
                target = os.path.join(package_path, f) if package_path else f
                self._add(os.path.join(base, target), target)
            return
        top = os.path.join(base, package_path or "")
        for dirpath, _, names in os.walk(top):
            for n in names:
                if os.path.splitext(n)[1] in exts:
                    full = os.path.join(dirpath, n)
                    self._add(full, os.path.relpath(full, base))

    def package(self, package_path, files=None, base_path=".", opt=None):
        self._search(base_path, package_path, files, (".py",))

    def module(self, module_path, base_path=".", opt=None):
        if not module_path.endswith(".py"):
            raise ManifestError("module must be .py file")
        self._add(os.path.join(os.path.abspath(base_path), module_path), module_path)

    def freeze(self, path, script=None, opt=None):
        self._freeze(path, script, (".py",))

    def freeze_mpy(self, path, script=None, opt=None):
        self._freeze(path, script, (".mpy",))

    def _freeze(self, path, script, exts):
        if script is None:
            self._search(path, None, None, exts)
        elif isinstance(script, str) and os.path.isdir(os.path.join(path, script)):
            self._search(path, script, None, exts)
        else:
            self._search(path, None, [script] if isinstance(script, str) else script, exts)


def _bundle(tmp_path, name, *args):
    out = str(tmp_path / name)
    p = subprocess.run([sys.executable, os.path.join(TOOLS, "build.py"), "--name", name, "--out", out] + list(args),
                       capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    with open(os.path.join(out, "bundle.json")) as f:
        return out, json.load(f)


@pytest.mark.parametrize("args", [("--board", "esp32"), ("--board", "rp2040", "--without", "cookie_parser",
                                                          "--without", "large_file")])
def test_manifest_freezes_exactly_the_bundle(tmp_path, args):
    out, info = _bundle(tmp_path, "fw", *args)
    # a board's own manifest includes ours, as the comment at its top says (from elsewhere)
    board = tmp_path / "board"
    board.mkdir()
    (board / "manifest.py").write_text("include(%r)\n" % os.path.join(out, "manifest.py"))
    m = Manifest()
    cwd = os.getcwd()
    m.include(str(board / "manifest.py"))
    assert os.getcwd() == cwd
    want = {"mhd_micro/%s.py" % mod for mod in info["modules"]}
    assert set(m.files) == want  # every module of the bundle, nothing else
    mpys = {"mhd_micro/" + f[:-4] + ".py" for f in os.listdir(os.path.join(out, "mhd_micro"))}
    assert mpys == want  # the same modules as the .mpy files a filesystem deploy copies
    for target, full in m.files.items():
        assert full == os.path.join(out, "src", target)  # the bundle's copy: its features.py is generated
    with open(m.files["mhd_micro/features.py"]) as f:
        features = f.read()
    for flag_name, on in info["features"].items():
        assert ("= %s " % on) in [line for line in features.splitlines() if ("# %s " % flag_name) in line][0]
    assert m.required == []  # nothing from micropython-lib
    assert m.metadata_calls and m.metadata_calls[0]["version"] == info["version"]


def test_manifest_names_a_missing_file_as_an_error(tmp_path):
    out, info = _bundle(tmp_path, "fw", "--board", "esp32")
    os.remove(os.path.join(out, "src", "mhd_micro", "parser.py"))
    with pytest.raises(ManifestError, match="parser.py"):
        Manifest().include(os.path.join(out, "manifest.py"))

