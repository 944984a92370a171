# TLS (HTTPS): D_OPTION_TLS and D_OPTION_TLS_CERT_KEY on the runtime's ssl module (OpenSSL
# on CPython, mbedTLS on MicroPython). daemon_start loads this module only for a daemon that
# asks for TLS (options.start calls setup); a build without the TLS feature leaves it out.
#
# Each accepted socket is wrapped server-side with no handshake at accept (the daemon calls
# Tls.wrap); the wrapped socket then stands in for the plain one everywhere: the poll set,
# the connection's reads and writes, and an upgraded connection's (WebSocket: wss://). The
# handshake runs inside the connection's first reads: OpenSSL's SSL_read and mbedTLS's
# mbedtls_ssl_read carry an unfinished handshake on, and answer "would block" until it is
# done and application data has come. A client that stalls mid-handshake so holds its slot
# only; Tls.tick closes it when the handshake deadline passes (D_OPTION_TLS_HANDSHAKE_TIMEOUT:
# the handshake and the first bytes of the first request must come within it).
#
# Each TLS connection costs tens of KB in the TLS library, so a TLS daemon has fewer slots:
# D_OPTION_TLS_CONNECTION_LIMIT caps D_OPTION_GLOBAL_CONNECTION_LIMIT (docs/tls.md).
import sys
import ssl

from .platform import const, ticks_ms, ticks_diff, ticks_add, close

_MICROPYTHON = sys.implementation.name == "micropython"
_PKG = __name__[:__name__.rfind(".") + 1]  # "mhd_micro."

DEFAULT_HANDSHAKE_TIMEOUT = const(10)  # seconds: a board's handshake takes 1-3 s
DEFAULT_CONNECTION_LIMIT = const(4)
_TICK_MS = const(250)

_D_O_TLS = const(120)  # = mhd.D_O_TLS
_D_O_TLS_CERT_KEY = const(121)  # = mhd.D_O_TLS_CERT_KEY
_D_O_GLOBAL_CONNECTION_LIMIT = const(161)  # = mhd.D_O_GLOBAL_CONNECTION_LIMIT
_D_O_TLS_HANDSHAKE_TIMEOUT = const(10005)  # = mhd.D_O_TLS_HANDSHAKE_TIMEOUT
_D_O_TLS_CONNECTION_LIMIT = const(10006)  # = mhd.D_O_TLS_CONNECTION_LIMIT
_TLS_BACKEND_ANY = const(1)  # = mhd.TLS_BACKEND_ANY
_TLS_BACKEND_OPENSSL = const(3)  # = mhd.TLS_BACKEND_OPENSSL
_TLS_VERSION_1_2 = const(4)  # = mhd.TLS_VERSION_1_2
_TLS_VERSION_1_3 = const(5)  # = mhd.TLS_VERSION_1_3
_TLS_VERSION_UNKNOWN = const(1999)  # = mhd.TLS_VERSION_UNKNOWN
_SC_OK = const(0)  # = mhd.SC_OK
_SC_TLS_BACKEND_UNSUPPORTED = const(60030)  # = mhd.SC_TLS_BACKEND_UNSUPPORTED
_SC_TLS_CONF_BAD_CERT = const(60033)  # = mhd.SC_TLS_CONF_BAD_CERT
_SC_TLS_BACKEND_DAEMON_INCOMPATIBLE_SETTINGS = const(60034)  # = mhd.SC_TLS_BACKEND_DAEMON_INCOMPATIBLE_SETTINGS
_SC_TLS_DAEMON_INIT_FAILED = const(51200)  # = mhd.SC_TLS_DAEMON_INIT_FAILED
_SC_TLS_CONNECTION_INIT_FAILED = const(51201)  # = mhd.SC_TLS_CONNECTION_INIT_FAILED
_SC_TLS_CONNECTION_HANDSHAKED_FAILED = const(51220)  # = mhd.SC_TLS_CONNECTION_HANDSHAKED_FAILED
_REQUEST_ENDED_TIMEOUT_REACHED = const(10)  # = mhd.REQUEST_ENDED_TIMEOUT_REACHED
_F_SERVED = const(1)  # = connection._F_SERVED


