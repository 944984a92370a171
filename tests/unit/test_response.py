"""The response object rules of the MHD2 manual, without sockets (runs on MicroPython too)."""
from testing import unittest
import mhd_micro as mhd
from mhd_micro import response as R

SC_OK = 0
SC_TOO_LATE = 60001
SC_RESP_HEADER_NAME_INVALID = 60050
SC_RESP_HEADER_VALUE_INVALID = 60051
SC_RESP_HEADERS_CONFLICT = 60052
SC_RESP_POINTER_NULL = 60060
SC_OPTION_UNKNOWN = 60021
SC_RESPONSE_CANNOT_CLEAR_REUSE = 50520


class _Req:
    def __init__(self):
        from mhd_micro.action import Action
        self.action = Action(self)


class TestConstructors(unittest.TestCase):
    def test_status_must_be_three_digits(self):
        self.assertIsNone(mhd.response_from_empty(99))
        self.assertIsNone(mhd.response_from_empty(1000))
        r = mhd.response_from_empty(999)
        self.assertIsNotNone(r)
        mhd.response_destroy(r)

    def test_sizes(self):
        r = mhd.response_from_iovec(200, [b"ab", b"cde"])
        self.assertEqual(r.size, 5)
        mhd.response_destroy(r)
        r = mhd.response_from_callback(200, mhd.SIZE_UNKNOWN, lambda *a: None)
        self.assertEqual(r.size, mhd.SIZE_UNKNOWN)
        mhd.response_destroy(r)
        self.assertIsNone(mhd.response_from_callback(200, 5, None))

    def test_free_callback_once_after_last_use(self):
        calls = []
        r = mhd.response_from_buffer(200, b"x", calls.append, "freed")
        mhd.response_set_option(r, mhd.R_OPTION_REUSABLE(True))
        req = _Req()
        self.assertIs(mhd.action_from_response(req, r), req.action)
        mhd.response_destroy(r)  # the application's reference
        self.assertEqual(calls, [])  # the connection still holds one
        R.release(r)  # the connection is done
        self.assertEqual(calls, ["freed"])
        mhd.response_destroy(r)  # too many destroys change nothing
        self.assertEqual(calls, ["freed"])

    def test_action_consumes_unless_reusable(self):
        r = mhd.response_from_empty(200)
        self.assertIsNotNone(mhd.action_from_response(_Req(), r))
        self.assertIsNone(mhd.action_from_response(_Req(), r))  # consumed
        R.release(r)
        shared = mhd.response_from_empty(200)
        mhd.response_set_option(shared, mhd.R_OPTION_REUSABLE(True))
        for _ in range(3):
            self.assertIsNotNone(mhd.action_from_response(_Req(), shared))
        self.assertEqual(shared.refs, 4)

    def test_one_action_per_request(self):
        req = _Req()
        a = mhd.response_from_empty(200)
        b = mhd.response_from_empty(200)
        self.assertIsNotNone(mhd.action_from_response(req, a))
        self.assertIsNone(mhd.action_from_response(req, b))
        self.assertIsNone(mhd.action_from_response(_Req(), None))
        mhd.response_destroy(b)

    def test_pool_exhaustion_gives_none(self):
        R.pool_reserve(R._pool[1])  # the limit
        held = []
        while True:
            r = mhd.response_from_empty(200)
            if r is None:
                break
            held.append(r)
        self.assertEqual(R.pool_available(), 0)
        self.assertTrue(len(held) > 0)
        for r in held:
            mhd.response_destroy(r)
        self.assertEqual(R.pool_available(), len(held))


