"""`qbsf qwc …` writes a company's .qwc file; `qbsf qbwc serve` runs the Web Connector endpoint.

    qbsf qwc --company acme --url https://qbsf.example.com/qbwc    register acme, write acme.qwc
    qbsf qbwc serve --host 0.0.0.0 --port 8443 --cert c.pem --key k.pem
    qbsf qbwc users                                                  companies, users, FileIDs
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer

from qbsf.errors import ConfigError
from qbsf.quickbooks.webconnector.qwc import WebConnectorRegistry, check_app_url, qwc_for

app = typer.Typer(help="QuickBooks Web Connector: serve the SOAP endpoint, list its users.", no_args_is_help=True)

REGISTRY_NAME = "webconnector.json"

RegistryOption = Annotated[Path | None, typer.Option(
    "--registry", help="Web Connector registry (OwnerID, FileIDs, users); default: webconnector.json in qbsf's "
                       "data folder.")]


def registry_path(explicit: Path | None) -> Path:
    """The registry file: ``explicit``, else ``webconnector.json`` in the user's qbsf data folder."""
    if explicit is not None:
        return explicit
    from qbsf.app.settings import default_data_dir  # the app layer owns where qbsf keeps its files

    return default_data_dir() / REGISTRY_NAME


def write_qwc(
    company: Annotated[str, typer.Option("--company", help="Company profile name, e.g. acme.")],
    url: Annotated[str, typer.Option("--url", help="Public address of qbsf's endpoint, e.g. "
                                                   "https://qbsf.example.com/qbwc (http only for localhost).")],
    user: Annotated[str | None, typer.Option("--user", help="Web Connector user name; default <company>-qbwc.")]
    = None,
    password: Annotated[str | None, typer.Option("--password", help="Password the Web Connector will send; "
                                                                    "default: keep the current one, or generate "
                                                                    "one for a new company.")] = None,
    company_file: Annotated[str | None, typer.Option("--company-file", help="Full path of the .QBW file; blank = "
                                                                            "the file open in QuickBooks.")] = None,
    every: Annotated[int | None, typer.Option("--every", help="Run every N minutes (Scheduler).")] = None,
    support: Annotated[str | None, typer.Option("--support", help="AppSupport URL; default: the endpoint URL.")]
    = None,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the .qwc; default ./<company>.qwc.")]
    = None,
    registry: RegistryOption = None,
) -> None:
    """Register a company for the Web Connector and write the .qwc file to load into it."""
    check_app_url(url)
    if support:
        check_app_url(support)
    reg = WebConnectorRegistry.load(registry_path(registry))
    is_new = company not in reg.companies or not reg.companies[company].password_hash
    generated = secrets.token_urlsafe(15) if password is None and is_new else None
    registration = reg.register(company, username=user, password=password if password is not None else generated,
                                company_file=company_file, run_every_minutes=every)
    document = qwc_for(reg, company, url=url, support_url=support)
    target = out or Path(f"{company.replace(' ', '_')}.qwc")
    try:
        target.write_bytes(document)
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror}", hint="choose another --out path") from None
    reg.save()
    typer.echo(f"✓ wrote {target} for company {company!r}: user {registration.username}, "
               f"FileID {registration.file_id}, every {registration.run_every_minutes} min")
    if generated is not None:
        typer.echo(f"  Web Connector password (shown once; type it into the Web Connector): {generated}")
    typer.echo(f"  Load it in the Web Connector (Add an application), then run `qbsf qbwc serve` "
               f"reachable at {url}")


@app.command("users")
def list_users(registry: RegistryOption = None) -> None:
    """List the registered companies with their Web Connector user and FileID."""
    reg = WebConnectorRegistry.load(registry_path(registry))
    typer.echo(f"OwnerID {reg.owner_id}  ({reg.path})")
    if not reg.companies:
        typer.echo("no company registered yet: run `qbsf qwc --company NAME --url URL`")
    for name, registration in sorted(reg.companies.items()):
        password = "password set" if registration.password_hash else "NO PASSWORD"
        typer.echo(f"{name}: user {registration.username}, FileID {registration.file_id}, every "
                   f"{registration.run_every_minutes} min, {registration.company_file or 'open file'}, {password}")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8090,
    cert: Annotated[Path | None, typer.Option("--cert", help="TLS certificate (PEM) to serve https.")] = None,
    key: Annotated[Path | None, typer.Option("--key", help="TLS private key (PEM).")] = None,
    public_url: Annotated[str | None, typer.Option("--public-url", help="Address the WSDL announces (behind a "
                                                                        "reverse proxy).")] = None,
    registry: RegistryOption = None,
) -> None:
    """Serve the Web Connector endpoint at /qbwc (https with --cert and --key) until Ctrl-C."""
    from qbsf.quickbooks.webconnector import WebConnectorService, create_app
    from qbsf.quickbooks.webconnector.server import serve_forever

    reg = WebConnectorRegistry.load(registry_path(registry))
    users = reg.users()
    if not users.users():
        raise ConfigError(f"no Web Connector user in {reg.path}",
                          hint="register a company first: qbsf qwc --company NAME --url https://HOST/qbwc")
    if public_url:
        check_app_url(public_url)
    service = WebConnectorService(users)
    for name, registration in reg.companies.items():
        service.add_company(name, company_file=registration.company_file,
                            run_every_minutes=registration.run_every_minutes)
    scheme = "https" if cert else "http"
    typer.echo(f"✓ Web Connector endpoint on {scheme}://{host}:{port}/qbwc for "
               f"{', '.join(sorted(reg.companies))} (Ctrl-C stops)")
    serve_forever(create_app(service, public_url=public_url), host=host, port=port, certfile=cert, keyfile=key)