class Tls:
    """A TLS daemon's context and handshake deadline (Daemon.tls)."""

    def __init__(self, d, ctx, timeout_ms):
        self.d = d
        self.ctx = ctx
        self.timeout_ms = timeout_ms  # 0: no deadline
        self.pending = 0  # connections that may be in their handshake: the daemon wakes for them
        self.next = 0

    def wrap(self, sock):
        """The accepted plain socket, wrapped server-side (the handshake is left to its
        reads); None, with the socket closed, when the TLS library could not take it."""
        try:
            s = self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        except Exception as e:  # no heap for mbedTLS's state, or the client went already
            close(sock)
            self.d.log(_SC_TLS_CONNECTION_INIT_FAILED, "TLS connection not set up: %r" % e)
            return None
        self.pending += 1
        return s

    def tick(self, d):
        """Every _TICK_MS while connections may be handshaking: close those past the deadline."""
        now = ticks_ms()
        if not self.pending or ticks_diff(now, self.next) < 0:
            return
        self.next = ticks_add(now, _TICK_MS)
        n = 0
        for c in d.slots:
            if not handshaking(c):
                continue
            if self.timeout_ms and ticks_diff(now, c.last) >= self.timeout_ms:
                d.log(_SC_TLS_CONNECTION_HANDSHAKED_FAILED, "TLS handshake not done in time: closed")
                c.close(_REQUEST_ENDED_TIMEOUT_REACHED)
            else:
                n += 1
                if not _MICROPYTHON:
                    _nudge(c.sock)
        self.pending = n


def handshaking(c):
    """Connection c is new and has not received a byte of application data: its handshake
    may not be done. (MicroPython's ssl cannot be asked: cipher() crashes before the end of
    the handshake.)"""
    return not c.flags & _F_SERVED and c.is_idle()


def _nudge(s):
    # CPython: a read that met "want write" mid-handshake waits for POLLIN, which may never
    # come while the client waits for our flight; driving the handshake here moves it on.
    # (MicroPython's ssl polls for the direction mbedTLS asked for by itself.)
    if s.version() is None:
        try:
            s.do_handshake()
        except OSError:  # want read/write, or a failure the next read reports
            pass


def version(c):
    """(SC_OK, TLS_VERSION_*) of TLS connection c; SC_TOO_EARLY before its handshake is done."""
    if handshaking(c):
        return 60000, None  # = mhd.SC_TOO_EARLY
    if _MICROPYTHON:
        v = c.sock.cipher()[1]  # (suite, "TLSv1.2")
    else:
        v = c.sock.version()
    return _SC_OK, {"TLSv1.2": _TLS_VERSION_1_2, "TLSv1.3": _TLS_VERSION_1_3}.get(v, _TLS_VERSION_UNKNOWN)


# -- I/O ----------------------------------------------------------------------------------
if _MICROPYTHON:
    def _recv_into(s, mv):
        return s.readinto(mv)

    def _send(s, buf, off, n):
        return s.write(buf, off, n)

    def _stream_io():
        """platform's recv_into and send are socket.socket's own methods, which refuse an
        SSLSocket: the modules that took them get calls that work on both kinds of socket
        (a module imported later takes them from the platform)."""
        for name in ("platform", "connection", "upgrade", "errors"):
            m = sys.modules.get(_PKG + name)
            if m is not None:
                m.recv_into = _recv_into
                m.send = _send
else:
    class _Sock(ssl.SSLSocket):
        """CPython: "would block" is None, as the platform's recv_into and send say it."""

        def recv_into(self, buffer, nbytes=0, flags=0):
            try:
                return ssl.SSLSocket.recv_into(self, buffer, nbytes, flags)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return None

        def send(self, data, flags=0):
            try:
                return ssl.SSLSocket.send(self, data, flags)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return None


