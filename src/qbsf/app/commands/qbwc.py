"""`qbsf qwc …` writes a company's .qwc file; `qbsf qbwc serve` runs the Web Connector endpoint.

    qbsf qwc --company acme --url https://qbsf.example.com/qbwc    register acme, write acme.qwc
    qbsf qbwc serve --host 0.0.0.0 --port 8443 --cert c.pem --key k.pem
    qbsf qbwc users                                                  companies, users, FileIDs
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from qbsf.app.wiring import EngineServices
from qbsf.errors import ConfigError, Retriable
from qbsf.quickbooks.transports.webconnector import WebConnectorTransport
from qbsf.quickbooks.webconnector.qwc import WebConnectorRegistry, check_app_url, new_username, qwc_for
from qbsf.quickbooks.webconnector.service import WebConnectorService

log = logging.getLogger(__name__)

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
    user: Annotated[str | None, typer.Option("--user", help="Web Connector user name; default for a new company: "
                                                           "<company>-qbwc- and 12 random hex digits (keep the "
                                                           "current one for a registered company).")] = None,
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
    if user is None and company not in reg.companies:
        user = new_username(company)  # never guessable from the company name
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


class StoppableTransport:
    """The engine's side of a :class:`WebConnectorTransport`: once qbsf is stopping, no request waits for a poll.

    A request sent after the stop began is refused at once; one that was on its way when the stop came is cancelled
    as soon as it queues (a request QuickBooks already holds is left to finish). Without this a cycle that sent its
    next request just after ■ Stop cancelled the waiting ones waited the whole session allowance (minutes).
    Everything else is the transport's own.
    """

    SWEEP_EVERY = 0.25  # seconds between cancels while a request sent before the stop has not returned

    def __init__(self, transport: WebConnectorTransport, stopping: threading.Event) -> None:
        self._transport = transport
        self._stopping = stopping
        self._lock = threading.Lock()
        self._sending = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def send(self, request_xml: str) -> str:
        from qbsf.quickbooks.webconnector.bridge import SessionCutOff

        with self._lock:
            if self._stopping.is_set():
                raise SessionCutOff(f"request for company {self._transport.company!r} not sent: qbsf is stopping",
                                    hint="it was never sent to QuickBooks; the next cycle sends it again")
            self._sending += 1
        try:
            return self._transport.send(request_xml)
        finally:
            with self._lock:
                self._sending -= 1

    def stop(self) -> None:
        """Refuse new requests and cancel the ones waiting for a poll, including one that queues just after."""
        with self._lock:
            self._stopping.set()
            on_the_way = self._sending
        self._transport.bridge.cancel_waiting("qbsf is stopping")
        if on_the_way:
            threading.Thread(target=self._sweep, name=f"qbsf-stop-{self._transport.company}", daemon=True).start()

    def _sweep(self) -> None:
        pause = threading.Event()
        while self._stopping.is_set():
            with self._lock:
                if self._sending == 0:
                    return
            self._transport.bridge.cancel_waiting("qbsf is stopping")
            pause.wait(self.SWEEP_EVERY)


class WebConnectorServices(EngineServices):
    """The connector's Services (those of `qbsf run`) for one company reached through the Web Connector.

    QuickBooks calls in rather than being called: each cycle announces work so the next poll opens a session,
    runs the unchanged engine over :class:`WebConnectorTransport` (its first QuickBooks message waits for that
    poll) and then ends the session with 100 %. The engine's progress becomes the percentage QBWC shows.
    """

    def __init__(self, settings: Any, secrets_store: Any, transport: WebConnectorTransport, *, state: Any = None,
                 machine_id: str = "", owns_state: bool | None = None) -> None:
        from qbsf.sync.runtime import state_url
        from qbsf.sync.state import StateStore

        self.transport = transport
        self._stopping = threading.Event()
        self._engine_transport = StoppableTransport(transport, self._stopping)
        # `qbsf run` passes the state store its dashboard shows (and closes); `qbsf qbwc serve` opens its own
        self._owns_state = state is None if owns_state is None else owns_state
        super().__init__(settings, secrets_store, StateStore(state_url(settings)) if state is None else state,
                         transport_factory=lambda: self._engine_transport, machine_id=machine_id)

    def connect_quickbooks(self) -> str:
        """Wait for the Web Connector's first poll (however long; a stop ends the wait) and read the company."""
        self.transport.want_session()
        while True:
            try:
                name = super().connect_quickbooks()
            except Retriable as exc:
                if self._stopping.is_set():
                    raise
                log.info("still waiting for the Web Connector of company %r: %s", self.transport.company, exc)
                # A pause, so an error QuickBooks repeats at once cannot spin this loop.
                if self._stopping.wait(2.0):
                    raise
                continue
            return f"{name}, through the Web Connector"

    # What an earlier session's first sendRequestXML told (its HCPResponse: QuickBooks' HostRet and CompanyRet) is
    # what a HostQuery and a CompanyQuery would read again: an engine started later — a hosted company moved to
    # another worker, or a restart after an error — goes straight to its work instead of spending two Web Connector
    # round trips on them.
    def _known_qbxml_version(self) -> str | None:
        from qbsf.quickbooks.schema import KNOWN_VERSIONS

        host = self.transport.host_info
        return host.best_version(KNOWN_VERSIONS) if host is not None else None

    def _known_company_name(self) -> str | None:
        settings = self.transport.company_settings
        return settings.company_name if settings is not None and settings.company_name else None

    def _build_engine(self) -> Any:
        engine = super()._build_engine()
        original = engine.sync_sf_to_qb
        transport = self.transport

        @functools.wraps(original)
        def with_progress(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("progress") is None:
                kwargs["progress"] = transport.entity_progress([spec.name for spec in engine.entities()])
            return original(*args, **kwargs)

        engine.sync_sf_to_qb = with_progress
        return engine

    def run_cycle(self, request: Any) -> Any:
        """One cycle inside a Web Connector session, which ends (100 %) when the cycle does."""
        asked = request.should_stop
        # stop() cancels waiting polls before the runtime's own flag is set: without this, the inbound pass could
        # start in that gap and wait for a poll that never comes.
        request = dataclasses.replace(request, should_stop=lambda: self._stopping.is_set() or asked())
        self.transport.want_session()
        try:
            return super().run_cycle(request)
        finally:
            self.transport.finish()

    def stop(self) -> None:
        """Unblock a cycle still waiting for a Web Connector poll (qbsf is stopping); nothing half-done is cut."""
        self._engine_transport.stop()

    def resume(self) -> None:
        """After a stop, let the next start wait for Web Connector polls again (the dashboard's ▶ Start)."""
        self._stopping.clear()

    def close(self) -> None:
        """Close the clients, then the state store if this class opened it."""
        try:
            super().close()
        finally:
            if self._owns_state:
                self.state.close()


def use_webconnector(bundle: Any, transport: WebConnectorTransport) -> WebConnectorServices:
    """Put :class:`WebConnectorServices` behind an assembled ``qbsf run`` (a :class:`qbsf.app.wiring.ConnectorApp`).

    Done before anything starts: the connector and the dashboard's live callbacks (chart of accounts, record fetch,
    QB → SF resets) move from the plain services to the Web Connector ones, which share the same state store.
    """
    old = bundle.services
    services = WebConnectorServices(bundle.settings, old.secrets, transport, state=bundle.state,
                                    machine_id=bundle.machine_id)
    bundle.connector.services = services
    bundle.services = services
    connector = bundle.connector
    start, stop = connector.start, connector.stop

    # The dashboard's ■ Stop must also release a cycle waiting for the Web Connector's next poll (minutes away).
    def stop_too(wait: float | None = None) -> None:
        services.stop()
        stop(wait)

    def start_again() -> bool:
        services.resume()
        return start()

    connector.stop, connector.start = stop_too, start_again
    for name in vars(bundle.dashboard):
        value = getattr(bundle.dashboard, name)
        if getattr(value, "__self__", None) is old:  # a bound method of the plain services
            setattr(bundle.dashboard, name, getattr(services, value.__name__))
    return services


def build_service(reg: WebConnectorRegistry, **service_options: Any) -> WebConnectorService:
    """The Web Connector service for every company of ``reg`` (raises ConfigError if no user has a password)."""
    users = reg.users()
    if not users.users():
        raise ConfigError(f"no Web Connector user in {reg.path}",
                          hint="register a company first: qbsf qwc --company NAME --url https://HOST/qbwc")
    service = WebConnectorService(users, **service_options)
    for name, registration in reg.companies.items():
        service.add_company(name, company_file=registration.company_file,
                            run_every_minutes=registration.run_every_minutes)
    return service


def endpoint_url(host: str, port: int, *, tls: bool, public_url: str | None = None) -> str | None:
    """The address the Web Connector should call, or None when it cannot be told (bound to every interface)."""
    if public_url:
        return public_url
    if host in ("0.0.0.0", "::", ""):
        return None
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}/qbwc"


