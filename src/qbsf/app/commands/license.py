"""`qbsf license …` and `qbsf machine-id`: check keys offline; owners mint them."""

from __future__ import annotations

from datetime import date

import typer

from qbsf.app import license as lic
from qbsf.app.context import ConfigAnywhere, cli_context
from qbsf.errors import ConfigError

app = typer.Typer(help="License keys: verify offline, show the one in use, mint (owners only).",
                  no_args_is_help=True, cls=ConfigAnywhere)
machine_app = typer.Typer(help="Print this machine's Machine ID (include it when asking for a license key).")

CONFIG_OPTION = typer.Option(None, "--config", envvar="QBSF_CONFIG", help="Settings TOML file to use.")


@app.callback()
def _license(ctx: typer.Context, config: str | None = CONFIG_OPTION) -> None:
    """License commands share one ``--config`` option."""
    cli_context(ctx, config)


def _echo_status(status: lic.LicenseStatus) -> None:
    mark = {"valid": "✓", "grace": "⚠", "free": "✓"}.get(status.state, "✗")
    typer.echo(f"{mark} {status.message}")
    if status.license and status.license.features:
        typer.echo(f"  features: {', '.join(status.license.features)}")


@app.command("verify")
def verify_cmd(ctx: typer.Context, key: str = typer.Argument(..., help="The QBSF-… key"),
               save: bool = typer.Option(False, "--save", help="Store the key in the settings file when valid.")
               ) -> None:
    """Verify a key offline against this machine; exit 2 when it cannot be used."""
    status = lic.verify_key(key, machine=lic.machine_id())
    _echo_status(status)
    if save:
        from qbsf.app.settings import set_setting

        set_setting("license_key", "".join(key.split()), ctx.obj.config)
        typer.echo("✓ saved as license_key")


@app.command("show")
def show_cmd(ctx: typer.Context) -> None:
    """Show the Machine ID and the state of the configured license key."""
    settings = ctx.obj.load().settings
    mid = lic.machine_id()
    typer.echo(f"Machine ID: {mid}")
    status = lic.license_status(settings.license_key, machine=mid)
    _echo_status(status)
    if status.state in ("invalid", "expired"):
        raise typer.Exit(1)


@app.command("mint")
def mint_cmd(
    licensee: str = typer.Option(..., help="Customer name printed in the license."),
    edition: str = typer.Option("standard", help="Edition, e.g. standard, pro, enterprise."),
    machine: str = typer.Option(lic.ANY_MACHINE, help="Machine ID to bind to; * = any machine."),
    expires: str = typer.Option("", help="Last valid day, YYYY-MM-DD; empty = perpetual."),
    feature: list[str] = typer.Option([], "--feature", help="Add-on feature (repeatable)."),
) -> None:
    """Mint a key (project owners only): needs $QBSF_LICENSE_PRIVATE_KEY_FILE or $QBSF_LICENSE_PRIVATE_KEY."""
    try:
        until = date.fromisoformat(expires) if expires else None
    except ValueError as exc:
        raise ConfigError(f"--expires {expires!r} is not a date", hint="use YYYY-MM-DD") from exc
    key = lic.mint_key(lic.load_private_key(), edition=edition, licensee=licensee, machine=machine,
                       expires=until, features=tuple(feature))
    typer.echo(key)


@machine_app.callback(invoke_without_command=True)
def machine_id_cmd() -> None:
    """Print this machine's Machine ID."""
    typer.echo(lic.machine_id())
