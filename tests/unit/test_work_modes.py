"""The external event loop mode without a network (runs on MicroPython too): the options,
the refusals, and what the registration callback is told as the daemon's sockets come and go
(mhd_micro/extloop.py stands in for the daemon's poll set)."""
from testing import unittest
import mhd_micro as mhd

SC_OK = 0
SC_TOO_EARLY = 60000
SC_EXTERNAL_EVENT_ONLY = 60012
SC_CONFIGURATION_UNEXPECTED_WM = 60022
SC_EXT_EVENT_REG_DAEMON_FDS_FAILURE = 50066
WAIT = mhd.WAIT_INDEFINITELY


class Recorder:
    """A registration callback that keeps every call and answers with a context of its own."""

    def __init__(self, refuse=False):
        self.calls = []
        self.refuse = refuse

    def __call__(self, cls, sock, watch_for, app_ctx_old, ecb_cntx):
        self.calls.append((cls, sock, watch_for, app_ctx_old))
        if not watch_for or self.refuse:
            return None
        return ("ctx", sock, watch_for)


def ext_daemon(rec, *options):
    d = mhd.daemon_create(lambda *a: None)
    rc = mhd.DAEMON_SET_OPTIONS(d, mhd.D_OPTION_WM_EXTERNAL_EVENT_LOOP_CB_LEVEL(rec, "cls"),
                                mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(2), mhd.D_OPTION_CONN_MEMORY_LIMIT(256), *options)
    return d, rc


