"""A Web Connector password verified with scrypt on one worker is recognised by every worker: the memo lives in the
shared database (``wc_login_memo``), keyed by a key derived from the deployment's secret key. A worker started after
another was killed (or after a restart) then logs the companies in without scrypt; a wrong password, a changed
password hash and an expired memo still cost scrypt."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import event, select
from tests.hosted.support import web_connector_worker

from qbsf.quickbooks.webconnector import UserDirectory
from qbsf.quickbooks.webconnector import shared as shared_module
from qbsf.quickbooks.webconnector.service import INVALID_USER
from qbsf.quickbooks.webconnector.shared import (
    SharedLoginMemo,
    SharedWebConnectorService,
    wc_login_memo,
)
from qbsf.quickbooks.webconnector.users import ProcessLoginMemo, hash_password
from qbsf.secret_box import KEY_ENV, KEY_FILE_ENV, new_key
from qbsf.sync.state import StateStore

COMPANIES = {"acme": "acme-password-1", "beta": "beta-password-1"}
HASHES = {company: hash_password(password, cost=2**10) for company, password in COMPANIES.items()}
OFFICE = "203.0.113.7"
START = 1_000_000.0

Workers = Callable[..., SharedWebConnectorService]


@pytest.fixture
def scrypts(monkeypatch) -> list[bytes]:
    """Every scrypt run from now on (the password it was given), counted where the users module calls it."""
    from qbsf.quickbooks.webconnector import users as users_module

    runs: list[bytes] = []
    real = hashlib.scrypt

    def counting(password: bytes, **options):
        runs.append(password)
        return real(password, **options)

    monkeypatch.setattr(users_module.hashlib, "scrypt", counting)
    return runs


@pytest.fixture
def deployment_key(monkeypatch) -> str:
    key = new_key()
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    monkeypatch.setenv(KEY_ENV, key)
    return key


@pytest.fixture
def now() -> list[float]:
    return [START]


@pytest.fixture
def worker(hosted_url, now) -> Iterator[Workers]:
    """Starts a worker: its own connection pool and users loaded from the registry, as a separate process has."""
    started: list[SharedWebConnectorService] = []

    def start(hashes: dict[str, str] = HASHES) -> SharedWebConnectorService:
        started.append(web_connector_worker(hosted_url, hashes, lambda: now[0]))
        return started[-1]

    yield start
    for service in started:
        service.shared.close()
        service.store.close()


def _login(service: SharedWebConnectorService, company: str, password: str | None = None) -> bool:
    return service.authenticate(f"{company}-qbwc", password or COMPANIES[company], client=OFFICE)[1] != INVALID_USER


def _memo_statements(service: SharedWebConnectorService) -> list[str]:
    """The statements this worker sends that touch the memo table, first word only (SELECT, INSERT, DELETE)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement: str, *_args) -> None:
        if "wc_login_memo" in statement:
            seen.append(statement.split(None, 1)[0].upper())

    event.listen(service.shared.engine, "before_cursor_execute", record)
    return seen


def test_a_password_verified_on_one_worker_is_recognised_by_the_others_without_scrypt(
        deployment_key, worker, scrypts) -> None:
    one, two = worker(), worker()
    assert isinstance(one.users.memo, SharedLoginMemo)
    assert _login(one, "acme") and len(scrypts) == 1
    assert _login(two, "acme") and len(scrypts) == 1, "the second worker recognised the password without scrypt"
    late = worker()  # started after another worker was killed: no scrypt for a company already verified
    assert _login(late, "acme") and _login(late, "acme") and len(scrypts) == 1
    assert _login(late, "beta") and len(scrypts) == 2, "each company is verified with scrypt once"
    assert _login(one, "beta") and len(scrypts) == 2


def test_one_read_per_login_and_one_upsert_after_a_scrypt_success(deployment_key, worker, scrypts) -> None:
    one, two = worker(), worker()
    first, second = _memo_statements(one), _memo_statements(two)
    assert _login(one, "acme")
    assert first == ["SELECT", "DELETE", "INSERT"], "read, expired rows swept (now and then), one upsert"
    assert _login(one, "beta")
    assert first[3:] == ["SELECT", "INSERT"], "the sweep waits its interval"
    assert _login(two, "acme") and _login(two, "beta")
    assert second == ["SELECT", "SELECT"], "a remembered password costs one read and no write"
    assert len(scrypts) == 2


def test_a_wrong_password_costs_scrypt_and_is_counted_by_the_throttle(deployment_key, worker, scrypts) -> None:
    one, two = worker(), worker()
    assert _login(one, "acme") and len(scrypts) == 1
    assert not _login(two, "acme", "acme-password-2")
    assert scrypts[-1] == b"acme-password-2" and len(scrypts) == 2, "a guess is checked with scrypt"
    (row,) = one.login_throttles()
    assert (row["company"], row["client"], row["failures"]) == ("acme", OFFICE, 1)
    assert _login(two, "acme") and len(scrypts) == 2, "the right password is still recognised"


