"""Daemon options without a network: what daemon_set_option(s) and daemon_start answer
(runs on MicroPython too)."""
from testing import unittest
import mhd_micro as mhd

SC_OK = 0
SC_TOO_EARLY = 60000
SC_TOO_LATE = 60001
SC_OPTIONS_CONFLICT = 60020
SC_OPTION_UNKNOWN = 60021
SC_CONFIGURATION_UNEXPECTED_WM = 60022
SC_CONFIGURATION_UNEXPECTED_SPS = 60023
SC_CONFIGURATION_CONN_LIMIT_TOO_SMALL = 60026
SC_TLS_CONF_BAD_CERT = 60033


def daemon(*options):
    d = mhd.daemon_create(lambda *a: None)
    return d, mhd.daemon_set_options(d, list(options))


class TestOptions(unittest.TestCase):
    def test_unknown_option(self):
        d, rc = daemon((9999, 1))
        self.assertEqual(rc, SC_OPTION_UNKNOWN)
        self.assertEqual(mhd.SC_OPTION_UNKNOWN, SC_OPTION_UNKNOWN)

    def test_first_failing_code_and_terminator(self):
        d, rc = daemon(mhd.D_OPTION_PROTOCOL_STRICT_LEVEL(2), (9999,), mhd.D_OPTION_PROTOCOL_STRICT_LEVEL(3))
        self.assertEqual(rc, SC_OPTION_UNKNOWN)
        self.assertEqual(d.strict, 2)  # applied in order, stopped at the failure
        d, rc = daemon(mhd.D_OPTION_PROTOCOL_STRICT_LEVEL(1), mhd.D_OPTION_TERMINATE(), (9999,))
        self.assertEqual((rc, d.strict), (SC_OK, 1))
        d = mhd.daemon_create(None)
        opts = [mhd.D_OPTION_PROTOCOL_STRICT_LEVEL(1), (9999,)]
        self.assertEqual(mhd.daemon_set_options(d, opts, 1), SC_OK)
        self.assertEqual(mhd.daemon_set_options(d, opts, mhd.OPTIONS_ARRAY_MAX_SIZE), SC_OPTION_UNKNOWN)

    def test_strict_level_clamped_to_nearest(self):
        self.assertEqual(daemon(mhd.D_OPTION_PROTOCOL_STRICT_LEVEL(9))[0].strict, 3)
        self.assertEqual(daemon(mhd.D_OPTION_PROTOCOL_STRICT_LEVEL(-9, mhd.USL_NEAREST))[0].strict, -3)

    def test_work_modes_without_threads(self):
        self.assertEqual(daemon(mhd.D_OPTION_WM_EXTERNAL_PERIODIC())[1], SC_OK)
        for opt in (mhd.D_OPTION_WM_WORKER_THREADS(2), mhd.D_OPTION_WM_THREAD_PER_CONNECTION()):
            self.assertEqual(daemon(opt)[1], SC_CONFIGURATION_UNEXPECTED_WM)
        self.assertEqual(daemon(mhd.D_OPTION_POLL_SYSCALL(mhd.SPS_EPOLL))[1], SC_CONFIGURATION_UNEXPECTED_SPS)
        self.assertEqual(daemon(mhd.D_OPTION_POLL_SYSCALL(mhd.SPS_SELECT))[1], SC_CONFIGURATION_UNEXPECTED_SPS)
        self.assertEqual(daemon(mhd.D_OPTION_POLL_SYSCALL(mhd.SPS_POLL))[1], SC_OK)
        self.assertEqual(daemon(mhd.D_OPTION_POLL_SYSCALL(mhd.SPS_AUTO))[1], SC_OK)

    def test_refusals(self):
        self.assertEqual(daemon(mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(-1))[1], SC_CONFIGURATION_CONN_LIMIT_TOO_SMALL)
        # TLS: the backend is checked at start (tests/test_tls.py); a missing certificate at once
        self.assertEqual(daemon(mhd.D_OPTION_TLS(1))[1], SC_OK)
        self.assertEqual(daemon(mhd.D_OPTION_TLS_CERT_KEY(None, b"key", None))[1], SC_TLS_CONF_BAD_CERT)

    def test_options_mhd2_ignores_are_accepted(self):
        for opt in (mhd.D_OPTION_SIGPIPE_SUPPRESSED(True), mhd.D_OPTION_TURBO(True), mhd.D_OPTION_STACK_SIZE(0)):
            self.assertEqual(daemon(opt)[1], SC_OK)

    def test_callbacks_are_pairs(self):
        f = lambda *a: None
        d, rc = daemon(mhd.D_OPTION_LOG_CALLBACK(f, 7), mhd.D_OPTION_NOTIFY_CONNECTION(f), mhd.D_OPTION_ACCEPT_POLICY(f, 1))
        self.assertEqual(rc, SC_OK)
        self.assertEqual(d.log_to, (f, 7))
        self.assertEqual(d.notify, (f, None))
        self.assertEqual(d.accept_policy, (f, 1))
        d, rc = daemon(mhd.D_OPTION_LOG_CALLBACK(None))
        self.assertIsNone(d.log_to)

    def test_conflicting_listen_options(self):
        d, rc = daemon(mhd.D_OPTION_BIND_PORT(mhd.AF_INET4, 0), mhd.D_OPTION_BIND_SA(("127.0.0.1", 0)))
        self.assertEqual(rc, SC_OK)
        self.assertEqual(mhd.daemon_start(d), SC_OPTIONS_CONFLICT)

    def test_bind_sa_ipv6_is_dual_stack(self):
        # BIND_SA with an IPv6 address: always dual stack, whatever `dual` says (lib info
        # LIB_INFO_FIXED_TYPE_IPV6 answers DUAL_ONLY), so IPv4 clients reach it too
        from mhd_micro import platform
        import socket
        if not platform.HAS_IPV6:
            return
        for dual in (True, False):
            d, rc = daemon(mhd.D_OPTION_BIND_SA(("::", 0), dual))
            self.assertEqual(rc, SC_OK)
            self.assertEqual(mhd.daemon_start(d), SC_OK)
            port = mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT)[1]
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                c.connect(socket.getaddrinfo("127.0.0.1", port)[0][-1])  # refused if IPv6-only
            finally:
                c.close()
                mhd.daemon_destroy(d)
        self.assertEqual(mhd.lib_get_info_fixed(mhd.LIB_INFO_FIXED_TYPE_IPV6)[1], mhd.LIB_INFO_FIXED_IPV6_TYPE_DUAL_ONLY)

    def test_listen_backlog(self):
        # 0 (the default) holds every slot's worth of waiting clients, at least 16
        from mhd_micro import platform
        got = []

        def listen(af, host, port, backlog):
            got.append(backlog)
            return real(af, host, port, backlog)
        for options, want in (((), 16), ((mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(40),), 40),
                              ((mhd.D_OPTION_LISTEN_BACKLOG(5), mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(40)), 5)):
            d, rc = daemon(mhd.D_OPTION_BIND_SA(("127.0.0.1", 0)), mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(2),
                           mhd.D_OPTION_CONN_MEMORY_LIMIT(256), *options)
            real = platform.listen  # daemon_start imports options.py anew, which takes it from here
            platform.listen = listen
            try:
                self.assertEqual(mhd.daemon_start(d), SC_OK)
            finally:
                platform.listen = real
            mhd.daemon_destroy(d)
            self.assertEqual(got.pop(), want)

    def test_start_without_listening_then_too_late(self):
        d, rc = daemon(mhd.D_OPTION_BIND_PORT(mhd.AF_NONE, 0), mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(2),
                       mhd.D_OPTION_CONN_MEMORY_LIMIT(100))
        self.assertEqual(mhd.daemon_get_info_fixed(d, mhd.DAEMON_INFO_FIXED_BIND_PORT), (SC_TOO_EARLY, None))
        self.assertEqual(mhd.daemon_process_blocking(d, 0), SC_TOO_EARLY)
        self.assertEqual(mhd.daemon_start(d), SC_OK)
        self.assertEqual(len(d.slots), 2)
        self.assertEqual(len(d.leases[0][0]), 256)  # MHD's minimum pool
        self.assertEqual(mhd.daemon_set_option(d, mhd.D_OPTION_PROTOCOL_STRICT_LEVEL(1)), SC_TOO_LATE)
        self.assertEqual(mhd.daemon_start(d), SC_TOO_LATE)
        self.assertEqual(mhd.daemon_get_info_dynamic(d, mhd.DAEMON_INFO_DYNAMIC_HAS_CONNECTIONS), (SC_OK, False))
        self.assertEqual(mhd.daemon_get_info_dynamic(d, mhd.DAEMON_INFO_DYNAMIC_MAX_TIME_TO_WAIT), (SC_OK, mhd.WAIT_INDEFINITELY))
        self.assertEqual(mhd.daemon_process_blocking(d, 0), SC_OK)
        self.assertIsNone(mhd.daemon_quiesce(d))  # nothing to stop listening on
        mhd.daemon_destroy(d)

    def test_disallow_suspend(self):
        d, rc = daemon(mhd.D_OPTION_DISALLOW_SUSPEND_RESUME(True), mhd.D_OPTION_BIND_PORT(mhd.AF_NONE, 0),
                       mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(1), mhd.D_OPTION_CONN_MEMORY_LIMIT(256))
        self.assertEqual(mhd.daemon_start(d), SC_OK)
        c = d.slots[0]
        self.assertTrue(c._take_buffer())  # a buffer and its request state, as a request in progress has
        r = c.req
        self.assertIsNone(mhd.action_suspend(r))
        d.no_suspend = False
        self.assertIs(mhd.action_suspend(r), r.action)
        mhd.daemon_destroy(d)


