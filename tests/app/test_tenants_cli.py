"""`qbsf tenants …`: add, list, show, remove (asks first, says what it deletes), secrets and key rotation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from qbsf.app.cli import app
from qbsf.secret_box import KEY_FILE_ENV, KeyRing
from qbsf.sync.state import Link
from qbsf.sync.tenants import TenantRegistry, secret_table


@pytest.fixture
def state(tmp_path: Path, config_file: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), input=input, env=env, catch_exceptions=False)


def test_add_list_show_remove(state: str, tmp_path: Path) -> None:
    settings = tmp_path / "acme.toml"
    settings.write_text("[sync]\npolling_interval = 60\n", encoding="utf-8")
    added = run("tenants", "add", "acme", "--name", "Acme Corp", "--company-config", str(settings), "--state", state)
    assert added.exit_code == 0 and "company 'acme' added (Acme Corp)" in added.output
    assert run("tenants", "add", "beta", "--state", state).exit_code == 0
    again = CliRunner().invoke(app, ["tenants", "add", "acme", "--state", state])
    assert again.exit_code != 0 and "registered already" in str(again.exception)
    missing = CliRunner().invoke(app, ["tenants", "add", "gamma", "--company-config", str(tmp_path / "no.toml"),
                                       "--state", state])
    assert "no such file" in str(missing.exception)

    with TenantRegistry(state) as registry, registry.open("beta") as beta:
        beta.record_many([Link("Account", "001Q00000000001AAA", "80000001-1")])
    listed = json.loads(run("tenants", "list", "--state", state, "--json").output)
    assert [(row["id"], row["records_linked"]) for row in listed] == [("acme", 0), ("beta", 1), ("default", 0)]
    shown = run("tenants", "show", "acme", "--state", state)
    assert "acme: Acme Corp" in shown.output and str(settings) in shown.output and "secrets (encrypted): none" in \
        shown.output

    refused = run("tenants", "remove", "beta", "--state", state, input="n\n")
    assert refused.exit_code == 1 and "This deletes company 'beta'" in refused.output
    assert "1 linked records" in refused.output and "nothing removed" in refused.output
    assert "Kept: its settings file" in refused.output
    done = run("tenants", "remove", "beta", "--state", state, input="y\n")
    assert done.exit_code == 0 and "company 'beta' removed (1 rows deleted)" in done.output
    assert [row["id"] for row in json.loads(run("tenants", "list", "--state", state, "--json").output)] == [
        "acme", "default"]


def test_secrets_are_stored_encrypted_and_rotated_to_a_new_key(state: str, tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    env = {KEY_FILE_ENV: str(key_file)}
    assert run("tenants", "new-key", str(key_file)).exit_code == 0
    first = KeyRing.from_file(key_file)
    run("tenants", "add", "acme", "--state", state)
    stored = run("tenants", "set-secret", "acme", "salesforce.client_secret", "--state", state,
                 input="s3cret-value\n", env=env)
    assert stored.exit_code == 0 and "s3cret-value" not in stored.output and first.current_id in stored.output
    assert "salesforce.client_secret" in run("tenants", "show", "acme", "--state", state).output

    rotated_key = run("tenants", "new-key", str(key_file))
    assert "1 older kept for reading" in rotated_key.output
    ring = KeyRing.from_file(key_file)
    assert len(ring.keys) == 2 and ring.keys[1] == first.keys[0]
    rotated = run("tenants", "rotate-key", "--state", state, env=env)
    assert rotated.exit_code == 0 and f"1 secrets of 1 companies re-encrypted under key {ring.current_id}" in \
        rotated.output and "remove the 1 older key(s)" in rotated.output
    with TenantRegistry(state) as registry, registry.state.engine.connect() as connection:
        ((key_id, ciphertext),) = connection.execute(select(secret_table.c.key_id, secret_table.c.ciphertext)).all()
    assert key_id == ring.current_id and "s3cret-value" not in ciphertext

    no_key = CliRunner().invoke(app, ["tenants", "rotate-key", "--state", state], env={KEY_FILE_ENV: ""})
    assert "no key to encrypt" in str(no_key.exception)