def attach_dashboard(dashboard: Any, service: WebConnectorService, reg: WebConnectorRegistry,
                     url: str | None) -> None:
    """Show ``service``'s companies in ``dashboard``'s Web Connector panel (.qwc downloads when ``url`` is known)."""
    dashboard.webconnector_statuses = service.statuses
    dashboard.webconnector_throttles = service.login_throttles
    if url is not None:
        # Only an address the Web Connector accepts (https, or http to this machine) gets a download link.
        try:
            check_app_url(url)
        except ConfigError:
            return
        dashboard.webconnector_qwc = lambda company: qwc_for(reg, company, url=url)


def sync_transport(service: WebConnectorService, reg: WebConnectorRegistry, company: str) -> WebConnectorTransport:
    """The transport the engine of ``company`` uses; a cycle may wait one Web Connector interval for its poll."""
    registration = reg.companies.get(company)
    if registration is None:
        raise ConfigError(f"company {company!r} is not registered for the Web Connector",
                          hint=f"registered: {', '.join(sorted(reg.companies)) or 'none'}; see `qbsf qbwc users`")
    return WebConnectorTransport(service.bridge(company), session_wait=registration.run_every_minutes * 60 + 120,
                                 response_timeout=900.0)


def parse_sync_options(values: list[str] | None, reg: WebConnectorRegistry, default_config: str | None,
                       ) -> dict[str, str | None]:
    """``--sync NAME[=SETTINGS.toml]`` options → {company: its settings file (None = ``--config``)}.

    Without any, the only registered company syncs with ``--config``.
    """
    if not values:
        if len(reg.companies) != 1:
            raise ConfigError("several companies are registered; say which ones the sync engine serves",
                              hint="pass --sync NAME=SETTINGS.toml for each, from: "
                                   + ", ".join(sorted(reg.companies)))
        return {next(iter(reg.companies)): default_config}
    profiles: dict[str, str | None] = {}
    for value in values:
        name, _, config = value.partition("=")
        name = name.strip()
        if name not in reg.companies:
            raise ConfigError(f"--sync {value}: company {name!r} is not registered",
                              hint=f"registered: {', '.join(sorted(reg.companies)) or 'none'} (qbsf qwc adds one)")
        if name in profiles:
            raise ConfigError(f"--sync names company {name!r} twice", hint="give each company once")
        profiles[name] = config.strip() or default_config
    return profiles


