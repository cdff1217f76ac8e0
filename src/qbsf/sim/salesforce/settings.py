"""The emulated org's connected app and login settings."""

from __future__ import annotations

from dataclasses import dataclass

DEMO_CLIENT_ID = "qbsf-demo-client"
DEMO_CLIENT_SECRET = "qbsf-demo-secret"
API_VERSION = "62.0"
# Versions the emulator answers to (GET /services/data/ lists them, newest last, as Salesforce does).
SUPPORTED_VERSIONS = ("31.0", "40.0", "45.0", "46.0", "50.0", "55.0", "58.0", "59.0", "60.0", "61.0", "62.0")


@dataclass
class EmulatorSettings:
    """Connected-app credentials the emulator accepts, and how it issues tokens.

    ``jwt_public_key`` is the PEM public key or X.509 certificate uploaded to the connected app; JWT bearer
    assertions must be RS256-signed by its private key. ``rotate_refresh_tokens`` mirrors the connected-app policy
    that issues a new refresh token on every refresh and invalidates the old one.
    """

    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    jwt_public_key: str | None = None
    rotate_refresh_tokens: bool = True
    instance_url: str | None = None  # None: the URL the request came in on
    login_audiences: tuple[str, ...] = ("https://login.salesforce.com", "https://test.salesforce.com")
    scope: str = "api refresh_token"
