"""examples/file_server.py on both runtimes: it serves the files under its root, never a
dot-file, a dot-directory or a path out of the root, and refuses to start without its root."""
import subprocess
import sys

from conftest import ROOT, micropython_cmd
from wire import Client, get

SCRIPT = "examples/file_server.py"


def make_root(tmp_path):
    www = tmp_path / "www"
    for name, text in (("index.html", "<h1>home</h1>"), ("sub/page.txt", "page"), (".env", "SECRET=1"),
                       (".git/config", "[core]"), ("sub/.hidden", "hidden")):
        (www / name).parent.mkdir(parents=True, exist_ok=True)
        (www / name).write_text(text)
    (tmp_path / "outside.txt").write_text("outside")
    return www


def test_serves_files_but_no_dot_paths(serve, tmp_path):
    srv = serve("--root", str(make_root(tmp_path)), "--port", 0, script=SCRIPT)
    with Client(srv.port) as c:
        r = c.exchange(get("/"))
        assert (r.status, r.body, r.header("content-type")) == (200, b"<h1>home</h1>", "text/html")
        assert c.exchange(get("/sub/page.txt")).body == b"page"
        for path in ("/.env", "/.git/config", "/.git/", "/sub/.hidden", "/../outside.txt", "/sub/../.env",
                     "/sub/../../outside.txt", "/%2eenv", "/%2Egit/config", "/nope.txt"):
            r = c.exchange(get(path))
            assert (r.status, r.body) == (404, b"Not found"), path


def test_refuses_to_start_without_its_root(runtime, tmp_path):
    missing = str(tmp_path / "nope")
    (tmp_path / "file").write_text("not a directory")
    for root in (missing, str(tmp_path / "file")):
        cmd = ([sys.executable] if runtime == "cpython" else [micropython_cmd()]) + [
            SCRIPT, "--root", root, "--port", "0"]
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=30)
        out = p.stdout + p.stderr
        assert p.returncode == 2, out
        assert "file_server.py: the root %r is not a directory: make it, or give --root DIR" % root in out, out
        assert "listening" not in out
