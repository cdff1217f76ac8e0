"""`qbsf status`: is the connector online? Reads the local heartbeat and the state database (no network)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer

from qbsf.app.context import AppContext

app = typer.Typer(help="Show whether the connector is online (heartbeat within 2 minutes), with failures to see to.")

CONFIG_OPTION = typer.Option(None, "--config", envvar="QBSF_CONFIG", help="Settings TOML file to use.")


@app.callback(invoke_without_command=True)
def status(config: str | None = CONFIG_OPTION,
           as_json: bool = typer.Option(False, "--json", help="Print JSON."),
           tenant: str | None = typer.Option(None, "--tenant", help="A company of a hosted deployment (`qbsf "
                                                                    "tenants list`), whose state the --config "
                                                                    "settings' state_url holds.")) -> None:
    """Exit 0 when the connector is online and syncing, 1 when it is offline or its last cycle stopped (monitoring)."""
    from qbsf.app.runtime import ONLINE_WINDOW, Heartbeat
    from qbsf.app.wiring import heartbeat_path

    if tenant is not None:
        _hosted_status(config, tenant, as_json)

    settings = AppContext(config=config).load().settings
    heartbeat = Heartbeat(heartbeat_path(settings))
    beat = heartbeat.read() or {}
    online = heartbeat.online()
    failures, parked = _failures(settings.resolved_state_url())
    halted = beat.get("error") if online else None  # the last cycle stopped as a whole: nothing is syncing
    report = {"online": online, "heartbeat": beat.get("at"), "cycle": beat.get("cycle"),
              "quickbooks": beat.get("quickbooks"), "failures": failures, "parked": parked, "error": halted,
              "heartbeat_file": str(heartbeat.path)}
    if as_json:
        typer.echo(json.dumps(report))
    else:
        if online and halted:
            typer.echo(f"✗ Connector — Online but not syncing: cycle {beat.get('cycle')} {halted}")
        elif online:
            typer.echo(f"✓ Connector — Online (heartbeat {_ago(beat['at'])}, cycle {beat.get('cycle')})")
        elif beat:
            typer.echo(f"✗ Connector — Offline: last heartbeat {_ago(beat.get('at', ''))} "
                       f"(more than {int(ONLINE_WINDOW.total_seconds() // 60)} minutes) → start it with `qbsf run`")
        else:
            typer.echo(f"✗ Connector — Offline: no heartbeat at {heartbeat.path} → start it with `qbsf run`")
        if beat:
            typer.echo(f"{'✓' if beat.get('quickbooks') else '✗'} QuickBooks — "
                       f"{'Connected' if beat.get('quickbooks') else 'Not connected'} at the last cycle")
        if failures:
            typer.echo(f"⚠ {failures} record(s) failing, {parked} waiting for you (see the dashboard)")
    raise typer.Exit(0 if online and not halted else 1)


def _hosted_status(config: str | None, tenant: str, as_json: bool) -> None:
    """`qbsf status --tenant COMPANY`: the company as the deployment's workers run it (no heartbeat file)."""
    from qbsf.app.hosted import company_status, tenant_context

    report = company_status(tenant_context(config, tenant))
    if as_json:
        typer.echo(json.dumps(report))
        raise typer.Exit(0 if report["online"] else 1)
    ago = report["last_cycle_seconds_ago"]
    cycle = f"last cycle {_seconds(ago)} ago" if ago is not None else "no cycle finished yet"
    if report["online"]:
        typer.echo(f"✓ {tenant} — Syncing on worker {report['worker']} ({cycle}, {report['cycles']} cycles)")
    elif report["worker"]:
        typer.echo(f"✗ {tenant} — Worker {report['worker']} runs it but {cycle} → see that worker's log")
    else:
        typer.echo(f"✗ {tenant} — No worker runs it ({cycle}) → start `qbsf serve`, and check the company has a "
                   "Web Connector user (qbsf tenants show)")
    session = report["web_connector_session"]
    if session:
        typer.echo(f"{'✓' if session['outcome'] == 'completed' else '⚠'} QuickBooks — Web Connector session "
                   f"#{session['number']} {session['outcome']} (started {session['started']})")
    else:
        typer.echo("✗ QuickBooks — no Web Connector session yet")
    if report["failures"]:
        typer.echo(f"⚠ {report['failures']} record(s) failing, {report['parked']} waiting for you "
                   f"(qbsf sync --tenant {tenant} status)")
    raise typer.Exit(0 if report["online"] else 1)


def _seconds(seconds: float) -> str:
    return f"{int(seconds)} s" if seconds < 120 else f"{int(seconds // 60)} min"


def _failures(url: str) -> tuple[int, int]:
    from qbsf.sync.state import StateStore

    if url.startswith("sqlite:///"):
        from pathlib import Path

        if not Path(url.removeprefix("sqlite:///")).exists():  # never create a database just to look at it
            return 0, 0
    state = StateStore(url)
    try:
        failures = state.failures()
    finally:
        state.close()
    return len(failures), sum(1 for f in failures if f.parked)


def _ago(at: str) -> str:
    try:
        seconds = int((datetime.now(UTC) - datetime.fromisoformat(at)).total_seconds())
    except ValueError:
        return "at an unknown time"
    return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago"
