# The request: what the parser found, as offsets into the connection's buffer, and the path
# the request callback gets. The application's getters are in values.py.
#
# The entry points are Request (one per buffer of the daemon's pool, made at daemon start
# and reset for every request) and request_path.
from .platform import array
from .action import Action
from .lazy import load

_len = len  # a global of this module: found before the builtins, which MicroPython searches in order


class Request:
    # One per buffer of the daemon's pool (pools.py), lent with it to a connection: `lease` is
    # that (buffer, memoryview, read view, request) tuple (connection.new_lease), `conn` the
    # connection it is lent to.
    # At most 37 fields: MicroPython's next attribute table after 37 entries has 47 (160 bytes
    # more per buffer on 64-bit; tests/test_static_attrs.py holds the count).
    def __init__(self, size, nfields):
        self.conn = None
        self.lease = None
        self.action = Action(self)
        # (name start, name end, value start, value end) for each header field
        self.hdr = array("H" if size < 65536 else "I", bytearray((2 if size < 65536 else 4) * 4 * nfields))
        self.hdr_cap = 4 * nfields  # len(hdr), without a call to len() for each field
        self.app_context = None
        self.path_key = None  # the last path's bytes and string (request_path); parser._target_chars trusts these bytes
        self.path = None
        self.post = None  # post.py's state, made the first time this request state parses a form
        # the parser's scratch for the current parse (parser.py): every attribute exists
        # from the start, so a first request does not grow the instance's dict
        self.end = self.strict = self.version_start = self.clean_end = 0
        self.method_end = self.path_start = self.path_end = 0  # set by every parse before any read
        self.upload_size = self.body_mode = 1  # so that reset() sets the body's state too
        self.reset()

    def reset(self):
        # Only what a parse may read before writing it. The body's state changes only for a
        # request with a body or an upload action: a plain GET skips it.
        if self.upload_size or self.body_mode:
            self.received = self.data_start = self.data_end = 0
            self.nfooters = 0  # trailer fields, kept in hdr after the head's (VK_FOOTER)
            self.got = 0  # body bytes given to the application, or collected for its full upload callback
            self.body_mode = 0  # what upload.py does with the body: read past it, or give it to the application
            self.chunk_left = -1
            self.large_at = -1  # where this request's region of the daemon's large pool starts
        self.phase = 0  # 0: before the request line; 1: after it; 2: and the early URI logger ran
        # (head_start counts the empty lines before the request line until that line is found)
        self.line = self.head_start = self.body_start = self.nhdr = self.flags = 0
        self.upload_size = self.method = self.version = self.target_start = self.target_end = 0
        self.cl = self.query_start = -1
        a = self.action
        a.kind = 0
        a.response = a.args = None
        self.app_context = None


def text(mv):
    """The bytes of mv as str, or None when they are not UTF-8."""
    try:
        return str(mv, "utf-8")
    except (ValueError, UnicodeError):  # MicroPython raises UnicodeError, CPython its ValueError subclass
        return None


def request_path(r):
    """The path for the request callback. The last one is kept with its bytes, so a client
    asking for the same path again costs no new string."""
    b = r.conn.buf
    key = r.path_key
    if key is not None and r.path_end - r.path_start == _len(key) and b.find(key, r.path_start, r.path_end) == r.path_start:
        return r.path
    return _new_path(r, b)


def _new_path(r, b):
    s, e = r.path_start, r.path_end
    # few paths have escapes: values.py (loaded then) decodes those
    path = load("values").percent_decode(b, s, e, False) if b.find(b"%", s, e) >= 0 else text(memoryview(b)[s:e])
    if path is not None:
        r.path_key = bytes(memoryview(b)[r.path_start:r.path_end])
        r.path = path
    return path
