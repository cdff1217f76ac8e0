"""Shared plumbing for the app's commands: where the config file is and which secret store to use."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typer.core import TyperGroup

from qbsf.app.settings import LoadedSettings, SecretStoreLike, config_path, load_settings

log = logging.getLogger(__name__)


def open_secret_store() -> SecretStoreLike | None:
    """The project's SecretStore (keyring, with env / 0600-file fallback), or None if it cannot be opened."""
    try:
        from qbsf.secrets import SecretStore  # imported late: the app must still start when the keyring is broken
    except ImportError:
        log.warning("qbsf.secrets is not available; secrets come from QBSF_ environment variables only")
        return None
    try:
        return SecretStore()
    except Exception as exc:  # any keyring backend failure: fall back to environment-only secrets
        log.warning("secret store unavailable (%s); secrets come from QBSF_ environment variables only",
                    type(exc).__name__)
        return None


@dataclass
class AppContext:
    """What every command needs: the ``--config`` path and a lazily opened secret store."""

    config: str | None = None
    secrets: SecretStoreLike | None = None
    _secrets_opened: bool = field(default=False, repr=False)

    @property
    def path(self) -> Path:
        """The TOML settings file in effect."""
        return config_path(self.config)

    def secret_store(self) -> SecretStoreLike | None:
        """The secret store (opened once)."""
        if self.secrets is None and not self._secrets_opened:
            self.secrets = open_secret_store()
            self._secrets_opened = True
        return self.secrets

    def load(self) -> LoadedSettings:
        """Load settings with secrets."""
        return load_settings(self.config, self.secret_store())


def cli_context(ctx: Any, config: str | None) -> AppContext:
    """The AppContext a command group keeps on its Typer context (``ctx.obj``); a ``--config`` given later wins."""
    if not isinstance(ctx.obj, AppContext):
        ctx.obj = AppContext(config=config)
    elif config:
        ctx.obj.config = config
    return ctx.obj


def hoist_config(args: list[str], names: tuple[str, ...] = ("--config",)) -> list[str]:
    """``sync status --config X`` → ``--config X sync status``: the group's ``--config`` (and the other group
    options in ``names``) is read wherever it is."""
    rest: list[str] = []
    front: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        if arg in names and index + 1 < len(args):
            front.extend(args[index:index + 2])
            index += 2
            continue
        if arg.startswith(tuple(f"{name}=" for name in names)):
            front.append(arg)
        else:
            rest.append(arg)
        index += 1
    return front + rest


class ConfigAnywhere(TyperGroup):
    """A command group whose ``--config`` may also follow the subcommand, as the README writes it."""

    hoisted: tuple[str, ...] = ("--config",)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_config(list(args), self.hoisted))


class ConfigAndTenantAnywhere(ConfigAnywhere):
    """As :class:`ConfigAnywhere`, for ``--tenant COMPANY`` too (a hosted deployment's company)."""

    hoisted = ("--config", "--tenant")
