# The daemon as one asyncio task among others: a sensor task reads a value every 100 ms,
# a timer task ticks every 500 ms, and the server answers "/" with the latest reading.
# Runs on CPython and MicroPython alike (mhd_micro/aio.py):
#
#   python examples/async_app.py [--port 8080]      (or micropython)
#
#   /        the latest reading: "value V reading N"
#   /timer   the timer: "ticks T late_max_ms L uptime_ms U" (L: the most a tick came late)
#   /slow    answers after 500 ms without holding up the daemon: the request is suspended
#            and a task resumes it
import sys

sys.path.insert(0, ".")
import asyncio
import mhd_micro as mhd
from mhd_micro import aio
from mhd_micro.platform import ticks_ms, ticks_diff

state = {"value": 0.0, "readings": 0, "ticks": 0, "late_max": 0, "t0": ticks_ms()}
TICK_MS = 500


def read_sensor(n):
    """A stand-in for a real sensor (a board would read machine.ADC here): a slow sawtooth."""
    return 20.0 + (n % 50) / 10


async def sensor():
    while True:
        state["readings"] += 1
        state["value"] = read_sensor(state["readings"])
        await asyncio.sleep(0.1)


async def timer():
    due = ticks_ms()
    while True:
        due += TICK_MS
        wait = ticks_diff(due, ticks_ms())
        if wait > 0:
            await asyncio.sleep(wait / 1000)
        state["ticks"] += 1
        state["late_max"] = max(state["late_max"], ticks_diff(ticks_ms(), due))


done = set()  # suspended requests whose wait is over: the callback runs again for them


async def finish_later(request):
    await asyncio.sleep(0.5)  # a slow job (a sensor that takes time, a remote call...)
    done.add(request)
    aio.request_resume(request)


def reply(request, text):
    return mhd.action_from_response(request, mhd.response_from_buffer_copy(200, text.encode()))


def on_request(cls, request, path, method, upload_size):
    if path == "/":
        return reply(request, "value %.1f reading %d" % (state["value"], state["readings"]))
    if path == "/timer":
        return reply(request, "ticks %d late_max_ms %d uptime_ms %d" % (
            state["ticks"], state["late_max"], ticks_diff(ticks_ms(), state["t0"])))
    if path == "/slow":
        if request in done:
            done.discard(request)
            return reply(request, "slow done")
        asyncio.create_task(finish_later(request))
        return mhd.action_suspend(request)
    return mhd.action_from_response(request, mhd.response_from_empty(404))


async def main(d):
    server = aio.start(d)  # the daemon, as a task next to the others
    asyncio.create_task(sensor())
    asyncio.create_task(timer())
    await server


def run():
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 8080
    d = mhd.daemon_create(on_request)
    mhd.DAEMON_SET_OPTIONS(d, aio.work_mode(), mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, port),
                           mhd.D_OPTION_DEFAULT_TIMEOUT(30))
    if mhd.daemon_start(d) != mhd.SC_OK:
        print("cannot start")
        return
    print("listening on port", mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT)[1])
    state["t0"] = ticks_ms()
    try:
        asyncio.run(main(d))
    except KeyboardInterrupt:
        pass
    mhd.daemon_destroy(d)


run()
