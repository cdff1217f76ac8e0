"""Which transport reaches QuickBooks is the user's choice: outside the demo and the tests nothing is assumed, so
a connector can never sync into the simulator's made-up company by accident."""

from __future__ import annotations

from typing import Any

from qbsf.errors import ConfigError

#: The transports a user chooses between (``simulator`` is for tests, benchmarks and ``qbsf demo``).
CHOICES = ("com", "webconnector")


def transport_not_chosen() -> ConfigError:
    """The one message for a missing ``quickbooks.transport`` (CLI, connector and dashboard say the same)."""
    return ConfigError(
        "QuickBooks transport not chosen: quickbooks.transport is not set, and qbsf does not guess how to reach "
        "QuickBooks",
        hint="`qbsf config set quickbooks.transport com` (Windows, QuickBooks on this machine) or "
             "`qbsf config set quickbooks.transport webconnector` (any OS, through the QuickBooks Web Connector)")


def require_transport(qb_settings: Any) -> str:
    """The configured transport's name; a missing one is refused with :func:`transport_not_chosen`."""
    kind = getattr(qb_settings, "transport", "") or ""
    if not kind:
        raise transport_not_chosen()
    return kind