class TestHeaders(unittest.TestCase):
    def setUp(self):
        self.r = mhd.response_from_empty(200)

    def test_valid(self):
        self.assertEqual(mhd.response_add_header(self.r, "X-A", "1 2"), SC_OK)
        self.assertTrue(self.r.hdrs.endswith(b"X-A: 1 2\r\n"))

    def test_forbidden_characters(self):
        for name in ("", "A B", "A:B", "A\tB", "A\r", "A\n"):
            self.assertEqual(mhd.response_add_header(self.r, name, "v"), SC_RESP_HEADER_NAME_INVALID)
        for value in ("a\rb", "a\nb", "a\tb"):
            self.assertEqual(mhd.response_add_header(self.r, "X", value), SC_RESP_HEADER_VALUE_INVALID)
        self.assertEqual(mhd.response_add_header(None, "X", "v"), SC_RESP_POINTER_NULL)

    def test_transfer_encoding_and_connection(self):
        self.assertEqual(mhd.response_add_header(self.r, "Transfer-Encoding", "gzip"), SC_RESP_HEADER_VALUE_INVALID)
        self.assertEqual(mhd.response_add_header(self.r, "Transfer-Encoding", "identity"), SC_OK)
        self.assertEqual(mhd.response_add_header(self.r, "Transfer-Encoding", "chunked"), SC_OK)
        self.assertTrue(self.r.flags & R.RF_CHUNKED)
        self.assertEqual(mhd.response_add_header(self.r, "Connection", "upgrade"), SC_RESP_HEADER_VALUE_INVALID)
        self.assertEqual(mhd.response_add_header(self.r, "Connection", "close"), SC_OK)
        self.assertTrue(self.r.flags & R.RF_CONN_CLOSE)
        self.assertEqual(self.r.hdrs, b"")  # the engine writes these itself

    def test_content_length_needs_insanity(self):
        self.assertEqual(mhd.response_add_header(self.r, "Content-Length", "5"), SC_RESP_HEADERS_CONFLICT)
        mhd.response_set_option(self.r, mhd.R_OPTION_INSANITY_HEADER_CONTENT_LENGTH(True))
        self.assertEqual(mhd.response_add_header(self.r, "Content-Length", "5"), SC_OK)

    def test_too_late_after_action(self):
        mhd.action_from_response(_Req(), self.r)
        self.assertEqual(mhd.response_add_header(self.r, "X", "v"), SC_TOO_LATE)
        self.assertEqual(mhd.response_set_option(self.r, mhd.R_OPTION_CONN_CLOSE(True)), SC_TOO_LATE)
        R.release(self.r)

    def test_predefined(self):
        self.assertEqual(mhd.predef_header_to_string(mhd.PREDEF_ACCEPT_CHARSET), "Accept-Charset")
        self.assertEqual(mhd.PREDEF_ACCEPT_CHARSET, 15)
        self.assertEqual(mhd.PREDEF_ACCEPT_LANGUAGE, 17)
        self.assertEqual(mhd.response_add_predef_header(self.r, 17, "en"), SC_OK)
        self.assertTrue(self.r.hdrs.endswith(b"Accept-Language: en\r\n"))
        self.assertEqual(mhd.response_add_predef_header(self.r, 2, "x"), SC_RESP_HEADER_NAME_INVALID)
        self.assertEqual(mhd.predef_header_to_string(mhd.PREDEF_ACCEPT_LANGUAGE), mhd.HTTP_HEADER_ACCEPT_LANGUAGE)


