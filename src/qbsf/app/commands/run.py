"""`qbsf run`: the connector — sync loop plus the local dashboard — until Ctrl-C, SIGTERM or the Stop button."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from qbsf.app.context import AppContext

if TYPE_CHECKING:  # imported inside `run` at runtime: `qbsf --help` stays fast
    from qbsf.app.wiring import ConnectorApp

app = typer.Typer(help="Run the connector: sync every polling interval, serve the dashboard on 127.0.0.1.")

CONFIG_OPTION = typer.Option(None, "--config", envvar="QBSF_CONFIG", help="Settings TOML file to use.")


@app.callback(invoke_without_command=True)
def run(
    config: str | None = CONFIG_OPTION,
    dashboard: bool = typer.Option(True, "--dashboard/--no-dashboard", help="Serve the dashboard."),
    port: int | None = typer.Option(None, help="Dashboard port (overrides dashboard.port)."),
    log_level: str = typer.Option("INFO", help="Console and file log level."),
) -> None:
    """Start the connector. Exit status 1 when it could not connect (without the dashboard)."""
    from qbsf.app.runtime import install_signal_handlers
    from qbsf.app.wiring import open_connector_app

    bundle = open_connector_app(AppContext(config=config), log_level=log_level)
    code = 0
    try:
        if not dashboard:
            restore = install_signal_handlers(bundle.connector)
            try:
                code = bundle.connector.run()
            finally:
                restore()
        else:
            code = _serve(bundle, port)
    finally:
        bundle.close()
    raise typer.Exit(code)


def _serve(bundle: ConnectorApp, port: int | None) -> int:
    from qbsf.app.dashboard import dashboard_url
    from qbsf.app.dashboard.server import bind_socket, make_server
    from qbsf.app.logging import get_logger
    from qbsf.app.runtime import install_signal_handlers

    host = bundle.settings.dashboard.host
    sock = bind_socket(host, bundle.settings.dashboard.port if port is None else port)
    if host not in ("127.0.0.1", "localhost", "::1"):
        get_logger("qbsf.app.run").warning(
            f"Dashboard listens on {host}: anyone who can reach it and has the token controls the connector")
        bundle.dashboard.allowed_hosts = (*bundle.dashboard.allowed_hosts, host)
    # printed, never logged: the token opens the dashboard and must not land in the log file
    typer.echo(f"Dashboard: {dashboard_url(host, sock.getsockname()[1], bundle.dashboard.token)}")
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
    return 0
