"""The emulated org's connected app and login settings."""

from __future__ import annotations

from dataclasses import dataclass

DEMO_CLIENT_ID = "qbsf-demo-client"
DEMO_CLIENT_SECRET = "qbsf-demo-secret"
API_VERSION = "62.0"
# Versions the emulator answers to (GET /services/data/ lists them, oldest first, as Salesforce does):
# 31.0 (Summer '14) to 68.0 (Winter '27), three releases a year.
SUPPORTED_VERSIONS = tuple(f"{major}.0" for major in range(31, 69))


def release_label(version: str) -> str:
    """Salesforce's release name for an API version: 62.0 → "Winter '25", 66.0 → "Spring '26"."""
    offset = int(float(version)) - 62
    return f"{('Winter', 'Spring', 'Summer')[offset % 3]} '{25 + offset // 3}"


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