# -- set-up (daemon_start) -----------------------------------------------------------------
def _der(pem, label):
    """MicroPython's mbedTLS takes DER (PEM parsing is not in every firmware): the base64 of
    the first PEM block whose BEGIN line names `label` (b"CERTIFICATE", b"PRIVATE KEY"),
    decoded; other blocks (openssl ecparam's EC PARAMETERS) and text around them are passed
    over. DER passes through."""
    i = pem.find(b"-----BEGIN")
    if i < 0:
        return pem
    import binascii
    while i >= 0:
        eol = pem.find(b"\n", i)
        if pem.find(label, i, eol) >= 0:
            return binascii.a2b_base64(pem[eol + 1:pem.find(b"-----END", eol)])
        i = pem.find(b"-----BEGIN", eol)
    raise ValueError("no %s in the PEM data" % label.decode())


def _bytes(v):
    return v.encode() if isinstance(v, str) else bytes(v)


def _context(cert, key, password):
    if _MICROPYTHON:
        if password:
            return None  # mbedTLS here reads no encrypted keys (LIB_INFO_FIXED_TLS_KEY_PASSWORD_BACKENDS)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(_der(cert, b"CERTIFICATE"), _der(key, b"PRIVATE KEY"))
        _stream_io()
        return ctx
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_RENEGOTIATION
    ctx.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")  # TLS 1.2: forward secrecy and AEAD only
    ctx.sslsocket_class = _Sock
    # ssl loads certificates from files only: a private temporary file, removed at once
    import os
    import tempfile
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        os.write(fd, cert + b"\n" + key)
        os.close(fd)
        ctx.load_cert_chain(path, None, password)
    finally:
        os.unlink(path)
    return ctx


def backend_ok(backend):
    """Whether D_OPTION_TLS(backend) names this runtime's library: ANY, or OPENSSL on CPython
    built with OpenSSL. (mbedTLS has no MHD_TLS_BACKEND_* value: ANY selects it.)"""
    if backend == _TLS_BACKEND_ANY:
        return True
    return backend == _TLS_BACKEND_OPENSSL and "OpenSSL" in getattr(ssl, "OPENSSL_VERSION", "")


def setup(d, s):
    """options.start, for a daemon with D_OPTION_TLS: the context (d.tls) and the capped
    connection limit. Returns SC_OK or the refusal."""
    if not backend_ok(s[_D_O_TLS][0]):
        return _SC_TLS_BACKEND_UNSUPPORTED
    ck = s.get(_D_O_TLS_CERT_KEY)
    if ck is None:
        d.log(_SC_TLS_CONF_BAD_CERT, "no TLS certificate given")
        return _SC_TLS_CONF_BAD_CERT
    try:
        ctx = _context(_bytes(ck[0]), _bytes(ck[1]), ck[2] if len(ck) > 2 else None)
    except Exception as e:
        d.log(_SC_TLS_DAEMON_INIT_FAILED, "TLS certificate or key refused: %s" % e)
        return _SC_TLS_DAEMON_INIT_FAILED
    if ctx is None:
        d.log(_SC_TLS_BACKEND_DAEMON_INCOMPATIBLE_SETTINGS, "this TLS library reads no encrypted keys")
        return _SC_TLS_BACKEND_DAEMON_INCOMPATIBLE_SETTINGS
    tls_limit = max(1, s.get(_D_O_TLS_CONNECTION_LIMIT, (0,))[0] or DEFAULT_CONNECTION_LIMIT)
    limit = s.get(_D_O_GLOBAL_CONNECTION_LIMIT, (0,))[0]
    s[_D_O_GLOBAL_CONNECTION_LIMIT] = (min(limit, tls_limit) if limit else tls_limit,)
    d.tls = Tls(d, ctx, max(0, s.get(_D_O_TLS_HANDSHAKE_TIMEOUT, (DEFAULT_HANDSHAKE_TIMEOUT,))[0]) * 1000)
    return _SC_OK
