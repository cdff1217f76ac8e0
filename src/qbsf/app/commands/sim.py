"""`qbsf sim …`: run the emulators that play the other side (Salesforce here) on this machine's loopback."""

from __future__ import annotations

import threading
from pathlib import Path

import typer

from qbsf.errors import ConfigError
from qbsf.sim.quickbooks.cli import app as quickbooks_app

app = typer.Typer(help="Run emulators of the systems qbsf talks to (loopback only).", no_args_is_help=True)
app.add_typer(quickbooks_app, name="quickbooks",
              help="Seed, inspect and send qbXML to a simulated QuickBooks company file.")


@app.command("salesforce")
def salesforce(
    port: int = typer.Option(8443, "--port", help="TCP port on 127.0.0.1 (0 picks a free one)."),
    tls: bool = typer.Option(False, "--tls", help="Serve https with a generated certificate (for https-only "
                                                   "clients such as simple-salesforce)."),
    data: Path | None = typer.Option(None, "--data", help="Folder for the org's SQLite file (and TLS files); "
                                                          "default: in memory."),
    client_id: str | None = typer.Option(None, "--client-id", help="Connected-app consumer key to accept."),
    client_secret: str | None = typer.Option(None, "--client-secret", help="Connected-app consumer secret."),
    metadata: Path | None = typer.Option(None, "--metadata", help="SFDX objects folder for custom objects "
                                                                  "(default: the checkout's salesforce/ package)."),
    jwt_key: Path | None = typer.Option(None, "--jwt-key", help="PEM certificate/public key for JWT bearer."),
    latency: float = typer.Option(0.0, "--latency", help="Seconds added to every API call."),
    fault_rate: float = typer.Option(0.0, "--fault-rate", help="Probability each API call fails (lock/503/limit)."),
    api_limit: int = typer.Option(15_000, "--api-limit", help="Daily API allocation."),
    seed_demo: int = typer.Option(0, "--seed-demo", help="Add N demo accounts (with contacts, products and won "
                                                          "opportunities) to an empty org."),
) -> None:
    """Run the Salesforce REST emulator until Ctrl-C, printing the URL and the demo credentials it accepts."""
    from qbsf.sim.salesforce import DEMO_PASSWORD, DEMO_USERNAME, EmulatorSettings, SalesforceState, create_app
    from qbsf.sim.salesforce.server import serve_in_thread

    if not 0 <= fault_rate <= 1:
        raise ConfigError(f"--fault-rate {fault_rate} is not a probability", hint="use a number from 0 to 1")
    if jwt_key is not None and not jwt_key.is_file():
        raise ConfigError(f"--jwt-key {jwt_key} not found", hint="pass the connected app's PEM certificate")
    settings = EmulatorSettings(jwt_public_key=jwt_key.read_text() if jwt_key else None)
    if client_id:
        settings.client_id = client_id
    if client_secret:
        settings.client_secret = client_secret
    if data is not None:
        data.mkdir(parents=True, exist_ok=True)
    state = SalesforceState(path=data / "salesforce.sqlite" if data else None, metadata_dir=metadata,
                            daily_api_limit=api_limit)
    if seed_demo and not state.records("Account"):
        from qbsf.sim.salesforce.seed import seed_demo as seed

        seed(state, accounts=seed_demo)
    state.latency = latency
    if fault_rate:
        state.inject_faults(fault_rate)
    server = serve_in_thread(create_app(state, settings), port=port, ssl=tls,
                             tls_dir=data / "tls" if data and tls else None)
    typer.echo(f"Salesforce emulator listening on {server.url}", err=False)
    typer.echo(f"  login/instance URL: {server.url}   token: {server.url}/services/oauth2/token")
    typer.echo(f"  client id: {settings.client_id}   client secret: {settings.client_secret}")
    typer.echo(f"  user: {DEMO_USERNAME}   password: {DEMO_PASSWORD}")
    if server.ca_path:
        typer.echo(f"  CA certificate to trust: {server.ca_path}")
    typer.echo(f"  data: {data / 'salesforce.sqlite' if data else 'in memory'}   Ctrl-C stops.", err=False)
    stopped = threading.Event()
    try:
        while not stopped.is_set():
            stopped.wait(0.5)  # short waits: on Windows an endless wait never sees Ctrl-C
    except KeyboardInterrupt:
        typer.echo("stopping")
    finally:
        server.stop()
        state.close()
