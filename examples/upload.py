# Uploads streamed to storage in constant memory: a firmware image, a log, a data file.
# Runs unchanged on CPython and MicroPython:
#
#   mkdir -p uploads
#   python3 examples/upload.py --dir uploads --port 8080
#   curl -T firmware.bin http://127.0.0.1:8080/upload/firmware.bin          # PUT, raw body
#   curl -F file=@firmware.bin http://127.0.0.1:8080/upload                  # a form's file field
#
# PUT or POST /upload/NAME takes the raw body (Content-Length or chunked) as NAME; POST
# /upload with a multipart form takes its file fields, each under its own file name. Each
# piece goes to the file as it arrives, through the connection's buffer: nothing holds a
# whole upload. The answer is "NAME size=N sha256=HEX", one line per file. Names are
# plain: no "/", no leading dot.
#
# The firmware-update pattern: on an ESP32 with an OTA partition table, --ota writes a raw
# upload to the next OTA partition (esp32.Partition) instead, and marks it to boot; the
# application then calls esp32.Partition.mark_app_valid_cancel_rollback() once it has
# started well. (--ota is written to MicroPython's esp32 API; it has run here only against
# a stand-in of that module in the tests, not on a board.)
#
# With --status, /_status answers the heap in use after a collection (MicroPython).
import os
import sys

sys.path.insert(0, ".")  # run from the repository root: find mhd_micro (as .py or .mpy) there
import mhd_micro as mhd

try:
    from hashlib import sha256
except ImportError:  # older MicroPython ports
    from uhashlib import sha256
from binascii import hexlify

_BLOCK = 4096  # an OTA partition is written in flash blocks
uploads = {}  # id(request) -> its Sink (one per request in progress)
# the constants the callbacks use, looked up once now: their tables load only for the lookup
PUT, POST = mhd.HTTP_METHOD_PUT, mhd.HTTP_METHOD_POST
MULTIPART, FORM_OK = mhd.HTTP_POST_ENCODING_MULTIPART_FORMDATA, mhd.POST_PARSE_RES_OK


class Sink:
    """Where one upload goes: a file, or with --ota the next OTA partition."""

    def __init__(self, name):
        self.name = name
        self.hash = sha256()
        self.size = 0
        self.part = None
        if OTA:
            import esp32
            self.part = esp32.Partition(esp32.Partition.RUNNING).get_next_update()
            self.block = bytearray(_BLOCK)
            self.fill = 0
            self.blocks = 0
        else:  # written under a name of its own: a broken upload never touches a good file
            self.part_name = "%s/.%s.%d.part" % (DIR, name, id(self))
            self.f = open(self.part_name, "wb")

    def write(self, data):
        self.hash.update(data)
        self.size += len(data)
        if self.part is None:
            self.f.write(data)
            return
        while data:  # whole blocks to the partition; writeblocks erases each before writing
            n = min(len(data), _BLOCK - self.fill)
            self.block[self.fill:self.fill + n] = data[:n]
            self.fill += n
            data = data[n:]
            if self.fill == _BLOCK:
                self.part.writeblocks(self.blocks, self.block)
                self.blocks += 1
                self.fill = 0

    def close(self, ok):
        """The upload ended (ok) or broke; returns the answer line."""
        if self.part is None:
            self.f.close()
            if ok:
                os.rename(self.part_name, DIR + "/" + self.name)
            else:
                os.remove(self.part_name)
        elif ok:
            if self.fill:
                self.block[self.fill:] = b"\xff" * (_BLOCK - self.fill)
                self.part.writeblocks(self.blocks, self.block)
            self.part.set_boot()
        return "%s size=%d sha256=%s" % (self.name, self.size, hexlify(self.hash.digest()).decode())


def valid(name):
    return bool(name) and "/" not in name and "\\" not in name and name[0] != "."


def answer(request, sc, text):
    return mhd.action_from_response(request, mhd.response_from_buffer_copy(sc, text.encode()))