class TestStartWarning(unittest.TestCase):
    def test_tight_heap_is_logged_at_start(self):
        from mhd_micro import pools
        said = []
        d = mhd.daemon_create(None)
        self.assertEqual(mhd.daemon_set_option(d, mhd.D_OPTION_LOG_CALLBACK(lambda cls, sc, msg: said.append((sc, msg)))), SC_OK)
        self.assertFalse(pools.warn_if_tight(d, 0))  # unknown (CPython): nothing to say
        self.assertFalse(pools.warn_if_tight(d, 64 * 1024))
        self.assertEqual(said, [])
        self.assertTrue(pools.warn_if_tight(d, 3000))
        self.assertEqual(len(said), 1)
        self.assertIn("3000 bytes of heap left", said[0][1])


class TestSetupModulesLetGo(unittest.TestCase):
    def test_start_lets_go_of_setup_modules_and_they_come_back_on_use(self):
        import sys
        r = mhd.response_from_empty(204)
        self.assertEqual(mhd.response_add_header(r, "X-Before", "1"), SC_OK)
        self.assertIn("mhd_micro.response_headers", sys.modules)
        d, rc = daemon(mhd.D_OPTION_BIND_PORT(mhd.AF_NONE, 0), mhd.D_OPTION_GLOBAL_CONNECTION_LIMIT(1),
                       mhd.D_OPTION_CONN_MEMORY_LIMIT(256))
        self.assertEqual(rc, SC_OK)
        self.assertEqual(mhd.daemon_start(d), SC_OK)
        for name in ("response_headers", "options", "pools"):
            self.assertNotIn("mhd_micro." + name, sys.modules)
        self.assertEqual(mhd.response_add_header(r, "X-After", "2"), SC_OK)  # loaded again on use
        self.assertIn("mhd_micro.response_headers", sys.modules)
        self.assertEqual(r.hdrs, b"X-Before: 1\r\nX-After: 2\r\n")
        self.assertEqual(mhd.SC_OK, SC_OK)
        mhd.response_destroy(r)
        mhd.daemon_destroy(d)
