# Responses from files and pipes: response_from_fd and response_from_pipe. An optional
# module (feature "large_file" covers offsets past 2 GiB): the core never imports it.
#
# A file is read through the connection's buffer (readinto at the right offset every time,
# so one reusable response can be sent to many clients at once); on CPython a plain
# socket gets os.sendfile instead. The file is closed when the response is destroyed, and
# at once if the constructor fails. MicroPython has no fd-level I/O: there `fd` is a file
# object opened in binary mode; on CPython it may be either.
import os

from . import platform as _pf
from . import response as _resp

_TWO_GIB = 0x7FFFFFFF


def large_file_supported():
    """Offsets and sizes past 2 GiB: where the platform has them and the build keeps them."""
    from .features import LARGE_FILE
    return LARGE_FILE and _pf.HAS_LARGE_FILE


def _close(fd):
    try:
        if isinstance(fd, int):
            os.close(fd)
        else:
            fd.close()
    except (OSError, AttributeError):
        pass


class Source:
    """Where a K_READER response's body comes from: a file region or a pipe."""

    def __init__(self, fd, offset, pipe):
        self.fd = fd
        self.offset = offset
        self.pipe = pipe
        self.sendfile = self._sendfile if _pf.HAS_SENDFILE and not pipe else None

    def read(self, pos, mv):
        """Read into mv the body bytes from `pos` on; 0 at the end."""
        fd = self.fd
        if self.pipe:
            if isinstance(fd, int):
                return os.readv(fd, [mv])
            return fd.readinto(mv) or 0
        off = self.offset + pos
        if isinstance(fd, int):
            return os.preadv(fd, [mv], off)
        fd.seek(off)  # the file may be shared by several connections: always seek
        return fd.readinto(mv) or 0

    def _sendfile(self, sock, pos, n):
        fd = self.fd
        return _pf.sendfile(sock, fd if isinstance(fd, int) else fd.fileno(), self.offset + pos, n)

    def close(self):
        _close(self.fd)


def _file_size(fd):
    if isinstance(fd, int):
        return os.fstat(fd)[6]
    here = fd.seek(0, 1)
    end = fd.seek(0, 2)
    fd.seek(here)
    return end


def response_from_fd(sc, fd, offset=0, size=_resp.SIZE_UNKNOWN):
    """Body: `size` bytes of the regular file `fd` from `offset` (SIZE_UNKNOWN: to the end).
    None on error (the file is then closed): bad status, offset or size past the file's end,
    past 2 GiB where large files are not supported, or an empty response pool."""
    try:
        total = _file_size(fd)
        if size == _resp.SIZE_UNKNOWN:
            size = total - offset
        if offset < 0 or size < 0 or offset + size > total:
            raise ValueError("range past the end of the file")
        if offset + size > _TWO_GIB and not large_file_supported():
            raise ValueError("large files are not supported here")
        if not isinstance(fd, int) and not hasattr(fd, "readinto"):
            raise ValueError("not a file")
    except (OSError, ValueError, AttributeError, TypeError):
        _close(fd)
        return None
    r = _resp._new(sc, _resp.K_READER, Source(fd, offset, False), size)
    if r is None:
        _close(fd)
    return r


def response_from_pipe(sc, fd):
    """Body: everything read from the pipe `fd` until its end (size unknown: chunked for
    HTTP/1.1, close-delimited for HTTP/1.0). Reads block the daemon while the writer is
    slow, as MHD's single-threaded mode does. Use a response once. None where the platform
    has no pipes (LIB_INFO_FIXED says so) or on error."""
    if not _pf.HAS_PIPE:
        _close(fd)
        return None
    r = _resp._new(sc, _resp.K_READER, Source(fd, 0, True), _resp.SIZE_UNKNOWN)
    if r is None:
        _close(fd)
    return r