class TestExtLoop(unittest.TestCase):
    def test_modes_and_refusals(self):
        d, rc = ext_daemon(Recorder())
        self.assertEqual(rc, SC_OK)
        d = mhd.daemon_create(None)
        self.assertEqual(mhd.daemon_set_option(d, mhd.D_OPTION_WM_EXTERNAL_EVENT_LOOP_CB_EDGE(Recorder(), None)),
                         SC_CONFIGURATION_UNEXPECTED_WM)  # edge triggers: refused
        self.assertEqual(mhd.daemon_set_option(d, mhd.D_OPTION_WM_EXTERNAL_EVENT_LOOP_CB_LEVEL(None, None)),
                         SC_CONFIGURATION_UNEXPECTED_WM)  # a registration callback is required
        self.assertEqual(mhd.daemon_process_reg_events(d), (SC_TOO_EARLY, WAIT))
        # REREGISTER_ALL belongs to the external event modes
        mhd.DAEMON_SET_OPTIONS(d, mhd.D_OPTION_REREGISTER_ALL(True), mhd.D_OPTION_BIND_PORT(mhd.AF_NONE, 0))
        self.assertEqual(mhd.daemon_start(d), SC_EXTERNAL_EVENT_ONLY)
        d = mhd.daemon_create(None)
        mhd.DAEMON_SET_OPTIONS(d, mhd.D_OPTION_BIND_PORT(mhd.AF_NONE, 0), mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(1))
        self.assertEqual(mhd.daemon_start(d), SC_OK)
        self.assertEqual(mhd.daemon_process_reg_events(d), (SC_EXTERNAL_EVENT_ONLY, WAIT))  # periodic mode
        mhd.daemon_destroy(d)

    def test_fd_states(self):
        self.assertEqual((mhd.FD_STATE_NONE, mhd.FD_STATE_RECV, mhd.FD_STATE_SEND, mhd.FD_STATE_EXCEPT), (0, 1, 2, 4))
        self.assertEqual(mhd.FD_STATE_SEND_EXCEPT, 6)  # MHD2's header says 5 (a bug)
        self.assertEqual(mhd.FD_STATE_RECV_SEND_EXCEPT, 7)

    def test_no_listening_socket(self):
        rec = Recorder()
        d, rc = ext_daemon(rec, mhd.D_OPTION_BIND_PORT(mhd.AF_NONE, 0))
        self.assertEqual(mhd.daemon_start(d), SC_OK)
        self.assertEqual(rec.calls, [])
        self.assertEqual(mhd.daemon_process_blocking(d, 0), SC_CONFIGURATION_UNEXPECTED_WM)
        self.assertEqual(mhd.daemon_process_reg_events(d), (SC_OK, WAIT))
        self.assertEqual(rec.calls, [])
        mhd.daemon_destroy(d)

    def test_listening_socket_registered_then_forgotten(self):
        rec = Recorder()
        d, rc = ext_daemon(rec, mhd.D_OPTION_BIND_SA(("127.0.0.1", 0)))
        self.assertEqual(mhd.daemon_start(d), SC_OK)
        ls = d.lsock
        self.assertEqual(rec.calls, [("cls", ls, mhd.FD_STATE_RECV_EXCEPT, None)])
        self.assertEqual(mhd.daemon_process_reg_events(d), (SC_OK, WAIT))  # nothing changed: no call
        self.assertEqual(len(rec.calls), 1)
        mhd.daemon_destroy(d)
        self.assertEqual(rec.calls[1], ("cls", ls, mhd.FD_STATE_NONE, ("ctx", ls, mhd.FD_STATE_RECV_EXCEPT)))

    def test_quiesce_forgets_the_listening_socket(self):
        rec = Recorder()
        d, rc = ext_daemon(rec, mhd.D_OPTION_BIND_SA(("127.0.0.1", 0)))
        mhd.daemon_start(d)
        ls = mhd.daemon_quiesce(d)
        self.assertEqual(rec.calls[-1][1:3], (ls, mhd.FD_STATE_NONE))
        ls.close()
        mhd.daemon_destroy(d)
        self.assertEqual(len(rec.calls), 2)

    def test_refused_listening_socket_fails_start(self):
        rec = Recorder(refuse=True)
        d, rc = ext_daemon(rec, mhd.D_OPTION_BIND_SA(("127.0.0.1", 0)), mhd.D_OPTION_LOG_CALLBACK(None))
        self.assertEqual(mhd.daemon_start(d), SC_EXT_EVENT_REG_DAEMON_FDS_FAILURE)
        self.assertEqual(len(rec.calls), 1)  # never told to forget what it refused
        self.assertEqual(mhd.daemon_process_reg_events(d)[0], SC_TOO_EARLY)

    def test_sockets_come_change_and_go(self):
        """The poll-set calls of the daemon and its connections, as the callback hears them:
        at the end of a round for new and changed sockets, at once for removed ones."""
        rec = Recorder()
        d, rc = ext_daemon(rec, mhd.D_OPTION_BIND_PORT(mhd.AF_NONE, 0), mhd.D_OPTION_REREGISTER_ALL(False),
                           mhd.D_OPTION_LOG_CALLBACK(None))
        mhd.daemon_start(d)
        x = d.poller
        a, b = object(), object()  # stand-ins for sockets: the loop only keeps and hands them back
        x.register(a, 1)  # POLLIN
        x.register(b, 1)
        x.unregister(b)  # gone before the application heard of it: never told
        self.assertEqual(x.update(), SC_OK)
        self.assertEqual(rec.calls, [("cls", a, mhd.FD_STATE_RECV_EXCEPT, None)])
        x.modify(a, 4)  # POLLOUT
        x.update()
        self.assertEqual(rec.calls[-1], ("cls", a, mhd.FD_STATE_SEND_EXCEPT, ("ctx", a, mhd.FD_STATE_RECV_EXCEPT)))
        ecb = x.by_sock[a]
        mhd.daemon_event_update(d, ecb, mhd.FD_STATE_SEND | mhd.FD_STATE_RECV)
        mhd.daemon_event_update(d, ecb, mhd.FD_STATE_SEND)
        self.assertEqual([(e[0], e[1]) for e in x.ipoll(0)], [(a, 4)])  # once; RECV was not asked
        x.done()
        self.assertEqual(list(x.ipoll(0)), [])
        x.unregister(a)
        self.assertEqual(rec.calls[-1], ("cls", a, mhd.FD_STATE_NONE, ("ctx", a, mhd.FD_STATE_SEND_EXCEPT)))
        n = len(rec.calls)
        mhd.daemon_event_update(d, ecb, mhd.FD_STATE_RECV)  # a forgotten context: logged, ignored
        self.assertEqual(list(x.ipoll(0)), [])
        x.update()
        self.assertEqual(len(rec.calls), n)
        mhd.daemon_destroy(d)

    def test_reregister_all(self):
        rec = Recorder()
        d, rc = ext_daemon(rec, mhd.D_OPTION_BIND_PORT(mhd.AF_NONE, 0), mhd.D_OPTION_REREGISTER_ALL(True))
        mhd.daemon_start(d)
        a = object()
        d.poller.register(a, 1)
        d.poller.update()
        d.poller.update()
        self.assertEqual([c[1:3] for c in rec.calls], [(a, mhd.FD_STATE_RECV_EXCEPT)] * 2)
        self.assertEqual(rec.calls[1][3], ("ctx", a, mhd.FD_STATE_RECV_EXCEPT))
        d.poller.unregister(a)
        mhd.daemon_destroy(d)


if __name__ == "__main__":
    unittest.main()
