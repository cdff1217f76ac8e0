"""Each company's secrets (Salesforce client secret, password, access and refresh tokens) in the state database,
encrypted (qbsf.secret_box): never in plain text, never in a log line.

:class:`TenantSecretStore` has the interface of ``qbsf.secrets.SecretStore`` (get/set/delete by name) for the
company its StateStore was opened for, so settings and the Salesforce login read and store a company's secrets
the same way a single-company set-up does with the keyring. Unlike the keyring store, no environment variable
overrides a company's secret: one process serves many companies, and a variable would hand one value to all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, select

from qbsf.errors import ConfigError
from qbsf.secret_box import KeyRing, SecretBoxError
from qbsf.sync.state import StateStore, _upsert
from qbsf.sync.tenants import TenantRegistry, secret_table

log = logging.getLogger(__name__)


def _context(tenant: str, name: str) -> str:
    # Bound into each ciphertext: a value copied to another company or name does not decrypt.
    return f"qbsf tenant secret\x00{tenant}\x00{name}"


def _check_name(name: str) -> str:
    from qbsf.secrets import _check_name as check

    check(name)
    return name


class TenantSecretStore:
    """Get, set and delete one company's secrets, encrypted in its state database."""

    def __init__(self, state: StateStore, ring: KeyRing | None = None) -> None:
        """``ring``: the keys (``KeyRing.from_environment()`` when not given, read when a value is needed)."""
        self.state = state
        self._ring = ring

    @property
    def ring(self) -> KeyRing:
        if self._ring is None:
            self._ring = KeyRing.from_environment()
        return self._ring

    @property
    def backend(self) -> str:
        return f"state database, company {self.state.tenant!r}, encrypted (AES-256-GCM, key {self.ring.current_id})"

    def get(self, name: str) -> str | None:
        """The secret ``name`` of this company, or None."""
        _check_name(name)
        with self.state._tx() as connection:
            row = connection.execute(select(secret_table.c.ciphertext, secret_table.c.key_id)
                                     .where(secret_table.c.name == name)).first()
        if row is None:
            return None
        try:
            return self.ring.decrypt(row.ciphertext, context=_context(self.state.tenant, name),
                                     stored_key_id=row.key_id)
        except SecretBoxError as exc:
            raise SecretBoxError(f"company {self.state.tenant!r}, secret {name}: {exc.message}",
                                 hint=exc.hint) from None

    def set(self, name: str, value: str) -> None:
        """Store ``value`` under ``name`` for this company (replaces any previous value)."""
        _check_name(name)
        if not isinstance(value, str) or value == "":
            raise ConfigError(f"secret {name}: value must be a non-empty string",
                              hint=f"use delete({name!r}) to forget a secret")
        stored, key = self.ring.encrypt(value, context=_context(self.state.tenant, name))
        with self.state._tx() as connection:
            _upsert(connection, secret_table, [{"name": name, "ciphertext": stored, "key_id": key,
                                                "updated_at": self.state.now()}],
                    ("name",), ("ciphertext", "key_id", "updated_at"))
        log.info("secret %s of company %s stored encrypted (key %s)", name, self.state.tenant, key)

    def delete(self, name: str) -> None:
        """Forget ``name`` (no error when absent)."""
        _check_name(name)
        with self.state._tx() as connection:
            connection.execute(delete(secret_table).where(secret_table.c.name == name))

    def names(self) -> list[str]:
        """The names of this company's secrets (never their values)."""
        with self.state._tx() as connection:
            return list(connection.execute(select(secret_table.c.name).order_by(secret_table.c.name)).scalars())


@dataclass(frozen=True)
class Rotation:
    """What :func:`rotate` did: secrets re-encrypted per company, and under which key."""

    key_id: str
    by_company: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_company.values())


def rotate(registry: TenantRegistry, ring: KeyRing) -> Rotation:
    """Re-encrypt every company's secrets under the ring's first key, in one transaction.

    Every secret is opened first: if one cannot be (its key is not in the ring), nothing is changed and the error
    names the company and the secret.
    """
    counts: dict[str, int] = {}
    with registry.state.engine.begin() as connection:
        rows = connection.execute(select(secret_table).order_by(secret_table.c.tenant, secret_table.c.name)).all()
        updates = []
        for row in rows:
            context = _context(row.tenant, row.name)
            try:
                value = ring.decrypt(row.ciphertext, context=context, stored_key_id=row.key_id)
            except SecretBoxError as exc:
                raise SecretBoxError(f"company {row.tenant!r}, secret {row.name}: {exc.message}; nothing was "
                                     "re-encrypted", hint=exc.hint) from None
            stored, key = ring.encrypt(value, context=context)
            updates.append((row.tenant, row.name, stored, key))
            counts[row.tenant] = counts.get(row.tenant, 0) + 1
        for tenant, name, stored, key in updates:
            connection.execute(secret_table.update().where(secret_table.c.tenant == tenant,
                                                           secret_table.c.name == name)
                               .values(ciphertext=stored, key_id=key))
    log.info("re-encrypted %d secrets of %d companies under key %s", sum(counts.values()), len(counts),
             ring.current_id)
    return Rotation(ring.current_id, counts)
