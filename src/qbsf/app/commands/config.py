"""`qbsf config …`: show, change and locate the connector's settings."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from qbsf.app.context import AppContext
from qbsf.app.settings import SECRET_KEYS, flatten, masked_view, set_setting

app = typer.Typer(help="Show and change settings (TOML file + OS keyring for secrets).", no_args_is_help=True)

CONFIG_OPTION = typer.Option(None, "--config", envvar="QBSF_CONFIG", help="Settings TOML file to use.")


@app.callback()
def _config(ctx: typer.Context, config: str | None = CONFIG_OPTION) -> None:
    """Settings commands share one ``--config`` option."""
    if not isinstance(ctx.obj, AppContext):
        ctx.obj = AppContext(config=config)
    elif config:
        ctx.obj.config = config


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
    table = Table(title=f"Settings — {loaded.path}{'' if loaded.file_exists else ' (not created yet)'}")
    table.add_column("Setting")
    table.add_column("Value")
    for key, value in flatten(view).items():
        shown = json.dumps(value) if isinstance(value, dict) else str(value)
        table.add_row(key + (" (secret)" if key in SECRET_KEYS else ""), shown)
    Console(width=200).print(table)


@app.command("set")
def set_cmd(ctx: typer.Context, key: str = typer.Argument(..., help="Dotted name, e.g. sync.polling_interval"),
            value: str = typer.Argument(..., help="New value; empty string clears a secret")) -> None:
    """Change one setting; secrets go to the OS keyring, everything else to the TOML file."""
    stored = set_setting(key, value, ctx.obj.config, ctx.obj.secret_store())
    where = "secret store" if key in SECRET_KEYS else str(ctx.obj.path)
    typer.echo(f"✓ {key} = {stored} ({where})")
