"""`qbsf run`: the connector — sync loop plus the local dashboard — until Ctrl-C, SIGTERM or the Stop button."""

from __future__ import annotations

from pathlib import Path
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
    cert: Path | None = typer.Option(None, "--cert", help="Web Connector transport: TLS certificate (PEM) to serve "
                                                          "/qbwc over https (default quickbooks.webconnector_cert)."),
    key: Path | None = typer.Option(None, "--key", help="Web Connector transport: TLS private key (PEM) (default "
                                                        "quickbooks.webconnector_key)."),
    public_url: str | None = typer.Option(None, "--public-url", help="Web Connector transport: the address the "
                                                                     "Web Connector calls (behind a reverse proxy)."),
    company: str | None = typer.Option(None, "--company", help="Web Connector transport: the registered company "
                                                               "this connector serves (default: the only one)."),
    registry: Path | None = typer.Option(None, "--registry", help="Web Connector registry; default: "
                                                                  "webconnector.json in qbsf's data folder."),
) -> None:
    """Start the connector. Exit status 1 when it could not connect (without the dashboard).

    With ``quickbooks.transport = webconnector`` it serves the Web Connector's /qbwc endpoint (on
    ``quickbooks.webconnector_host``/``webconnector_port``) with the sync engine behind it, as `qbsf qbwc serve` does.
    """
    from qbsf.app.runtime import install_signal_handlers
    from qbsf.app.wiring import open_connector_app
    from qbsf.quickbooks.transports.choice import require_transport

    context = AppContext(config=config)
    # refused before anything starts: a connector with no transport chosen must not sync into a made-up company
    if require_transport(context.load().settings.quickbooks) == "webconnector":
        raise typer.Exit(_run_webconnector(context, dashboard=dashboard, port=port, log_level=log_level, cert=cert,
                                           key=key, public_url=public_url, company=company, registry=registry))
    bundle = open_connector_app(context, log_level=log_level)
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


def _dashboard_host(bundle: ConnectorApp) -> str:
    """The dashboard's interface; anything but loopback is warned about and allowed in the Host check."""
    from qbsf.app.logging import get_logger

    host = bundle.settings.dashboard.host
    if host not in ("127.0.0.1", "localhost", "::1"):
        get_logger("qbsf.app.run").warning(
            f"Dashboard listens on {host}: anyone who can reach it and has the token controls the connector")
        bundle.dashboard.allowed_hosts = (*bundle.dashboard.allowed_hosts, host)
    return host


def _serve(bundle: ConnectorApp, port: int | None) -> int:
    from qbsf.app.dashboard import dashboard_url
    from qbsf.app.dashboard.server import bind_socket, serve_until_stopped

    host = _dashboard_host(bundle)
    sock = bind_socket(host, bundle.settings.dashboard.port if port is None else port)
    # printed, never logged: the token opens the dashboard and must not land in the log file
    typer.echo(f"Dashboard: {dashboard_url(host, sock.getsockname()[1], bundle.dashboard.token)}")
    serve_until_stopped(bundle, sock)
    return 0


def _run_webconnector(context: AppContext, *, dashboard: bool, port: int | None, log_level: str, cert: Path | None,
                      key: Path | None, public_url: str | None, company: str | None, registry: Path | None) -> int:
    """`qbsf run` over the Web Connector: `qbsf qbwc serve`'s endpoint and engine, plus the dashboard with its panel."""
    from qbsf.app.commands.qbwc import (
        CompanyEngines,
        attach_dashboard,
        build_service,
        check_listen,
        endpoint_url,
        parse_sync_options,
        registry_path,
        serve_endpoint,
        sync_transport,
        use_webconnector,
    )
    from qbsf.app.wiring import open_connector_app
    from qbsf.quickbooks.webconnector.qwc import WebConnectorRegistry

    settings = context.load().settings
    qb = settings.quickbooks
    host, wc_port = qb.webconnector_host, qb.webconnector_port
    # --cert/--key win over the settings, as a pair: half of each would be a pair nobody meant
    if cert is None and key is None:
        cert = Path(qb.webconnector_cert) if qb.webconnector_cert else None
        key = Path(qb.webconnector_key) if qb.webconnector_key else None
    check_listen(host, cert, key, public_url)  # before anything starts or connects
    reg = WebConnectorRegistry.load(registry_path(registry))
    service = build_service(reg)
    name = next(iter(parse_sync_options([company] if company else None, reg, None)))
    transport = sync_transport(service, reg, name)
    bundle = open_connector_app(context, log_level=log_level, transport_factory=lambda: transport)
    running = None
    try:
        engines = CompanyEngines()
        engines.adopt(name, use_webconnector(bundle, transport), bundle.connector)
        attach_dashboard(bundle.dashboard, service, reg, None)
        if dashboard:
            from qbsf.app.dashboard.server import start_dashboard

            running = start_dashboard(bundle.dashboard, _dashboard_host(bundle),
                                      bundle.settings.dashboard.port if port is None else port)
            # printed, never logged: the token opens the dashboard and must not land in the log file
            typer.echo(f"Dashboard: {running.url}")

        def ready(url: str, bound_port: int) -> None:
            typer.echo(f"✓ Web Connector endpoint on {url} for company {name!r} (Ctrl-C stops)")
            attach_dashboard(bundle.dashboard, service, reg,
                             endpoint_url(host, bound_port, tls=cert is not None, public_url=public_url))

        serve_endpoint(service, engines, host=host, port=wc_port, cert=cert, key=key, public_url=public_url,
                       ready=ready)
    finally:
        if running is not None:
            running.stop()
        bundle.close()
    return 0
