"""`qbsf serve`: the hosted deployment — several worker processes behind one address, state in PostgreSQL.

    qbsf serve --workers 4 --database postgresql+psycopg://qbsf@db/qbsf --companies /etc/qbsf/companies
    qbsf serve --workers 2 --database "$QBSF_DATABASE_URL" --sync acme=acme.toml --sync globex=globex.toml

Every worker answers every Web Connector call (sessions live in the database) and runs the sync engines of its
share of the companies (leases). Without --sync or --companies the workers serve every company registered in the
database (`qbsf tenants add`) that has a Web Connector user (`qbsf qwc`), including ones added while they run.
`/healthz`, `/readyz` and `/metrics` sit beside `/qbwc`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from qbsf.app.commands.qbwc import RegistryOption, check_listen, parse_sync_options, registry_path
from qbsf.app.workers import CONFIG_ENV, HostedConfig
from qbsf.errors import ConfigError
from qbsf.quickbooks.webconnector.qwc import WebConnectorRegistry


def companies_from_dir(folder: Path, reg: WebConnectorRegistry) -> dict[str, str | None]:
    """``folder/NAME.toml`` → {NAME: its path}, each NAME a registered company."""
    if not folder.is_dir():
        raise ConfigError(f"--companies {folder}: no such folder", hint="give the folder holding NAME.toml files")
    found: dict[str, str | None] = {}
    for path in sorted(folder.glob("*.toml")):
        if path.stem not in reg.companies:
            raise ConfigError(f"{path}: company {path.stem!r} is not registered for the Web Connector",
                              hint=f"register it with `qbsf qwc --company {path.stem} --url …`, or remove the file")
        found[path.stem] = str(path)
    if not found:
        raise ConfigError(f"--companies {folder}: no NAME.toml settings file in it",
                          hint="write one settings file per company, named after the company")
    return found


def check_database(database: str, workers: int) -> None:
    """A database URL the workers can share: PostgreSQL for several, a SQLite file for one."""
    try:
        url = make_url(database)
    except ArgumentError:
        raise ConfigError(f"--database {database!r} is not a database URL",
                          hint="e.g. postgresql+psycopg://qbsf@db-host/qbsf") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if workers > 1:
            raise ConfigError("SQLite serves one process: several workers need PostgreSQL",
                              hint="pass --database postgresql+psycopg://USER@HOST/DB, or --workers 1")
        if url.database in (None, "", ":memory:"):
            raise ConfigError("a hosted deployment keeps its state in a file or a server, not in memory",
                              hint="pass --database sqlite:///PATH/hosted.db or a PostgreSQL URL")
    elif backend != "postgresql":
        raise ConfigError(f"--database: {backend} is not supported for hosted mode", hint="use PostgreSQL")


def _log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"--log-level {text!r} is not a log level", hint="use debug, info, warning or error")
    return level


def register_tenants(database: str, profiles: dict[str, str | None]) -> list[str]:
    """Register each company named on the command line as a tenant of the deployment's database (with its settings
    file) when it is not yet — creating or upgrading the database first, once, before the workers start — and
    return every registered company."""
    from qbsf.app.workers import ensure_tenant
    from qbsf.sync.tenants import DEFAULT_TENANT, TenantRegistry

    with TenantRegistry(database) as registry:
        for company, settings_file in sorted(profiles.items()):
            ensure_tenant(registry, company, settings_file or "")
        return [tenant.id for tenant in registry.list() if tenant.id != DEFAULT_TENANT]


def serve(
    database: Annotated[str, typer.Option("--database", envvar="QBSF_DATABASE_URL", help="The database every worker "
                                          "shares (sessions, leases, each company's state), e.g. "
                                          "postgresql+psycopg://qbsf@db/qbsf.")],
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes behind the one "
                                                                          "address.")] = 1,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8090,
    cert: Annotated[Path | None, typer.Option("--cert", help="TLS certificate (PEM) to serve https.")] = None,
    key: Annotated[Path | None, typer.Option("--key", help="TLS private key (PEM).")] = None,
    public_url: Annotated[str | None, typer.Option("--public-url", help="Address the WSDL announces (behind a "
                                                                        "reverse proxy).")] = None,
    forwarded_allow_ips: Annotated[str, typer.Option(
        "--forwarded-allow-ips", help="Reverse proxies whose X-Forwarded-* headers are believed (comma-separated "
                                      "addresses).")] = "127.0.0.1",
    registry: RegistryOption = None,
    sync: Annotated[list[str] | None, typer.Option(
        "--sync", help="NAME or NAME=SETTINGS.toml (repeatable): a company whose sync engine the workers run "
                       "(registered as a company of the database when it is not yet); default: every company "
                       "registered with `qbsf tenants add` that has a Web Connector user.")]
    = None,
    companies: Annotated[Path | None, typer.Option(
        "--companies", help="Folder of NAME.toml settings files, one per company (instead of --sync).")] = None,
    engine: Annotated[bool, typer.Option("--engine/--no-engine", help="Run the sync engines (--no-engine: the "
                                                                      "endpoint only).")] = True,
    config: Annotated[str | None, typer.Option("--config", envvar="QBSF_CONFIG", help="Settings TOML for companies "
                                                                                      "named without one.")] = None,
    lease_ttl: Annotated[float, typer.Option("--lease-seconds", min=2.0, help="How long a company stays with a "
                                                                              "worker that stopped renewing.")]
    = 15.0,
    poll_wait: Annotated[float, typer.Option("--poll-wait", min=0.1, help="How long a Web Connector call waits "
                                                                          "for the engine before NoOp.")] = 10.0,
    stale_after: Annotated[float, typer.Option("--stale-after", min=1.0, help="A login while the company's session "
                                               "has been silent this long ends that session.")] = 120.0,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error: the workers' log on "
                                                               "standard error, each line naming its company.")]
    = "info",
) -> None:
    """Serve many companies from several worker processes: /qbwc, /healthz, /readyz, /metrics."""
    import uvicorn

    check_listen(host, cert, key, public_url)
    check_database(database, workers)
    reg = WebConnectorRegistry.load(registry_path(registry))
    if not reg.companies:
        raise ConfigError(f"no company registered in {reg.path}",
                          hint="register each company first: qbsf qwc --company NAME --url https://HOST/qbwc")
    profiles: dict[str, str | None] = {}
    if engine:
        if companies is not None:
            profiles.update(companies_from_dir(companies, reg))
        if sync:
            profiles.update(parse_sync_options(sync, reg, config))
        profiles = {company: str(Path(path).resolve()) if path else None for company, path in profiles.items()}
    tenants = register_tenants(database, profiles)
    if engine and not profiles and not set(tenants) & set(reg.companies):
        # No company registered in the database yet: the single-company rule of `qbsf qbwc serve`.
        profiles = parse_sync_options(None, reg, config)
        register_tenants(database, profiles)
    hosted = HostedConfig(database=database, registry=str(reg.path), companies=profiles, default_config=config,
                          lease_ttl=lease_ttl, poll_wait=poll_wait, stale_after=stale_after, public_url=public_url,
                          engine=engine, log_level=_log_level(log_level))
    os.environ[CONFIG_ENV] = hosted.to_env()
    scheme = "https" if cert else "http"
    typer.echo(f"✓ qbsf serving {len(reg.companies)} compan{'y' if len(reg.companies) == 1 else 'ies'} with "
               f"{workers} worker{'s' if workers > 1 else ''} on {scheme}://{host}:{port}/qbwc "
               f"(/healthz, /readyz, /metrics; Ctrl-C stops)")
    uvicorn.run("qbsf.app.workers:create_worker_app", factory=True, host=host, port=port, workers=workers,
                ssl_certfile=str(cert) if cert else None, ssl_keyfile=str(key) if key else None,
                proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips, lifespan="on", log_level="warning",
                timeout_graceful_shutdown=30, backlog=2048)
