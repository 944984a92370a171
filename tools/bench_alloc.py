# Bytes allocated per request, measured inside the server (MicroPython only: it needs
# micropython.mem_total()). tools/bench.py runs it from a tree where mhd_micro/ is .mpy and
# drives it from another process; by hand:
#
#   micropython tools/bench_alloc.py --case plain --warmup 300 --n 3000
#   python3 tools/bench.py --drive PORT 3300 plain          (in another shell)
#
# The daemon runs in this process with a request callback that counts requests. When the
# callback sees request number `warmup` it records mem_total(); at request warmup + n it
# records it again: the difference covers exactly n whole request cycles (reply, send, poll,
# receive, parse, callback) on one keep-alive connection. The callback also records what it
# allocates itself (between its entry and its return).
#
# mem_total() counts every allocation, including the call frames MicroPython takes from the
# heap for functions with more than 11 words of state and gives back at return (see
# tools/mpy_frames.py). So the window also measures what is left for the GC: automatic
# collection is off in the window, and every --every requests the callback adds up
# gc.mem_alloc() growth, runs gc.collect() and notes gc.mem_alloc() (the live heap). A heap
# that serves without leaking shows the same live figure from the first note to the last.
#
# Cases (--case):
#   plain     GET / ; the callback answers response_from_buffer_static(200, b"Hello, world!")
#   headers   GET /q?name=value&x=1 with 10 request header fields; the callback reads one
#             header (the last, X-Bench-9) and one query argument (name) with
#             request_get_value, then answers as plain
#   reusable  GET / ; the callback serves one reusable response made at start (as hello.py)
#   browser   as plain, with the head a browser sends (bench_instructions.HEADS["browser"]:
#             12 fields, 448 bytes)
#
# Prints "listening on port N", then one line "RESULT {json}" and exits once the client has
# gone (or 10 s after the window closed).
import gc
import sys

import micropython

sys.path.insert(0, ".")
import mhd_micro as mhd  # noqa: E402

HELLO = b"Hello, world!"


def arg(name, default):
    argv = sys.argv
    for i in range(len(argv) - 1):
        if argv[i] == name:
            v = argv[i + 1]
            return v if isinstance(default, str) else int(v)
    return default


CASE = arg("--case", "plain")
WARMUP = arg("--warmup", 300)
EVERY = arg("--every", 100)
N = arg("--n", 3000) // EVERY * EVERY
OK = mhd.HTTP_STATUS_OK
VK_HEADER = mhd.VK_HEADER
VK_GET_ARGUMENT = mhd.VK_GET_ARGUMENT
mem_total = micropython.mem_total
mem_alloc = gc.mem_alloc

# all state preallocated, small ints only: recording allocates nothing
I_COUNT = 0  # requests seen
I_T0 = 1  # mem_total() at the window's start
I_T1 = 2  # ... and end
I_CB = 3  # bytes allocated inside the callback (its API calls), in the window
I_BAD = 4  # wrong values from request_get_value
I_BASE = 5  # gc.mem_alloc() after the last collection
I_GARBAGE = 6  # heap growth between collections, summed
st = [0] * 7
live = [0] * (N // EVERY + 1)  # gc.mem_alloc() after each collection in the window


def record(n):
    """Called at callback entry for request number n (1-based); allocates nothing."""
    if n < WARMUP or n > WARMUP + N:
        return
    if n == WARMUP + N:
        st[I_T1] = mem_total()
    k = n - WARMUP
    if k % EVERY:
        return
    t = mem_total()
    if k:
        st[I_GARBAGE] += mem_alloc() - st[I_BASE]
    else:
        gc.disable()  # from here on only the collections below
    gc.collect()
    st[I_BASE] = live[k // EVERY] = mem_alloc()
    if n == WARMUP + N:
        gc.enable()
    elif k:
        st[I_T0] += mem_total() - t  # whatever collect() allocated is not the requests'
    else:
        st[I_T0] = mem_total()


# The callbacks and what they call are kept within MicroPython's 11-word stack frame (a
# request callback has 5 parameters, so there is little room): a bigger frame would come
# from the heap at every call and count here as the engine's (tools/mpy_frames.py).
def enter():
    """Count the request and record the window's figures; returns its number."""
    n = st[I_COUNT] + 1
    st[I_COUNT] = n
    record(n)
    return n


def leave(n, t):
    if WARMUP <= n < WARMUP + N:
        st[I_CB] += mem_total() - t


def answer(request):
    n = enter()
    t = mem_total()
    resp = mhd.response_from_buffer_static(OK, HELLO)
    act = mhd.action_from_response(request, resp)
    leave(n, t)
    return act


def answer_reading(request):
    n = enter()
    t = mem_total()
    h = mhd.request_get_value(request, VK_HEADER, "X-Bench-9")
    if h != "nine" or mhd.request_get_value(request, VK_GET_ARGUMENT, "name") != "value":
        st[I_BAD] += 1
    resp = mhd.response_from_buffer_static(OK, HELLO)
    leave(n, t)
    t = mem_total()
    act = mhd.action_from_response(request, resp)
    leave(n, t)
    return act


def answer_reusable(request, resp):
    n = enter()
    t = mem_total()
    act = mhd.action_from_response(request, resp)
    leave(n, t)
    return act


def on_plain(cls, request, path, method, upload_size):
    return answer(request)


def on_headers(cls, request, path, method, upload_size):
    return answer_reading(request)


def on_reusable(cls, request, path, method, upload_size):
    return answer_reusable(request, cls)


def main():
    cb = {"plain": on_plain, "browser": on_plain, "headers": on_headers, "reusable": on_reusable}[CASE]
    cls = None
    if CASE == "reusable":
        cls = mhd.response_from_buffer_static(OK, HELLO)
        mhd.RESPONSE_SET_OPTIONS(cls, mhd.R_OPTION_REUSABLE(True))
        mhd.response_add_header(cls, "Content-Type", "text/plain")
    d = mhd.daemon_create(cb, cls)
    rc = mhd.DAEMON_SET_OPTIONS(d, mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, arg("--port", 0)),
                                mhd.D_OPTION_DEFAULT_TIMEOUT(30))
    rc = rc or mhd.daemon_start(d)
    if rc != mhd.SC_OK:
        print("cannot start:", rc)
        sys.exit(1)
    print("listening on port", mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT)[1])
    flush = getattr(sys.stdout, "flush", None)
    if flush:
        flush()
    ended = None
    import time
    while True:
        mhd.daemon_process_blocking(d, 100000)
        if st[I_COUNT] >= WARMUP + N:
            if ended is None:
                ended = time.ticks_ms()
            _, busy = mhd.daemon_get_info_dynamic(d, mhd.DAEMON_INFO_DYNAMIC_HAS_CONNECTIONS)
            if not busy or time.ticks_diff(time.ticks_ms(), ended) > 10000:
                break
    gc.enable()
    total = st[I_T1] - st[I_T0]
    import json
    print("RESULT " + json.dumps({
        "case": CASE, "warmup": WARMUP, "n": N, "every": EVERY, "seen": st[I_COUNT], "bad_values": st[I_BAD],
        "bytes_total": total, "bytes_per_request": total / N,
        "callback_bytes_per_request": st[I_CB] / N,
        "engine_bytes_per_request": (total - st[I_CB]) / N,
        "garbage_per_request": st[I_GARBAGE] / N,
        "live_first": live[0], "live_last": live[-1], "live_min": min(live), "live_max": max(live),
        "heap_growth": live[-1] - live[0],
    }))
    mhd.daemon_destroy(d)


main()
