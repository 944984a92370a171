"""examples/settings.py on both runtimes: the form page, good POSTs from requests and curl -d
saved into the config's "wifi" object with its other keys kept, bad names and passwords
refused (400) with the config untouched, and the name shown back HTML-escaped; every request
behind a password (Digest by default, Basic on request; the password from the config, the
access point's, or made on first boot); on MicroPython also as .mpy (as a board runs it) in a
small heap."""
import json
import os
import shutil
import subprocess

import pytest
import requests
from requests.auth import HTTPBasicAuth, HTTPDigestAuth

from conftest import ROOT, mpy_cross_cmd, require
from wire import request

SCRIPT = "examples/settings.py"
CURL = shutil.which("curl")
BOARD = {"board": "esp32", "port": 80, "connections": 8, "settings_password": "letmein123",
         "wifi": {"ssid": "", "password": "", "hostname": "mhd-esp32", "ap_ssid": "mhd-esp32"}}
AUTH = HTTPDigestAuth("admin", "letmein123")


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(BOARD))
    return path


def start(serve, config, *extra):
    return serve("--config", str(config), "--port", 0, *extra, script=SCRIPT)


def post(srv, auth=AUTH, **fields):
    return requests.post("http://127.0.0.1:%d/" % srv.port, data=fields, auth=auth, timeout=10)


def get(srv, path="/", auth=AUTH, method="GET"):
    return requests.request(method, "http://127.0.0.1:%d%s" % (srv.port, path), auth=auth, data=b"x" if method == "PUT"
                            else None, timeout=10)


def saved(config, ssid, password):
    want = json.loads(json.dumps(BOARD))
    want["wifi"].update(ssid=ssid, password=password)
    assert json.loads(config.read_text()) == want
    assert os.listdir(config.parent) == ["config.json"]  # no temporary file left


def test_form_page(serve, config):
    srv = start(serve, config)
    r = get(srv)
    page = r.text
    assert (r.status_code, r.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert '<form method="post" action="/">' in page and 'name="ssid"' in page
    assert 'name="password" type="password"' in page and 'name="viewport"' in page
    assert "http" not in page and "src=" not in page  # no external assets
    assert len(r.content) < 2000
    assert request(srv.port, "/other").status == 404
    r = get(srv, method="PUT")
    assert (r.status_code, r.headers["allow"]) == (405, "GET, HEAD, POST")


def test_good_post_from_requests(serve, config):
    srv = start(serve, config)
    r = post(srv, ssid="Home net é", password="secret123")
    assert r.status_code == 200 and "Saved" in r.text and "Home net é" in r.text, r.text
    saved(config, "Home net é", "secret123")
    assert 'value="Home net é"' in get(srv).text  # the form shows it now
    r = post(srv, ssid="cafe")  # no password: an open network
    assert r.status_code == 200 and "an open network" in r.text
    saved(config, "cafe", "")


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_good_post_from_curl(serve, config):
    srv = start(serve, config)
    out = subprocess.run([CURL, "-sS", "-w", "\n%{http_code}", "--digest", "-u", "admin:letmein123", "-d", "ssid=office+2",
                          "-d", "password=12345678", "http://127.0.0.1:%d/" % srv.port], capture_output=True, timeout=10)
    body, code = out.stdout.decode().rsplit("\n", 1)
    assert code == "200" and "office 2" in body, out
    saved(config, "office 2", "12345678")


@pytest.mark.parametrize("fields, wrong", [
    ({"ssid": "", "password": "secret123"}, "Wi-Fi name"),
    ({"password": "secret123"}, "Wi-Fi name"),
    ({"ssid": "x" * 33}, "Wi-Fi name"),
    ({"ssid": "é" * 17}, "Wi-Fi name"),  # 17 characters, 34 bytes
    ({"ssid": "home", "password": "short"}, "password"),
    ({"ssid": "home", "password": "p" * 64}, "password"),
])
def test_bad_fields(serve, config, fields, wrong):
    srv = start(serve, config)
    r = post(srv, **fields)
    assert r.status_code == 400 and wrong in r.text and 'class="bad"' in r.text, r.text
    assert json.loads(config.read_text()) == BOARD
    assert post(srv, ssid="x" * 32, password="p" * 63).status_code == 200  # the longest allowed


def test_ssid_shown_escaped(serve, config):
    srv = start(serve, config)
    nasty = '<b>"x"</b> & \'q\''  # 18 bytes: a valid name
    r = post(srv, ssid=nasty, password="secret123")
    escaped = "&lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; &#39;q&#39;"
    assert r.status_code == 200 and escaped in r.text and "<b>" not in r.text
    saved(config, nasty, "secret123")
    page = get(srv).text
    assert 'value="%s"' % escaped in page and "<b>" not in page
    r = post(srv, ssid=nasty, password="short")  # shown back escaped with the error too
    assert r.status_code == 400 and escaped in r.text and "<b>" not in r.text


def test_no_config_yet_and_a_broken_one(serve, tmp_path):
    config = tmp_path / "config.json"
    srv = start(serve, config)
    made = json.loads(config.read_text())["settings_password"]  # first boot: a password made and saved
    assert len(made) == 12
    auth = HTTPDigestAuth("admin", made)
    assert get(srv, auth=auth).status_code == 200
    assert post(srv, auth=auth, ssid="first", password="").status_code == 200
    assert json.loads(config.read_text()) == {"settings_password": made, "wifi": {"ssid": "first", "password": ""}}
    config.write_text("{not json")
    assert post(srv, auth=auth, ssid="again", password="").status_code == 200
    assert json.loads(config.read_text()) == {"wifi": {"ssid": "again", "password": ""}}


def test_password_needed(serve, config):
    srv = start(serve, config)
    r = request(srv.port, "/")
    assert r.status == 401 and "password" in r.body.decode()
    offered = [v for n, v in r.headers if n == "www-authenticate"]
    assert [v.split("algorithm=")[1].split(",")[0] for v in offered] == ["MD5", "SHA-256"]
    assert all(v.startswith('Digest realm="Board settings", qop="auth"') for v in offered)
    for auth in (None, HTTPDigestAuth("admin", "wrong"), HTTPDigestAuth("root", "letmein123"),
                 HTTPBasicAuth("admin", "letmein123")):  # Basic is not what this board asks for
        assert get(srv, auth=auth).status_code == 401
        assert post(srv, auth=auth, ssid="evil", password="").status_code == 401
    assert json.loads(config.read_text()) == BOARD
    if CURL:
        out = subprocess.run([CURL, "-s", "-o", "/dev/null", "-w", "%{http_code}", "--digest", "-u", "admin:letmein123",
                              "http://127.0.0.1:%d/" % srv.port], capture_output=True, timeout=10)
        assert out.stdout == b"200"


def test_basic_on_request_and_the_access_point_password(serve, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"settings_auth": "basic", "settings_user": "me",
                                  "wifi": {"ssid": "", "ap_password": "apsecret1"}}))
    srv = start(serve, config)
    r = request(srv.port, "/")
    assert r.status == 401 and r.header("www-authenticate") == 'Basic realm="Board settings", charset="UTF-8"'
    assert get(srv, auth=HTTPBasicAuth("me", "wrong")).status_code == 401
    assert get(srv, auth=HTTPBasicAuth("me", "apsecret1")).status_code == 200
    assert post(srv, auth=HTTPBasicAuth("me", "apsecret1"), ssid="home", password="").status_code == 200
    assert "settings_password" not in json.loads(config.read_text())  # nothing made: the AP's is used


