"""`pytest --target URL`: the server tests marked `board` against a board (tests/conftest.py).

One bundle is built for the board (tools/build.py; for a socket:// URL, the virtual board, for
the unix port's x64) and deployed with tools/deploy.py together with tests/apps/app.py as the
board's app (the app `serve()` runs on the host). tools/console.py starts it (main.py: the
board's config, Wi-Fi, the app) and reads where it serves from the start-up lines. A test's
`serve(*args)` gives that server; when a test asks for other arguments (`--strict 1`,
`--conn-memory 512`), they go to the board's config.json as "app_args" (main.py puts them
before the config's own) and the app is started again, once per change of arguments.
"""
import json
import os
import subprocess
import sys
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)
import console  # noqa: E402

APP = "tests/apps/app.py"


class TargetError(Exception):
    pass


def run_tool(args, timeout):
    p = subprocess.run([sys.executable] + args, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if p.returncode:
        raise TargetError("%s failed:\n%s" % (" ".join(args), p.stdout + p.stderr))
    return p.stdout


class BoardTarget:
    def __init__(self, url, board, workdir, arch=None, bundle=None, http_port=None, timeout=60):
        self.url = url
        self.board = board
        self.timeout = timeout
        self.args = ()
        self.host = console.host_of(url)
        if bundle is None:
            arch = arch or ("x64" if url.startswith("socket://") else None)
            bundle = os.path.join(workdir, "bundle")
            run_tool([os.path.join(TOOLS, "build.py"), "--board", board, "--name", "target-" + board,
                      "--out", bundle] + (["--arch", arch] if arch else []), 300)
        deploy = [os.path.join(TOOLS, "deploy.py"), "--device", url, "--bundle", bundle, "--board", board,
                  "--app", os.path.join(ROOT, APP), "--start", "none", "--set", "app_args=[]"]
        if http_port:
            deploy += ["--http-port", str(http_port)]
        self.deploy_output = run_tool(deploy, 300)
        self.console = console.Console(url)
        self.startup = None
        self.start(())

    def start(self, args):
        """(Re)start the app with `args` before the config's own."""
        args = tuple(str(a) for a in args)
        before = None
        if args != self.args:
            before = ("import json\nf = open('config.json')\nc = json.load(f)\nf.close()\n"
                      "c['app_args'] = %r\nf = open('config.json', 'w')\njson.dump(c, f)\nf.close()\n" % (list(args),))
        since = len(self.console.output)
        try:
            self.console.start_app(timeout=15, before=before)
            self.args = args
            self.startup = self.console.wait_startup(self.timeout, default_host=self.host)
        except console.ConsoleError as e:
            self.startup = None
            raise TargetError("the board's app did not start with %s: %s" % (" ".join(args) or "its config", e))
        if self.startup.network == "ap":
            raise TargetError("the board joined no network and opened its own access point (%s): give it the "
                              "network (MHD_WIFI_SSID and MHD_WIFI_PASSWORD, or its config.json)" % self.startup.url)
        self.host = self.startup.host
        self.since = since
        return self.startup

    def output(self):
        """What the board printed since the app last started (read now)."""
        while self.console.read_some():
            pass
        return self.console.text(self.since)

    def answers(self, timeout=5):
        try:
            with urllib.request.urlopen("http://%s:%d/" % (self.host, self.startup.port), timeout=timeout) as r:
                return r.status == 200
        except OSError:
            return False

    def close(self):
        try:
            if self.args:  # leave the board with its config's app
                self.start(())
        except TargetError:
            pass
        self.console.close()


class BoardServer:
    """What `serve()` gives under --target: the board's app, as conftest.Server for a process."""

    runtime = "micropython"

    def __init__(self, target):
        self.target = target
        self.host = target.host
        self.port = target.startup.port

    def alive(self):
        if self.target.answers():
            return True
        self.target.args = None  # start it again for the next test
        return False

    def stop(self):
        """What the board printed since the app started (no stop: the next test uses it)."""
        return self.target.output()


def board_config(board):
    with open(os.path.join(ROOT, "boards", board, "config.json")) as f:
        return json.load(f)


def board_connections(board):
    return board_config(board)["connections"]


def board_heap(board):
    """The virtual board's heap for a board: twice its stated budget (config.json's
    budget.heap), as the 64-bit unix port takes about twice a 32-bit board's room."""
    return 2 * board_config(board)["budget"]["heap"]
