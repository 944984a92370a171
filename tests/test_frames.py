"""The request path of a plain keep-alive GET keeps every call frame on MicroPython's C stack
(tools/mpy_frames.py reads the compiled .mpy): a frame over 11 words would come from the heap
at every call, which is what made a GET allocate 2.9 KB before (docs/architecture.md)."""
import os
import subprocess
import sys

from conftest import ROOT, mpy_cross_cmd

# the functions a plain GET runs through, module -> names as tools/mpy_frames.py prints them
HOT = {
    "parser": ["parse_head", "_start", "line_end", "has_cr_nul", "_lines", "_clean", "store",
               "_special", "_named", "ieq", "_connection", "_option", "_split", "_method",
               "_method_id", "_version", "_target", "_target_chars", "_head_done"],
    "connection": ["_read", "_write", "Connection.run", "Connection.receive", "Connection._head",
                   "Connection._call_app", "Connection._reply", "Connection._compact", "Connection.queue",
                   "Connection._send", "Connection._done", "Connection.want", "Connection.repoll",
                   # a new connection per request (HTTP/1.0 clients, Connection: close)
                   "Connection.open", "Connection.close", "Connection._drop_response",
                   # the buffer, lent at a connection's first request and given back at its close
                   "Connection._take_buffer", "Connection.release_buffer"],
    "framing": ["plan", "write_head", "_fields", "_framing_fields", "body_inline", "status_line", "put",
                "put_uint", "_ndigits"],
    "daemon": ["Daemon.process", "Daemon.max_wait_ms",
               "Daemon.date_line", "Daemon._accept", "Daemon._admit", "Daemon._free_slot", "Daemon.conn_closed",
               "Daemon.lend_buffer", "Daemon.return_buffer"],
    "request": ["request_path", "Request.reset"],
    "response": ["_new", "release", "response_from_buffer_static", "response_from_empty"],
    "action": ["action_from_response", "claim"],
}


def test_hot_path_frames_stay_on_the_stack():
    assert mpy_cross_cmd(), "mpy-cross is missing"
    files = [os.path.join(ROOT, "mhd_micro", m + ".py") for m in HOT]
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "mpy_frames.py")] + files,
                         capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[(cells[0], cells[1])] = cells[5]
    missing = [(m, f) for m, fs in HOT.items() for f in fs if (m, f) not in rows]
    assert not missing, missing  # renamed? keep this list true to the code
    heap = [(m, f, rows[(m, f)]) for m, fs in HOT.items() for f in fs if rows[(m, f)] != "-"]
    assert not heap, heap
