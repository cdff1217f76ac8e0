"""Running the endpoint with uvicorn: in the foreground (``qbsf qbwc serve``) or on a background thread.

The background server binds its own socket first, so port 0 gives a free port
whose number is known before the first request — what tests and the demo need.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from qbsf.errors import ConfigError


def check_tls(certfile: Path | None, keyfile: Path | None) -> None:
    """Refuse half a TLS configuration or missing files, naming the option to fix."""
    if (certfile is None) != (keyfile is None):
        raise ConfigError("TLS needs both a certificate and its key", hint="pass --cert FILE and --key FILE together")
    for label, path in (("certificate", certfile), ("key", keyfile)):
        if path is not None and not path.is_file():
            raise ConfigError(f"TLS {label} file {path} does not exist", hint="check the path")


def _config(app: ASGIApp, host: str, port: int, certfile: Path | None, keyfile: Path | None) -> uvicorn.Config:
    check_tls(certfile, keyfile)
    return uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off",
                          ssl_certfile=str(certfile) if certfile else None,
                          ssl_keyfile=str(keyfile) if keyfile else None,
                          # Behind a reverse proxy the WSDL must name the proxy's https address.
                          proxy_headers=True, timeout_graceful_shutdown=2)


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on ``host``:``port`` (0 picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY only then, and without it each keep-alive call waits ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}",
                          hint="choose another --port, or stop what is using it") from None
    # Listen now: the port is announced before uvicorn starts, and a client that connects in between must be
    # queued in the backlog, not refused.
    sock.listen(2048)
    return sock


def serve_forever(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 8080, certfile: Path | None = None,
                  keyfile: Path | None = None, ready: Callable[[int], None] | None = None) -> None:
    """Serve ``app`` until interrupted (TLS when both ``certfile`` and ``keyfile`` are given).

    ``ready`` is called with the port actually bound (useful with port 0) before serving starts.
    """
    config = _config(app, host, port, certfile, keyfile)
    sock = bind(host, port)
    try:
        if ready is not None:
            ready(sock.getsockname()[1])
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn re-raises the Ctrl-C it already handled gracefully; stopping is the documented way out.
        return
    finally:
        sock.close()


class BackgroundServer:
    """``app`` served by uvicorn on a daemon thread; use as a context manager or call :meth:`stop`."""

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, certfile: Path | None = None,
                 keyfile: Path | None = None, path: str = "/qbwc") -> None:
        check_tls(certfile, keyfile)  # before binding, so a bad option leaks no socket
        self._socket = bind(host, port)
        self.host, self.port = self._socket.getsockname()[:2]
        scheme = "https" if certfile else "http"
        self.url = f"{scheme}://{host}:{self.port}{path}"
        self._server = uvicorn.Server(_config(app, host, self.port, certfile, keyfile))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=f"qbwc-server-{self.port}", daemon=True)

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        """Start serving and wait until uvicorn accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the Web Connector endpoint did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
