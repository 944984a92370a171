# The package's one module loader. Parts of mhd_micro that only some servers need are
# imported the first time they are needed: the engine's strictness rules, chunked framing,
# request bodies, error replies, multi-part bodies, the log, suspend and resume; the API's
# modules (through __init__.__getattr__); the optional features (libinfo asks whether they
# are present). Setup code is let go once the daemon has started.
#
# The entry points are load(name), drop(name), is_loaded(name) and present(name), over one cache: a module is
# either in it (and in sys.modules) or in neither, so no two copies of a module are alive.
import sys

_PKG = __name__[:__name__.rfind(".") + 1]  # "mhd_micro."
_loaded = {}


def load(name):
    """The submodule mhd_micro.<name>, imported once and then kept."""
    m = _loaded.get(name)
    if m is None:
        full = _PKG + name
        __import__(full)
        m = _loaded[name] = sys.modules[full]
    return m


def is_loaded(name):
    return name in _loaded


def drop(name):
    """Let mhd_micro.<name> go: from the cache, sys.modules and the package (importing a
    submodule makes it an attribute of its package too). Loading it again re-imports it."""
    _loaded.pop(name, None)
    sys.modules.pop(_PKG + name, None)
    pkg = sys.modules.get(_PKG[:-1])
    if pkg is not None:
        try:
            delattr(pkg, name)
        except (AttributeError, KeyError, TypeError):  # not there (MicroPython: KeyError), or fixed
            pass


def present(name):
    """Whether mhd_micro.<name> is in this build (a file, or frozen into the firmware). A
    module not loaded yet is let go again, so asking costs no memory."""
    if name in _loaded or _PKG + name in sys.modules:
        return True
    try:
        __import__(_PKG + name)
    except ImportError:
        return False
    drop(name)
    return True
