"""`qbsf tenants …`: the companies one deployment serves (hosted mode), their secrets and the key that guards them.

    qbsf tenants add acme --name "Acme Corp" --company-config /srv/qbsf/acme.toml
    qbsf tenants list
    qbsf tenants show acme
    qbsf tenants remove acme                 asks first, and says what it deletes
    qbsf tenants set-secret acme salesforce.client_secret
    qbsf tenants new-key /etc/qbsf/secret.key
    qbsf tenants rotate-key                  re-encrypt every company's secrets under the first key

Every command works on the state database of the deployment's settings (``--config``), or ``--state URL``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from qbsf.errors import ConfigError

app = typer.Typer(help="Companies (tenants) served by one deployment: add, list, show, remove; their encrypted "
                       "secrets and key rotation.", no_args_is_help=True)

ConfigOption = Annotated[str | None, typer.Option("--config", envvar="QBSF_CONFIG",
                                                  help="The deployment's settings file (its state_url).")]
StateOption = Annotated[str | None, typer.Option("--state", help="State database URL (default: the settings' "
                                                                 "state_url).")]


def _state_url(config: str | None, state: str | None) -> str:
    if state:
        return state
    from qbsf.app.context import AppContext

    return AppContext(config=config).load().settings.resolved_state_url()


def _registry(config: str | None, state: str | None) -> Any:
    from qbsf.sync.tenants import TenantRegistry

    return TenantRegistry(_state_url(config, state))


def _ring() -> Any:
    from qbsf.secret_box import KeyRing

    return KeyRing.from_environment()


def _web_connector(registry_file: Path | None) -> dict[str, Any]:
    """The Web Connector registrations by company (empty when the registry file does not exist)."""
    from qbsf.app.commands.qbwc import registry_path
    from qbsf.quickbooks.webconnector.qwc import WebConnectorRegistry

    path = registry_path(registry_file)
    return dict(WebConnectorRegistry.load(path).companies) if path.exists() else {}


RegistryOption = Annotated[Path | None, typer.Option(
    "--registry", help="Web Connector registry (default: webconnector.json in qbsf's data folder).")]


@app.command("add")
def add(
    tenant: Annotated[str, typer.Argument(help="The company's profile name (its Web Connector company name).")],
    name: Annotated[str, typer.Option("--name", help="Display name, e.g. \"Acme Corp\".")] = "",
    company_config: Annotated[str, typer.Option(
        "--company-config", help="The company's own settings file: Salesforce connection, mappings folder, "
                                 "default accounts, licence key (blank: the deployment's).")] = "",
    config: ConfigOption = None,
    state: StateOption = None,
) -> None:
    """Register a company: its state, secrets and settings are its own from now on."""
    if company_config and not Path(company_config).expanduser().is_file():
        raise ConfigError(f"--company-config {company_config}: no such file",
                          hint="write the company's settings first (qbsf config set --config FILE …)")
    with _registry(config, state) as registry:
        added = registry.add(tenant, name=name, config=str(Path(company_config).expanduser()) if company_config
                             else "")
    typer.echo(f"✓ company {added.id!r} added ({added.name}); settings: {added.config or 'the deployment’s'}")
    typer.echo(f"  Next: qbsf qwc --company {added.id} --url https://HOST/qbwc, and its Salesforce login")


@app.command("list")
def list_tenants(config: ConfigOption = None, state: StateOption = None, registry_file: RegistryOption = None,
                 as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List every company with its Web Connector user and how much state it holds."""
    web_connector = _web_connector(registry_file)
    with _registry(config, state) as registry:
        rows = [{"id": t.id, "name": t.name, "settings": t.config, "records_linked": registry.rows(t.id)
                 .get("crosswalk", 0), "web_connector_user": getattr(web_connector.get(t.id), "username", None)}
                for t in registry.list()]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        user = row["web_connector_user"] or "no Web Connector user (qbsf qwc --company …)"
        typer.echo(f"{row['id']}: {row['name']} — {row['records_linked']} records linked, {user}, settings "
                   f"{row['settings'] or 'the deployment’s'}")


