# A stand-in for MicroPython's esp32 module, for examples/upload.py --ota off a board (on
# MicroPython's unix port or CPython, with this directory in MICROPYPATH or PYTHONPATH).
# What the example does to the partition goes to files in $ESP32_STANDIN_DIR (default "."),
# for the test to read: image.bin (the blocks, at block * 4096) and log.txt (one line a call:
# "writeblocks N LEN", "set_boot NAME").
import os

_DIR = os.getenv("ESP32_STANDIN_DIR") or "."
BLOCK = 4096


def _log(line):
    with open(_DIR + "/log.txt", "a") as f:
        f.write(line + "\n")


class Partition:
    RUNNING = 1
    BOOT = 0

    def __init__(self, which):
        self.name = "ota_0" if which == Partition.RUNNING else which

    def get_next_update(self):
        return Partition("ota_1")

    def writeblocks(self, block, buf):
        # the caller reuses buf: what it holds now is written (copied) now, as flash would be
        try:
            f = open(_DIR + "/image.bin", "r+b")
        except OSError:
            f = open(_DIR + "/image.bin", "wb")
        f.seek(block * BLOCK)
        f.write(buf)
        f.close()
        _log("writeblocks %d %d" % (block, len(buf)))

    def set_boot(self):
        _log("set_boot " + self.name)