def registered_tenants(url: str, reg: WebConnectorRegistry) -> dict[str, str]:
    """The companies registered in the state database at ``url`` (`qbsf tenants add`) that have a Web Connector
    user here: {company: its settings file ("" = the deployment's)}."""
    from qbsf.sync.tenants import DEFAULT_TENANT, TenantRegistry

    with TenantRegistry(url) as registry:
        return {tenant.id: tenant.config for tenant in registry.list()
                if tenant.id != DEFAULT_TENANT and tenant.id in reg.companies}


def sync_profiles(values: list[str] | None, reg: WebConnectorRegistry, default_config: str | None,
                  tenants: dict[str, str]) -> dict[str, str | None]:
    """The companies whose sync runs here, each with its settings file: those ``--sync`` names (NAME alone: its
    registered settings file), else every company of the deployment's database (``tenants``), else the rule of
    :func:`parse_sync_options`."""
    if not values and tenants:
        return {company: tenants[company] or default_config for company in sorted(tenants)}
    profiles = parse_sync_options(values, reg, default_config)
    for value in values or []:
        name = value.partition("=")[0].strip()
        if "=" not in value and tenants.get(name):
            profiles[name] = tenants[name]
    return profiles


class CompanyEngines:
    """One connector runtime per company, each with its own settings: Salesforce org, state store, mappings."""

    def __init__(self) -> None:
        self.running: dict[str, tuple[WebConnectorServices, Any]] = {}
        #: Whether each company's log lines name it (several companies, or companies of a shared database).
        self.named = False
        #: The state databases whose registered companies (tenants) run here, by URL (qbsf.app.hosted.Tenancy).
        self.tenancies: dict[str, Any] = {}

    def tenant_secrets(self, company: str, settings: Any, deployment_config: str | None = None) -> Any:
        """``company``'s encrypted secret store when it is a tenant of its state database, else None.

        A tenant's secrets (and the refresh tokens Salesforce rotates to) are its own, encrypted in the database:
        never the keyring entries every company of this machine would share.
        """
        from qbsf.app.hosted import Tenancy
        from qbsf.sync.runtime import state_url

        url = state_url(settings)
        tenancy = self.tenancies.get(url)
        if tenancy is None:
            tenancy = Tenancy(url, deployment_config=deployment_config)
            if company not in {tenant.id for tenant in tenancy.registry().list()}:
                tenancy.close()
                return None
            self.tenancies[url] = tenancy
        elif company not in {tenant.id for tenant in tenancy.registry().list()}:
            return None
        return tenancy.secrets(company)

    def add(self, company: str, settings: Any, secrets_store: Any, transport: WebConnectorTransport) -> None:
        """Build ``company``'s engine now (so a bad setting shows before any Web Connector calls).

        A company registered as a tenant of its state database (``qbsf tenants add``) gets a state store scoped to
        it: its Web Connector user reaches its own rows only, and several companies may share one database.
        """
        from qbsf.app.runtime import Connector
        from qbsf.sync.runtime import state_url

        state = company_state(company, state_url(settings))
        for other, (services, _connector) in self.running.items():
            shared = state_url(services.settings) == state_url(settings)
            if shared and DEFAULT_COMPANY in (state.tenant, services.state.tenant):
                state.close()
                raise ConfigError(f"companies {other!r} and {company!r} would share the state database "
                                  f"{state_url(settings)}", hint="give each company its own settings file with "
                                                                 "its own state_url, or register each as a company "
                                                                 "of that database: qbsf tenants add NAME")
        from qbsf.log_context import company_context

        services = WebConnectorServices(settings, secrets_store, transport, state=state, owns_state=True)
        with company_context(company if self.named else None):  # its log lines name it
            services.connect_salesforce()
        self.running[company] = (services, Connector(services, settings))

    def adopt(self, company: str, services: WebConnectorServices, connector: Any) -> None:
        """Serve ``company`` with a runtime built elsewhere (`qbsf run`'s, which also feeds its dashboard)."""
        self.running[company] = (services, connector)

    def request_stop(self) -> None:
        """Ask every company to stop (quick, safe in a signal handler): unblock waits, end loops after the record."""
        for services, connector in self.running.values():
            services.stop()
            connector.stop()

    def start(self) -> None:
        """Start every company's cycles (each one's log lines name its company)."""
        from qbsf.log_context import company_context

        for company, (_services, connector) in self.running.items():
            with company_context(company if self.named else None):
                connector.start()

    def stop(self, wait: float = 10.0) -> None:
        """Unblock cycles waiting for a poll, stop every loop, release clients and state stores."""
        for services, _connector in self.running.values():
            services.stop()
        for services, connector in self.running.values():
            connector.stop(wait=wait)
            services.close()
        for tenancy in self.tenancies.values():
            tenancy.close()
        self.tenancies.clear()


