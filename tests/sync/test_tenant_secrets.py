"""Each company's secrets, encrypted in the state database: scoped by company, never in clear, never logged, and
re-encrypted under a new key by a rotation — on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select, update

from qbsf.secret_box import KeyRing, SecretBoxError, new_key
from qbsf.sync.tenant_secrets import TenantSecretStore, rotate
from qbsf.sync.tenants import TenantRegistry, secret_table

TOKEN = "5Aep861-acme-refresh-token"


@pytest.fixture(params=["sqlite", "postgresql"])
def registry(request, tmp_path: Path):
    url = str(tmp_path / "state.db") if request.param == "sqlite" else request.getfixturevalue("postgres_state_url")
    with TenantRegistry(url) as tenants:
        tenants.add("acme")
        tenants.add("beta")
        yield tenants


def _rows(registry: TenantRegistry) -> list[tuple[str, str, str, str]]:
    with registry.state.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(secret_table.c.tenant, secret_table.c.name, secret_table.c.ciphertext, secret_table.c.key_id)
            .order_by(secret_table.c.tenant))]


def test_secrets_are_per_company_encrypted_and_never_logged(registry: TenantRegistry, caplog) -> None:
    ring = KeyRing.parse(new_key(), source="test")
    with caplog.at_level(logging.DEBUG), registry.open("acme") as acme, registry.open("beta") as beta:
        TenantSecretStore(acme, ring).set("salesforce.refresh_token", TOKEN)
        TenantSecretStore(beta, ring).set("salesforce.refresh_token", "beta-token")
        assert TenantSecretStore(acme, ring).get("salesforce.refresh_token") == TOKEN
        assert TenantSecretStore(beta, ring).get("salesforce.refresh_token") == "beta-token"
        assert TenantSecretStore(beta, ring).get("salesforce.client_secret") is None
        assert TenantSecretStore(acme, ring).names() == ["salesforce.refresh_token"]
        TenantSecretStore(beta, ring).delete("salesforce.refresh_token")
        assert TenantSecretStore(acme, ring).get("salesforce.refresh_token") == TOKEN, "beta's delete kept acme's"
    assert all(TOKEN not in message and "beta-token" not in message for message in caplog.messages)
    (row,) = _rows(registry)
    assert row[0] == "acme" and TOKEN not in row[2] and row[3] == ring.current_id


def test_a_ciphertext_moved_to_another_company_does_not_open(registry: TenantRegistry) -> None:
    ring = KeyRing.parse(new_key(), source="test")
    with registry.open("acme") as acme, registry.open("beta") as beta:
        TenantSecretStore(acme, ring).set("salesforce.refresh_token", TOKEN)
        TenantSecretStore(beta, ring).set("salesforce.refresh_token", "beta-token")
        (acme_row, _beta_row) = _rows(registry)
        with registry.state.engine.begin() as connection:  # someone with database access copies acme's value
            connection.execute(update(secret_table).where(secret_table.c.tenant == "beta")
                               .values(ciphertext=acme_row[2]))
        with pytest.raises(SecretBoxError, match=r"company 'beta', secret salesforce\.refresh_token"):
            TenantSecretStore(beta, ring).get("salesforce.refresh_token")


def test_rotation_re_encrypts_every_company_under_the_new_key(registry: TenantRegistry) -> None:
    old, new = new_key(), new_key()
    old_ring = KeyRing.parse(old, source="old")
    with registry.open("acme") as acme, registry.open("beta") as beta:
        TenantSecretStore(acme, old_ring).set("salesforce.refresh_token", TOKEN)
        TenantSecretStore(acme, old_ring).set("salesforce.client_secret", "acme-secret")
        TenantSecretStore(beta, old_ring).set("salesforce.refresh_token", "beta-token")
    before = _rows(registry)

    with pytest.raises(SecretBoxError, match="nothing was re-encrypted"):
        rotate(registry, KeyRing.parse(new, source="new only"))  # the old key is not in the ring
    assert _rows(registry) == before

    done = rotate(registry, KeyRing.parse(f"{new}\n{old}", source="new, then old"))
    new_ring = KeyRing.parse(new, source="new")
    assert done.by_company == {"acme": 2, "beta": 1} and done.key_id == new_ring.current_id
    assert {row[3] for row in _rows(registry)} == {new_ring.current_id}
    with registry.open("acme") as acme, registry.open("beta") as beta:  # the old key can go now
        assert TenantSecretStore(acme, new_ring).get("salesforce.refresh_token") == TOKEN
        assert TenantSecretStore(acme, new_ring).get("salesforce.client_secret") == "acme-secret"
        assert TenantSecretStore(beta, new_ring).get("salesforce.refresh_token") == "beta-token"
        with pytest.raises(SecretBoxError):
            TenantSecretStore(beta, old_ring).get("salesforce.refresh_token")
