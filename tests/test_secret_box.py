"""Authenticated encryption of the companies' secrets (qbsf.secret_box): AES-256-GCM, keys from the environment."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from qbsf.errors import ConfigError
from qbsf.secret_box import KEY_ENV, KEY_FILE_ENV, KeyRing, SecretBoxError, key_id, new_key, write_key_file

VALUE = "5Aep861.refresh-token-of-acme"


def _ring(*keys: str) -> KeyRing:
    return KeyRing.parse("\n".join(keys), source="test")


def test_a_value_round_trips_and_is_never_stored_in_clear() -> None:
    ring = _ring(new_key())
    stored, used = ring.encrypt(VALUE, context="acme/salesforce.refresh_token")
    assert used == ring.current_id and stored.startswith("v1.")
    assert VALUE not in stored and VALUE.encode() not in base64.urlsafe_b64decode(stored[3:])
    assert ring.encrypt(VALUE, context="acme/x")[0] != ring.encrypt(VALUE, context="acme/x")[0], "fresh nonce"
    assert ring.decrypt(stored, context="acme/salesforce.refresh_token", stored_key_id=used) == VALUE


def test_a_ciphertext_opens_only_for_its_company_and_name_and_untouched() -> None:
    ring = _ring(new_key())
    stored, used = ring.encrypt(VALUE, context="acme/salesforce.refresh_token")
    with pytest.raises(SecretBoxError):
        ring.decrypt(stored, context="beta/salesforce.refresh_token", stored_key_id=used)
    tampered = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
    with pytest.raises(SecretBoxError):
        ring.decrypt(tampered, context="acme/salesforce.refresh_token", stored_key_id=used)
    with pytest.raises(SecretBoxError, match="not in qbsf's encrypted form"):
        ring.decrypt("plain text", context="acme/salesforce.refresh_token")


def test_the_ring_reads_with_older_keys_and_writes_with_the_first() -> None:
    old, new = new_key(), new_key()
    stored, old_id = _ring(old).encrypt(VALUE, context="c")
    rotated = _ring(new, old)
    assert rotated.decrypt(stored, context="c", stored_key_id=old_id) == VALUE
    assert rotated.encrypt(VALUE, context="c")[1] == rotated.current_id != old_id
    with pytest.raises(SecretBoxError) as info:
        _ring(new).decrypt(stored, context="c", stored_key_id=old_id)
    assert old_id in str(info.value) and old not in str(info.value), "names the key by id, never the key"


def test_keys_come_from_the_environment_or_a_private_file(tmp_path: Path) -> None:
    key = new_key()
    assert KeyRing.from_environment({KEY_ENV: f"{key}, {new_key()}"}).current_id == key_id(
        base64.urlsafe_b64decode(key))
    with pytest.raises(ConfigError, match="no key to encrypt") as info:
        KeyRing.from_environment({})
    assert "qbsf tenants new-key" in str(info.value)
    path = tmp_path / "secret.key"
    write_key_file(path, [key])
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert KeyRing.from_environment({KEY_FILE_ENV: str(path)}).current_id == key_id(base64.urlsafe_b64decode(key))
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="readable by other users"):
        KeyRing.from_file(path)
    os.chmod(path, 0o600)
    path.write_text("not-a-key-at-all\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a qbsf secret key") as bad:
        KeyRing.from_file(path)
    assert "not-a-key-at-all" not in str(bad.value)
