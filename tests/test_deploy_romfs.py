"""tools/deploy.py --romfs: the bundle's ROMFS image instead of its .mpy files. The virtual board
has no ROMFS partition, so the image travels as a file and main.py mounts it at /rom; the core
must then come from /rom, with no mhd_micro/ on the board's filesystem. A real board's
`mpremote romfs deploy` is tried against the virtual board too: it has no partition, and
deploy.py must say which firmware is needed."""
import os
import re
import sys

import pytest

from conftest import free_port
from test_boards import TOOLS, VirtualBoard, dashboard_serves, make_bundle, tool

sys.path.insert(0, TOOLS)
import build  # noqa: E402
import deploy  # noqa: E402


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out, info, _ = make_bundle(tmp_path_factory.mktemp("bundle"), "vb-romfs", "--board", "rp2040", "--arch", "x64")
    return out


@pytest.fixture
def board(tmp_path):
    b = VirtualBoard(tmp_path)
    yield b
    b.stop()


def serve(board, bundle, *more):
    """Deploy on a free port and wait until the app listens: (port, deploy.py's output)."""
    port = free_port()
    since = len(board.output())
    text = board.deploy(bundle, port, *more)
    board.wait_for(r"listening on port %d" % port, since)
    return port, text


def core_file(board):
    """Where the running app's mhd_micro came from."""
    out = board.exec("import sys; print('FILE', sys.modules['mhd_micro'].__file__)")
    return re.search(r"FILE (\S+)", out).group(1)


def test_romfs_image_serves_from_rom_on_a_virtual_board(board, bundle):
    # first the files, as a plain deploy leaves them: --romfs must remove them
    serve(board, bundle)
    assert os.path.isdir(os.path.join(board.root, "mhd_micro"))

    port, text = serve(board, bundle, "--romfs")
    # the image and what changed of main.py, wifi, radio, app, settings, config: no .mpy of the core
    assert re.search(r"copied \d+ of 7 files", text), text
    dashboard_serves(port)  # the Pico W's default app
    assert not os.path.exists(os.path.join(board.root, "mhd_micro"))
    with open(os.path.join(bundle, build.ROMFS_FILE), "rb") as f, \
            open(os.path.join(board.root, build.ROMFS_FILE), "rb") as g:
        assert f.read() == g.read()
    assert core_file(board) == "/rom/mhd_micro/__init__.mpy"

    # a plain deploy again removes the image (main.py would mount it before the files)
    serve(board, bundle)
    assert not os.path.exists(os.path.join(board.root, build.ROMFS_FILE))
    assert core_file(board) == "./mhd_micro/__init__.mpy"

    # a board without a ROMFS partition: mpremote says so, deploy.py says what firmware it needs
    with pytest.raises(deploy.DeployError) as e:
        deploy.romfs_deploy(board.device, os.path.join(bundle, build.ROMFS_FILE), "esp32", 60)
    assert "no ROMFS partition" in str(e.value) and "partitions-4MiB-romfs.csv" in str(e.value), e.value


def test_romfs_dry_run_says_what_it_would_do(bundle):
    rc, text = tool(os.path.join(TOOLS, "deploy.py"), "--device", "/dev/ttyUSB0", "--bundle", bundle,
                    "--board", "esp32", "--romfs", "--dry-run")
    assert rc == 0, text
    assert "would run: mpremote connect /dev/ttyUSB0 romfs deploy %s" % os.path.join(bundle, build.ROMFS_FILE) in text
    assert "mhd_micro/" not in text.split("would compare and copy:")[1], text
    rc, text = tool(os.path.join(TOOLS, "deploy.py"), "--device", "socket://127.0.0.1:1", "--bundle", bundle,
                    "--romfs", "--dry-run")
    assert rc == 0, text
    assert "as a file (no ROMFS partition: main.py mounts it at /rom)" in text
    assert build.ROMFS_FILE in text.split("would compare and copy:")[1], text
    rc, text = tool(os.path.join(TOOLS, "deploy.py"), "--device", "/dev/ttyUSB0", "--bundle", bundle,
                    "--romfs", "--no-bundle", "--dry-run")
    assert rc == 2 and "not with --no-bundle" in text, text