DEFAULT_COMPANY = "default"


def company_state(company: str, url: str) -> Any:
    """``company``'s state store when it is registered as a tenant of the database at ``url`` (else the database's
    default company's, as a single-company set-up has)."""
    from qbsf.sync.state import StateStore
    from qbsf.sync.tenants import TenantRegistry

    with TenantRegistry(url) as registry:
        tenants = {tenant.id for tenant in registry.list()}
    return StateStore(url, tenant=company if company in tenants else None)


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (the Web Connector allows plain http to those only)."""
    import ipaddress

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(host: str, cert: Path | None, key: Path | None, public_url: str | None) -> None:
    """Refuse what the Web Connector cannot use, before anything starts: half a TLS pair, plain http to the network."""
    from qbsf.quickbooks.webconnector.server import check_tls

    check_tls(cert, key)
    if public_url:
        check_app_url(public_url)
    if cert is None and not is_loopback(host):
        raise ConfigError(
            f"the Web Connector endpoint would listen on {host} over plain http: the Web Connector accepts http only "
            "for localhost, and its password would cross the network in clear",
            hint="give a certificate and its key (--cert FILE --key FILE), or keep qbsf on 127.0.0.1 behind an "
                 "https reverse proxy as the README shows (QuickBooks Web Connector → TLS through a reverse proxy)")


def serve_endpoint(service: WebConnectorService, engines: CompanyEngines, *, host: str, port: int,
                   cert: Path | None = None, key: Path | None = None, public_url: str | None = None,
                   ready: Callable[[str, int], None] | None = None, login: Any = None) -> None:
    """Serve ``/qbwc`` with ``engines`` behind it until Ctrl-C or SIGTERM, then stop them cleanly.

    The one serving path of `qbsf qbwc serve` and `qbsf run` (Web Connector transport). ``ready(url, port)`` is
    called once the port is bound (port 0 picks a free one); ``url`` is where this machine reaches the endpoint.
    ``login`` (qbsf.app.hosted.HostedLogin) adds the hosted Salesforce login's callback beside /qbwc.
    """
    from types import SimpleNamespace

    from qbsf.app.hosted import hosted_endpoint
    from qbsf.app.runtime import install_signal_handlers
    from qbsf.quickbooks.webconnector.server import serve_forever

    check_listen(host, cert, key, public_url)
    scheme = "https" if cert else "http"
    shown = f"[{host}]" if ":" in host else host

    def bound(bound_port: int) -> None:
        if ready is not None:
            ready(f"{scheme}://{shown}:{bound_port}/qbwc", bound_port)

    engines.start()
    # uvicorn re-raises the Ctrl-C/SIGTERM it stopped on after restoring the previous handlers: make those ours,
    # so the re-raised signal stops the engines (after the record in hand) instead of killing the process.
    restore = install_signal_handlers(SimpleNamespace(stop=engines.request_stop))  # type: ignore[arg-type]
    try:
        serve_forever(hosted_endpoint(service, login, public_url=public_url), host=host, port=port, certfile=cert,
                      keyfile=key, ready=bound)
    finally:
        restore()
        engines.stop()


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port (0 picks a free one).")] = 8090,
    cert: Annotated[Path | None, typer.Option("--cert", help="TLS certificate (PEM) to serve https.")] = None,
    key: Annotated[Path | None, typer.Option("--key", help="TLS private key (PEM).")] = None,
    public_url: Annotated[str | None, typer.Option("--public-url", help="Address the WSDL announces (behind a "
                                                                        "reverse proxy).")] = None,
    registry: RegistryOption = None,
    sync: Annotated[list[str] | None, typer.Option(
        "--sync", help="NAME or NAME=SETTINGS.toml (repeatable): run the sync engine for that company with its own "
                       "settings (Salesforce org, state, mappings; NAME alone: the settings file it was registered "
                       "with by `qbsf tenants add`, else --config); default: every company registered in the "
                       "--config state database that has a Web Connector user, else the only registered "
                       "company with --config.")] = None,
    engine: Annotated[bool, typer.Option("--engine/--no-engine", help="Run the sync engine behind the endpoint "
                                                                      "(--no-engine: test the connection only).")]
    = True,
    config: Annotated[str | None, typer.Option("--config", envvar="QBSF_CONFIG", help="Settings TOML file.")]
    = None,
    dashboard_port: Annotated[int | None, typer.Option(
        "--dashboard-port", help="Also serve the dashboard on 127.0.0.1 at this port (0 = any free one), with the "
                                 "Web Connector panel; its connector controls need exactly one --sync company.")]
    = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error: the log on standard "
                                                               "error (with several companies each line names its "
                                                               "company).")] = "info",
) -> None:
    """Serve the Web Connector endpoint at /qbwc (https with --cert and --key) with the sync engine behind it."""
    from types import SimpleNamespace

    from qbsf.app.commands.serve import _log_level
    from qbsf.app.context import AppContext
    from qbsf.app.hosted import TenantContext
    from qbsf.app.logging import configure_logging, redactor, reset_logging
    from qbsf.app.wiring import secret_values

    check_listen(host, cert, key, public_url)
    # As `qbsf serve`'s workers: the log on standard error (a service manager keeps it), every company's lines
    # naming the company when several run here. The dashboard shows the same lines from this buffer.
    log_buffer = configure_logging(console=True, level=_log_level(log_level))
    ctx.call_on_close(reset_logging)  # however the command ends
    reg = WebConnectorRegistry.load(registry_path(registry))
    service = build_service(reg)
    engines = CompanyEngines()
    contexts: dict[str, AppContext] = {}
    if engine:
        deployment_url = AppContext(config=config).load().settings.resolved_state_url()
        tenants = registered_tenants(deployment_url, reg)
        profiles = sync_profiles(sync, reg, config, tenants)
        engines.named = len(profiles) > 1 or bool(tenants)  # several companies: each log line names its own
        for company, company_config in profiles.items():
            context = AppContext(config=company_config)
            if company in tenants:  # a company of the deployment's database: its state and encrypted secrets there
                secrets_store = engines.tenant_secrets(company, SimpleNamespace(state_url=deployment_url), config)
                context = TenantContext(config=company_config, secrets=secrets_store, tenant=company,
                                        state_url=deployment_url)
            else:
                tenant_secrets = engines.tenant_secrets(company, context.load().settings, config)
                if tenant_secrets is not None:  # a company of a shared state database: its own encrypted secrets
                    context = AppContext(config=company_config, secrets=tenant_secrets)
            contexts[company] = context
            redactor.register(*secret_values(context.load().settings, context))  # masked in every log line
            engines.add(company, context.load().settings, context.secret_store(),
                        sync_transport(service, reg, company))
    login = hosted_login(engines, public_url)
    engine_note = (f"; sync engine for {', '.join(sorted(engines.running))}" if engines.running
                   else "; no sync engine (connection test)")
    board = None
    if dashboard_port is not None:
        board = _serve_dashboard(service, reg, engines, contexts, AppContext(config=config), dashboard_port,
                                 log_buffer)
        if engines.tenancies:  # the admin page: every company of the shared state database
            board.dashboard.tenancy = next(iter(engines.tenancies.values()))
            board.dashboard.hosted_login = login

    def ready(url: str, bound_port: int) -> None:
        typer.echo(f"✓ Web Connector endpoint on {url} for {', '.join(sorted(reg.companies))}{engine_note} "
                   "(Ctrl-C stops)")
        if board is not None:
            attach_dashboard(board.dashboard, service, reg,
                             endpoint_url(host, bound_port, tls=cert is not None, public_url=public_url))

    try:
        serve_endpoint(service, engines, host=host, port=port, cert=cert, key=key, public_url=public_url,
                       ready=ready, login=login)
    finally:
        if board is not None:
            board.stop()


def hosted_login(engines: CompanyEngines, public_url: str | None) -> Any:
    """The hosted Salesforce login when tenants run here and the public address is known, else None: its
    callback is served at that address beside /qbwc (https://HOST/salesforce/callback)."""
    if not engines.tenancies or not public_url:
        return None
    from urllib.parse import urlsplit

    from qbsf.app.hosted import HostedLogin

    parts = urlsplit(public_url)
    return HostedLogin(next(iter(engines.tenancies.values())), f"{parts.scheme}://{parts.netloc}")


def _serve_dashboard(service: WebConnectorService, reg: WebConnectorRegistry, engines: CompanyEngines,
                     contexts: dict[str, Any], default_context: Any, port: int, log_buffer: Any) -> Any:
    """The dashboard beside `qbsf qbwc serve` on 127.0.0.1: the Web Connector panel, plus the connector's controls
    and state when exactly one company runs the engine; its log panel reads ``log_buffer`` (the command's log).
    Returns the running server (``.stop()``)."""
    from qbsf.app.dashboard import Dashboard
    from qbsf.app.dashboard.server import start_dashboard

    only = next(iter(engines.running)) if len(engines.running) == 1 else None
    services, connector = engines.running[only] if only else (None, None)
    context = contexts.get(only, default_context) if only else default_context
    dashboard = Dashboard(app_context=context, log_buffer=log_buffer,
                          connector=connector, state=services.state if services else None,
                          chart_of_accounts=services.chart_of_accounts if services else None,
                          fetch_record=services.fetch_record if services else None,
                          reset_inbound=services.reset_qb_to_sf if services else None)
    attach_dashboard(dashboard, service, reg, None)
    running = start_dashboard(dashboard, "127.0.0.1", port)
    # printed, never logged: the token opens the dashboard and must not land in a log file
    typer.echo(f"Dashboard: {running.url}")
    return running
