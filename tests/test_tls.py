"""HTTPS (mhd_micro/tls.py: D_OPTION_TLS, D_OPTION_TLS_CERT_KEY) on both runtimes, with a
certificate made by openssl in the test run: curl, requests and openssl s_client as clients;
keep-alive; a file response (no sendfile under TLS); clients that stall mid-handshake while
others are served, closed by the handshake deadline; the TLS connection limit; wss:// through
the WebSocket module (examples/ws_echo.py); the options' refusals and the infos."""
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time

import pytest
import requests

from conftest import ROOT, require

HOST = "127.0.0.1"


def _openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """(cert, key) PEM paths: a self-signed EC P-256 certificate for localhost and
    127.0.0.1, and an RSA 2048 one, made now."""
    require(shutil.which("openssl"), "openssl is not installed")
    d = tmp_path_factory.mktemp("tls")
    made = {}
    for kind, newkey in (("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]),
                         ("rsa", ["-newkey", "rsa:2048"])):
        cert, key = str(d / (kind + ".crt")), str(d / (kind + ".key"))
        _openssl("req", "-x509", *newkey, "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                 "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
        made[kind] = (cert, key)
    # a key as `openssl ecparam -genkey` writes it (an EC PARAMETERS block first), its certificate
    # with text before its PEM block, as openssl x509 -text writes it
    ecp_key, ecp_cert = str(d / "ecparam.key"), str(d / "ecparam.crt")
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-out", ecp_key)
    _openssl("req", "-x509", "-key", ecp_key, "-out", ecp_cert + ".pem", "-days", "2", "-subj", "/CN=localhost")
    _openssl("x509", "-in", ecp_cert + ".pem", "-text", "-out", ecp_cert)
    made["ecparam"] = (ecp_cert, ecp_key)
    # the EC key again, encrypted with the password "secret"
    _openssl("pkey", "-in", made["ec"][1], "-aes256", "-passout", "pass:secret", "-out", str(d / "ec_enc.key"))
    made["ec_enc"] = (made["ec"][0], str(d / "ec_enc.key"))
    return made


def client_ctx(cert):
    ctx = ssl.create_default_context(cafile=cert)
    return ctx


def tls_connect(port, cert, timeout=10.0):
    raw = socket.create_connection((HOST, port), timeout=timeout)
    return client_ctx(cert).wrap_socket(raw, server_hostname="localhost")


def read_response(s):
    """One response with Content-Length from TLS socket s: (head, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        assert chunk, "closed before a response: %r" % data
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    n = int([ln.split(b":")[1] for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length:")][0])
    while len(body) < n:
        chunk = s.recv(4096)
        assert chunk
        body += chunk
    return head, body


def get_over(s, target="/"):
    s.sendall(b"GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % target.encode())
    return read_response(s)


def https_get(port, cert, target="/", timeout=20):
    return requests.get("https://127.0.0.1:%d%s" % (port, target), verify=cert, timeout=timeout)


def start(serve, certs, *args, kind="ec"):
    cert, key = certs[kind]
    return serve("--port", 0, "--cert", cert, "--key", key, *args)


# -- clients --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_curl_requests_s_client(serve, certs, runtime, kind):
    require(shutil.which("curl"), "curl is not installed")
    cert = certs[kind][0]
    srv = start(serve, certs, kind=kind)
    out = subprocess.run(["curl", "-sS", "--cacert", cert, "https://localhost:%d/" % srv.port,
                          "--resolve", "localhost:%d:127.0.0.1" % srv.port], capture_output=True, timeout=30)
    assert out.stdout == b"Hello, world!", out.stderr
    r = https_get(srv.port, cert, "/echo")
    assert r.status_code == 200 and r.text == "/echo 1 0"
    # the connection's TLS version in its info: OpenSSL negotiates 1.3, this mbedTLS 1.2 only;
    # its socket (CONNECTION_INFO_FIXED_CONNECTION_SOCKET) is the TLS one, not the plain one under it
    r = https_get(srv.port, cert, "/tls")
    assert r.text == ("0 5 True" if runtime == "cpython" else "0 4 True"), r.text
    sc = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.port, "-CAfile", cert,
                         "-verify_return_error", "-servername", "localhost", "-quiet"],
                        input=b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                        capture_output=True, timeout=30)
    assert sc.stdout.startswith(b"HTTP/1.1 200 OK\r\n") and sc.stdout.endswith(b"Hello, world!"), sc.stderr
    # a plain-HTTP client on the TLS port gets no answer, and the server goes on
    with socket.create_connection((HOST, srv.port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(3)
        try:
            got = s.recv(4096)  # a TLS alert, a close, or nothing (mbedTLS waits for the "record")
        except (ConnectionResetError, socket.timeout):
            got = b""
        assert b"HTTP" not in got
    assert https_get(srv.port, cert).text == "Hello, world!"


def test_keep_alive_and_large_bodies(serve, certs):
    cert = certs["ec"][0]
    srv = start(serve, certs)
    with tls_connect(srv.port, cert) as s:
        for target in ("/", "/echo", "/big?n=100000", "/", "/chunked"[:0] or "/tls"):
            head, body = get_over(s, target)
            assert head.startswith(b"HTTP/1.1 200"), head
            if target.startswith("/big"):
                assert body == b"x" * 100000
        # pipelined: two requests in one TLS record
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\nGET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert read_response(s)[1] == b"Hello, world!"
        assert read_response(s)[1] == b"/echo 1 0"


def test_file_response_not_sent_with_sendfile(serve, certs):
    """response_from_fd goes out through TLS (read + send): sendfile would write plain bytes
    under the TLS stream (CPython has sendfile; the client would fail to decrypt)."""
    cert = certs["ec"][0]
    srv = start(serve, certs)
    with open(os.path.join(ROOT, "tests", "apps", "app.py"), "rb") as f:
        want = f.read()
    r = https_get(srv.port, cert, "/file")
    assert r.status_code == 200 and r.content == want


def test_uploads(serve, certs):
    """Request bodies through TLS: many records, read in pieces through 2 KiB buffers, with
    Content-Length and chunked (tests/apps/upload_app.py)."""
    import hashlib
    cert, key = certs["ec"]
    srv = serve("--port", 0, "--cert", cert, "--key", key, "--conn-memory", 2048, script="tests/apps/upload_app.py")
    body = bytes(range(256)) * 1200  # 300 KiB
    want = "size=%d sha256=%s" % (len(body), hashlib.sha256(body).hexdigest())
    url = "https://127.0.0.1:%d/inc" % srv.port
    r = requests.post(url, data=body, verify=cert, timeout=60)
    assert r.status_code == 200 and want in r.text, r.text
    r = requests.post(url, data=iter([body[i:i + 50000] for i in range(0, len(body), 50000)]), verify=cert, timeout=60)
    assert r.status_code == 200 and want in r.text, r.text  # chunked


# -- the handshake never stalls the daemon -------------------------------------------------------
def half_client_hello():
    """The first half of a real ClientHello (made by CPython's ssl in memory)."""
    ctx = ssl.create_default_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    hello = out.read()
    return hello[:len(hello) // 2]


def closed_within(s, limit):
    """Seconds until the server closes s (None if it is still open after `limit`)."""
    s.settimeout(limit)
    t0 = time.time()
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        return None
    except ConnectionResetError:
        pass
    return time.time() - t0


def test_stalled_handshakes_do_not_block_others_and_time_out(serve, certs):
    cert = certs["ec"][0]
    deadline = 5
    srv = start(serve, certs, "--tls-handshake", deadline, "--tls-limit", 8)
    t0 = time.time()
    silent = socket.create_connection((HOST, srv.port), timeout=10)  # connects, sends nothing
    half = socket.create_connection((HOST, srv.port), timeout=10)
    half.sendall(half_client_hello())  # and one that stops mid-ClientHello
    time.sleep(0.3)
    # meanwhile, others are served, on new connections and in parallel
    results = []

    def one():
        results.append(https_get(srv.port, cert).text)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == ["Hello, world!"] * 4
    # ...while both stalled clients still held their slots (the deadline had not come)
    assert time.time() - t0 < deadline - 0.5, "the stalled handshakes held the others up"
    # the deadline closes both stalled clients: not before it, and not long after
    for s in (silent, half):
        t = closed_within(s, 15)
        assert t is not None, "a stalled handshake was never closed"
        assert deadline - 0.5 <= time.time() - t0 <= deadline + 4, time.time() - t0
        s.close()
    assert https_get(srv.port, cert).text == "Hello, world!"


def test_tls_connection_limit(serve, certs):
    """--tls-limit 2 with 8 connections allowed: two clients in the middle of a reply hold
    both TLS slots (they do not read it: a connection mid-reply is never reclaimed, unlike an
    idle one or one trickling its head); a third waits (in the listen backlog) until one of
    them leaves."""
    cert = certs["ec"][0]
    srv = start(serve, certs, "--tls-limit", 2, "--connections", 8)
    held = [tls_connect(srv.port, cert) for _ in range(2)]
    for s in held:
        s.sendall(b"GET /stream?n=100000000 HTTP/1.1\r\nHost: localhost\r\n\r\n")
    time.sleep(0.5)
    third = {}

    def connect_third():
        try:
            s = tls_connect(srv.port, cert, timeout=30)
            third["t"] = time.time()
            third["body"] = get_over(s)[1]
            s.close()
        except Exception as e:  # reported below
            third["error"] = e

    t = threading.Thread(target=connect_third)
    t.start()
    t.join(3.0)  # past the 2 s after which a trickling head would give way
    assert "t" not in third and "error" not in third, "a third TLS connection got in: %r" % third
    released = time.time()
    held[0].close()  # the server's next send fails: the slot is free
    t.join(30)
    assert third.get("body") == b"Hello, world!", third
    assert third["t"] >= released
    held[1].close()


def test_per_ip_limit_closes_a_tls_client(serve, certs):
    """Over the per-IP limit a plain client reads a 503 (test_exhaustion.py); a TLS client
    cannot read a 503 sent in plain text, so it is closed before any handshake."""
    cert = certs["ec"][0]
    srv = start(serve, certs, "--per-ip", 1)
    first = tls_connect(srv.port, cert)
    assert get_over(first)[1] == b"Hello, world!"
    with pytest.raises((ssl.SSLEOFError, ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        get_over(tls_connect(srv.port, cert))
    assert get_over(first)[1] == b"Hello, world!"  # the first goes on
    first.close()


# -- wss:// through the WebSocket module --------------------------------------------------------
def test_wss_echo(serve, certs):
    from websockets.sync.client import connect as ws_connect
    cert, key = certs["ec"]
    srv = serve("--port", 0, "--cert", cert, "--key", key, script="examples/ws_echo.py")
    with ws_connect("wss://localhost:%d/" % srv.port, ssl=client_ctx(cert), max_size=None, open_timeout=20) as c:
        c.send("hello over TLS")
        assert c.recv(timeout=20) == "hello over TLS"
        c.send(bytes(range(256)))
        assert c.recv(timeout=20) == bytes(range(256))
        big = bytes(range(256)) * 1024  # 256 KiB: many TLS records, through 4 KiB buffers
        c.send(big)
        assert c.recv(timeout=60) == big
        c.ping(b"still there").wait(20)
    assert c.close_code == 1000


# -- options, refusals and infos ----------------------------------------------------------------
def test_options_and_infos(runtime, certs, tmp_path):
    """tests/apps/tls_options.py on the runtime: what each option and info answers."""
    from conftest import micropython_cmd
    cert, key = certs["ec"]
    bad = tmp_path / "bad.pem"
    bad.write_bytes(b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    cmd = [sys.executable] if runtime == "cpython" else [micropython_cmd()]
    out = subprocess.run(cmd + ["tests/apps/tls_options.py", cert, key, str(bad), certs["ec_enc"][1]]
                         + list(certs["ecparam"]), cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    sc = {"OK": 0, "TLS_BACKEND_UNSUPPORTED": 60030, "TLS_CONF_BAD_CERT": 60033,
          "TLS_DAEMON_INIT_FAILED": 51200, "TLS_BACKEND_DAEMON_INCOMPATIBLE_SETTINGS": 60034}
    assert got["cert_key_none"] == sc["TLS_CONF_BAD_CERT"]
    assert got["cert_key_empty"] == sc["TLS_CONF_BAD_CERT"]
    assert got["no_cert"] == sc["TLS_CONF_BAD_CERT"]
    assert got["gnutls"] == sc["TLS_BACKEND_UNSUPPORTED"]
    assert got["openssl"] == (sc["OK"] if runtime == "cpython" else sc["TLS_BACKEND_UNSUPPORTED"])
    assert got["bad_cert"] == sc["TLS_DAEMON_INIT_FAILED"]
    # an encrypted key: OpenSSL reads it with the right password; this mbedTLS reads none
    if runtime == "cpython":
        assert got["password"] == sc["OK"] and got["wrong_password"] == sc["TLS_DAEMON_INIT_FAILED"]
    else:
        assert got["password"] == got["wrong_password"] == sc["TLS_BACKEND_DAEMON_INCOMPATIBLE_SETTINGS"]
    assert got["any"] == sc["OK"]
    assert got["ecparam_and_text"] == sc["OK"]  # PEM blocks found among others and text
    assert got["crlf"] == sc["OK"]
    assert got["daemon_backend"] == [0, 3 if runtime == "cpython" else 1]  # TLS_BACKEND_OPENSSL / _ANY (mbedTLS)
    assert got["plain_backend"] == [0, 0]  # TLS_BACKEND_NONE
    assert got["lib_backends"] == [0, [True, False, runtime == "cpython"]]
    assert got["lib_password_backends"] == [0, [runtime == "cpython", False, runtime == "cpython"]]
    assert got["features_tls"] is True


def test_a_build_without_tls(tmp_path):
    """tools/build.py --without tls leaves tls.py out; on MicroPython that build answers
    D_OPTION_TLS with SC_TLS_DISABLED at start, and lib info says no TLS (MHD2 built without
    HTTPS does the same)."""
    from conftest import micropython_cmd
    out = str(tmp_path / "notls")
    p = subprocess.run([sys.executable, "tools/build.py", "--name", "notls", "--out", out, "--arch", "x64",
                        "--without", "tls"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert not os.path.exists(os.path.join(out, "mhd_micro", "tls.mpy"))
    assert os.path.exists(os.path.join(out, "mhd_micro", "connection.mpy"))
    script = ("import mhd_micro as mhd\n"
              "d = mhd.daemon_create(lambda *a: None)\n"
              "rc = mhd.DAEMON_SET_OPTIONS(d, mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, 0), mhd.D_OPTION_TLS(mhd.TLS_BACKEND_ANY),"
              " mhd.D_OPTION_TLS_CERT_KEY(b'c', b'k', None))\n"
              "print(rc, mhd.daemon_start(d), mhd.lib_get_info_fixed(mhd.LIB_INFO_FIXED_TLS_BACKENDS))\n")
    p = subprocess.run([micropython_cmd(), "-c", script], cwd=out, capture_output=True, text=True, timeout=60)
    assert p.stdout.split("\n")[-2] == "0 50000 (0, (False, False, False))", p.stdout + p.stderr  # SC_TLS_DISABLED
