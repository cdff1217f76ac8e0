"""One call to a running emulator with its demo credentials: for tests, benchmarks and the demo."""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from qbsf.sim.salesforce.app import create_app
from qbsf.sim.salesforce.server import RunningServer, serve_in_thread
from qbsf.sim.salesforce.settings import API_VERSION, EmulatorSettings
from qbsf.sim.salesforce.state import DEMO_PASSWORD, DEMO_USERNAME, SalesforceState


@dataclass
class Emulator:
    """A running emulator: ``url``, ``state``, the connected-app and user credentials it accepts, ``stop()``."""

    server: RunningServer
    state: SalesforceState
    settings: EmulatorSettings
    username: str = DEMO_USERNAME
    password: str = DEMO_PASSWORD
    api_version: str = API_VERSION

    @property
    def url(self) -> str:
        """Base URL (instance URL and login URL alike)."""
        return self.server.url

    @property
    def client_id(self) -> str:
        """The connected app's consumer key."""
        return self.settings.client_id

    @property
    def client_secret(self) -> str:
        """The connected app's consumer secret."""
        return self.settings.client_secret

    @property
    def ca_path(self) -> Path | None:
        """CA certificate to trust when served over https."""
        return self.server.ca_path

    @property
    def token_url(self) -> str:
        """The OAuth token endpoint."""
        return f"{self.url}/services/oauth2/token"

    @property
    def data_url(self) -> str:
        """``…/services/data/vXX.X`` for the default API version."""
        return f"{self.url}/services/data/v{self.api_version}"

    @functools.cached_property
    def ssl_context(self) -> ssl.SSLContext:
        """A TLS context trusting the emulator's CA (built once: building one costs ~0.1 s)."""
        return ssl.create_default_context(cafile=str(self.ca_path) if self.ca_path else None)

    def login(self) -> dict[str, Any]:
        """A client-credentials token response (``access_token``, ``instance_url``, …)."""
        response = httpx.post(self.token_url, data={"grant_type": "client_credentials", "client_id": self.client_id,
                                                    "client_secret": self.client_secret},
                              verify=self.ssl_context)
        response.raise_for_status()
        return response.json()

    def client(self) -> httpx.Client:
        """An httpx client on the instance URL, already authenticated (paths start with /services/data/…)."""
        token = self.login()["access_token"]
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"},
                            verify=self.ssl_context, timeout=30)

    def stop(self) -> None:
        """Stop the server (the state stays usable)."""
        self.server.stop()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(state: SalesforceState | None = None, settings: EmulatorSettings | None = None, *,
                   ssl: bool = False, host: str = "127.0.0.1", port: int = 0) -> Emulator:
    """Start the emulator on a background thread (a free loopback port by default)."""
    state = state or SalesforceState()
    settings = settings or EmulatorSettings()
    server = serve_in_thread(create_app(state, settings), host=host, port=port, ssl=ssl)
    return Emulator(server, state, settings)