def start(request, what):
    """A new upload for this request state; one left by a client that went away mid-upload
    (the request state is reused) is closed and its file removed."""
    stale = uploads.pop(id(request), None)
    for sink in (stale if isinstance(stale, list) else [stale]):
        if isinstance(sink, Sink):
            sink.close(False)
    uploads[id(request)] = what


def on_request(cls, request, path, method, upload_size):
    if path == "/_status" and STATUS:
        import gc
        gc.collect()
        return answer(request, 200, "%d" % (gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0))
    if method != PUT and method != POST:
        return answer(request, 405, "PUT or POST a file to /upload/NAME, or a form to /upload")
    if path == "/upload" and method == POST:  # a form: its file fields
        start(request, [])
        # every field streams (max_nonstream_size 0): the form's buffer only holds a part's names
        return mhd.action_parse_post(request, 128, 0, MULTIPART, on_field, None, on_form_done, None)
    name = path[8:] if path.startswith("/upload/") else ""
    if not valid(name):
        return answer(request, 404, "no such place: PUT or POST to /upload/NAME")
    start(request, Sink(name))
    return mhd.action_process_upload_inc(request, on_piece, None)


def on_piece(cls, request, size, data):
    """The raw body, piece by piece; size 0 at its end."""
    sink = uploads[id(request)]
    if size:
        sink.write(data)
        return mhd.upload_action_continue(request)
    del uploads[id(request)]
    return mhd.upload_action_from_response(request, mhd.response_from_buffer_copy(200, sink.close(True).encode()))


def on_field(request, cls, name, filename, content_type, encoding, size, data, off, final):
    """A form's fields (max_nonstream_size 0: all of them stream here); files are kept."""
    if filename is None:
        return mhd.upload_action_continue(request)  # not a file: ignored
    sinks = uploads[id(request)]
    if off == 0:
        if not valid(filename):
            return mhd.upload_action_from_response(request, mhd.response_from_buffer_copy(400, b"bad file name"))
        sinks.append(Sink(filename))
    if size:
        sinks[-1].write(data)
    if final:
        sinks[-1] = sinks[-1].close(True)
    return mhd.upload_action_continue(request)


def on_form_done(request, cls, result):
    lines = uploads.pop(id(request), [])
    for k in range(len(lines)):
        if not isinstance(lines[k], str):  # the form broke in the middle of a file
            lines[k].close(False)
            lines[k] = None
    if result != FORM_OK:
        return mhd.upload_action_from_response(request, mhd.response_from_buffer_copy(400, b"form: %d" % result))
    return mhd.upload_action_from_response(request, mhd.response_from_buffer_copy(200, "\n".join(lines).encode()))


def arg(name, default):
    argv = sys.argv
    for i in range(len(argv) - 1):
        if argv[i] == name:
            return argv[i + 1]
    return default


STATUS = "--status" in sys.argv
OTA = "--ota" in sys.argv
DIR = arg("--dir", "uploads").rstrip("/") or "/"


def main():
    if not OTA:
        try:
            os.stat(DIR)
        except OSError:
            print("upload.py: the directory %r does not exist: make it, or give --dir DIR" % DIR)
            sys.exit(2)
    d = mhd.daemon_create(on_request)
    rc = mhd.DAEMON_SET_OPTIONS(
        d,
        mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, int(arg("--port", "8080"))),
        mhd.D_OPTION_DEFAULT_TIMEOUT(int(arg("--timeout", "30"))),
    )
    for option, name in ((mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT, "--connections"),
                         (mhd.D_OPTION_CONN_MEMORY_LIMIT, "--conn-memory")):
        if arg(name, None):
            rc = rc or mhd.daemon_set_option(d, option(int(arg(name, None))))
    rc = rc or mhd.daemon_start(d)
    if rc != mhd.SC_OK:
        print("cannot start: status code", rc)
        sys.exit(1)
    print("listening on port", mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT)[1])
    flush = getattr(sys.stdout, "flush", None)
    if flush:
        flush()
    try:
        while True:
            mhd.daemon_process_blocking(d, mhd.WAIT_INDEFINITELY)
    except KeyboardInterrupt:
        pass
    mhd.daemon_destroy(d)


main()