class TestOptions(unittest.TestCase):
    def test_first_failing_code(self):
        r = mhd.response_from_empty(200)
        rc = mhd.RESPONSE_SET_OPTIONS(r, mhd.R_OPTION_CONN_CLOSE(True), (999, True), mhd.R_OPTION_CHUNKED_ENC(True))
        self.assertEqual(rc, SC_OPTION_UNKNOWN)
        self.assertTrue(r.flags & R.RF_CONN_CLOSE)
        self.assertFalse(r.flags & R.RF_CHUNKED)
        rc = mhd.response_set_options(r, [mhd.R_OPTION_TERMINATE(), (999, True)])
        self.assertEqual(rc, SC_OK)
        mhd.response_destroy(r)

    def test_reuse_cannot_be_cleared(self):
        r = mhd.response_from_empty(200)
        mhd.response_set_option(r, mhd.R_OPTION_REUSABLE(True))
        self.assertEqual(mhd.response_set_option(r, mhd.R_OPTION_REUSABLE(False)), SC_RESPONSE_CANNOT_CLEAR_REUSE)
        mhd.response_destroy(r)

    def test_each_flag(self):
        r = mhd.response_from_empty(200)
        for opt, flag in ((mhd.R_OPTION_HEAD_ONLY_RESPONSE, R.RF_HEAD_ONLY), (mhd.R_OPTION_CHUNKED_ENC, R.RF_CHUNKED),
                          (mhd.R_OPTION_CONN_CLOSE, R.RF_CONN_CLOSE), (mhd.R_OPTION_HTTP_1_0_COMPATIBLE_STRICT, R.RF_HTTP10_STRICT),
                          (mhd.R_OPTION_HTTP_1_0_SERVER, R.RF_HTTP10_SERVER)):
            self.assertEqual(mhd.response_set_option(r, opt(True)), SC_OK)
            self.assertTrue(r.flags & flag)
            mhd.response_set_option(r, opt(False))
            self.assertFalse(r.flags & flag)
        f = lambda *a: None
        mhd.response_set_option(r, mhd.R_OPTION_TERMINATION_CALLBACK(f, 7))
        self.assertIs(r.ended[0], f)
        mhd.response_destroy(r)


class TestDcc(unittest.TestCase):
    def test_one_action_per_call(self):
        from mhd_micro.dcc import Context
        ctx = Context(None)
        self.assertIs(mhd.dcc_action_continue(ctx, 5), ctx)
        self.assertIsNone(mhd.dcc_action_finish(ctx))
        ctx.reset()
        self.assertIsNone(mhd.dcc_action_continue(ctx, 0))  # must be non-zero
        self.assertIsNone(mhd.dcc_action_continue_zc(ctx, 0, []))
        self.assertIs(mhd.dcc_action_continue_zc(ctx, 0, [b"ab"]), ctx)
        ctx.reset()
        self.assertIsNone(mhd.dcc_action_continue_ce(ctx, 3, "bad\r\next"))
        self.assertIsNone(mhd.dcc_action_finish_with_footer(ctx, [("Bad Name", "v")]))
        self.assertIsNone(mhd.dcc_action_abort(ctx))

    def test_footer_values_cannot_split_the_trailer(self):
        # a CR or LF in a value would let the application write a field of its own choosing
        from mhd_micro.dcc import Context
        ctx = Context(None)
        for value in ("a\r\nX-Injected: 1", "a\rb", "a\nb", "a\0b"):
            self.assertIsNone(mhd.dcc_action_finish_with_footer(ctx, [("X-Sum", value)]), repr(value))
        self.assertIsNone(mhd.dcc_action_finish_with_footer(ctx, [("X-Ok", "1"), ("X-Sum", "a\nb")]))
        self.assertIs(mhd.dcc_action_finish_with_footer(ctx, [("X-Sum", "a b")]), ctx)
        self.assertEqual(ctx.footers, [("X-Sum", "a b")])


class TestStatus(unittest.TestCase):
    def test_phrases_and_names(self):
        self.assertEqual(mhd.HTTP_status_code_to_string(404), "Not Found")
        self.assertIsNone(mhd.HTTP_status_code_to_string(299))
        self.assertEqual(mhd.HTTP_STATUS_REQUEST_HEADER_FIELDS_TOO_LARGE, 431)
        self.assertEqual(mhd.HTTP_STATUS_RETRY_WITH, 449)
        self.assertEqual(mhd.HTTP_STATUS_NON_AUTHORITATIVE_INFORMATION, 203)
        self.assertEqual(mhd.SC_FEATURE_DISABLED, 50300)
        self.assertEqual(mhd.status_code_to_string(60001), "TOO_LATE")
        self.assertIsNone(mhd.status_code_to_string(12345))
        self.assertEqual(mhd.http_method_to_string(mhd.HTTP_METHOD_OPTIONS), "OPTIONS")
        self.assertEqual(mhd.protocol_version_to_string(mhd.HTTP_VERSION_1_1), "HTTP/1.1")