def test_a_changed_password_hash_never_matches_the_old_memo(deployment_key, worker, scrypts) -> None:
    one = worker()
    assert _login(one, "acme") and len(scrypts) == 1
    # The company's Web Connector was registered again with a new password; the workers load the new registry.
    changed = {**HASHES, "acme": hash_password("acme-password-new", cost=2**10)}
    scrypts.clear()
    two, three = worker(changed), worker(changed)
    assert not _login(two, "acme"), "the old password is refused once the hash changed"
    assert scrypts == [b"acme-password-1"], "the old memo did not match the new hash: scrypt decided"
    assert _login(two, "acme", "acme-password-new") and len(scrypts) == 2
    assert _login(three, "acme", "acme-password-new") and len(scrypts) == 2
    assert not _login(three, "acme") and len(scrypts) == 3


def test_an_expired_memo_is_not_used_and_expired_rows_are_deleted(deployment_key, worker, scrypts, now) -> None:
    one, two = worker(), worker()
    assert _login(one, "acme") and _login(two, "acme") and len(scrypts) == 1
    now[0] += UserDirectory.REMEMBER_SECONDS + 1
    assert _login(two, "acme") and len(scrypts) == 2, "past its time the password is verified with scrypt again"
    assert _login(one, "acme") and len(scrypts) == 2, "and remembered again for every worker"
    now[0] += UserDirectory.REMEMBER_SECONDS + 1
    assert _login(one, "beta") and len(scrypts) == 3  # beta's upsert sweeps acme's expired row
    with one.shared.engine.connect() as connection:
        rows = connection.execute(select(wc_login_memo.c.user_key, wc_login_memo.c.expires_at)).all()
    assert rows == [("beta-qbwc", now[0] + UserDirectory.REMEMBER_SECONDS)], "one row per user, none expired"


def test_without_a_deployment_key_each_worker_remembers_for_itself_and_says_so_once(
        monkeypatch, worker, scrypts, caplog) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    monkeypatch.setattr(shared_module, "_said_memo_is_per_process", False)
    with caplog.at_level(logging.INFO, logger=shared_module.__name__):
        one, two = worker(), worker()
    said = [r for r in caplog.records if "remembered by this worker only" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.INFO and KEY_FILE_ENV in said[0].getMessage()
    assert isinstance(one.users.memo, ProcessLoginMemo) and isinstance(two.users.memo, ProcessLoginMemo)
    assert _login(one, "acme") and _login(one, "acme") and len(scrypts) == 1
    assert _login(two, "acme") and len(scrypts) == 2, "another worker verifies with scrypt itself"
    with one.shared.engine.connect() as connection:
        assert connection.execute(select(wc_login_memo)).all() == []


def test_no_password_key_or_digest_reaches_a_log_line(deployment_key, worker, monkeypatch, caplog) -> None:
    one, two = worker(), worker()

    def failing(*_args, **_kwargs):
        from sqlalchemy.exc import OperationalError

        raise OperationalError("INSERT INTO wc_login_memo", {"digest": "leaked"}, Exception("database gone"))

    with caplog.at_level(logging.DEBUG, logger="qbsf"):
        assert _login(one, "acme") and _login(two, "acme") and not _login(two, "beta", "beta-guess")
        monkeypatch.setattr(shared_module, "_dialect_insert", lambda _connection: failing)
        assert _login(one, "beta"), "a memo that cannot be written never refuses the right password"
    assert "was verified but not remembered for the other workers (OperationalError)" in caplog.text
    with one.shared.engine.connect() as connection:
        digests = connection.execute(select(wc_login_memo.c.digest)).scalars().all()
    assert digests
    for secret in [*COMPANIES.values(), "beta-guess", deployment_key, *HASHES.values(), *digests, "leaked"]:
        assert secret not in caplog.text


def test_a_database_of_the_previous_revision_gets_the_memo_table(tmp_path, deployment_key) -> None:
    """Revision 0010 adds wc_login_memo to a database made at 0009; the throttle's rows are kept."""
    from sqlalchemy import create_engine, insert, inspect

    from qbsf.quickbooks.webconnector.shared import wc_login_throttle
    from qbsf.sync import migrations

    path = tmp_path / "state.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        migrations.upgrade(connection, "0009_worker_lock_key")
        assert not inspect(connection).has_table("wc_login_memo")
        connection.execute(insert(wc_login_throttle).values(company="acme", client=OFFICE, failures=2, refused=0,
                                                            last_failure=START, blocked_until=START))
    engine.dispose()
    with StateStore(path) as store:
        with store.engine.connect() as connection:
            assert migrations.current_revision(connection) == migrations.head()
            assert connection.execute(select(wc_login_throttle.c.failures)).scalars().all() == [2]
        users = UserDirectory()
        user = users.add_hashed("acme-qbwc", HASHES["acme"], "acme")
        memo = SharedLoginMemo(store.engine, b"k" * 32, clock=lambda: START)
        memo.remember(user, COMPANIES["acme"])
        assert memo.remembered(user, COMPANIES["acme"]) and not memo.remembered(user, "acme-password-2")
