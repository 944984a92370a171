# The request: what the parser found, as offsets into the connection's buffer, and the path
# the request callback gets. The application's getters are in values.py.
#
# The entry points are Request (one per buffer of the daemon's pool, made at daemon start
# and reset for every request) and request_path.
from array import array

from .action import Action
from .lazy import load


class Request:
    # One per buffer of the daemon's pool (pools.py), lent with it to a connection: `lease` is
    # that (buffer, memoryview, read view, request) tuple (connection.new_lease), `conn` the
    # connection it is lent to.
    def __init__(self, size, nfields):
        self.conn = None
        self.lease = None
        self.action = Action(self)
        # (name start, name end, value start, value end) for each header field
        self.hdr = array("H" if size < 65536 else "I", bytearray((2 if size < 65536 else 4) * 4 * nfields))
        self.app_context = None
        self.path_key = None  # the last path's bytes and string (request_path)
        self.path = None
        self.post = None  # post.py's state, made the first time this request state parses a form
        # the parser's scratch for the current parse (parser.py): every attribute exists
        # from the start, so a first request does not grow the instance's dict
        self.end = self.strict = self.name_start = self.name_end = self.version_start = self.clean_end = 0
        self.reset()

    def reset(self):
        self.phase = 0  # 0: before the request line; 1: after it; 2: and the early URI logger ran
        self.line = 0
        self.head_start = 0
        self.body_start = 0
        self.empty_lines = 0
        self.nhdr = 0
        self.flags = 0
        self.cl = -1
        self.upload_size = 0
        self.received = 0
        self.chunk_left = -1
        self.nfooters = 0  # trailer fields, kept in hdr after the head's (VK_FOOTER)
        self.body_mode = 0  # what upload.py does with the body: read past it, or give it to the application
        self.got = 0  # body bytes given to the application, or collected for its full upload callback
        self.large_at = -1  # where this request's region of the daemon's large pool starts
        self.data_start = self.data_end = 0
        self.error = 0
        self.method = 0
        self.version = 0
        self.method_end = self.target_start = self.target_end = self.path_start = self.path_end = 0
        self.query_start = -1
        self.action.kind = 0
        self.action.response = None
        self.action.args = None
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
    if key is not None and r.path_end - r.path_start == len(key) and b.find(key, r.path_start, r.path_end) == r.path_start:
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
