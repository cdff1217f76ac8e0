"""`qbsf config …`: show, change and locate the connector's settings."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from qbsf.app.context import ConfigAnywhere, cli_context
from qbsf.app.settings import (
    SECRET_KEYS,
    ChartAccount,
    Settings,
    chart_from_records,
    flatten,
    masked_view,
    set_setting,
    setting_sources,
)

app = typer.Typer(help="Show and change settings (TOML file + OS keyring for secrets).", no_args_is_help=True,
                  cls=ConfigAnywhere)

CONFIG_OPTION = typer.Option(None, "--config", envvar="QBSF_CONFIG", help="Settings TOML file to use.")


@app.callback()
def _config(ctx: typer.Context, config: str | None = CONFIG_OPTION) -> None:
    """Settings commands share one ``--config`` option."""
    cli_context(ctx, config)


@app.command("path")
def path_cmd(ctx: typer.Context) -> None:
    """Print the settings file in use (it may not exist yet)."""
    typer.echo(str(ctx.obj.path))


@app.command("show")
def show_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print every setting, secrets masked."""
    loaded = ctx.obj.load()
    view = masked_view(loaded.settings)
    if as_json:
        typer.echo(json.dumps(view, indent=2))
        return
    sources = setting_sources(ctx.obj.config, ctx.obj.secret_store())
    table = Table(title=f"Settings — {loaded.path}{'' if loaded.file_exists else ' (not created yet)'}")
    table.add_column("Setting")
    table.add_column("Value")
    table.add_column("From")
    for key, value in flatten(view).items():
        shown = json.dumps(value) if isinstance(value, dict) else str(value)
        table.add_row(key + (" (secret)" if key in SECRET_KEYS else ""), shown, sources.get(key, ""))
    Console(width=200).print(table)


@app.command("set")
def set_cmd(ctx: typer.Context, key: str = typer.Argument(..., help="Dotted name, e.g. sync.polling_interval"),
            value: str = typer.Argument(..., help="New value; empty string clears a secret")) -> None:
    """Change one setting; secrets go to the OS keyring, everything else to the TOML file."""
    stored = set_setting(key, value, ctx.obj.config, ctx.obj.secret_store())
    where = "secret store" if key in SECRET_KEYS else str(ctx.obj.path)
    typer.echo(f"✓ {key} = {stored} ({where})")


@app.command("accounts")
def accounts_cmd(
    ctx: typer.Context,
    income: str | None = typer.Option(None, help="Income / Sales account (required for every item type)."),
    cogs: str | None = typer.Option(None, help="Cost of Goods Sold account (inventory items)."),
    inventory_asset: str | None = typer.Option(None, "--inventory-asset", help="Inventory Asset account."),
    expense: str | None = typer.Option(None, help="Default purchase-side account."),
    ar: str | None = typer.Option(None, help="Accounts Receivable account."),
    check_only: bool = typer.Option(False, "--check", help="Check the saved accounts; change nothing."),
) -> None:
    """Set QB Default Accounts, checked against the configured QuickBooks company's chart of accounts."""
    from qbsf.app.settings import QBAccounts, check_default_accounts, update_settings

    settings = ctx.obj.load().settings
    current = settings.quickbooks.default_accounts.model_dump()
    given = {"income": income, "cogs": cogs, "inventory_asset": inventory_asset, "expense": expense, "ar": ar}
    wanted = QBAccounts(**{slot: (value if value is not None else current[slot]) for slot, value in given.items()})
    checked = check_default_accounts(wanted, fetch_chart_of_accounts(settings))
    for slot, value in checked.model_dump().items():
        typer.echo(f"✓ {slot}: {value or '(not set)'}")
    if check_only:
        return
    update_settings({f"quickbooks.default_accounts.{slot}": value for slot, value in checked.model_dump().items()},
                    ctx.obj.config)
    typer.echo(f"✓ QB Default Accounts saved to {ctx.obj.path}")


def fetch_chart_of_accounts(settings: Settings) -> list[ChartAccount]:
    """The chart of accounts of the QuickBooks company the settings point at (simulator or COM)."""
    from qbsf.app.transports import close_transport, quickbooks_transport
    from qbsf.quickbooks.client import QuickBooksClient

    transport = quickbooks_transport(settings.quickbooks)
    try:
        with QuickBooksClient(transport) as client:
            accounts = client.query_accounts(include_inactive=True)
    finally:
        close_transport(transport)
    return chart_from_records(accounts)
