# MicroPython's listening socket: the part of the platform layer (platform.py) that only
# daemon_start needs, loaded for it and let go with the setup code.
import socket

from micropython import const

_EADDRINUSE = const(98)


def _bind(s, host, port):
    s.bind(socket.getaddrinfo(host, port)[0][-1])


def listen(af, host, port, backlog):
    """A non-blocking listening socket. MicroPython sockets have no getsockname(), so
    port 0 is resolved here by probing random ports of the dynamic range."""
    s = socket.socket(af, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if port:
            _bind(s, host, port)
        else:
            import random
            for _ in range(64):
                port = random.getrandbits(14) + 49152
                try:
                    _bind(s, host, port)
                    break
                except OSError as e:
                    if e.errno != _EADDRINUSE:
                        raise
            else:
                raise OSError(_EADDRINUSE)
        s.listen(backlog)
        s.setblocking(False)
    except Exception:
        s.close()
        raise
    return s, port
