"""`qbsf salesforce …`: connect (the manual's "Connect to Salesforce" browser login), check, disconnect."""

from __future__ import annotations

import webbrowser
from typing import Any

import typer

from qbsf.app.context import cli_context
from qbsf.errors import QbsfError
from qbsf.salesforce.auth import CALLBACK_PORTS, WebServerAuth
from qbsf.salesforce.client import SalesforceClient
from qbsf.salesforce.connect import auth_from_settings
from qbsf.sync.entities import outbound_entities

app = typer.Typer(help="Salesforce: log in with the browser, test the connection, log out.", no_args_is_help=True)

CONFIG_OPTION = typer.Option(None, "--config", envvar="QBSF_CONFIG", help="Settings TOML file to use.")
#: The fields qbsf writes QuickBooks ids into; without them nothing can be written back (from the entity registry).
ID_FIELDS = {item.sf_object: item.qb_id_field for item in outbound_entities()}
PACKAGE_OBJECTS = ("QB_Invoice__c", "QBSync_Queue__c", "QBSF_Heartbeat__c", "QBSF_Sync_Request__c", "QBSF_Mapping__c",
                   "QBSF_Watermark__c", "QBSF_Activity__c", "QB_Payment__c", "QB_Payment_Line__c", "QB_Credit_Memo__c",
                   "QB_Sales_Receipt__c", "QB_Vendor__c", "QB_Bill__c")


def _context(ctx: typer.Context, config: str | None) -> Any:
    return cli_context(ctx, config)


@app.callback()
def _salesforce(ctx: typer.Context, config: str | None = CONFIG_OPTION) -> None:
    """Salesforce commands share one ``--config`` option."""
    _context(ctx, config)


@app.command("connect")
def connect(ctx: typer.Context,
            no_browser: bool = typer.Option(False, "--no-browser", help="Print the login URL instead of opening it."),
            port: list[int] = typer.Option(list(CALLBACK_PORTS), "--port",
                                           help="Callback port(s) to try, in order (the connected app must list "
                                                "http://localhost:PORT/callback)."),
            ) -> None:
    """Log in through the browser (OAuth web-server flow with PKCE); the refresh token goes to the secret store."""
    context = ctx.obj
    loaded = context.load()
    sf = loaded.settings.salesforce

    def show(url: str) -> bool:
        typer.echo(f"Open this URL to log in to Salesforce:\n{url}")
        return True

    opener = show if no_browser else webbrowser.open
    auth = auth_from_settings(_as_web(sf), context.secret_store(), interactive=True, open_browser=opener,
                              ports=port)
    if not isinstance(auth, WebServerAuth):  # _as_web could not switch the flow: settings of an unexpected shape
        raise QbsfError("cannot start the browser login with these settings", hint="set salesforce.auth_flow to web")
    with SalesforceClient(sf.instance_url or None, auth, api_version=sf.api_version) as client:
        auth.login(client.http)
        limits = client.limits()
    typer.echo(f"✓ Connected to Salesforce at {auth.token(client.http).instance_url} "
               f"(API requests left today: {limits.get('DailyApiRequests', {}).get('Remaining', '?')})")
    if sf.auth_flow != "web":
        typer.echo("  note: salesforce.auth_flow is not 'web'; run `qbsf config set salesforce.auth_flow web` to use "
                   "this login for syncing")


def _as_web(sf: Any) -> Any:
    """The same settings with the web flow selected (connect always uses the browser)."""
    copy = getattr(sf, "model_copy", None)
    return copy(update={"auth_flow": "web"}) if callable(copy) else sf


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Test the connection with the configured flow; report API usage and which qbsf fields and objects exist."""
    context = ctx.obj
    sf = context.load().settings.salesforce
    auth = auth_from_settings(sf, context.secret_store(), interactive=False)
    with SalesforceClient(sf.instance_url or None, auth, api_version=sf.api_version) as client:
        limits = client.limits().get("DailyApiRequests", {})
        typer.echo(f"✓ Salesforce reachable ({sf.auth_flow} flow), API requests today: "
                   f"{limits.get('Max', 0) - limits.get('Remaining', 0)} of {limits.get('Max', '?')} used")
        missing = []
        for sobject, field_name in ID_FIELDS.items():
            if field_name not in client.field_names(sobject):
                missing.append(f"{sobject}.{field_name}")
        package = []
        for sobject in PACKAGE_OBJECTS:
            try:
                client.describe(sobject)
            except QbsfError:
                package.append(sobject)
    if missing:
        typer.echo(f"✗ missing QuickBooks id fields: {', '.join(missing)} — deploy salesforce/ "
                   "(see README, 'Salesforce package')")
        raise typer.Exit(1)
    typer.echo("✓ QuickBooks id fields present (SystemModstamp polling works)")
    if package:
        typer.echo(f"⚠ package objects missing: {', '.join(package)} — the QBSync_Queue__c change source, "
                   "invoices and the QuickBooks Sync app need the full package (deploy salesforce/ again)")
    else:
        typer.echo("✓ qbsf package installed (queue change source and the QuickBooks Sync app available)")


@app.command("disconnect")
def disconnect(ctx: typer.Context) -> None:
    """Revoke the stored refresh token at Salesforce and delete every stored token."""
    context = ctx.obj
    sf = context.load().settings.salesforce
    auth = auth_from_settings(_as_web(sf), context.secret_store(), interactive=False)
    with SalesforceClient(sf.instance_url or None, auth) as client:
        confirmed = auth.revoke(client.http)
    typer.echo("✓ Disconnected: tokens revoked at Salesforce and deleted locally" if confirmed else
               "✓ Tokens deleted locally (Salesforce did not confirm a revocation: none was active)")


@app.command("query")
def query(ctx: typer.Context, soql: str = typer.Argument(..., help="The SOQL to run, e.g. \"SELECT Id, Name FROM "
                                                                  "Account LIMIT 5\""),
          include_deleted: bool = typer.Option(False, "--all", help="Use queryAll (deleted and archived rows too)."),
          ) -> None:
    """Run one SOQL query with the configured login and print the rows as JSON lines (every page followed)."""
    import json

    context = ctx.obj
    sf = context.load().settings.salesforce
    auth = auth_from_settings(sf, context.secret_store(), interactive=False)
    with SalesforceClient(sf.instance_url or None, auth, api_version=sf.api_version) as client:
        count = 0
        for page in client.iter_query(soql, include_deleted=include_deleted):
            for record in page:
                record.pop("attributes", None)
                typer.echo(json.dumps(record, default=str, ensure_ascii=False))
                count += 1
    typer.echo(f"# {count} record(s), {client.calls} API call(s)", err=True)