# As a board runs it: the app as .mpy next to the core as .mpy, 4 connections of 2 KiB. The
# form loads post.py and post_parser.py (and json), the password check auth_parser.py and
# auth_digest.py: 184K is the smallest heap (in steps of 8K) that asked for the password,
# served the page and saved a form with 4 connections of 2 KiB on this 64-bit unix port (176K:
# MemoryError loading a module at the first form; without the password check 136K was
# enough); the test runs at 208K, as a first-use load near the edge may fail on a fragmented
# heap (see tests/test_upload_example.py).
@pytest.mark.parametrize("runtime", ["micropython"], indirect=True)
def test_as_mpy_in_a_small_heap(serve, runtime, mpy_tree, config, tmp_path):
    mpyc = mpy_cross_cmd()
    require(mpyc, "mpy-cross is missing")
    tree = tmp_path / "tree"
    tree.mkdir()
    os.symlink(os.path.join(mpy_tree, "mhd_micro"), str(tree / "mhd_micro"))
    subprocess.check_call([mpyc, "-s", "settings.py", "-o", str(tree / "settings.mpy"), os.path.join(ROOT, SCRIPT)])
    srv = serve("--config", str(config), "--port", 0, "--connections", 4, script="-m settings", cwd=str(tree), heap="208K")
    assert request(srv.port, "/").status == 401
    assert get(srv).status_code == 200
    assert post(srv, ssid="board", password="secret123").status_code == 200
    assert post(srv, ssid="board", password="short").status_code == 400
    assert json.loads(config.read_text())["wifi"]["ssid"] == "board"


def board_dir(tmp_path, **cfg):
    """A board's filesystem on this machine: boards/common/main.py, a stand-in wifi.py whose
    up() answers as after a failed join (its own access point), the settings page, hello.py
    as the app, and the repository's core."""
    board = tmp_path / "board"
    board.mkdir()
    shutil.copy(os.path.join(ROOT, "boards", "common", "main.py"), str(board / "main.py"))
    shutil.copy(os.path.join(ROOT, SCRIPT), str(board / "settings.py"))
    shutil.copy(os.path.join(ROOT, "examples", "hello.py"), str(board / "app.py"))
    (board / "wifi.py").write_text('def up(cfg):\n    return "ap", "192.168.4.1"\n')
    for name in ("mhd_micro", "port_cpython"):
        os.symlink(os.path.join(ROOT, name), str(board / name))
    base = {"board": "vb", "app": "app", "port": 0, "connections": 4, "conn_memory": 2048,
            "wifi": {"ssid": "", "password": "", "ap_fallback": True, "ap_ssid": "mhd-vb", "ap_password": "mhd-micro"}}
    base.update(cfg)
    (board / "config.json").write_text(json.dumps(base))
    return board, base


@pytest.mark.parametrize("runtime", ["micropython"], indirect=True)  # main.py: gc.mem_free
def test_board_on_its_access_point_serves_the_settings_page(serve, runtime, tmp_path):
    board, cfg = board_dir(tmp_path)
    srv = serve(script="main.py", cwd=str(board))
    auth = HTTPDigestAuth("admin", "mhd-micro")  # the password of the board's access point
    assert 'name="ssid"' in get(srv, auth=auth).text
    assert post(srv, auth=auth, ssid="home", password="secret123").status_code == 200
    cfg["wifi"].update(ssid="home", password="secret123")
    assert json.loads((board / "config.json").read_text()) == cfg  # the board's other settings kept


@pytest.mark.parametrize("runtime", ["micropython"], indirect=True)  # main.py: gc.mem_free
def test_board_settings_page_can_be_turned_off(serve, runtime, tmp_path):
    board, _ = board_dir(tmp_path, settings_page=False)
    srv = serve(script="main.py", cwd=str(board))
    assert request(srv.port, "/").body == b"Hello, world!"
