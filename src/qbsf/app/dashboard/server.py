"""Serve the dashboard on a background thread (the demo, browser tests); `qbsf run` serves it on the main thread."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn

from qbsf.app.dashboard.app import Dashboard, create_app, dashboard_url
from qbsf.errors import ConfigError


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind the listening socket first, so the URL carries the real port (port 0 = any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"dashboard cannot listen on {host}:{port}: {exc.strerror}",
                          hint="pick another port: `qbsf config set dashboard.port 8766` (0 = any free port)") from exc
    sock.listen(64)
    return sock


def make_server(dash: Dashboard) -> uvicorn.Server:
    """A uvicorn server for the dashboard: no access log (URLs carry the login token), quick shutdown."""
    return uvicorn.Server(uvicorn.Config(create_app(dash), log_config=None, access_log=False, lifespan="off",
                                         timeout_graceful_shutdown=2))


@dataclass
class RunningDashboard:
    """A dashboard served on a thread: ``url`` (with the token), ``base_url``, ``stop()``."""

    dashboard: Dashboard
    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket
    host: str
    port: int

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` without the token."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}"

    @property
    def url(self) -> str:
        """The address that logs a browser in."""
        return dashboard_url(self.host, self.port, self.dashboard.token)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()

    def __enter__(self) -> RunningDashboard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_until_stopped(bundle: Any, sock: socket.socket) -> None:
    """Start ``bundle``'s connector and serve its dashboard on ``sock`` until Ctrl-C/SIGTERM (`qbsf run`, the demo).

    The connector is stopped cleanly (record in hand finished, `Sync engine stopped`) before this returns.
    """
    from qbsf.app.runtime import install_signal_handlers

    bundle.connector.start()
    server = make_server(bundle.dashboard)
    # uvicorn re-raises the signal it shut down on once it restores the previous handlers: make those ours, so the
    # re-raised SIGTERM/Ctrl-C stops the connector cleanly instead of killing the process mid-record
    restore = install_signal_handlers(bundle.connector)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        restore()
        sock.close()


def start_dashboard(dash: Dashboard, host: str = "127.0.0.1", port: int = 0, *, timeout: float = 10.0
                    ) -> RunningDashboard:
    """Serve ``dash`` on a background thread and return once it accepts connections."""
    sock = bind_socket(host, port)
    server = make_server(dash)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="qbsf-dashboard", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ConfigError(f"dashboard did not start on {host}:{sock.getsockname()[1]}", hint="see the log")
        time.sleep(0.01)
    return RunningDashboard(dash, server, thread, sock, host, sock.getsockname()[1])
