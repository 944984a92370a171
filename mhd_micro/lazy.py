# Modules of the package loaded the first time the engine needs them: the strictness rules
# for unusual input, error replies, bodies, replies in more than one piece. A server that
# never meets them never pays their heap.
#
# The entry point is load(name): the submodule, imported once and then kept.
import sys

_PKG = __name__[:__name__.rfind(".") + 1]  # "mhd_micro."
_loaded = {}


def load(name):
    m = _loaded.get(name)
    if m is None:
        __import__(_PKG + name)
        m = _loaded[name] = sys.modules[_PKG + name]
    return m
