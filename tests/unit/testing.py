"""Test doubles for the unit tests, in the MicroPython/CPython common subset."""
try:
    import unittest
except ImportError:  # MicroPython's unix port has no unittest
    import microtest as unittest  # noqa: F401

from mhd_micro.request import Request


CLIENT = ("127.0.0.1", 40000)


class _Conn:
    """Enough of a Connection for the parser: a buffer and a daemon with options."""

    def __init__(self, size=1024):
        self.buf = bytearray(size)
        self.daemon = _Daemon()
        self.addr = CLIENT  # as a bare-metal port's accept gives it


class _Daemon:
    strict = 0
    no_cookies = False
    no_plus = False


def request_over(raw, size=1024):
    """A fresh Request whose connection buffer holds `raw`. Returns (request, buf, len)."""
    c = _Conn(size)
    c.buf[0:len(raw)] = raw
    r = Request(size, 32)
    r.conn = c
    return r, c.buf, len(raw)
