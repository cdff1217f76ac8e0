"""Secrets (client secrets, passwords, OAuth tokens): the OS keyring, with a clear fallback where none exists.

Lookup order for :meth:`SecretStore.get`:

1. environment variable ``QBSF_<NAME>`` (dots become ``__``: ``salesforce.refresh_token`` →
   ``QBSF_SALESFORCE__REFRESH_TOKEN``), so containers and CI can inject secrets without any store;
2. the OS keyring (service ``qbsf``) when a usable backend exists (Keychain, Windows Credential Locker,
   Secret Service / KWallet);
3. otherwise a JSON file in the user's config dir, created with mode 0600 (readable only by the user).

Values never reach a log line: only names and the backend in use are logged.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from qbsf.errors import ConfigError

log = logging.getLogger(__name__)

SERVICE = "qbsf"
ENV_PREFIX = "QBSF_"
SECRETS_FILE = "secrets.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def env_name(name: str) -> str:
    """The environment variable that overrides secret ``name`` (same rule as settings: dots become ``__``)."""
    return ENV_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", name.replace(".", "__")).upper()


def default_secrets_file() -> Path:
    """Where the file fallback lives: ``secrets.json`` in the user's qbsf config dir."""
    return Path(platformdirs.user_config_dir(SERVICE, appauthor=False)) / SECRETS_FILE


def _usable_keyring() -> object | None:
    """The active keyring backend, or None when it is the fail/null backend (headless Linux, CI)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:  # keyring is a dependency, but a broken install must not stop the app
        return None
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a misconfigured backend raises all sorts of errors at import time
        log.warning("keyring backend unavailable (%s); using the secrets file", type(exc).__name__)
        return None
    null_types: tuple[type, ...] = (fail.Keyring,)
    try:
        from keyring.backends import null

        null_types += (null.Keyring,)
    except ImportError:  # older keyring releases ship no null backend
        pass
    if isinstance(backend, null_types):
        return None
    if getattr(backend, "priority", 1) <= 0:
        return None
    chained = getattr(backend, "backends", None)
    if chained is not None and not chained:
        return None
    return backend


class SecretStore:
    """Get, set and delete named secrets: environment override, then the OS keyring or a 0600 file."""

    def __init__(self, *, service: str = SERVICE, path: Path | None = None, use_keyring: bool = True,
                 environ: Mapping[str, str] | None = None, keyring_backend: object | None = None) -> None:
        """``path`` overrides the fallback file; ``use_keyring=False`` forces the file (tests, portable installs);
        ``keyring_backend`` supplies a specific keyring backend instead of the platform's."""
        self.service = service
        self.path = path or default_secrets_file()
        self._environ = os.environ if environ is None else environ
        if keyring_backend is not None:
            self._keyring: object | None = keyring_backend
        else:
            self._keyring = _usable_keyring() if use_keyring else None
        log.debug("secret store: %s", self.backend)

    @property
    def backend(self) -> str:
        """A human description of where secrets are stored (for `qbsf doctor`-style output)."""
        if self._keyring is not None:
            return f"keyring ({type(self._keyring).__module__}.{type(self._keyring).__name__})"
        return f"file {self.path} (mode 0600)"

    def get(self, name: str) -> str | None:
        """The secret ``name``, or None when it is stored nowhere."""
        _check_name(name)
        from_env = self._environ.get(env_name(name))
        if from_env:
            return from_env
        if self._keyring is not None:
            try:
                return self._keyring.get_password(self.service, name)  # type: ignore[attr-defined]
            except Exception as exc:  # a locked or broken keyring must not crash a sync cycle
                log.warning("keyring read of %s failed (%s); trying the secrets file", name, type(exc).__name__)
        return self._read_file().get(name)

    def set(self, name: str, value: str) -> None:
        """Store ``value`` under ``name`` (replaces any previous value)."""
        _check_name(name)
        if not isinstance(value, str) or value == "":
            raise ConfigError(f"secret {name}: value must be a non-empty string",
                              hint=f"use delete({name!r}) to forget a secret")
        if self._keyring is not None:
            try:
                self._keyring.set_password(self.service, name, value)  # type: ignore[attr-defined]
                log.info("secret %s stored in the keyring", name)
                return
            except Exception as exc:  # fall back rather than lose a rotated refresh token
                log.warning("keyring write of %s failed (%s); storing it in %s", name, type(exc).__name__, self.path)
        data = self._read_file()
        data[name] = value
        self._write_file(data)
        log.info("secret %s stored in %s", name, self.path)

    def delete(self, name: str) -> None:
        """Forget ``name`` everywhere this store writes (no error when absent)."""
        _check_name(name)
        if self._keyring is not None:
            try:
                self._keyring.delete_password(self.service, name)  # type: ignore[attr-defined]
            except Exception:  # absent from the keyring (PasswordDeleteError) is the normal case
                log.debug("secret %s was not in the keyring", name)
        data = self._read_file()
        if name in data:
            del data[name]
            self._write_file(data)
            log.info("secret %s deleted from %s", name, self.path)

    def _read_file(self) -> dict[str, str]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(f"cannot read secrets file {self.path}: {exc.strerror}",
                              hint="check the file's owner and permissions (it should be yours, mode 0600)") from exc
        self._tighten_mode()
        try:
            data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            # never echo the content: it is full of secrets
            raise ConfigError(f"secrets file {self.path} is not valid JSON",
                              hint="fix it or delete it and store the secrets again with `qbsf config set`") from exc
        if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            raise ConfigError(f"secrets file {self.path} must be a JSON object of name → string",
                              hint="fix it or delete it and store the secrets again with `qbsf config set`")
        return data

    def _tighten_mode(self) -> None:
        """Warn and fix a secrets file that others could read (POSIX only; Windows uses ACLs)."""
        if sys.platform == "win32":
            return
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            log.warning("secrets file %s had mode %o; restricting it to 0600", self.path, mode)
            os.chmod(self.path, 0o600)

    def _write_file(self, data: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # write a 0600 temp file then rename: never a moment where the secrets are world-readable or half-written
        fd, tmp = tempfile.mkstemp(prefix=".secrets-", dir=self.path.parent)
        try:
            os.chmod(tmp, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"invalid secret name {name!r}",
                          hint="use letters, digits, '.', '_' or '-' (e.g. salesforce.refresh_token)")