@app.command("show")
def show(tenant: Annotated[str, typer.Argument(help="The company.")], config: ConfigOption = None,
         state: StateOption = None, registry_file: RegistryOption = None,
         as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """One company: settings file, Web Connector user, state rows, failures and secret names (never values)."""
    from qbsf.sync.tenant_secrets import TenantSecretStore

    with _registry(config, state) as registry:
        found = registry.get(tenant)
        counts = registry.rows(tenant)
        with registry.open(tenant) as store:
            failures = store.failures()
            recent = store.recent(1)
            secrets = TenantSecretStore(store).names()
    registration = _web_connector(registry_file).get(tenant)
    report = {"id": found.id, "name": found.name, "settings": found.config,
              "created": found.created_at.isoformat() if found.created_at else None,
              "web_connector_user": registration.username if registration else None,
              "file_id": registration.file_id if registration else None, "rows": counts,
              "failures": len(failures), "parked": sum(1 for f in failures if f.parked),
              "last_activity": recent[0].at.isoformat() if recent and recent[0].at else None, "secrets": secrets}
    if as_json:
        typer.echo(json.dumps(report))
        return
    typer.echo(f"{found.id}: {found.name} (added {report['created']})")
    typer.echo(f"  settings: {found.config or 'the deployment’s'}")
    typer.echo(f"  Web Connector: user {report['web_connector_user']}, FileID {report['file_id']}" if registration
               else "  Web Connector: not registered (qbsf qwc --company …)")
    typer.echo(f"  state: {_rows_words(counts) or 'nothing yet'}; last activity {report['last_activity'] or 'never'}")
    typer.echo(f"  failures: {report['failures']} ({report['parked']} waiting for you)")
    typer.echo(f"  secrets (encrypted): {', '.join(secrets) or 'none'}")


_TABLE_WORDS = {"crosswalk": "linked records", "watermark": "sync timestamps", "seen_version": "seen versions",
                "payload_hash": "sync fingerprints", "journal": "QuickBooks write journal entries",
                "failure": "failures", "activity": "activity log lines", "inbound_snapshot": "QuickBooks snapshots",
                "inbound_open_invoice": "open invoices", "sync_base": "merge bases",
                "lifecycle_notice": "life-cycle notices", "tenant_secret": "encrypted secrets"}


def _rows_words(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {_TABLE_WORDS.get(table, table)}" for table, count in counts.items())


@app.command("remove")
def remove(tenant: Annotated[str, typer.Argument(help="The company to remove.")], config: ConfigOption = None,
           state: StateOption = None,
           yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False) -> None:
    """Delete a company and all its state and secrets from the state database (asks first)."""
    with _registry(config, state) as registry:
        found = registry.get(tenant)
        counts = registry.rows(tenant)
        typer.echo(f"This deletes company {found.id!r} ({found.name}) from the state database: "
                   f"{_rows_words(counts) or 'no rows'}.")
        typer.echo("Kept: its settings file, its mappings, and the records in QuickBooks and Salesforce; its Web "
                   "Connector registration stays until you remove it from the Web Connector.")
        if not yes and not typer.confirm(f"Remove {found.id!r}?", default=False):
            typer.echo("nothing removed")
            raise typer.Exit(1)
        removed = registry.remove(tenant)
    typer.echo(f"✓ company {found.id!r} removed ({sum(removed.values())} rows deleted)")


@app.command("set-secret")
def set_secret(tenant: Annotated[str, typer.Argument(help="The company.")],
               name: Annotated[str, typer.Argument(help="e.g. salesforce.client_secret")],
               config: ConfigOption = None, state: StateOption = None) -> None:
    """Store one of a company's secrets, encrypted (the value is asked for, never taken from the command line)."""
    from qbsf.sync.tenant_secrets import TenantSecretStore

    ring = _ring()
    value = typer.prompt(f"{name} for {tenant}", hide_input=True) if sys.stdin.isatty() \
        else sys.stdin.readline().rstrip("\r\n")
    with _registry(config, state) as registry:
        registry.get(tenant)
        with registry.open(tenant) as store:
            TenantSecretStore(store, ring).set(name, value)
    typer.echo(f"✓ {name} of {tenant!r} stored encrypted (key {ring.current_id})")


@app.command("new-key")
def new_key_command(path: Annotated[Path, typer.Argument(help="Key file to create (mode 0600).")]) -> None:
    """Write a new secret key file; with an existing file, put the new key first and keep the others (rotation)."""
    from qbsf.secret_box import KeyRing, encode_key, new_key, write_key_file

    kept = [encode_key(key) for key in KeyRing.from_file(path).keys] if path.exists() else []
    fresh = new_key()
    write_key_file(path, [fresh, *kept])
    ring = KeyRing.from_file(path)
    typer.echo(f"✓ {path}: new key {ring.current_id} first"
               + (f", {len(kept)} older kept for reading until `qbsf tenants rotate-key`" if kept else ""))


@app.command("rotate-key")
def rotate_key(config: ConfigOption = None, state: StateOption = None) -> None:
    """Re-encrypt every company's secrets under the first key of the ring (QBSF_SECRET_KEY_FILE / QBSF_SECRET_KEY)."""
    from qbsf.sync.tenant_secrets import rotate

    ring = _ring()
    with _registry(config, state) as registry:
        done = rotate(registry, ring)
    typer.echo(f"✓ {done.total} secrets of {len(done.by_company)} companies re-encrypted under key {done.key_id}")
    if len(ring.keys) > 1:
        typer.echo(f"  Every qbsf process reads with the new key already: remove the {len(ring.keys) - 1} older "
                   "key(s) from the key file now, then restart the workers.")
