# The daemon as an asyncio task, next to the application's other tasks (optional module).
#
#   from mhd_micro import aio
#   d = mhd.daemon_create(on_request)
#   mhd.DAEMON_SET_OPTIONS(d, aio.work_mode(), mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, 8080))
#   mhd.daemon_start(d)
#   asyncio.run(main())   # where main() does: aio.start(d); ...its other tasks...
#
# It runs on MHD2's external event loop mode (extloop.py): the daemon's registration
# callback tells the adapter which sockets to watch, the adapter feeds readiness back
# (daemon_event_update) and runs daemon_process_reg_events. How it watches depends on the
# runtime:
#   CPython      loop.add_reader/add_writer: the loop's own selector wakes the task, so an
#                idle server costs nothing and a request is served at once.
#   MicroPython  its asyncio has no add_reader: the task polls its own select.poll without
#                waiting and sleeps between polls, at once after work (sleep_ms(0)) and up to
#                _IDLE_MS when idle, so an idle server wakes 50 times a second and a request
#                that comes after a quiet spell waits up to that long.
# Callbacks of the application still run inside the daemon's task and must not block: a
# request that waits for something suspends (action_suspend) and another task resumes it
# with aio.request_resume.
import sys
import select
import asyncio

from . import extloop
from .daemon import WAIT_INDEFINITELY
from .lazy import load

_D_O_WORK_MODE = 40  # = mhd.D_O_WORK_MODE
_WM_EXTERNAL_EVENT_LOOP_CB_LEVEL = 8  # = mhd.WM_EXTERNAL_EVENT_LOOP_CB_LEVEL
_RECV = extloop.FD_STATE_RECV
_SEND = extloop.FD_STATE_SEND
_EXCEPT = extloop.FD_STATE_EXCEPT
_SC_DAEMON_MEM_ALLOC_FAILURE = 30081  # = mhd.SC_DAEMON_MEM_ALLOC_FAILURE
_IDLE_MS = 20  # MicroPython: the longest sleep between two polls
_LOOP_IO = sys.implementation.name != "micropython"  # the loop watches sockets (add_reader)


class _Adapter:
    """One daemon's sockets, as its registration callback gave them: socket -> [socket,
    FD_STATE_* to watch, ecb_cntx] (by the object: boards' sockets have no fileno)."""

    def __init__(self):
        self.daemon = None
        self.socks = {}
        self.loop = None  # CPython: the running loop, once serve() started
        self.wake = None  # CPython: set by the loop's callbacks, awaited by serve()
        self.poll = None if _LOOP_IO else select.poll()

    def register(self, sock, watch_for, app_ctx_old, ecb_cntx):
        if self.loop is not None and app_ctx_old is not None:
            self._unwatch(sock)
        if not watch_for:
            if self.poll is not None:
                self.poll.unregister(sock)
            del self.socks[sock]
            return None
        entry = [sock, watch_for, ecb_cntx]
        self.socks[sock] = entry
        if self.loop is not None:
            self._watch(sock, entry)
        elif self.poll is not None:
            mask = (select.POLLIN if watch_for & _RECV else 0) | (select.POLLOUT if watch_for & _SEND else 0)
            if app_ctx_old is None:
                self.poll.register(sock, mask)
            else:
                self.poll.modify(sock, mask)
        return entry  # the socket's app context (never None)

    # -- CPython: the loop watches ----------------------------------------------------------
    def _watch(self, sock, entry):
        if entry[1] & _RECV:
            self.loop.add_reader(sock, self._ready, entry, _RECV)
        if entry[1] & _SEND:
            self.loop.add_writer(sock, self._ready, entry, _SEND)

    def _unwatch(self, sock):
        self.loop.remove_reader(sock)
        self.loop.remove_writer(sock)

    def _ready(self, entry, state):
        if self.socks.get(entry[0]) is entry:
            extloop.daemon_event_update(self.daemon, entry[2], state)
            self.wake.set()

    async def _serve_loop_io(self, d):
        self.loop = asyncio.get_running_loop()
        self.wake = asyncio.Event()
        for sock, entry in self.socks.items():
            self._watch(sock, entry)
        try:
            while True:
                self.wake.clear()
                rc, wait = extloop.daemon_process_reg_events(d)
                if rc and rc != _SC_DAEMON_MEM_ALLOC_FAILURE:  # that one is transient: go on
                    return rc
                if self.wake.is_set():
                    await asyncio.sleep(0)  # readiness came meanwhile: let other tasks run, go on
                    continue
                try:
                    await asyncio.wait_for(self.wake.wait(), None if wait == WAIT_INDEFINITELY else wait / 1e6)
                except asyncio.TimeoutError:
                    pass  # a timeout scan is due
        finally:
            for sock in self.socks:
                self._unwatch(sock)
            self.loop = None

    # -- MicroPython: poll without waiting, sleep between -------------------------------------
    async def _serve_polling(self, d):
        socks = self.socks
        while True:
            busy = False
            for sock, ev in self.poll.ipoll(0):
                entry = socks.get(sock)
                if entry is not None:
                    state = (_RECV if ev & select.POLLIN else 0) | (_SEND if ev & select.POLLOUT else 0)
                    if ev & (select.POLLERR | select.POLLHUP):
                        state |= _EXCEPT
                    extloop.daemon_event_update(d, entry[2], state)
                    busy = True
            rc, wait = extloop.daemon_process_reg_events(d)
            if rc and rc != _SC_DAEMON_MEM_ALLOC_FAILURE:  # that one is transient: go on
                return rc
            if busy:
                await asyncio.sleep_ms(0)  # let the other tasks run, then look again at once
            else:
                await asyncio.sleep_ms(_IDLE_MS if wait == WAIT_INDEFINITELY else min(_IDLE_MS, wait // 1000))


def _register(adapter, sock, watch_for, app_ctx_old, ecb_cntx):
    return adapter.register(sock, watch_for, app_ctx_old, ecb_cntx)


def work_mode():
    """The daemon option that puts a daemon under asyncio: give it to DAEMON_SET_OPTIONS
    before daemon_start. It is D_OPTION_WM_EXTERNAL_EVENT_LOOP_CB_LEVEL with the adapter's
    registration callback."""
    return (_D_O_WORK_MODE, _WM_EXTERNAL_EVENT_LOOP_CB_LEVEL, _register, _Adapter())


async def serve(daemon):
    """Run the started daemon (set up with work_mode()) until this task is cancelled, or
    until daemon_process_reg_events fails: then returns its SC_* code. daemon_destroy stays
    the application's, after this task ended."""
    ext = daemon.ext
    if ext is None or ext[0] is not _register:
        raise ValueError("the daemon needs aio.work_mode()")
    adapter = ext[1]
    adapter.daemon = daemon
    if _LOOP_IO:
        return await adapter._serve_loop_io(daemon)
    return await adapter._serve_polling(daemon)


def start(daemon):
    """serve(daemon) as a task of the running loop; returns the task."""
    return asyncio.create_task(serve(daemon))


def request_resume(request):
    """mhd.request_resume for a request that another task resumes: it also wakes the
    daemon's task, which on CPython may be waiting for its sockets alone."""
    load("suspend").request_resume(request)
    c = request.conn
    if c is not None and c.daemon.ext is not None:
        wake = c.daemon.ext[1].wake
        if wake is not None:
            wake.set()
