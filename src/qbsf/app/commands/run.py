"""`qbsf run`: the connector — sync loop plus the local dashboard — until Ctrl-C, SIGTERM or the Stop button."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from qbsf.app.context import AppContext
from qbsf.app.settings import SECRET_KEYS, Settings, default_data_dir

if TYPE_CHECKING:  # imported inside `run` at runtime: `qbsf --help` stays fast
    from qbsf.app.logging import LogBuffer
    from qbsf.app.runtime import Connector, Heartbeat
    from qbsf.app.wiring import EngineServices
    from qbsf.sync.state import StateStore

app = typer.Typer(help="Run the connector: sync every polling interval, serve the dashboard on 127.0.0.1.")

CONFIG_OPTION = typer.Option(None, "--config", envvar="QBSF_CONFIG", help="Settings TOML file to use.")


def _secret_values(settings: Settings, ctx: AppContext) -> list[str]:
    values: list[str] = []
    for key in SECRET_KEYS:
        section, _, name = key.partition(".")
        value = getattr(getattr(settings, section), name, None)
        if value is not None:
            values.append(value.get_secret_value())
    store = ctx.secret_store()
    if store is not None:
        extra = store.get("salesforce.jwt_private_key")
        if extra:
            values.append(extra)
    return values


def bind_dashboard_socket(host: str, port: int) -> socket.socket:
    """Bind the dashboard's listening socket first, so the printed URL carries the real port (port 0 = any)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        from qbsf.errors import ConfigError

        raise ConfigError(f"dashboard cannot listen on {host}:{port}: {exc.strerror}",
                          hint="pick another port: `qbsf config set dashboard.port 8766` (0 = any free port)") from exc
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


@app.callback(invoke_without_command=True)
def run(
    config: str | None = CONFIG_OPTION,
    dashboard: bool = typer.Option(True, "--dashboard/--no-dashboard", help="Serve the dashboard."),
    port: int | None = typer.Option(None, help="Dashboard port (overrides dashboard.port)."),
    log_level: str = typer.Option("INFO", help="Console and file log level."),
) -> None:
    """Start the connector. Exit status 1 when it could not connect (without the dashboard)."""
    from qbsf.app.license import license_status, machine_id
    from qbsf.app.logging import configure_logging, get_logger
    from qbsf.app.runtime import Connector, Heartbeat, install_signal_handlers
    from qbsf.app.wiring import EngineServices
    from qbsf.sync.state import StateStore

    ctx = AppContext(config=config)
    settings = ctx.load().settings
    buffer = configure_logging(log_dir=settings.resolved_log_dir(), level=log_level,
                               secrets=_secret_values(settings, ctx))
    log = get_logger("qbsf.app.run")
    mid = machine_id()
    state = StateStore(settings.resolved_state_url())
    services = EngineServices(settings, ctx.secret_store(), state)
    heartbeat = Heartbeat(_heartbeat_path(settings))
    connector = Connector(services, settings, machine_id=mid,
                          license=license_status(settings.license_key, machine=mid), heartbeat=heartbeat,
                          reload_settings=lambda: ctx.load().settings)
    code = 0
    try:
        if not dashboard:
            restore = install_signal_handlers(connector)
            try:
                code = connector.run()
            finally:
                restore()
        else:
            code = _serve(ctx, settings, connector, services, state, heartbeat, buffer, mid, port, log)
    finally:
        connector.stop(wait=120)
        services.close()
        state.close()
    raise typer.Exit(code)


def _heartbeat_path(settings: Settings) -> Path:
    # next to a SQLite state database when there is one, so two installs on one machine do not share a heartbeat
    url = settings.resolved_state_url()
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///")).with_name("heartbeat.json")
    return default_data_dir() / "heartbeat.json"


def _serve(ctx: AppContext, settings: Settings, connector: Connector, services: EngineServices, state: StateStore,
           heartbeat: Heartbeat, buffer: LogBuffer, mid: str, port: int | None, log: Any) -> int:
    import uvicorn

    from qbsf.app.dashboard import Dashboard, create_app, dashboard_url
    from qbsf.app.runtime import install_signal_handlers

    host = settings.dashboard.host
    sock = bind_dashboard_socket(host, settings.dashboard.port if port is None else port)
    actual_port = sock.getsockname()[1]
    dash = Dashboard(app_context=ctx, log_buffer=buffer, connector=connector, state=state, heartbeat=heartbeat,
                     machine_id=mid, chart_of_accounts=services.chart_of_accounts,
                     fetch_record=services.fetch_record)
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning(f"Dashboard listens on {host}: anyone who can reach it and has the token controls the connector")
        dash.allowed_hosts = (*dash.allowed_hosts, host)
    # printed, never logged: the token opens the dashboard and must not land in the log file
    typer.echo(f"Dashboard: {dashboard_url(host, actual_port, dash.token)}", err=False)
    connector.start()
    server = uvicorn.Server(uvicorn.Config(create_app(dash), log_config=None, access_log=False, lifespan="off",
                                           timeout_graceful_shutdown=2))
    # uvicorn re-raises the signal it shut down on once it restores the previous handlers: make those ours, so the
    # re-raised SIGTERM/Ctrl-C stops the connector cleanly instead of killing the process mid-record
    restore = install_signal_handlers(connector)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        restore()
        sock.close()
    return 0
