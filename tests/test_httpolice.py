"""HTTPolice (an outside checker of about 300 rules of RFC 7230-7235) on exchanges with the
server on both runtimes: no reply may earn an error notice. Comments on the application's
choices (no Content-Type on a test body...) are not the engine's and are not judged."""
import os
import shutil
import subprocess
import sys

from conftest import require
from wire import exchange

HTTPOLICE = os.path.join(os.path.dirname(sys.executable), "httpolice")
REQUESTS = {
    "reusable": b"GET /reusable HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nConnection: close\r\n\r\n",
    "head": b"HEAD /reusable HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nConnection: close\r\n\r\n",
    "chunked_footer": b"GET /cb/footer?n=600&unknown=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nConnection: close\r\n\r\n",
    "chunked_ext": b"GET /cb/ext?n=700&unknown=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nConnection: close\r\n\r\n",
    "iovec": b"GET /iovec HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nConnection: close\r\n\r\n",
    "file_range": b"GET /fd?off=10&size=100 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nConnection: close\r\n\r\n",
    "no_content": b"GET /status?code=204 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nConnection: close\r\n\r\n",
    "not_modified": b"GET /status?code=304 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nIf-None-Match: \"x\"\r\nConnection: close\r\n\r\n",
    "not_found": b"GET /nope HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nConnection: close\r\n\r\n",
    "http10": b"GET /reusable HTTP/1.0\r\nUser-Agent: t\r\n\r\n",
    "http10_keep_alive": b"GET /http10-server HTTP/1.0\r\nUser-Agent: t\r\nConnection: close\r\n\r\n",
}


def test_replies_earn_no_error_notice(serve, tmp_path):
    require(os.path.exists(HTTPOLICE) or shutil.which("httpolice"),
            "httpolice is not installed (bash tools/setup.sh installs it: the test extra of pyproject.toml)")
    data_file = tmp_path / "data.bin"
    data_file.write_bytes(bytes(range(256)) * 4)
    srv = serve("--file", str(data_file), script="tests/apps/responses_app.py")
    tool = HTTPOLICE if os.path.exists(HTTPOLICE) else shutil.which("httpolice")
    for name, raw in REQUESTS.items():
        data, _ = exchange(srv.port, raw)
        assert data, name
        (tmp_path / (name + ".req")).write_bytes(raw)
        (tmp_path / (name + ".resp")).write_bytes(data)
        p = subprocess.run([tool, "-i", "streams", "--fail-on", "error", str(tmp_path / (name + ".req")),
                            str(tmp_path / (name + ".resp"))], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, (name, p.stdout, p.stderr)
