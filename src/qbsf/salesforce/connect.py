"""Build the configured auth flow and client from settings: the one place the app turns settings into a client.

Takes the ``salesforce`` settings section by duck typing (``instance_url``, ``client_id``, ``auth_flow``,
``username``, ``api_version``, secrets ``client_secret`` / ``password`` as str or pydantic ``SecretStr``), so this
library layer does not import the app.
"""

from __future__ import annotations

import logging
import webbrowser
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from qbsf.errors import ConfigError
from qbsf.salesforce.auth import (
    CALLBACK_PORTS,
    Auth,
    ClientCredentialsAuth,
    JwtBearerAuth,
    SecretStoreLike,
    UsernamePasswordAuth,
    WebServerAuth,
)
from qbsf.salesforce.client import SalesforceClient

log = logging.getLogger(__name__)

FLOWS = ("web", "client_credentials", "jwt", "password")
JWT_KEY_SECRET = "salesforce.jwt_private_key"


def _secret(value: Any) -> str | None:
    """A plain string from a str, a pydantic SecretStr, or None."""
    if value is None:
        return None
    reveal = getattr(value, "get_secret_value", None)
    text = reveal() if callable(reveal) else str(value)
    return text or None


def make_auth(flow: str, *, login_url: str, client_id: str, client_secret: str | None = None,
              username: str | None = None, password: str | None = None, private_key: str | bytes | Path | None = None,
              secrets: SecretStoreLike | None = None, interactive: bool = False,
              open_browser: Callable[[str], object] = webbrowser.open,
              ports: Iterable[int] = CALLBACK_PORTS) -> Auth:
    """The :class:`Auth` for ``flow`` (web / client_credentials / jwt / password), with a clear error per gap."""
    if flow == "web":
        return WebServerAuth(login_url, client_id, client_secret, secrets=secrets, interactive=interactive,
                             open_browser=open_browser, ports=ports)
    if flow == "client_credentials":
        if not client_secret:
            raise ConfigError("salesforce.client_secret is not set (needed by the client_credentials flow)",
                              hint="`qbsf config set salesforce.client_secret SECRET` (the consumer secret)")
        return ClientCredentialsAuth(login_url, client_id, client_secret, secrets=secrets)
    if flow == "jwt":
        if not username:
            raise ConfigError("salesforce.username is not set (needed by the jwt flow)",
                              hint="`qbsf config set salesforce.username integration@yourorg.example`")
        if private_key is None:
            raise ConfigError("no private key for the jwt flow",
                              hint="put the PEM key in environment variable QBSF_SALESFORCE__JWT_PRIVATE_KEY or "
                                   f"the secret store as {JWT_KEY_SECRET}")
        return JwtBearerAuth(login_url, client_id, username, private_key, secrets=secrets)
    if flow == "password":
        if not (username and password and client_secret):
            raise ConfigError("the password flow needs salesforce.username, salesforce.password and "
                              "salesforce.client_secret", hint="prefer the web flow: `qbsf salesforce connect`")
        return UsernamePasswordAuth(login_url, client_id, client_secret, username, password, secrets=secrets)
    raise ConfigError(f"unknown salesforce.auth_flow {flow!r}", hint=f"use one of {', '.join(FLOWS)}")


def auth_from_settings(sf: Any, secrets: SecretStoreLike | None, *, interactive: bool = False,
                       open_browser: Callable[[str], object] = webbrowser.open,
                       ports: Iterable[int] = CALLBACK_PORTS) -> Auth:
    """The configured auth flow for the ``salesforce`` settings section ``sf``."""
    instance_url = (getattr(sf, "instance_url", "") or "").rstrip("/")
    login_url = (getattr(sf, "login_url", "") or instance_url).rstrip("/")
    if not login_url:
        raise ConfigError("salesforce.instance_url is not set",
                          hint="`qbsf config set salesforce.instance_url https://yourorg.my.salesforce.com`")
    client_id = getattr(sf, "client_id", "") or ""
    if not client_id:
        raise ConfigError("salesforce.client_id is not set",
                          hint="`qbsf config set salesforce.client_id …` (the connected app's consumer key)")
    key_file = getattr(sf, "jwt_key_file", None)
    private_key: str | bytes | Path | None = Path(key_file) if key_file else None
    if private_key is None and secrets is not None:
        private_key = secrets.get(JWT_KEY_SECRET)
    return make_auth(str(getattr(sf, "auth_flow", "client_credentials")), login_url=login_url, client_id=client_id,
                     client_secret=_secret(getattr(sf, "client_secret", None)),
                     username=getattr(sf, "username", None) or None,
                     password=_secret(getattr(sf, "password", None)), private_key=private_key, secrets=secrets,
                     interactive=interactive, open_browser=open_browser, ports=ports)


def client_from_settings(sf: Any, secrets: SecretStoreLike | None, *, interactive: bool = False,
                         **client_options: Any) -> SalesforceClient:
    """A :class:`SalesforceClient` for the ``salesforce`` settings section (extra options go to the client)."""
    auth = auth_from_settings(sf, secrets, interactive=interactive)
    instance_url = (getattr(sf, "instance_url", "") or "").rstrip("/") or None
    return SalesforceClient(instance_url, auth, api_version=getattr(sf, "api_version", None) or "62.0",
                            **client_options)
