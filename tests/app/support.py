"""Settings for a connector wired to the Salesforce emulator, as the app tests build it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qbsf.app.settings import Settings
from qbsf.bench.outbound import EXAMPLE_MAPPINGS


def emulated_settings(emulator: Any, *, mappings: Path = EXAMPLE_MAPPINGS, **sync: Any) -> Settings:
    """Settings reaching ``emulator`` (a running Salesforce emulator) with the example mappings and an income
    account; ``sync`` holds the ``[sync]`` settings of the test."""
    return Settings.model_validate({
        "salesforce": {"instance_url": emulator.url, "client_id": emulator.client_id,
                       "client_secret": emulator.client_secret},
        "quickbooks": {"default_accounts": {"income": "Sales"}},
        "sync": sync,
        "mappings_dir": str(mappings),
    })
