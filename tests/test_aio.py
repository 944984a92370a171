"""The asyncio adapter (mhd_micro/aio.py) on both runtimes, through examples/async_app.py:
the daemon serves while the example's sensor and timer tasks keep running, many clients at
once, and an idle server takes next to no CPU."""
import os
import time

from wire import Client, get

APP = "examples/async_app.py"


def cpu_seconds(pid):
    """CPU time of a process so far (Linux): nanoseconds on a CPU from schedstat, else user +
    system time in clock ticks from stat."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            return int(f.read().split()[0]) / 1e9
    except OSError:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_example_serves_while_its_tasks_run(serve):
    srv = serve("--port", 0, script=APP)
    with Client(srv.port) as c:
        first = c.exchange(get("/")).body.split()
        time.sleep(0.35)
        second = c.exchange(get("/")).body.split()  # the same connection, kept alive
    assert first[0] == second[0] == b"value" and int(second[3]) >= int(first[3]) + 2  # readings every 100 ms
    assert first[1] != second[1]  # the value changed between the requests
    clients = [Client(srv.port) for _ in range(16)]
    for c in clients:
        c.send(get("/"))
    for c in clients:
        assert c.response().body.startswith(b"value ")
        c.close()
    time.sleep(1.5)
    with Client(srv.port) as c:
        words = c.exchange(get("/timer")).body.split()
    ticks, late, uptime = int(words[1]), int(words[3]), int(words[5])
    assert abs(ticks - uptime // 500) <= 1, words  # ticking on time next to the server
    assert late < 250, words


def test_a_suspended_request_does_not_hold_up_the_others(serve):
    srv = serve("--port", 0, script=APP)
    slow = Client(srv.port)
    t0 = time.time()
    slow.send(get("/slow"))
    with Client(srv.port) as c:
        for _ in range(3):
            assert c.exchange(get("/")).body.startswith(b"value ")
    assert time.time() - t0 < 0.5  # served while /slow waits
    assert slow.response().body == b"slow done"  # resumed by another task
    assert time.time() - t0 >= 0.5
    assert slow.exchange(get("/slow")).body == b"slow done"  # and again on the same connection
    slow.close()


def test_idle_cpu_is_near_zero(serve):
    srv = serve("--port", 0, script=APP)
    with Client(srv.port) as c:
        assert c.exchange(get("/")).status == 200
    time.sleep(0.5)
    before = cpu_seconds(srv.proc.pid)
    time.sleep(2)
    used = cpu_seconds(srv.proc.pid) - before
    print("idle CPU over 2 s on %s: %.4f s (%.2f%%)" % (srv.runtime, used, used / 2 * 100))
    assert used < 0.1, used  # under 5% of a core, with the sensor task waking 10 times a second
